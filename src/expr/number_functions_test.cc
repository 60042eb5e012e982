#include <cmath>
#include <cstdlib>
#include <limits>
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

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(NumberFunctions, RoundHalfAwayFromZero) {
  EXPECT_EQ(Call("round", {D(2.5)}), "double 3");
  EXPECT_EQ(Call("round", {D(-2.5)}), "double -3");
  EXPECT_EQ(Call("round", {D(0.5)}), "double 1");
  EXPECT_EQ(Call("round", {D(-0.5)}), "double -1");
  EXPECT_EQ(Call("round", {D(0.4)}), "double 0");
  EXPECT_EQ(Call("round", {D(-0.4)}), "double -0");
  EXPECT_EQ(Call("round", {D(1.4999999999999998)}), "double 1");
}

TEST(NumberFunctions, RoundDigitsWorksOnTheDecimalAsWritten) {
  // 2.675 and 1.005 are a little below themselves as doubles; round as written.
  EXPECT_EQ(Call("round", {D(2.675), I(2)}), "double 2.68");
  EXPECT_EQ(Call("round", {D(1.005), I(2)}), "double 1.01");
  EXPECT_EQ(Call("round", {D(-1.005), I(2)}), "double -1.01");
  EXPECT_EQ(Call("round", {D(9.96), I(1)}), "double 10");
  EXPECT_EQ(Call("round", {D(0.05), I(1)}), "double 0.1");
  EXPECT_EQ(Call("round", {D(0.004), I(2)}), "double 0");
  EXPECT_EQ(Call("round", {D(0.0004), I(2)}), "double 0");
  EXPECT_EQ(Call("round", {D(1234.5678), I(-2)}), "double 1200");
  EXPECT_EQ(Call("round", {D(1250.0), I(-2)}), "double 1300");
  EXPECT_EQ(Call("round", {D(51.0), I(-2)}), "double 100");
  EXPECT_EQ(Call("round", {D(49.0), I(-2)}), "double 0");
  EXPECT_EQ(Call("round", {D(123.456), I(400)}), "double 123.456");
  EXPECT_EQ(Call("round", {D(123.456), I(-400)}), "double 0");
  EXPECT_EQ(Call("round", {D(1e300), I(2)}), "double 1e+300");
  EXPECT_EQ(Call("round", {D(4.9e-324), I(2)}), "double 0");
  EXPECT_EQ(Call("round", {D(-37.7629), D(2.0)}), "double -37.76");
}

// round(k / 10^4, 2) for many k against integer arithmetic on k: the result must be the double
// nearest (k rounded half away from zero to a multiple of 100) / 100, as reading its text gives.
TEST(NumberFunctions, RoundAgreesWithIntegerArithmetic) {
  uint64_t state = 12345;
  int checked = 0;
  for (int n = 0; n < 20000; ++n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    int64_t k = static_cast<int64_t>(state >> 20) % 2'000'000'000 - 1'000'000'000;
    if (n % 4 == 0) k = k / 100 * 100 + 50;  // exact ties (as written) a quarter of the time
    int64_t mag = k < 0 ? -k : k;
    int64_t m = mag / 100 + (mag % 100 >= 50 ? 1 : 0);
    if (k < 0) m = -m;
    double x = std::strtod(
        (std::to_string(k / 10000) + "." +
         std::string(4 - std::to_string(mag % 10000).size(), '0') + std::to_string(mag % 10000))
            .insert(0, k < 0 && k > -10000 ? "-" : "")
            .c_str(),
        nullptr);
    int64_t mm = m < 0 ? -m : m;
    std::string expect_text = (m < 0 ? "-" : "") + std::to_string(mm / 100) + "." +
                              (mm % 100 < 10 ? "0" : "") + std::to_string(mm % 100);
    double expect = std::strtod(expect_text.c_str(), nullptr);
    std::string want = "double " + ToText(Value::Double(expect));
    if (expect == 0) want = m < 0 || (m == 0 && k < 0) ? "double -0" : "double 0";
    ASSERT_EQ(Call("round", {D(x), I(2)}), want) << "x = " << ToText(Value::Double(x));
    ++checked;
  }
  EXPECT_EQ(checked, 20000);
}

