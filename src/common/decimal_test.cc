#include "common/decimal.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

std::string Hex(const std::string& b) {
  std::string out;
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : b) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string RoundTrip(std::string_view text) {
  auto d = ParseDecimal(text);
  if (!d) return "<not a decimal>";
  return FormatDecimal(*d);
}

TEST(Decimal, ParseAndFormatKeepEveryDigit) {
  EXPECT_EQ(RoundTrip("12345678901234567890.123456789"), "12345678901234567890.123456789");
  EXPECT_EQ(RoundTrip("-0.000000000000000000000000000001"), "-0.000000000000000000000000000001");
  EXPECT_EQ(RoundTrip("1.50"), "1.50");
  EXPECT_EQ(RoundTrip("1e-30"), "0.000000000000000000000000000001");
  EXPECT_EQ(RoundTrip("1.5E+3"), "1.5E+3");  // scale -2 kept
  EXPECT_EQ(RoundTrip("1500"), "1500");
  EXPECT_EQ(RoundTrip("0e5"), "0E+5");
  EXPECT_EQ(RoundTrip("-12.5e-20000"), "-1.25E-19999");
  EXPECT_EQ(RoundTrip(".5"), "0.5");
  EXPECT_EQ(RoundTrip("-0.00"), "0.00");
  EXPECT_EQ(RoundTrip("007"), "7");
  EXPECT_EQ(RoundTrip("1e400"), "1E+400");
  EXPECT_EQ(RoundTrip("1" + std::string(400, '0')).size(), 401u);
  EXPECT_EQ(RoundTrip("1e20000"), "1E+20000");
  for (const char* bad : {"", "-", ".", "NaN", "Infinity", "-Infinity", "1e", "1.2.3", "0x10", " 1",
                          "1 ", "1e99999999999"}) {
    EXPECT_FALSE(ParseDecimal(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseDecimal(std::string(kMaxDecimalDigits + 1, '9')).has_value());
}

TEST(Decimal, CqlBytesAreScaleThenMinimalTwosComplement) {
  // Section 6.7: [int] scale, then the varint unscaled value.
  EXPECT_EQ(Hex(DecimalToCql(*ParseDecimal("1.5"))), "00 00 00 01 0f");
  EXPECT_EQ(Hex(DecimalToCql(*ParseDecimal("-1.5"))), "00 00 00 01 f1");
  EXPECT_EQ(Hex(DecimalToCql(*ParseDecimal("1.28"))), "00 00 00 02 00 80");
  EXPECT_EQ(Hex(DecimalToCql(*ParseDecimal("-1.28"))), "00 00 00 02 80");
  EXPECT_EQ(Hex(DecimalToCql(*ParseDecimal("-1.29"))), "00 00 00 02 ff 7f");
  EXPECT_EQ(Hex(DecimalToCql(*ParseDecimal("0"))), "00 00 00 00 00");
  EXPECT_EQ(Hex(DecimalToCql(*ParseDecimal("1500e0"))), "00 00 00 00 05 dc");
  EXPECT_EQ(Hex(DecimalToCql(*ParseDecimal("1.5e3"))), "ff ff ff fe 0f");
  // 2^64 = 0x01 followed by eight zero bytes.
  EXPECT_EQ(Hex(DecimalToCql(*ParseDecimal("18446744073709551616"))),
            "00 00 00 00 01 00 00 00 00 00 00 00 00");
  for (const char* text :
       {"12345678901234567890.123456789", "-12345678901234567890.123456789", "0.00", "-1", "-128",
        "-129", "255", "-32768", "0.000000000000000000000000000001", "1.5e3",
        "-340282366920938463463374607431768211456"}) {
    auto d = ParseDecimal(text);
    ASSERT_TRUE(d) << text;
    auto back = DecimalFromCql(DecimalToCql(*d));
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(FormatDecimal(*back), FormatDecimal(*d)) << text;
  }
  std::string nines(kMaxDecimalDigits, '9');
  auto big = DecimalFromCql(DecimalToCql(*ParseDecimal(nines)));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->digits, nines);
  EXPECT_FALSE(DecimalFromCql(std::string("\0\0\0\1", 4)).has_value());
}

TEST(Decimal, CompareIsNumeric) {
  auto cmp = [](const char* a, const char* b) {
    return CompareDecimals(*ParseDecimal(a), *ParseDecimal(b));
  };
  EXPECT_EQ(cmp("1.5", "1.50"), 0);
  EXPECT_EQ(cmp("0", "-0.00"), 0);
  EXPECT_LT(cmp("-2", "-1.5"), 0);
  EXPECT_GT(cmp("10", "9.99"), 0);
  EXPECT_LT(cmp("0.001", "0.01"), 0);
  EXPECT_LT(cmp("-1", "0"), 0);
  EXPECT_GT(cmp("1e3", "999.9"), 0);
}

}  // namespace
}  // namespace dataforge
