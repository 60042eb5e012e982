#include <limits>

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

TEST(NullFunctions, Coalesce) {
  EXPECT_EQ(Call("coalesce", {N(), N(), I(3), I(4)}), "int 3");
  EXPECT_EQ(Call("coalesce", {S(""), S("x")}), "string ''");  // '' is not null
  EXPECT_EQ(Call("coalesce", {N()}), "null");
  EXPECT_EQ(Call("coalesce", {N(), N()}), "null");
  EXPECT_EQ(Call("ifnull", {N(), S("x")}), "string 'x'");
  EXPECT_EQ(Call("nvl", {I(1), I(2)}), "int 1");
  EXPECT_EQ(Call("ifnull", {N()}), "bad arity");
}

TEST(NullFunctions, NullIf) {
  EXPECT_EQ(Call("nullif", {S(""), S("")}), "null");
  EXPECT_EQ(Call("nullif", {S("a"), S("")}), "string 'a'");
  EXPECT_EQ(Call("nullif", {I(1), D(1.0)}), "null");
  EXPECT_EQ(Call("nullif", {I(1), I(2)}), "int 1");
  EXPECT_EQ(Call("nullif", {N(), I(1)}), "null");
  EXPECT_EQ(Call("nullif", {I(1), N()}), "int 1");
  EXPECT_EQ(Call("nullif", {S("1"), I(1)}), "string '1'");  // kinds differ: not equal
  EXPECT_EQ(Call("nullif", {D(std::numeric_limits<double>::quiet_NaN()),
                            D(std::numeric_limits<double>::quiet_NaN())}),
            "null");
  EXPECT_EQ(Call("nullif", {I(9007199254740993), D(9007199254740992.0)}), "int 9007199254740993");
  EXPECT_EQ(Call("nullif", {T(5), T(5)}), "null");
  EXPECT_EQ(Call("nullif", {B(false), B(false)}), "null");
  EXPECT_EQ(Call("nullif", {J("[1]"), J("[1]")}), "null");
}

TEST(NullFunctions, IsNull) {
  EXPECT_EQ(Call("is_null", {N()}), "boolean true");
  EXPECT_EQ(Call("is_null", {S("")}), "boolean false");
  EXPECT_EQ(Call("is_null", {I(0)}), "boolean false");
}

}  // namespace
}  // namespace dataforge::expr
