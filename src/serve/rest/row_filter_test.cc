#include "serve/rest/row_filter.h"

#include <gtest/gtest.h>

namespace dataforge::rest {
namespace {

TableSchema People() {
  return TableSchema{"shop.people",
                     "id",
                     {{"id", "text"},
                      {"age", "int"},
                      {"score", "double"},
                      {"price", "decimal"},
                      {"active", "boolean"},
                      {"dob", "timestamp"},
                      {"ref", "uuid"},
                      {"name", "text"}}};
}

std::string FilterError(std::string_view column, std::string_view value) {
  auto f = ParseFilter(People(), column, value);
  EXPECT_FALSE(f.ok());
  return f.ok() ? "" : f.status().message();
}

bool Match(std::string_view column, std::string_view value, const std::string& row_json) {
  auto f = ParseFilter(People(), column, value);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  std::vector<Filter> filters;
  filters.push_back(std::move(f).value());
  RowMatcher m(std::move(filters));
  simdjson::dom::parser parser;
  simdjson::dom::object row;
  EXPECT_EQ(parser.parse(row_json).get(row), simdjson::SUCCESS);
  return m.Matches(row);
}

TEST(RowFilter, ErrorsNameTheParameterAndWhatWasExpected) {
  EXPECT_EQ(FilterError("age", "gt.abc"),
            "filter age=gt.abc: expected a number for column age (int)");
  EXPECT_EQ(FilterError("active", "eq.yes"),
            "filter active=eq.yes: expected true or false for column active (boolean)");
  EXPECT_EQ(FilterError("dob", "lt.yesterday"),
            "filter dob=lt.yesterday: expected a timestamp (YYYY-MM-DD, "
            "YYYY-MM-DDTHH:MM:SS[.mmm][Z|+HH:MM] or epoch milliseconds) for column dob "
            "(timestamp)");
  EXPECT_EQ(FilterError("ref", "eq.123"),
            "filter ref=eq.123: expected a uuid (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) for "
            "column ref (uuid)");
  EXPECT_EQ(FilterError("age", "in.(1,x)"),
            "filter age=in.(1,x): expected a number for column age (int), got 'x'");
  EXPECT_EQ(FilterError("age", "in.1,2"),
            "filter age=in.1,2: in takes a list in parentheses: age=in.(a,b)");
  EXPECT_EQ(FilterError("nme", "eq.x"),
            "filter nme=eq.x: unknown column nme; columns of shop.people: id, age, score, price, "
            "active, dob, ref, name");
  EXPECT_EQ(FilterError("age", "between.1"),
            "filter age=between.1: unknown operator between; operators: eq, neq, gt, gte, lt, "
            "lte, in, like, is (not.<op> negates one)");
  EXPECT_EQ(FilterError("age", "5"),
            "filter age=5: expected <operator>.<value> (e.g. age=eq.5); operators: eq, neq, gt, "
            "gte, lt, lte, in, like, is (not.<op> negates one)");
  EXPECT_EQ(FilterError("age", "like.1*"),
            "filter age=like.1*: like needs a text column; age is int (use eq, gt, lt, ...)");
  EXPECT_EQ(FilterError("age", "is.empty"),
            "filter age=is.empty: is takes null or not_null (is.null, is.not_null)");
  EXPECT_EQ(FilterError("price", "gt.1e"),
            "filter price=gt.1e: expected a number for column price (decimal)");
}

TEST(RowFilter, NumbersCompareNumerically) {
  EXPECT_TRUE(Match("age", "gt.9", R"({"age":10})"));  // not "10" < "9" as text
  EXPECT_FALSE(Match("age", "gt.10", R"({"age":10})"));
  EXPECT_TRUE(Match("age", "gte.10", R"({"age":10})"));
  EXPECT_TRUE(Match("age", "lt.10.5", R"({"age":10})"));
  EXPECT_TRUE(Match("age", "eq.-3", R"({"age":"-3"})"));  // numeric text in the row
  EXPECT_TRUE(Match("score", "gt.2.25", R"({"score":2.5})"));
  EXPECT_TRUE(Match("score", "eq.2", R"({"score":2})"));
  EXPECT_TRUE(Match("price", "eq.1.5", R"({"price":"1.50"})"));
  EXPECT_TRUE(Match("price", "gt.12345678901234567890.1",
                    R"({"price":"12345678901234567890.2"})"));  // beyond a double's digits
  EXPECT_FALSE(
      Match("price", "gt.12345678901234567890.2", R"({"price":"12345678901234567890.2"})"));
  EXPECT_TRUE(Match("age", "gt.9223372036854775806", R"({"age":9223372036854775807})"));
}

TEST(RowFilter, TimestampsCompareByInstant) {
  const std::string row = R"({"dob":"2000-01-02T03:04:05.006Z"})";
  EXPECT_TRUE(Match("dob", "eq.2000-01-02T04:04:05.006+01:00", row));
  EXPECT_TRUE(Match("dob", "gt.2000-01-02", row));
  EXPECT_FALSE(Match("dob", "gt.2000-01-03", row));
  EXPECT_TRUE(Match("dob", "eq.946782245006", row));  // epoch milliseconds
  EXPECT_TRUE(Match("dob", "lt.2000-01-02 03:04:05.007", row));
}

TEST(RowFilter, UuidsBooleansText) {
  const std::string row =
      R"({"ref":"0e5a3f4c-9b1d-4c2e-8f00-00000000000a","active":true,"name":"Jo O'Brien"})";
  EXPECT_TRUE(Match("ref", "eq.0E5A3F4C-9B1D-4C2E-8F00-00000000000A", row));
  EXPECT_TRUE(Match("ref", "gt.0e5a3f4c-9b1d-4c2e-8f00-000000000009", row));
  EXPECT_TRUE(Match("active", "eq.true", row));
  EXPECT_TRUE(Match("active", "gt.false", row));
  EXPECT_TRUE(Match("name", "like.Jo*", row));
  EXPECT_TRUE(Match("name", "like.%Brien", row));
  EXPECT_TRUE(Match("name", "like.*O'*", row));
  EXPECT_FALSE(Match("name", "like.jo*", row));    // case-sensitive
  EXPECT_FALSE(Match("name", "like.Jo_O*", row));  // _ is itself
  EXPECT_TRUE(Match("name", "in.(Ann,\"Jo O'Brien\")", row));
  EXPECT_TRUE(Match("name", "gt.Jo", row));
}

TEST(RowFilter, NullsMatchOnlyIsNull) {
  for (const std::string row : {R"({"age":null})", R"({"id":"x"})"}) {
    EXPECT_TRUE(Match("age", "is.null", row)) << row;
    EXPECT_FALSE(Match("age", "is.not_null", row)) << row;
    EXPECT_FALSE(Match("age", "not.is.null", row)) << row;
    EXPECT_FALSE(Match("age", "eq.1", row)) << row;
    EXPECT_FALSE(Match("age", "neq.1", row)) << row;
    EXPECT_FALSE(Match("age", "not.eq.1", row)) << row;
    EXPECT_FALSE(Match("age", "not.in.(1,2)", row)) << row;
  }
  EXPECT_TRUE(Match("age", "not.is.null", R"({"age":0})"));
  EXPECT_TRUE(Match("age", "not.in.(1,2)", R"({"age":3})"));
  EXPECT_FALSE(Match("age", "not.in.(1,2)", R"({"age":2})"));
  EXPECT_TRUE(Match("age", "in.()", R"({"age":2})") == false);
}

TEST(RowFilter, LikeWildcards) {
  EXPECT_TRUE(LikeMatch("*", ""));
  EXPECT_TRUE(LikeMatch("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(LikeMatch("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(LikeMatch("%%a", "ba"));
  EXPECT_FALSE(LikeMatch("abc", "abcd"));
  EXPECT_TRUE(LikeMatch("abc", "abc"));
}

TEST(TypedValue, KindsOfTypes) {
  EXPECT_EQ(KindOfType("bigint"), ValueKind::kInteger);
  EXPECT_EQ(KindOfType("FLOAT"), ValueKind::kDouble);
  EXPECT_EQ(KindOfType("varint"), ValueKind::kDecimal);
  EXPECT_EQ(KindOfType("timeuuid"), ValueKind::kUuid);
  EXPECT_EQ(KindOfType("map<text, int>"), ValueKind::kText);
}

}  // namespace
}  // namespace dataforge::rest
