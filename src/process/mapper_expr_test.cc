// `expr` columns and process.where in the mapping (docs/expressions.md).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fmt/format.h>

#include "process/mapper.h"
#include "process/record_filter.h"

namespace dataforge {
namespace {

constexpr char kUuid[] = "91C38129-E067-4AF8-8705-7D8376747CEF";

std::string User(std::string_view nat, int age, std::string_view extra = "") {
  return fmt::format(
      R"({{"nat":"{}","login":{{"uuid":"{}"}},"name":{{"first":"Léa","last":"Martin"}},
    "dob":{{"date":"1990-03-04T05:06:07.000Z","age":{}}},"email":"Lea@Example.com",
    "location":{{"coordinates":{{"latitude":"45.75"}}}}{}}})",
      nat, kUuid, age, extra);
}

ColumnSpec Col(std::string name, std::string type, std::string expr, bool required = false) {
  ColumnSpec c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.expr = std::move(expr);
  c.required = required;
  c.line = 9;
  c.expr_column = 30;
  return c;
}

ProcessConfig ExprConfig(std::string where = "") {
  ProcessConfig p;
  p.key_column = "id";
  ColumnSpec id;
  id.name = "id";
  id.type = "uuid";
  id.paths = {"login.uuid"};
  id.required = true;
  p.columns = {id,
               Col("full_name", "text", "name.first || ' ' || upper(name.last)"),
               Col("age_next", "int", "dob.age + 1"),
               Col("adult", "boolean", "dob.age >= 18"),
               Col("lat", "double", "CAST(location.coordinates.latitude AS double) * 2"),
               Col("born", "timestamp", "dob.date"),
               Col("band", "text",
                   "CASE WHEN dob.age < 30 THEN 'young' WHEN dob.age < 60 THEN 'middle' END"),
               Col("nothing", "text", "missing.field")};
  p.where = std::move(where);
  p.where_line = 4;
  p.where_column = 12;
  return p;
}

Mapper Make(const ProcessConfig& p) {
  auto m = Mapper::Create(p);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

TEST(MapperExprTest, ComputedColumns) {
  Mapper m = Make(ExprConfig());
  MapResult r = m.Map("k", User("FR", 34));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.filtered);
  EXPECT_EQ(r.key, "91c38129-e067-4af8-8705-7d8376747cef");
  EXPECT_EQ(r.row_json,
            R"({"id":"91c38129-e067-4af8-8705-7d8376747cef","full_name":"Léa MARTIN",)"
            R"("age_next":35,"adult":true,"lat":91.5,"born":"1990-03-04T05:06:07.000Z",)"
            R"("band":"middle","nothing":null})");
  // The same mapper again: the reused values give the same row.
  MapResult again = m.Map("k", User("DE", 70));
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.row_json,
            R"({"id":"91c38129-e067-4af8-8705-7d8376747cef","full_name":"Léa MARTIN",)"
            R"("age_next":71,"adult":true,"lat":91.5,"born":"1990-03-04T05:06:07.000Z",)"
            R"("band":null,"nothing":null})");
}

TEST(MapperExprTest, WhereKeepsOnlyTrue) {
  Mapper m = Make(ExprConfig("nat <> 'XX' AND dob.age >= 18"));
  MapResult kept = m.Map("k", User("FR", 18));
  ASSERT_TRUE(kept.ok) << kept.error;
  EXPECT_FALSE(kept.filtered);
  MapResult minor = m.Map("k", User("FR", 17));
  EXPECT_TRUE(minor.ok);
  EXPECT_TRUE(minor.filtered);
  EXPECT_EQ(minor.row_json, "");
  MapResult xx = m.Map("k", User("XX", 40));
  EXPECT_TRUE(xx.ok);
  EXPECT_TRUE(xx.filtered);
  // NULL (no nat) is not TRUE: filtered, not an error.
  MapResult no_nat =
      m.Map("k", R"({"login":{"uuid":"91C38129-E067-4AF8-8705-7D8376747CEF"},"dob":{"age":40}})");
  EXPECT_TRUE(no_nat.ok);
  EXPECT_TRUE(no_nat.filtered);
}

