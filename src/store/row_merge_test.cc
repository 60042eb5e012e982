#include "store/row_merge.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

std::string Merge(std::string_view base, std::string_view update) {
  auto r = MergeRowJson(base, update);
  return r.ok() ? *r : "error: " + r.status().message();
}

TEST(RowMergeTest, UpdateWritesOverBaseInBasesOrder) {
  EXPECT_EQ(Merge(R"({"id":1,"a":"x","b":2,"c":[1,{"d":"}"}]})", R"({"id":1,"b":null})"),
            R"({"id":1,"a":"x","b":null,"c":[1,{"d":"}"}]})");
  // New columns follow in the update's order; values are copied as written (every digit).
  EXPECT_EQ(Merge(R"({"id":1})", R"({"z":12345678901234567890.123456789,"a":"q\"\\"})"),
            R"({"id":1,"z":12345678901234567890.123456789,"a":"q\"\\"})");
  EXPECT_EQ(Merge(" { } ", R"({"a":{"b":[true,false]}})"), R"({"a":{"b":[true,false]}})");
  EXPECT_EQ(Merge(R"({"a":1})", "{}"), R"({"a":1})");
  // Whitespace between members is dropped, never inside values.
  EXPECT_EQ(Merge("{ \"a\" : \"x y\" ,\n\"b\":-0.0 }", R"({"b":1e400})"),
            R"({"a":"x y","b":1e400})");
  // A key repeated in the update: its last value, once.
  EXPECT_EQ(Merge(R"({"a":1})", R"({"b":1,"a":2,"b":3,"a":4})"), R"({"a":4,"b":3})");
}

TEST(RowMergeTest, NotAnObjectIsAnError) {
  EXPECT_EQ(Merge("[1]", "{}"), "error: the stored row is not a JSON object: no '{' at byte 0");
  EXPECT_EQ(Merge("{}", R"({"a":1)"),
            "error: the written row is not a JSON object: no ',' or '}' at byte 6");
  EXPECT_EQ(Merge("{}", R"({"a" 1})"),
            "error: the written row is not a JSON object: no ':' at byte 5");
  EXPECT_EQ(Merge("{}", R"({"a":"x})"),
            "error: the written row is not a JSON object: no value at byte 5");
  EXPECT_EQ(Merge("{} x", "{}"),
            "error: the stored row is not a JSON object: text after the object at byte 3");
  EXPECT_EQ(Merge("{}", ""), "error: the written row is not a JSON object: no '{' at byte 0");
}

}  // namespace
}  // namespace dataforge
