// The fast path (fast_path.h) must never accept a record valijson refuses: a differential test
// over many generated records, the format checks against valijson's own regular expressions,
// and which schemas get the fast path.
#include "registry/json/fast_path.h"

// <regex>: GCC 12's false positive at -O1 with the sanitizers, see valijson_includes.h.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "registry/json/json_schema_format.h"
#include "registry/schema_format.h"

namespace dataforge::registry {
namespace {

constexpr char kSchema[] = R"({
  "$schema": "http://json-schema.org/draft-07/schema#", "title": "row",
  "type": "object",
  "properties": {
    "id": {"type": "string", "minLength": 36, "maxLength": 36},
    "name": {"type": ["string", "null"], "maxLength": 5, "description": "x"},
    "gender": {"enum": ["male", "female", null]},
    "flag": {"type": "boolean", "enum": [true]},
    "age": {"type": "integer", "minimum": 0, "exclusiveMaximum": 150},
    "score": {"type": "number", "exclusiveMinimum": -1, "maximum": 1.5},
    "dob": {"type": "string", "maxLength": 30},
    "ts": {"type": "string", "format": "date-time"},
    "day": {"type": ["string", "null"], "format": "date"},
    "at": {"format": "time"},
    "any": {},
    "tags": {"type": ["array", "object"]},
    "code": {"type": "string", "pattern": "^[a-z]{3}$"}
  },
  "required": ["id", "dob"],
  "additionalProperties": false
})";

const std::vector<std::string> kValues = {"null",
                                          "true",
                                          "false",
                                          "0",
                                          "-1",
                                          "1",
                                          "149",
                                          "150",
                                          "1.5",
                                          "1.0",
                                          "-1.0",
                                          "-0.5",
                                          "18446744073709551615",
                                          "-9223372036854775808",
                                          "1e2",
                                          "\"\"",
                                          "\"abc\"",
                                          "\"abcde\"",
                                          "\"abcdef\"",
                                          "\"日本語日本\"",
                                          "\"日本語日本語\"",
                                          "\"a\\u0000b\"",
                                          "\"male\"",
                                          "\"Male\"",
                                          "\"female\"",
                                          "\"2f1d8b2e-6a43-4c2e-9d0e-3b1f0c7a9e11\"",
                                          "\"2016-08-11T06:51:52.086Z\"",
                                          "\"2016-02-30T06:51:52Z\"",
                                          "\"2016-04-31T00:00:00+02:00\"",
                                          "\"2016-13-01T00:00:00Z\"",
                                          "\"2016-08-11t06:51:52z\"",
                                          "\"2016-08-11T24:00:00Z\"",
                                          "\"2016-08-11T23:59:60|01:00\"",
                                          "\"2016-08-11\"",
                                          "\"2016-8-11\"",
                                          "\"06:51:52.5-01:30\"",
                                          "\"06:51:52\"",
                                          "[]",
                                          "[1]",
                                          "{}",
                                          "{\"a\": 1}"};

const std::vector<std::string> kFields = {"id", "name", "gender", "flag", "age",  "score", "dob",
                                          "ts", "day",  "at",     "any",  "tags", "code"};

std::string Record(const std::string& field, const std::string& value) {
  std::string r = R"({"id": "2f1d8b2e-6a43-4c2e-9d0e-3b1f0c7a9e11", "dob": "2016-08-11T06:51:52Z")";
  if (!field.empty()) r += ", \"" + field + "\": " + value;
  return r + "}";
}

TEST(JsonSchemaFastPath, NeverAcceptsWhatValijsonRefuses) {
  auto parsed = JsonSchemaFormat().Parse(kSchema, {});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_TRUE(json_schema::HasFastPath(**parsed));
  auto fast = (*parsed)->NewValidator();
  auto slow = json_schema::NewValijsonOnlyValidator(**parsed);
  std::vector<std::string> records = {
      Record("", ""),
      R"({"dob": "2016-08-11T06:51:52Z"})",
      R"({"id": "2f1d8b2e-6a43-4c2e-9d0e-3b1f0c7a9e11"})",
      Record("extra", "1"),
      R"({"id": "2f1d8b2e-6a43-4c2e-9d0e-3b1f0c7a9e11", "dob": "2016-08-11T06:51:52Z",
          "dob": 5})",
      "[]",
      "5",
  };
  for (const auto& field : kFields) {
    for (const auto& value : kValues) records.push_back(Record(field, value));
  }
  size_t accepted = 0, refused = 0;
  for (const auto& r : records) {
    SCOPED_TRACE(r);
    const auto a = fast->Validate(r);
    const auto b = slow->Validate(r);
    ASSERT_EQ(a.has_value(), b.has_value());
    if (a) {
      EXPECT_EQ(a->path, b->path);
      EXPECT_EQ(a->rule, b->rule);
      EXPECT_EQ(a->message, b->message);
      ++refused;
    } else {
      ++accepted;
    }
  }
  // Both outcomes are exercised, many times.
  EXPECT_EQ(records.size(), 7u + kFields.size() * kValues.size());
  // 68 with the other fields; "ts" (date-time) accepts 3 of the values, "code" 1.
  EXPECT_EQ(accepted, 72u);
  EXPECT_EQ(refused, records.size() - 72u);
}

