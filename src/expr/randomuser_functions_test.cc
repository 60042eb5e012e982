// The functions over the 697 randomuser fixture records (../shared/fixtures/randomuser, every
// API version 1.0-1.4: epoch, "YYYY-MM-DD HH:MM:SS" and ISO dates; Persian, Turkish, French
// names and emails) against testdata/randomuser_functions.tsv, which
// testdata/randomuser_functions.py computes with Python's str, hashlib, re, datetime and zoneinfo.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "expr/functions.h"
#include "expr/value.h"

namespace dataforge::expr {
namespace {

// name(args...), or a failed test and null.
Value Fn(std::string_view name, std::vector<Value> args) {
  const FunctionDef* f = FindFunction(name);
  if (f == nullptr) {
    ADD_FAILURE() << "no function " << name;
    return Value::Null();
  }
  auto r = f->impl(args, CallContext{});
  if (!r.ok()) {
    ADD_FAILURE() << name << ": " << r.status().message();
    return Value::Null();
  }
  return *r;
}

Value Field(simdjson::dom::element record, std::string_view path) {
  simdjson::dom::element e;
  if (record.at_pointer(path).get(e) != simdjson::SUCCESS) return Value::Null();
  return FromJsonElement(e);
}

// dob / registered in any version: an int (epoch seconds), a string, or {date, age}.
Value Instant(const Value& v) {
  if (v.kind == Kind::kJson)
    return Fn("to_timestamp", {Fn("json_path", {v, Value::String("$.date")})});
  return Fn("to_timestamp", {v});
}

TEST(RandomuserFunctions, AgreeWithPythonOverEveryFixtureRecord) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(DATAFORGE_FIXTURES_DIR)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 11u);

  std::ifstream expected_file(std::string(DATAFORGE_SOURCE_DIR) +
                              "/src/expr/testdata/randomuser_functions.tsv");
  ASSERT_TRUE(expected_file);
  std::vector<std::string> expected;
  for (std::string line; std::getline(expected_file, line);) expected.push_back(line);
  ASSERT_EQ(expected.size(), 697u);

  simdjson::dom::parser parser;
  size_t n = 0;
  for (const std::string& file : files) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.load(std::string(DATAFORGE_FIXTURES_DIR) + "/" + file).get(doc),
              simdjson::SUCCESS);
    simdjson::dom::array results;
    ASSERT_EQ(doc["results"].get_array().get(results), simdjson::SUCCESS);
    size_t i = 0;
    for (simdjson::dom::element r : results) {
      Value email = Field(r, "/email");
      Value first = Field(r, "/name/first");
      Value last = Field(r, "/name/last");
      Value dob = Instant(Field(r, "/dob"));
      Value reg = Instant(Field(r, "/registered"));
      std::vector<Value> fields = {
          Value::String(file + ":" + std::to_string(i)),
          Fn("lower", {email}),
          Fn("upper", {first}),
          Fn("length", {Fn("concat_ws", {Value::String(" "), first, last})}),
          Fn("split_part", {email, Value::String("@"), Value::Int(2)}),
          Fn("substring", {last, Value::Int(2), Value::Int(3)}),
          Fn("md5", {email}),
          Fn("regexp_replace", {Field(r, "/phone"), Value::String("[^0-9]"), Value::String("")}),
          Fn("extract", {Value::String("year"), dob}),
          Fn("age", {dob, reg}),
          Fn("format_timestamp",
             {reg, Value::String("%a %d %b %Y %H:%M %Z"), Value::String("Europe/Berlin")}),
          Fn("date_trunc", {Value::String("week"), reg}),
          Fn("extract", {Value::String("week"), reg}),
          Fn("coalesce", {Field(r, "/nat"), Value::String("XX")}),
          Fn("crc32", {Field(r, "/login/username")}),
      };
      std::string line;
      for (const Value& v : fields) {
        if (!line.empty()) line.push_back('\t');
        AppendText(v, &line);
      }
      ASSERT_LT(n, expected.size());
      ASSERT_EQ(line, expected[n]) << "record " << n;
      ++n;
      ++i;
    }
  }
  EXPECT_EQ(n, 697u);
}

// randomuser's own dob.age and registered.age (API 1.2-1.4 give {date, age}), computed when the
// response was fetched: about the commit date of each capture (SOURCES.md). API 1.2 and 1.4
// count whole years by the birthday rule, which is age(date, fetch time); 1.3 subtracted the
// years only (extract('year', fetch time) - extract('year', date)), which age() is not.
TEST(RandomuserFunctions, AgeIsRandomusersAge) {
  struct Capture {
    const char* file;
    const char* committed;  // a time within the window every record's ages allow
    bool year_difference;   // API 1.3
    size_t records;
  };
  const Capture captures[] = {
      {"v1.2-contact-agenda.json", "2018-09-04T12:00:00Z", false, 50},
      {"v1.2-visdata.json", "2019-08-12T12:00:00Z", false, 20},
      {"v1.3-employee-directory.json", "2020-10-31T12:00:00Z", true, 200},
      {"v1.3-random-user-app.json", "2019-12-02T12:00:00Z", true, 50},
      {"v1.4-persona-gen.json", "2025-08-04T12:00:00Z", false, 30},
      {"v1.4-python-hof.json", "2025-06-22T12:00:00Z", false, 10},
      {"v1.4-randomuser-me-project.json", "2023-06-19T12:00:00Z", false, 111},
  };
  simdjson::dom::parser parser;
  size_t checked = 0;
  for (const Capture& c : captures) {
    SCOPED_TRACE(c.file);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.load(std::string(DATAFORGE_FIXTURES_DIR) + "/" + c.file).get(doc),
              simdjson::SUCCESS);
    simdjson::dom::array results;
    ASSERT_EQ(doc["results"].get_array().get(results), simdjson::SUCCESS);
    ASSERT_EQ(results.size(), c.records);
    Value fetched = Fn("to_timestamp", {Value::String(c.committed)});
    for (simdjson::dom::element r : results) {
      for (const char* field : {"/dob", "/registered"}) {
        Value date = Field(r, std::string(field) + "/date");
        Value want = Field(r, std::string(field) + "/age");
        Value got;
        if (c.year_difference) {
          got = Value::Int(Fn("extract", {Value::String("year"), fetched}).i -
                           Fn("extract", {Value::String("year"), date}).i);
        } else {
          got = Fn("age", {date, fetched});
        }
        ASSERT_EQ(DescribeValue(got), DescribeValue(want)) << ToText(date);
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 2u * (50 + 20 + 200 + 50 + 30 + 10 + 111));
}

}  // namespace
}  // namespace dataforge::expr