TEST(NumberFunctions, RoundNonFiniteAndInts) {
  EXPECT_EQ(Call("round", {D(kNaN)}), "double NaN");
  EXPECT_EQ(Call("round", {D(-kInf), I(2)}), "double -Infinity");
  EXPECT_EQ(Call("round", {I(5)}), "int 5");
  EXPECT_EQ(Call("round", {I(5), I(3)}), "int 5");
  EXPECT_EQ(Call("round", {I(15), I(-1)}), "int 20");
  EXPECT_EQ(Call("round", {I(-15), I(-1)}), "int -20");
  EXPECT_EQ(Call("round", {I(14), I(-1)}), "int 10");
  EXPECT_EQ(Call("round", {I(-14), I(-1)}), "int -10");
  EXPECT_EQ(Call("round", {I(5), I(-19)}), "int 0");
  EXPECT_EQ(Call("round", {I(INT64_MAX), I(-1)}),
            "error: round: 9223372036854775807 rounded to -1 digits is out of the int range");
  EXPECT_EQ(Call("round", {S("x")}), "error: round: x must be a number, got string 'x'");
  EXPECT_EQ(Call("round", {D(1.5), S("a")}), "error: round: digits must be an int, got string 'a'");
  EXPECT_EQ(Call("round", {N()}), "null");
  EXPECT_EQ(Call("round", {D(1.5), N()}), "null");
}

TEST(NumberFunctions, FloorCeil) {
  EXPECT_EQ(Call("floor", {D(2.7)}), "double 2");
  EXPECT_EQ(Call("floor", {D(-2.5)}), "double -3");
  EXPECT_EQ(Call("ceil", {D(-2.5)}), "double -2");
  EXPECT_EQ(Call("ceil", {D(2.1)}), "double 3");
  EXPECT_EQ(Call("floor", {I(5)}), "int 5");
  EXPECT_EQ(Call("ceil", {I(-5)}), "int -5");
  EXPECT_EQ(Call("floor", {D(kNaN)}), "double NaN");
  EXPECT_EQ(Call("ceil", {D(-kInf)}), "double -Infinity");
  EXPECT_EQ(Call("floor", {S("1")}), "error: floor: x must be a number, got string '1'");
  EXPECT_EQ(Call("ceil", {N()}), "null");
}

TEST(NumberFunctions, AbsSign) {
  EXPECT_EQ(Call("abs", {I(-5)}), "int 5");
  EXPECT_EQ(Call("abs", {D(-2.5)}), "double 2.5");
  EXPECT_EQ(Call("abs", {D(-kInf)}), "double Infinity");
  EXPECT_EQ(Call("abs", {D(kNaN)}), "double NaN");
  EXPECT_EQ(Call("abs", {I(INT64_MIN)}),
            "error: abs: abs(-9223372036854775808) is out of the int range");
  EXPECT_EQ(Call("abs", {B(true)}), "error: abs: x must be a number, got boolean true");
  EXPECT_EQ(Call("sign", {I(-3)}), "int -1");
  EXPECT_EQ(Call("sign", {I(0)}), "int 0");
  EXPECT_EQ(Call("sign", {D(2.5)}), "double 1");
  EXPECT_EQ(Call("sign", {D(-0.0)}), "double 0");
  EXPECT_EQ(Call("sign", {D(-kInf)}), "double -1");
  EXPECT_EQ(Call("sign", {D(kNaN)}), "double NaN");
  EXPECT_EQ(Call("sign", {N()}), "null");
}

