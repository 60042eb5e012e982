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

const char kDoc[] = R"({"a":{"b":[10,20]},"t":true,"n":null,"d":1.5,"big":18446744073709551615,
                        "key with spaces":"s","a.b":"dot","name":{"first":"Zoé"}})";

TEST(JsonFunctions, PathSteps) {
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.a.b[1]")}), "int 20");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.a.b[-1]")}), "int 20");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.a.b[-2]")}), "int 10");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.a.b")}), "json [10,20]");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.a")}), "json {\"b\":[10,20]}");
  EXPECT_EQ(Call("json_path", {J("[1,[2,3]]"), S("$")}), "json [1,[2,3]]");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$['key with spaces']")}), "string 's'");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$[\"a.b\"]")}), "string 'dot'");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.name.first")}), "string 'Zoé'");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.t")}), "boolean true");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.d")}), "double 1.5");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.big")}), "double 18446744073709551616");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.n")}), "null");
}

TEST(JsonFunctions, MissingStepsAreNull) {
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.x")}), "null");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.a.b[2]")}), "null");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.a.b[-3]")}), "null");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.a.b.c")}), "null");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.t[0]")}), "null");
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.x.y.z")}), "null");
}

TEST(JsonFunctions, TextIsParsed) {
  EXPECT_EQ(Call("json_path", {S(R"({"name":{"first":"Ann"}})"), S("$.name.first")}),
            "string 'Ann'");
  // split gives a json array; its parts by index.
  EXPECT_EQ(
      Call("json_path", {J(Call("split", {S("ann@example.com"), S("@")}).substr(5)), S("$[1]")}),
      "string 'example.com'");
}

TEST(JsonFunctions, PathErrors) {
  const std::string hint = "; write it like '$.a.b[0]' or \"$['key with spaces']\"";
  EXPECT_EQ(Call("json_path", {J(kDoc), S("a.b")}),
            "error: json_path: bad path 'a.b' at character 1: a path starts with '$'" + hint);
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.")}),
            "error: json_path: bad path '$.' at character 3: a key is missing after '.'" + hint);
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$[x]")}),
            "error: json_path: bad path '$[x]' at character 3: expected an index or a quoted "
            "key after '['" +
                hint);
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$[1")}),
            "error: json_path: bad path '$[1' at character 4: expected ']'" + hint);
  EXPECT_EQ(
      Call("json_path", {J(kDoc), S("$['a")}),
      "error: json_path: bad path '$['a' at character 3: the quoted key is not closed" + hint);
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$x")}),
            "error: json_path: bad path '$x' at character 2: expected '.' or '['" + hint);
  // A bad path is reported even where the document stops early.
  EXPECT_EQ(Call("json_path", {J(kDoc), S("$.missing[")}),
            "error: json_path: bad path '$.missing[' at character 11: expected an index or a "
            "quoted key after '['" +
                hint);
}

TEST(JsonFunctions, BadInput) {
  EXPECT_EQ(Call("json_path", {I(5), S("$")}),
            "error: json_path: json must be json or a string of JSON text, got int 5");
  EXPECT_EQ(Call("json_path", {S("{bad"), S("$")}),
            "error: json_path: string '{bad' is not valid JSON (The JSON document has an "
            "improper structure: missing or superfluous commas, braces, missing keys, etc.)");
  EXPECT_EQ(Call("json_path", {N(), S("$")}), "null");
  EXPECT_EQ(Call("json_path", {J("[]"), N()}), "null");
}

TEST(JsonFunctions, ArrayLength) {
  EXPECT_EQ(Call("json_array_length", {J("[1,2,[3,4]]")}), "int 3");
  EXPECT_EQ(Call("json_array_length", {S("[]")}), "int 0");
  EXPECT_EQ(Call("json_array_length", {J("{\"a\":1}")}),
            "error: json_array_length: json must be a JSON array, got json {\"a\":1}");
  EXPECT_EQ(Call("json_array_length", {N()}), "null");
}

TEST(JsonFunctions, ToJson) {
  EXPECT_EQ(Call("to_json", {S("a\"b\n")}), "string '\"a\\\"b\\n\"'");
  EXPECT_EQ(Call("to_json", {I(5)}), "string '5'");
  EXPECT_EQ(Call("to_json", {D(0.1)}), "string '0.1'");
  EXPECT_EQ(Call("to_json", {D(std::numeric_limits<double>::quiet_NaN())}), "string 'null'");
  EXPECT_EQ(Call("to_json", {D(-std::numeric_limits<double>::infinity())}), "string 'null'");
  EXPECT_EQ(Call("to_json", {N()}), "string 'null'");
  EXPECT_EQ(Call("to_json", {B(false)}), "string 'false'");
  EXPECT_EQ(Call("to_json", {T(0)}), "string '\"1970-01-01T00:00:00.000Z\"'");
  EXPECT_EQ(Call("to_json", {J("[1]")}), "string '[1]'");
}

TEST(JsonFunctions, ParseJson) {
  EXPECT_EQ(Call("parse_json", {S("{\"a\": [1, 2]}")}), "json {\"a\":[1,2]}");
  EXPECT_EQ(Call("parse_json", {S("\"x\"")}), "string 'x'");
  EXPECT_EQ(Call("parse_json", {S(" 42 ")}), "int 42");
  EXPECT_EQ(Call("parse_json", {S("null")}), "null");
  EXPECT_EQ(Call("parse_json", {N()}), "null");
  EXPECT_EQ(Call("parse_json", {J("[1]")}),
            "error: parse_json: text must be a string, got json [1]");
  EXPECT_EQ(Call("parse_json", {S("")}),
            "error: parse_json: string '' is not valid JSON (Empty: no JSON found)");
  EXPECT_EQ(Call("parse_json", {S("{\"a\":1} x")}),
            "error: parse_json: string '{\"a\":1} x' is not valid JSON (The JSON document has an "
            "improper structure: missing or superfluous commas, braces, missing keys, etc.)");
}

TEST(JsonFunctions, HugeArray) {
  std::string big = "[";
  for (int i = 0; i < 200'000; ++i) big += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  big += "]";
  EXPECT_EQ(Call("json_array_length", {J(big)}), "int 200000");
  EXPECT_EQ(Call("json_path", {J(big), S("$[199999]")}), "string '199999'");
}

}  // namespace
}  // namespace dataforge::expr