TEST(MapperExprTest, WhereErrorsDeadLetter) {
  Mapper m = Make(ExprConfig("dob.age / (dob.age - 34) > 1"));
  MapResult r = m.Map("k", User("FR", 34));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.filtered);
  EXPECT_EQ(r.error, "where \"dob.age / (dob.age - 34) > 1\": division by zero: 34 / 0");
  Mapper not_bool = Make(ExprConfig("dob.age + 1"));
  MapResult nb = not_bool.Map("k", User("FR", 34));
  EXPECT_FALSE(nb.ok);
  EXPECT_EQ(nb.error,
            "where \"dob.age + 1\" gave int 35, not a boolean: write a condition (e.g. x = 1, x "
            "IS NOT NULL)");
}

TEST(MapperExprTest, ColumnErrorsNameTheColumnTheExpressionAndTheValue) {
  ProcessConfig p = ExprConfig();
  p.columns.push_back(Col("ratio", "double", "100 / (dob.age - 34)"));
  Mapper m = Make(p);
  MapResult r = m.Map("k", User("FR", 34));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "column \"ratio\": expression \"100 / (dob.age - 34)\": division by zero: 100 / 0");
  MapResult fine = m.Map("k", User("FR", 36));
  ASSERT_TRUE(fine.ok) << fine.error;
  EXPECT_NE(fine.row_json.find(R"("ratio":50})"), std::string::npos) << fine.row_json;

  ProcessConfig q = ExprConfig();
  q.columns.push_back(Col("code", "int", "nat"));
  MapResult bad = Make(q).Map("k", User("FR", 34));
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error,
            "column \"code\": expression \"nat\" gave string 'FR', which is not a 32-bit integer");

  ProcessConfig half = ExprConfig();
  half.columns.push_back(Col("half", "bigint", "dob.age / 4.0"));
  MapResult h = Make(half).Map("k", User("FR", 34));
  EXPECT_FALSE(h.ok);
  EXPECT_EQ(h.error,
            "column \"half\": expression \"dob.age / 4.0\" gave double 8.5, which is not a 64-bit "
            "integer");
  MapResult whole = Make(half).Map("k", User("FR", 36));
  ASSERT_TRUE(whole.ok) << whole.error;
  EXPECT_NE(whole.row_json.find(R"("half":9})"), std::string::npos) << whole.row_json;

  ProcessConfig control = ExprConfig();
  control.columns.push_back(Col("c", "uuid", "'a\nb'"));
  MapResult ctl = Make(control).Map("k", User("FR", 34));
  EXPECT_EQ(ctl.error,
            "column \"c\": expression \"'a\\nb'\" gave string 'a\\x0Ab', which is not a UUID");
}

TEST(MapperExprTest, RequiredExprColumnNeedsAValue) {
  ProcessConfig p = ExprConfig();
  p.columns.push_back(Col("must", "text", "missing", /*required=*/true));
  MapResult r = Make(p).Map("k", User("FR", 34));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "column \"must\": no value (expression \"missing\" gave NULL)");
}

TEST(MapperExprTest, KeyColumnFromAnExpression) {
  ProcessConfig p;
  p.key_column = "id";
  p.columns = {Col("id", "text", "lower(nat) || '-' || $key", true)};
  p.delete_path = "op";
  p.delete_value = "d";
  p.where = "dob.age > 100";
  Mapper m = Make(p);
  MapResult filtered = m.Map("k7", User("FR", 34));
  EXPECT_TRUE(filtered.filtered);
  // A delete is never filtered: it removes the row whatever the where says.
  MapResult del = m.Map("k7", User("FR", 34, R"(,"op":"d")"));
  ASSERT_TRUE(del.ok) << del.error;
  EXPECT_TRUE(del.deleted);
  EXPECT_FALSE(del.filtered);
  EXPECT_EQ(del.key, "fr-k7");
}

TEST(MapperExprTest, NowIsTheProcessingTime) {
  ProcessConfig p = ExprConfig();
  p.columns.push_back(Col("seen", "timestamp", "now()"));
  MapResult r = Make(p).Map("k", User("FR", 34), 1700000000123);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.row_json.find(R"("seen":"2023-11-14T22:13:20.123Z")"), std::string::npos)
      << r.row_json;
}

