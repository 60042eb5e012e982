#include "serve/rest/page_cursor.h"

#include <gtest/gtest.h>

namespace dataforge::rest {
namespace {

TEST(PageCursor, RoundTripsAnyKeyBytes) {
  for (std::string key : {std::string("a"), std::string("user-0001"), std::string("\0\xff/+=", 5),
                          std::string(300, 'k')}) {
    std::string c = EncodeCursor("shop.users", key);
    EXPECT_EQ(
        c.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << c;
    auto back = DecodeCursor(c, "shop.users");
    ASSERT_TRUE(back.has_value()) << c;
    EXPECT_EQ(*back, key);
  }
}

TEST(PageCursor, KnownEncoding) {
  // 01 | 03 "a.b" | 01 "k"
  EXPECT_EQ(EncodeCursor("a.b", "k"), "AQNhLmIBaw");
}

TEST(PageCursor, RefusesAnotherTablesCursor) {
  EXPECT_FALSE(DecodeCursor(EncodeCursor("shop.users", "k"), "shop.orders").has_value());
}

TEST(PageCursor, RefusesMalformedCursors) {
  const std::string good = EncodeCursor("a.b", "k");
  EXPECT_FALSE(DecodeCursor("", "a.b").has_value());
  EXPECT_FALSE(DecodeCursor("not base64!", "a.b").has_value());
  EXPECT_FALSE(DecodeCursor(good + "A", "a.b").has_value());         // trailing bits
  EXPECT_FALSE(DecodeCursor(good.substr(0, 6), "a.b").has_value());  // truncated
  EXPECT_FALSE(DecodeCursor("AgNhLmIBaw", "a.b").has_value());       // version 2
  EXPECT_FALSE(DecodeCursor(EncodeCursor("a.b", ""), "a.b").has_value());
  EXPECT_FALSE(DecodeCursor(EncodeCursor("a.b", "k") + "AA", "a.b").has_value());
}

}  // namespace
}  // namespace dataforge::rest