TEST(NumberFunctions, PowerSqrt) {
  EXPECT_EQ(Call("power", {I(2), I(10)}), "double 1024");
  EXPECT_EQ(Call("power", {I(2), I(-1)}), "double 0.5");
  EXPECT_EQ(Call("power", {I(-8), I(3)}), "double -512");
  EXPECT_EQ(Call("power", {I(0), I(0)}), "double 1");
  EXPECT_EQ(Call("power", {I(10), I(400)}), "double Infinity");
  EXPECT_EQ(Call("power", {D(kNaN), I(2)}), "double NaN");
  EXPECT_EQ(Call("power", {I(-8), D(0.5)}),
            "error: power: a negative base (-8) to a non-integer power (0.5) has no real value");
  EXPECT_EQ(Call("power", {I(0), I(-1)}),
            "error: power: zero to a negative power (-1) is a division by zero");
  EXPECT_EQ(Call("power", {S("2"), I(2)}), "error: power: x must be a number, got string '2'");
  EXPECT_EQ(Call("power", {I(2), N()}), "null");
  EXPECT_EQ(Call("sqrt", {I(16)}), "double 4");
  EXPECT_EQ(Call("sqrt", {I(2)}), "double 1.4142135623730951");
  EXPECT_EQ(Call("sqrt", {D(kInf)}), "double Infinity");
  EXPECT_EQ(Call("sqrt", {D(kNaN)}), "double NaN");
  EXPECT_EQ(Call("sqrt", {I(-1)}), "error: sqrt: no square root of a negative number (-1)");
  EXPECT_EQ(Call("sqrt", {D(-kInf)}),
            "error: sqrt: no square root of a negative number (-Infinity)");
  EXPECT_EQ(Call("sqrt", {N()}), "null");
}

TEST(NumberFunctions, Mod) {
  EXPECT_EQ(Call("mod", {I(7), I(3)}), "int 1");
  EXPECT_EQ(Call("mod", {I(-7), I(3)}), "int -1");
  EXPECT_EQ(Call("mod", {I(7), I(-3)}), "int 1");
  EXPECT_EQ(Call("mod", {I(INT64_MIN), I(-1)}), "int 0");
  EXPECT_EQ(Call("mod", {D(7.5), I(2)}), "double 1.5");
  EXPECT_EQ(Call("mod", {D(-7.5), I(2)}), "double -1.5");
  EXPECT_EQ(Call("mod", {I(5), D(kInf)}), "double 5");
  EXPECT_EQ(Call("mod", {D(kNaN), I(2)}), "double NaN");
  EXPECT_EQ(Call("mod", {I(7), I(0)}), "error: mod: division by zero (7 mod 0)");
  EXPECT_EQ(Call("mod", {I(1), D(0.0)}), "error: mod: division by zero (1 mod 0)");
  EXPECT_EQ(Call("mod", {S("7"), I(2)}), "error: mod: a must be a number, got string '7'");
  EXPECT_EQ(Call("mod", {N(), I(2)}), "null");
}

TEST(NumberFunctions, GreatestLeast) {
  EXPECT_EQ(Call("greatest", {I(1), D(2.5), N(), I(-3)}), "double 2.5");
  EXPECT_EQ(Call("least", {I(3), I(1), I(2)}), "int 1");
  EXPECT_EQ(Call("least", {I(2), D(2.0)}), "int 2");  // the first of equals
  EXPECT_EQ(Call("greatest", {N(), N()}), "null");
  EXPECT_EQ(Call("greatest", {S("b"), S("a"), S("c")}), "string 'c'");
  EXPECT_EQ(Call("least", {T(5), T(3)}), "timestamp 1970-01-01T00:00:00.003Z");
  EXPECT_EQ(Call("greatest", {B(false), B(true)}), "boolean true");
  // NaN is above every number (PostgreSQL's order).
  EXPECT_EQ(Call("greatest", {I(1), D(kNaN), D(kInf)}), "double NaN");
  EXPECT_EQ(Call("least", {D(kNaN), I(1)}), "int 1");
  // Ints above 2^53 compare exactly with doubles.
  EXPECT_EQ(Call("greatest", {D(9007199254740992.0), I(9007199254740993)}), "int 9007199254740993");
  EXPECT_EQ(Call("greatest", {I(1), S("a")}),
            "error: greatest: cannot compare string 'a' with int 1");
  EXPECT_EQ(Call("least", {J("[1]"), J("[2]")}),
            "error: least: cannot compare json [2] with json [1]");
}

