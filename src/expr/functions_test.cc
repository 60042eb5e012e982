#include "expr/functions.h"

#include <fstream>
#include <set>
#include <sstream>
#include <string>
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
