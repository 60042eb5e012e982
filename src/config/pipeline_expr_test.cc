// Reading `expr` columns and process.where from a pipeline file: their positions, and
// expressions compiled when the file is read (docs/expressions.md).
#include <gtest/gtest.h>

#include "config/pipeline_file.h"

namespace dataforge {
namespace {

constexpr char kFile[] = R"(process:
  key_column: id
  where: "nat <> 'XX' AND dob.age >= 18"
  columns:
    - {name: id, type: uuid, path: login.uuid, required: true}
    - {name: decade, type: int, expr: "dob.age / 10 * 10"}
    - name: greeting
      type: text
      expr: 'name.first || '' '' || name.last'
    - name: plain
      expr: coalesce(nat, 'none')
)";

TEST(PipelineExprTest, ReadsExpressionsAndWhereTheyStart) {
  auto c = ParsePipelineConfig(kFile, "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ProcessConfig& p = c->process;
  EXPECT_EQ(p.where, "nat <> 'XX' AND dob.age >= 18");
  EXPECT_EQ(p.where_line, 3);
  EXPECT_EQ(p.where_column, 11);  // after the opening quote
  ASSERT_EQ(p.columns.size(), 4u);
  EXPECT_EQ(p.columns[1].expr, "dob.age / 10 * 10");
  EXPECT_EQ(p.columns[1].line, 6);
  EXPECT_EQ(p.columns[1].expr_column, 40);
  EXPECT_TRUE(p.columns[1].paths.empty());
  EXPECT_EQ(p.columns[2].expr, "name.first || ' ' || name.last");  // YAML's '' is one quote
  EXPECT_EQ(p.columns[2].line, 9);
  EXPECT_EQ(p.columns[2].expr_column, 14);
  EXPECT_EQ(p.columns[3].expr, "coalesce(nat, 'none')");
  EXPECT_EQ(p.columns[3].line, 11);
  EXPECT_EQ(p.columns[3].expr_column, 13);  // a plain scalar: no quote to skip
  EXPECT_EQ(p.columns[3].type, "text");
}

TEST(PipelineExprTest, ShowWritesThemBack) {
  auto c = ParsePipelineConfig(kFile, "p.yaml");
  ASSERT_TRUE(c.ok());
  std::string yaml = PipelineConfigToYaml(*c);
  auto again = ParsePipelineConfig(yaml, "shown.yaml");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << yaml;
  EXPECT_EQ(again->process.where, c->process.where);
  ASSERT_EQ(again->process.columns.size(), 4u);
  EXPECT_EQ(again->process.columns[1].expr, "dob.age / 10 * 10");
  EXPECT_EQ(again->process.columns[2].expr, "name.first || ' ' || name.last");
}

std::string ExprErrorOf(const std::string& yaml) {
  auto c = ParsePipelineConfig(yaml, "p.yaml");
  return c.ok() ? "parsed" : c.status().message();
}

TEST(PipelineExprTest, BadExpressionsFailWithFileLineAndColumn) {
  EXPECT_EQ(ExprErrorOf("process:\n  where: \"nat = 'FR' AND lowr(email) = 'x'\"\n"),
            "p.yaml:2:26: unknown function 'lowr'; did you mean lower? (docs/expressions.md "
            "lists the functions)");
  EXPECT_EQ(ExprErrorOf("process:\n  columns:\n    - {name: id, type: uuid, path: $key}\n"
                        "    - {name: n, expr: \"dob.age +\"}\n"),
            "p.yaml:4:33: expected a value (a number, a 'string', a field, a function call or "
            "'(') but found the end of the expression");
  EXPECT_EQ(ExprErrorOf("process:\n  columns:\n    - {name: id, type: uuid, path: $key}\n"
                        "    - {name: n, path: a, expr: \"a\"}\n"),
            "p.yaml:4: column 'n' has an 'expr' and a 'path': give one of them");
  EXPECT_EQ(ExprErrorOf("process:\n  columns:\n    - {name: id, type: uuid, path: $key}\n"
                        "    - {name: n, expr: \"\"}\n"),
            "p.yaml:4: the expression is empty: write one, or remove the key");
  EXPECT_EQ(ExprErrorOf("process:\n  columns:\n    - {name: id, type: uuid, path: $key}\n"
                        "    - {name: n}\n"),
            "p.yaml:4: column 'n' needs a 'path', a 'template' or an 'expr'");
}

}  // namespace
}  // namespace dataforge