TEST(NumberFunctions, ToInt) {
  EXPECT_EQ(Call("to_int", {S("42")}), "int 42");
  EXPECT_EQ(Call("to_int", {S(" -7 ")}), "int -7");
  EXPECT_EQ(Call("to_int", {S("+5")}), "int 5");
  EXPECT_EQ(Call("to_int", {S("4.9")}), "int 4");
  EXPECT_EQ(Call("to_int", {S("-4.9")}), "int -4");
  EXPECT_EQ(Call("to_int", {S("1e3")}), "int 1000");
  EXPECT_EQ(Call("to_int", {S("9223372036854775807")}), "int 9223372036854775807");
  EXPECT_EQ(Call("to_int", {S("abc")}), "error: to_int: cannot convert string 'abc' to an int");
  EXPECT_EQ(Call("to_int", {S("")}), "error: to_int: cannot convert string '' to an int");
  EXPECT_EQ(Call("to_int", {S(std::string("5\0", 2))}),
            "error: to_int: cannot convert string '5\\x00' to an int");
  EXPECT_EQ(Call("to_int", {S("NaN")}), "error: to_int: cannot convert string 'NaN' to an int");
  EXPECT_EQ(Call("to_int", {S("99999999999999999999")}),
            "error: to_int: cannot convert string '99999999999999999999' to an int");
  EXPECT_EQ(Call("to_int", {D(2.9)}), "int 2");
  EXPECT_EQ(Call("to_int", {D(-2.9)}), "int -2");
  EXPECT_EQ(Call("to_int", {D(kNaN)}), "error: to_int: double NaN does not fit an int");
  EXPECT_EQ(Call("to_int", {D(1e19)}), "error: to_int: double 1e+19 does not fit an int");
  EXPECT_EQ(Call("to_int", {B(true)}), "int 1");
  EXPECT_EQ(Call("to_int", {T(1234)}), "int 1234");
  EXPECT_EQ(Call("to_int", {J("{}")}),
            "error: to_int: x must be a number, boolean, timestamp or string, got json {}");
  EXPECT_EQ(Call("to_int", {N()}), "null");
}

TEST(NumberFunctions, ToDoubleAndIsNan) {
  EXPECT_EQ(Call("to_double", {S("2.5")}), "double 2.5");
  EXPECT_EQ(Call("to_double", {S(" 1e-3 ")}), "double 0.001");
  EXPECT_EQ(Call("to_double", {S("+2")}), "double 2");
  EXPECT_EQ(Call("to_double", {S("NaN")}), "double NaN");
  EXPECT_EQ(Call("to_double", {S("-Infinity")}), "double -Infinity");
  EXPECT_EQ(Call("to_double", {S("inf")}), "double Infinity");
  EXPECT_EQ(Call("to_double", {S("1.5x")}),
            "error: to_double: cannot convert string '1.5x' to a double");
  EXPECT_EQ(Call("to_double", {I(3)}), "double 3");
  EXPECT_EQ(Call("to_double", {B(true)}), "double 1");
  EXPECT_EQ(Call("to_double", {N()}), "null");
  EXPECT_EQ(Call("is_nan", {D(kNaN)}), "boolean true");
  EXPECT_EQ(Call("is_nan", {D(kInf)}), "boolean false");
  EXPECT_EQ(Call("is_nan", {I(1)}), "boolean false");
  EXPECT_EQ(Call("is_nan", {N()}), "null");
  EXPECT_EQ(Call("is_nan", {S("NaN")}), "error: is_nan: x must be a number, got string 'NaN'");
}

}  // namespace
}  // namespace dataforge::expr
