#include "expr/functions.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "expr/testing/call.h"

namespace dataforge::expr {
namespace {

using testing::Call;
using testing::N;

TEST(Functions, RegistryIsConsistent) {
  std::set<std::string_view> names;
  for (const FunctionDef& f : AllFunctions()) {
    SCOPED_TRACE(std::string(f.name));
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate";
    for (char c : f.name) EXPECT_FALSE(c >= 'A' && c <= 'Z');
    EXPECT_NE(f.impl, nullptr);
    EXPECT_GE(f.min_args, 0);
    EXPECT_TRUE(f.max_args == -1 || f.max_args >= f.min_args);
    EXPECT_EQ(f.signature.substr(0, f.name.size() + 1), std::string(f.name) + "(");
  }
  EXPECT_EQ(names.size(), 55u);
}

TEST(Functions, FindIsCaseInsensitive) {
  const FunctionDef* f = FindFunction("SubString");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name, "substring");
  EXPECT_EQ(FindFunction("regexp_EXTRACT"), FindFunction("regexp_extract"));
  EXPECT_EQ(FindFunction("nope"), nullptr);
  EXPECT_EQ(FindFunction(""), nullptr);
  EXPECT_EQ(FindFunction("lower "), nullptr);
}

// Null in, null out: every function given only nulls answers null, except the ones whose
// documented job is to look at nulls.
TEST(Functions, NullInNullOut) {
  for (const FunctionDef& f : AllFunctions()) {
    if (f.min_args == 0) continue;  // now()
    std::vector<Value> nulls(static_cast<size_t>(f.min_args), N());
    std::string expected = "null";
    if (f.name == "concat") expected = "string ''";
    if (f.name == "is_null") expected = "boolean true";
    if (f.name == "to_json") expected = "string 'null'";
    EXPECT_EQ(Call(f.name, nulls), expected) << f.name;
  }
}

// The functions keep per-thread and shared caches (compiled regexes, a JSON parser per thread,
// time zones, OpenSSL digest contexts): many threads calling at once get the same answers as one.
TEST(Functions, SameAnswersFromManyThreads) {
  struct Case {
    const char* fn;
    std::vector<Value> args;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"regexp_extract",
       {testing::S("ann@example.com"), testing::S("@(.+)$")},
       "string 'example.com'"},
      {"json_path",
       {testing::J("{\"a\":[1,{\"b\":\"x\"}]}"), testing::S("$.a[1].b")},
       "string 'x'"},
      {"format_timestamp",
       {testing::S("2024-03-31T01:00:00Z"), testing::S("%F %T %Z"), testing::S("Europe/Berlin")},
       "string '2024-03-31 03:00:00 CEST'"},
      {"to_timestamp",
       {testing::S("2024-10-27 02:30"), testing::S("%Y-%m-%d %H:%M"), testing::S("Europe/Berlin")},
       "timestamp 2024-10-27T00:30:00.000Z"},
      {"md5", {testing::S("abc")}, "string '900150983cd24fb0d6963f7d28e17f72'"},
      {"sha256",
       {testing::S("")},
       "string 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'"},
      {"upper", {testing::S("çelik")}, "string 'ÇELIK'"},
  };
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &cases, &wrong] {
      for (int round = 0; round < 300; ++round) {
        const Case& c = cases[static_cast<size_t>(round + t) % cases.size()];
        if (Call(c.fn, c.args) != c.want) ++wrong[static_cast<size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

// docs/expressions.md lists every function, with the registry's signature, in the registry's
// order (AllFunctions promises that order).
TEST(Functions, DocumentedInOrder) {
  std::ifstream in(std::string(DATAFORGE_SOURCE_DIR) + "/docs/expressions.md");
  ASSERT_TRUE(in) << "docs/expressions.md";
  std::stringstream text;
  text << in.rdbuf();
  std::string doc = text.str();
  size_t section = doc.find("\n## Functions\n");
  ASSERT_NE(section, std::string::npos);
  size_t at = section;
  for (const FunctionDef& f : AllFunctions()) {
    std::string row = "| `" + std::string(f.signature) + "` |";
    size_t hit = doc.find(row, section);
    EXPECT_NE(hit, std::string::npos) << "no row " << row;
    if (hit == std::string::npos) continue;
    EXPECT_GT(hit, at) << row << " is out of order";
    at = hit;
  }
}

}  // namespace
}  // namespace dataforge::expr
