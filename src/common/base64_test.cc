#include "common/base64.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

TEST(Base64Test, StandardWithPadding) {
  EXPECT_EQ(Base64Encode("user:pw"), "dXNlcjpwdw==");
  EXPECT_EQ(Base64Decode("dXNlcjpwdw=="), "user:pw");
  EXPECT_EQ(Base64Decode(""), "");
  EXPECT_EQ(Base64Decode("YQ=="), "a");
  EXPECT_EQ(Base64Decode("YWI="), "ab");
  EXPECT_EQ(Base64Decode("+/+/"), std::string("\xfb\xff\xbf"));
  EXPECT_FALSE(Base64Decode("dXNlcjpwdw").has_value());  // padding required
  EXPECT_FALSE(Base64Decode("dXNl cjpw").has_value());   // no spaces
  EXPECT_FALSE(Base64Decode("-_-_").has_value());        // URL alphabet
  EXPECT_FALSE(Base64Decode("YR==").has_value());        // leftover bits must be zero
  EXPECT_FALSE(Base64Decode("Y===").has_value());
}

TEST(Base64Test, UrlWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff\xbf\x01", 4)), "-_-_AQ");
  EXPECT_EQ(Base64UrlDecode("-_-_AQ"), std::string("\xfb\xff\xbf\x01", 4));
  EXPECT_EQ(Base64UrlDecode("-_-_AQ=="), std::string("\xfb\xff\xbf\x01", 4));
  EXPECT_FALSE(Base64UrlDecode("+/+/").has_value());
  EXPECT_FALSE(Base64UrlDecode("A").has_value());  // no whole byte
  EXPECT_FALSE(Base64UrlDecode("AR").has_value());
  for (int n = 0; n < 70; ++n) {
    std::string bytes;
    for (int i = 0; i < n; ++i) bytes.push_back(static_cast<char>(i * 37 + n));
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(bytes)), bytes) << n;
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes) << n;
  }
}

}  // namespace
}  // namespace dataforge