// `$timestamp` is the record's log timestamp (milliseconds, as Kafka keeps it): as a path, in
// a template and in an expression. Without one (0: a dead letter's replay) it is null.
TEST(MapperExprTest, TimestampIsTheRecordsLogTimestamp) {
  ProcessConfig p = ExprConfig();
  ColumnSpec logged;
  logged.name = "logged";
  logged.type = "timestamp";
  logged.paths = {"$timestamp"};
  ColumnSpec label;
  label.name = "label";
  label.type = "text";
  label.templates = {"{nat} at {$timestamp}"};
  p.columns.push_back(logged);
  p.columns.push_back(label);
  p.columns.push_back(Col("hour", "timestamp", "date_trunc('hour', $timestamp)"));
  Mapper m = Make(p);
  MapResult r = m.Map("k", User("FR", 34), 1700000000123, 1600000000987654);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.row_json.find(R"("logged":"2020-09-13T12:26:40.987Z")"), std::string::npos)
      << r.row_json;
  EXPECT_NE(r.row_json.find(R"("label":"FR at 2020-09-13T12:26:40.987Z")"), std::string::npos)
      << r.row_json;
  EXPECT_NE(r.row_json.find(R"("hour":"2020-09-13T12:00:00.000Z")"), std::string::npos)
      << r.row_json;

  r = m.Map("k", User("FR", 34), 1700000000123, 0);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_NE(r.row_json.find(R"("logged":null)"), std::string::npos) << r.row_json;
  EXPECT_NE(r.row_json.find(R"("label":null)"), std::string::npos) << r.row_json;
  EXPECT_NE(r.row_json.find(R"("hour":null)"), std::string::npos) << r.row_json;

  p.columns[p.columns.size() - 3].required = true;
  r = Make(p).Map("k", User("FR", 34), 1700000000123, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, R"(column "logged": no value (tried $timestamp))");
}

TEST(MapperExprTest, CreateRejectsBadExpressions) {
  ProcessConfig p = ExprConfig();
  p.columns.push_back(Col("x", "text", "lowr(nat)"));
  auto m = Mapper::Create(p);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(m.status().message(),
            "column 'x': line 9, column 30: unknown function 'lowr'; did you mean lower? "
            "(docs/expressions.md lists the functions)");
  ProcessConfig both = ExprConfig();
  both.columns.back().paths = {"a.b"};
  EXPECT_EQ(Mapper::Create(both).status().message(),
            "line 9: column 'nothing': has an 'expr' and a 'path' or 'template': give one of "
            "them");
  auto w = Mapper::Create(ExprConfig("nat = "));
  EXPECT_EQ(w.status().message(),
            "process.where: line 4, column 18: expected a value (a number, a 'string', a field, "
            "a function call or '(') but found the end of the expression");
}

TEST(RecordFilterTest, KeepsTrueOnly) {
  auto f = RecordFilter::Compile("x > 1", "p.yaml", 2, 3);
  ASSERT_TRUE(f.ok());
  simdjson::dom::parser parser;
  auto check = [&](std::string_view json) -> std::string {
    simdjson::dom::element root;
    EXPECT_EQ(parser.parse(json.data(), json.size(), true).get(root), simdjson::SUCCESS);
    expr::Input in;
    in.record = &root;
    Result<bool> keep = f->Keep(in);
    return keep.ok() ? (*keep ? "keep" : "drop") : keep.status().message();
  };
  EXPECT_EQ(check(R"({"x": 2})"), "keep");
  EXPECT_EQ(check(R"({"x": 1})"), "drop");
  EXPECT_EQ(check(R"({"y": 1})"), "drop");
  EXPECT_EQ(check(R"({"x": "a"})"),
            "where \"x > 1\": cannot compare string 'a' with int 1 (>): the string is not a "
            "number; CAST one side");
  auto all = RecordFilter::Compile("", "p.yaml", 2, 3);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->keeps_all());
  EXPECT_EQ(RecordFilter::Compile("x >", "p.yaml", 2, 3).status().message(),
            "p.yaml:2:6: expected a value (a number, a 'string', a field, a function call or "
            "'(') but found the end of the expression");
}

}  // namespace
}  // namespace dataforge
