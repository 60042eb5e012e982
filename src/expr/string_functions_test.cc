#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "expr/testing/call.h"

namespace dataforge::expr {
namespace {

using testing::B;
using testing::Call;
using testing::D;
using testing::I;
using testing::J;
using testing::N;
using testing::S;
using testing::T;

TEST(StringFunctions, LowerUpperAscii) {
  EXPECT_EQ(Call("lower", {S("HeLLo, World 42!")}), "string 'hello, world 42!'");
  EXPECT_EQ(Call("upper", {S("HeLLo, World 42!")}), "string 'HELLO, WORLD 42!'");
  EXPECT_EQ(Call("lower", {S("")}), "string ''");
  EXPECT_EQ(Call("LOWER", {S("A")}), "string 'a'");  // names are case-insensitive
}

TEST(StringFunctions, LowerUpperNonAscii) {
  // Names from the randomuser fixtures: Turkish, German, Greek, Cyrillic, Persian (no case).
  EXPECT_EQ(Call("upper", {S("çelik ödön")}), "string 'ÇELIK ÖDÖN'");
  EXPECT_EQ(Call("lower", {S("ÇELIK ÖDÖN ΣΟΦΊΑ АННА")}), "string 'çelik ödön σοφία анна'");
  EXPECT_EQ(Call("upper", {S("straße")}), "string 'STRAßE'");  // no one-letter capital ß
  EXPECT_EQ(Call("upper", {S("آرمین")}), "string 'آرمین'");
}

TEST(StringFunctions, NullsAndTypes) {
  for (const char* fn : {"lower", "upper", "trim", "ltrim", "rtrim", "length"}) {
    EXPECT_EQ(Call(fn, {N()}), "null") << fn;
  }
  EXPECT_EQ(Call("lower", {I(5)}), "error: lower: text must be a string, got int 5");
  EXPECT_EQ(Call("length", {J("[1]")}), "error: length: text must be a string, got json [1]");
  EXPECT_EQ(Call("trim", {B(true)}), "error: trim: text must be a string, got boolean true");
}

TEST(StringFunctions, InvalidUtf8IsAnErrorNamingTheFunction) {
  EXPECT_EQ(Call("length", {S("ab\xff")}),
            "error: length: invalid UTF-8 at byte 2 of string 'ab\\xFF'");
  EXPECT_EQ(Call("upper", {S("\xc3")}),  // truncated two-byte sequence
            "error: upper: invalid UTF-8 at byte 0 of string '\\xC3'");
  EXPECT_EQ(Call("lower", {S("x\xc0\xaf")}),  // overlong '/'
            "error: lower: invalid UTF-8 at byte 1 of string 'x\\xC0\\xAF'");
  EXPECT_EQ(Call("length", {S("\xed\xa0\x80")}),  // a UTF-16 surrogate
            "error: length: invalid UTF-8 at byte 0 of string '\\xED\\xA0\\x80'");
  EXPECT_EQ(Call("substring", {S("\xf4\x90\x80\x80"), I(1)}),  // above U+10FFFF
            "error: substring: invalid UTF-8 at byte 0 of string '\\xF4\\x90\\x80\\x80'");
  EXPECT_EQ(Call("lpad", {S("a\n\xfe"), I(5)}),
            "error: lpad: invalid UTF-8 at byte 2 of string 'a\\x0A\\xFE'");
}

TEST(StringFunctions, Length) {
  EXPECT_EQ(Call("length", {S("")}), "int 0");
  EXPECT_EQ(Call("length", {S("héllo")}), "int 5");
  EXPECT_EQ(Call("length", {S("😀a")}), "int 2");
  EXPECT_EQ(Call("length", {S("日本語")}), "int 3");
}

TEST(StringFunctions, LengthAndSubstringOfHugeInput) {
  std::string big;
  for (int i = 0; i < 5'000'000; ++i) big.append("é");  // 10 MB
  EXPECT_EQ(Call("length", {S(big)}), "int 5000000");
  EXPECT_EQ(Call("substring", {S(big + "xyz"), I(5'000'001), I(2)}), "string 'xy'");
  EXPECT_EQ(Call("upper", {S(big)}).size(), std::string("string ''").size() + 10'000'000);
}

TEST(StringFunctions, Trim) {
  EXPECT_EQ(Call("trim", {S(" \t a b \r\n")}), "string 'a b'");
  EXPECT_EQ(Call("ltrim", {S("  a  ")}), "string 'a  '");
  EXPECT_EQ(Call("rtrim", {S("  a  ")}), "string '  a'");
  EXPECT_EQ(Call("trim", {S("   ")}), "string ''");
  EXPECT_EQ(Call("trim", {S("")}), "string ''");
  EXPECT_EQ(Call("trim", {S("\xc2\xa0x")}), "string '\xc2\xa0x'");  // NBSP is not trimmed
}

TEST(StringFunctions, ConcatSkipsNulls) {
  EXPECT_EQ(Call("concat", {S("a"), N(), I(1), D(2.5), B(true)}), "string 'a12.5true'");
  EXPECT_EQ(Call("concat", {N()}), "string ''");
  EXPECT_EQ(Call("concat", {S("t="), T(0)}), "string 't=1970-01-01T00:00:00.000Z'");
  EXPECT_EQ(Call("concat", {D(3.0), S("|"), D(std::nan("")), J("{\"a\":1}")}),
            "string '3|NaN{\"a\":1}'");
  EXPECT_EQ(Call("concat_ws", {S(", "), S("a"), N(), S("b"), I(3)}), "string 'a, b, 3'");
  EXPECT_EQ(Call("concat_ws", {S("-"), N(), N()}), "string ''");
  EXPECT_EQ(Call("concat_ws", {N(), S("a")}), "null");
  EXPECT_EQ(Call("concat_ws", {I(1), S("a")}),
            "error: concat_ws: separator must be a string, got int 1");
}

TEST(StringFunctions, Substring) {
  EXPECT_EQ(Call("substring", {S("hello"), I(2), I(3)}), "string 'ell'");
  EXPECT_EQ(Call("substring", {S("héllo"), I(2), I(2)}), "string 'él'");
  EXPECT_EQ(Call("substring", {S("hello"), I(4)}), "string 'lo'");
  EXPECT_EQ(Call("substring", {S("hello"), I(0), I(2)}), "string 'h'");  // PostgreSQL's window
  EXPECT_EQ(Call("substring", {S("hello"), I(-5), I(3)}), "string ''");
  EXPECT_EQ(Call("substring", {S("hello"), I(10)}), "string ''");
  EXPECT_EQ(Call("substring", {S("hello"), I(2), I(0)}), "string ''");
  EXPECT_EQ(Call("substring", {S(""), I(1), I(1)}), "string ''");
  EXPECT_EQ(Call("substring", {S("abc"), D(2.0)}), "string 'bc'");
  EXPECT_EQ(Call("substring", {S("abc"), I(2), I(INT64_MAX)}), "string 'bc'");
  EXPECT_EQ(Call("substring", {S("abc"), I(INT64_MAX), I(INT64_MAX)}), "string ''");
  EXPECT_EQ(Call("substring", {S("abc"), I(INT64_MIN), I(INT64_MAX)}), "string ''");
  EXPECT_EQ(Call("substring", {S("hello"), I(1), I(-1)}),
            "error: substring: length must not be negative, got -1");
  EXPECT_EQ(Call("substring", {S("hello"), S("x")}),
            "error: substring: start must be an int, got string 'x'");
  EXPECT_EQ(Call("substring", {S("hello"), D(1.5)}),
            "error: substring: start must be an int, got double 1.5");
  EXPECT_EQ(Call("substring", {N(), I(1)}), "null");
  EXPECT_EQ(Call("substring", {S("a"), N()}), "null");
  EXPECT_EQ(Call("substring", {S("a"), I(1), N()}), "null");
}

TEST(StringFunctions, Split) {
  EXPECT_EQ(Call("split", {S("ann@example.com"), S("@")}), "json [\"ann\",\"example.com\"]");
  EXPECT_EQ(Call("split", {S("a,,b"), S(",")}), "json [\"a\",\"\",\"b\"]");
  EXPECT_EQ(Call("split", {S("x--y--"), S("--")}), "json [\"x\",\"y\",\"\"]");
  EXPECT_EQ(Call("split", {S(""), S(",")}), "json [\"\"]");
  EXPECT_EQ(Call("split", {S("abc"), S("")}), "json [\"abc\"]");
  EXPECT_EQ(Call("split", {S("a\"b\\c,d"), S(",")}), "json [\"a\\\"b\\\\c\",\"d\"]");
  EXPECT_EQ(Call("split", {N(), S(",")}), "null");
  EXPECT_EQ(Call("split", {S("a"), I(1)}), "error: split: separator must be a string, got int 1");
}

TEST(StringFunctions, SplitPart) {
  EXPECT_EQ(Call("split_part", {S("ann@example.com"), S("@"), I(2)}), "string 'example.com'");
  EXPECT_EQ(Call("split_part", {S("ann@example.com"), S("@"), I(1)}), "string 'ann'");
  EXPECT_EQ(Call("split_part", {S("ann@example.com"), S("@"), I(3)}), "string ''");
  EXPECT_EQ(Call("split_part", {S("a.b.c"), S("."), I(-1)}), "string 'c'");
  EXPECT_EQ(Call("split_part", {S("a.b.c"), S("."), I(-3)}), "string 'a'");
  EXPECT_EQ(Call("split_part", {S("a.b.c"), S("."), I(-4)}), "string ''");
  EXPECT_EQ(Call("split_part", {S("abc"), S(""), I(1)}), "string 'abc'");
  EXPECT_EQ(Call("split_part", {S("abc"), S(""), I(2)}), "string ''");
  EXPECT_EQ(Call("split_part", {S("a.b"), S("."), I(0)}),
            "error: split_part: n must not be 0 (1 is the first part, -1 the last)");
  EXPECT_EQ(Call("split_part", {S("a.b"), S("."), S("1")}),
            "error: split_part: n must be an int, got string '1'");
  EXPECT_EQ(Call("split_part", {S("a.b"), N(), I(1)}), "null");
}

TEST(StringFunctions, Replace) {
  EXPECT_EQ(Call("replace", {S("aaa"), S("a"), S("bb")}), "string 'bbbbbb'");
  EXPECT_EQ(Call("replace", {S("abcabc"), S("bc"), S("")}), "string 'aa'");
  EXPECT_EQ(Call("replace", {S("abc"), S(""), S("x")}), "string 'abc'");
  EXPECT_EQ(Call("replace", {S(""), S("a"), S("x")}), "string ''");
  EXPECT_EQ(Call("replace", {S("(555) 123"), S(" "), S("-")}), "string '(555)-123'");
  EXPECT_EQ(Call("replace", {S("a"), S("a"), N()}), "null");
}

TEST(StringFunctions, StartsEndsContains) {
  EXPECT_EQ(Call("starts_with", {S("hello"), S("he")}), "boolean true");
  EXPECT_EQ(Call("starts_with", {S("hello"), S("lo")}), "boolean false");
  EXPECT_EQ(Call("ends_with", {S("hello"), S("lo")}), "boolean true");
  EXPECT_EQ(Call("ends_with", {S("lo"), S("hello")}), "boolean false");
  EXPECT_EQ(Call("contains", {S("hello"), S("ll")}), "boolean true");
  EXPECT_EQ(Call("contains", {S("hello"), S("")}), "boolean true");
  EXPECT_EQ(Call("contains", {S(""), S("a")}), "boolean false");
  EXPECT_EQ(Call("starts_with", {N(), S("a")}), "null");
  EXPECT_EQ(Call("starts_with", {S("a"), I(1)}),
            "error: starts_with: search must be a string, got int 1");
}

TEST(StringFunctions, Pad) {
  EXPECT_EQ(Call("lpad", {S("7"), I(3), S("0")}), "string '007'");
  EXPECT_EQ(Call("rpad", {S("a"), I(3)}), "string 'a  '");
  EXPECT_EQ(Call("rpad", {S("ab"), I(5), S("xy")}), "string 'abxyx'");
  EXPECT_EQ(Call("lpad", {S("hello"), I(3)}), "string 'hel'");  // cut, like PostgreSQL
  EXPECT_EQ(Call("rpad", {S("héllo"), I(2)}), "string 'hé'");
  EXPECT_EQ(Call("lpad", {S("é"), I(3), S("ü")}), "string 'üüé'");
  EXPECT_EQ(Call("lpad", {S("a"), I(0)}), "string ''");
  EXPECT_EQ(Call("lpad", {S("a"), I(-1)}), "string ''");
  EXPECT_EQ(Call("lpad", {S("a"), I(5), S("")}), "string 'a'");
  EXPECT_EQ(Call("lpad", {S("a"), I(100'000'000)}),
            "error: lpad: length 100000000 is above the limit 4194304");
  EXPECT_EQ(Call("lpad", {S("a"), I(2), I(0)}), "error: lpad: fill must be a string, got int 0");
  EXPECT_EQ(Call("rpad", {S("a"), N()}), "null");
}

}  // namespace
}  // namespace dataforge::expr