TEST(JsonSchemaFastPath, FormatsMatchValijsonsRegularExpressions) {
  // valijson 1.0's expressions (validation_visitor.hpp), and its day-of-month check.
  const std::regex date("^([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$");
  const std::regex time(
      "^([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\\.[0-9]+)?(([Zz])|([\\+|\\-]([01][0-9]"
      "|2[0-3]):[0-5][0-9]))$");
  const std::regex date_time(
      "^([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):([0-5][0-9]):(["
      "0-5][0-9]|60)(\\.[0-9]+)?(([Zz])|([\\+|\\-]([01][0-9]|2[0-3]):[0-5][0-9]))$");
  auto in_month = [](int month, int day) {
    if (month == 2) return day <= 29;
    const int limit = month <= 7 ? (month % 2 == 0 ? 30 : 31) : (month % 2 != 0 ? 30 : 31);
    return day <= limit;
  };
  const std::vector<std::string> samples = {"2016-08-11T06:51:52.086Z",
                                            "2016-08-11T06:51:52Z",
                                            "2016-08-11t06:51:52z",
                                            "2016-02-29T00:00:00Z",
                                            "2016-02-30T00:00:00Z",
                                            "2016-04-31T00:00:00Z",
                                            "2016-09-31T00:00:00Z",
                                            "2016-10-31T00:00:00Z",
                                            "2016-07-31T00:00:00Z",
                                            "2016-08-11T23:59:60+23:59",
                                            "2016-08-11T23:59:60|01:00",
                                            "2016-08-11T24:00:00Z",
                                            "2016-08-11T06:51Z",
                                            "2016-08-11T06:51:52",
                                            "2016-08-11T06:51:52.Z",
                                            "1-01-01T00:00:00Z",
                                            "-2016-08-11T06:51:52Z",
                                            "2016-8-11T06:51:52Z",
                                            "2016-08-11 06:51:52Z",
                                            "2016-08-11T06:51:52+0100",
                                            "2016-08-11",
                                            "2016-02-30",
                                            "2016-00-10",
                                            "2016-12-32",
                                            "06:51:52",
                                            "06:51:52Z",
                                            "06:51:52.123456-01:30",
                                            "6:51:52Z",
                                            "06:51:52+24:00",
                                            "",
                                            "2016-08-11T06:51:52ZZ"};
  for (const auto& s : samples) {
    SCOPED_TRACE(s);
    std::smatch m;
    bool expect_dt =
        std::regex_match(s, m, date_time) && in_month(std::stoi(m[2].str()), std::stoi(m[3].str()));
    EXPECT_EQ(json_schema::IsValijsonDateTime(s), expect_dt);
    bool expect_d =
        std::regex_match(s, m, date) && in_month(std::stoi(m[2].str()), std::stoi(m[3].str()));
    EXPECT_EQ(json_schema::IsValijsonDate(s), expect_d);
    EXPECT_EQ(json_schema::IsValijsonTime(s), std::regex_match(s, time));
  }
}

TEST(JsonSchemaFastPath, OnlyForFlatSimpleSchemas) {
  auto has = [](const std::string& schema) {
    auto parsed = JsonSchemaFormat().Parse(schema, {});
    EXPECT_TRUE(parsed.ok()) << schema;
    return parsed.ok() && json_schema::HasFastPath(**parsed);
  };
  EXPECT_TRUE(has(kSchema));
  EXPECT_TRUE(has(R"({"type": "object", "properties": {"a": {"type": "string"}}})"));
  EXPECT_FALSE(has(R"({"properties": {"a": {"type": "string"}}})"));  // not typed object
  EXPECT_TRUE(has(R"({"type": "object", "properties": {"a": {"pattern": "^x"}}})"));
  EXPECT_FALSE(has(R"({"type": "object", "properties": {"a": {"pattern": "(x"}}})"));
  EXPECT_FALSE(has(R"({"type": "object", "properties": {"a": {"$ref": "#/definitions/x"}},
                       "definitions": {"x": {"type": "string"}}})"));
  EXPECT_FALSE(has(R"({"type": "object", "properties": {"a": {"type": "object",
                       "properties": {"b": {"type": "string"}}}}})"));
  EXPECT_FALSE(has(R"({"type": "object", "properties": {"a": {"enum": [1, 2]}}})"));
  EXPECT_FALSE(has(R"({"type": "object", "properties": {"a": {}},
                       "additionalProperties": {"type": "string"}})"));
  EXPECT_FALSE(has(R"({"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}]}}})"));
}

}  // namespace
}  // namespace dataforge::registry
