#include "serve/cql/cql_parser.h"

#include <gtest/gtest.h>

#include "serve/cql/cql_lexer.h"

namespace dataforge::cql {
namespace {

template <typename T>
T Parse(std::string_view text, int* markers = nullptr) {
  auto r = ParseStatement(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  if (!r.ok()) return T{};
  if (markers != nullptr) *markers = r->marker_count;
  const T* s = std::get_if<T>(&r->statement);
  EXPECT_NE(s, nullptr) << text << " parsed into another statement kind";
  return s != nullptr ? *s : T{};
}

std::string ParseErrorOf(std::string_view text) {
  auto r = ParseStatement(text);
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(CqlLexerTest, TokensLiteralsAndComments) {
  auto t = Tokenize(
      "SELECT \"MyCol\", x FROM ks.t -- trailing\n"
      "WHERE k = 'it''s' /* block */ AND u = 123E4567-e89b-12d3-a456-426614174000 "
      "AND n = -42 AND f = 1.5e3 AND b = 0xCAFE AND p = :Name;");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::vector<std::pair<TokenKind, std::string>> got;
  for (const Token& tok : *t) got.emplace_back(tok.kind, tok.value);
  using K = TokenKind;
  std::vector<std::pair<TokenKind, std::string>> want = {
      {K::kIdentifier, "select"}, {K::kQuotedIdentifier, "MyCol"},
      {K::kPunct, ","},           {K::kIdentifier, "x"},
      {K::kIdentifier, "from"},   {K::kIdentifier, "ks"},
      {K::kPunct, "."},           {K::kIdentifier, "t"},
      {K::kIdentifier, "where"},  {K::kIdentifier, "k"},
      {K::kPunct, "="},           {K::kString, "it's"},
      {K::kIdentifier, "and"},    {K::kIdentifier, "u"},
      {K::kPunct, "="},           {K::kUuid, "123e4567-e89b-12d3-a456-426614174000"},
      {K::kIdentifier, "and"},    {K::kIdentifier, "n"},
      {K::kPunct, "="},           {K::kInteger, "-42"},
      {K::kIdentifier, "and"},    {K::kIdentifier, "f"},
      {K::kPunct, "="},           {K::kFloat, "1.5e3"},
      {K::kIdentifier, "and"},    {K::kIdentifier, "b"},
      {K::kPunct, "="},           {K::kBlob, "cafe"},
      {K::kIdentifier, "and"},    {K::kIdentifier, "p"},
      {K::kPunct, "="},           {K::kNamedBind, "name"},
      {K::kPunct, ";"},           {K::kEnd, ""}};
  EXPECT_EQ(got, want);
  EXPECT_EQ((*t)[9].line, 2);  // k on the second line
  EXPECT_EQ((*t)[9].column, 6);
}

TEST(CqlLexerTest, UnterminatedStringAndComment) {
  EXPECT_EQ(Tokenize("SELECT 'abc").status().message(),
            "line 1:7 unterminated string literal starting at ''abc': add the closing '");
  EXPECT_EQ(Tokenize("SELECT /* x").status().message(),
            "line 1:7 unterminated comment: add the closing */");
  EXPECT_EQ(Tokenize("SELECT # FROM t").status().message(),
            "line 1:7 no viable alternative at character '#'");
}

TEST(CqlParserTest, SelectForms) {
  auto s = Parse<SelectStatement>("select * from ks.users where id = ? limit 10 allow filtering;");
  EXPECT_EQ(s.projection, SelectStatement::Projection::kStar);
  EXPECT_EQ(s.table.keyspace, "ks");
  EXPECT_EQ(s.table.name, "users");
  ASSERT_EQ(s.where.size(), 1u);
  EXPECT_EQ(s.where[0].column, "id");
  EXPECT_EQ(s.where[0].op, RelationOp::kEq);
  EXPECT_TRUE(s.where[0].terms[0].is_marker());
  EXPECT_EQ(s.where[0].terms[0].marker, 0);
  ASSERT_TRUE(s.limit.has_value());
  EXPECT_EQ(s.limit->json, "10");
  EXPECT_TRUE(s.allow_filtering);

  s = Parse<SelectStatement>("SELECT a, \"B\" FROM t");
  EXPECT_EQ(s.projection, SelectStatement::Projection::kColumns);
  EXPECT_EQ(s.columns, (std::vector<std::string>{"a", "B"}));
  EXPECT_EQ(s.table.keyspace, "");

  s = Parse<SelectStatement>("SELECT COUNT(*) FROM t");
  EXPECT_EQ(s.projection, SelectStatement::Projection::kCount);
  EXPECT_EQ(s.count_alias, "count");
  s = Parse<SelectStatement>("SELECT count(1) AS n FROM t");
  EXPECT_EQ(s.count_alias, "n");

  int markers = 0;
  s = Parse<SelectStatement>("SELECT * FROM t WHERE token(k) > token(?) LIMIT ?", &markers);
  EXPECT_EQ(markers, 2);
  EXPECT_TRUE(s.where[0].token);
  EXPECT_EQ(s.where[0].op, RelationOp::kGt);
  EXPECT_EQ(s.limit->marker, 1);

  s = Parse<SelectStatement>("SELECT * FROM t WHERE k IN ('a', 'b', :c)", &markers);
  EXPECT_EQ(markers, 1);
  EXPECT_EQ(s.where[0].op, RelationOp::kIn);
  ASSERT_EQ(s.where[0].terms.size(), 3u);
  EXPECT_EQ(s.where[0].terms[1].json, "\"b\"");
  EXPECT_EQ(s.where[0].terms[2].name, "c");

  s = Parse<SelectStatement>("SELECT JSON * FROM t");
  EXPECT_TRUE(s.json);
  s = Parse<SelectStatement>(
      "SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 't'");
  EXPECT_EQ(s.where.size(), 2u);
}

TEST(CqlParserTest, LiteralsBecomeJson) {
  auto s = Parse<InsertStatement>(
      "INSERT INTO t (a, b, c, d, e, f, g, h, i, j) VALUES ('x', 007, -1.5, true, null, "
      "123e4567-e89b-12d3-a456-426614174000, 0xff, [1, 2], {'k': 'v'}, {'s'})");
  std::vector<std::string> json;
  for (const Term& t : s.values) json.push_back(t.json);
  EXPECT_EQ(json, (std::vector<std::string>{"\"x\"", "7", "-1.5", "true", "null",
                                            "\"123e4567-e89b-12d3-a456-426614174000\"", "\"0xff\"",
                                            "[1,2]", "{\"k\":\"v\"}", "[\"s\"]"}));
  EXPECT_EQ(s.values[7].text, "[1, 2]");
}

TEST(CqlParserTest, WriteForms) {
  auto i = Parse<InsertStatement>(
      "INSERT INTO ks.t (k, v) VALUES (?, ?) IF NOT EXISTS USING TIMESTAMP 5 AND TTL 10");
  EXPECT_EQ(i.columns, (std::vector<std::string>{"k", "v"}));
  EXPECT_TRUE(i.if_not_exists);
  EXPECT_EQ(i.using_.timestamp->json, "5");
  EXPECT_EQ(i.using_.ttl->json, "10");

  int markers = 0;
  auto u = Parse<UpdateStatement>("UPDATE t SET a = 1, b = ? WHERE k = ? IF EXISTS", &markers);
  EXPECT_EQ(markers, 2);
  ASSERT_EQ(u.assignments.size(), 2u);
  EXPECT_EQ(u.assignments[1].first, "b");
  EXPECT_EQ(u.assignments[1].second.marker, 0);
  EXPECT_EQ(u.where[0].terms[0].marker, 1);
  EXPECT_TRUE(u.if_exists);

  auto d = Parse<DeleteStatement>("DELETE a, b FROM t WHERE k = 'x'");
  EXPECT_EQ(d.columns, (std::vector<std::string>{"a", "b"}));
  d = Parse<DeleteStatement>("delete from t where k = 1");
  EXPECT_TRUE(d.columns.empty());

  auto b = Parse<BatchStatementText>(
      "BEGIN UNLOGGED BATCH INSERT INTO t (k) VALUES (?); UPDATE t SET v = ? WHERE k = ?; "
      "DELETE FROM t WHERE k = 'z' APPLY BATCH",
      &markers);
  EXPECT_EQ(b.statements.size(), 3u);
  EXPECT_EQ(markers, 3);
}

TEST(CqlParserTest, SchemaForms) {
  auto k = Parse<CreateKeyspaceStatement>(
      "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', "
      "'replication_factor': 1} AND durable_writes = false");
  EXPECT_EQ(k.name, "ks");
  EXPECT_TRUE(k.if_not_exists);
  EXPECT_EQ(k.replication, (std::vector<std::pair<std::string, std::string>>{
                               {"class", "SimpleStrategy"}, {"replication_factor", "1"}}));
  EXPECT_FALSE(k.durable_writes);

  auto t = Parse<CreateTableStatement>(
      "CREATE TABLE ks.t (id uuid PRIMARY KEY, tags set<text>, m map<text, frozen<list<int>>>) "
      "WITH comment = 'x' AND compaction = {'class': 'LeveledCompactionStrategy'}");
  EXPECT_EQ(t.partition_key, (std::vector<std::string>{"id"}));
  ASSERT_EQ(t.columns.size(), 3u);
  EXPECT_EQ(t.columns[1].type, "set<text>");
  EXPECT_EQ(t.columns[2].type, "map<text, frozen<list<int>>>");

  t = Parse<CreateTableStatement>("CREATE TABLE t (a int, b text, PRIMARY KEY ((a), b))");
  EXPECT_EQ(t.partition_key, (std::vector<std::string>{"a"}));
  EXPECT_EQ(t.clustering, (std::vector<std::string>{"b"}));
  EXPECT_EQ(t.primary_key_text, "PRIMARY KEY ((a), b)");

  EXPECT_EQ(Parse<UseStatement>("USE \"Ks\"").keyspace, "Ks");
  EXPECT_EQ(Parse<UnsupportedStatement>("DROP TABLE ks.t").what, "DROP TABLE");
  EXPECT_EQ(Parse<UnsupportedStatement>("truncate t").what, "TRUNCATE");
  auto a = Parse<AlterTableAddStatement>("ALTER TABLE ks.t ADD x int");
  EXPECT_EQ(a.table.keyspace, "ks");
  EXPECT_EQ(a.table.name, "t");
  ASSERT_EQ(a.columns.size(), 1u);
  EXPECT_EQ(a.columns[0].name, "x");
  EXPECT_EQ(a.columns[0].type, "int");
  EXPECT_FALSE(a.if_exists);
  EXPECT_FALSE(a.if_not_exists);
  a = Parse<AlterTableAddStatement>(
      "alter table if exists t add if not exists (x int, \"Y\" map<text, frozen<list<int>>>);");
  EXPECT_TRUE(a.if_exists);
  EXPECT_TRUE(a.if_not_exists);
  ASSERT_EQ(a.columns.size(), 2u);
  EXPECT_EQ(a.columns[1].name, "Y");
  EXPECT_EQ(a.columns[1].type, "map<text, frozen<list<int>>>");
  UnsupportedStatement u = Parse<UnsupportedStatement>("ALTER TABLE t DROP x");
  EXPECT_EQ(u.what, "ALTER TABLE ... DROP");
  EXPECT_EQ(u.hint, "the endpoint's tables only gain columns (ALTER TABLE ... ADD)");
  EXPECT_EQ(Parse<UnsupportedStatement>("ALTER TABLE t RENAME a TO b").what,
            "ALTER TABLE ... RENAME");
  EXPECT_EQ(Parse<UnsupportedStatement>("ALTER TABLE t WITH comment = 'c'").what,
            "ALTER TABLE ... WITH");
  EXPECT_EQ(Parse<UnsupportedStatement>("ALTER KEYSPACE ks WITH durable_writes = false").what,
            "ALTER KEYSPACE");
  EXPECT_EQ(Parse<UnsupportedStatement>("CREATE INDEX ON t (v)").what, "CREATE INDEX");
  EXPECT_EQ(Parse<UnsupportedStatement>("DROP MATERIALIZED VIEW v").what, "DROP MATERIALIZED VIEW");
  // Forms of served statements, also inside a BATCH.
  u = Parse<UnsupportedStatement>("UPDATE t SET v = v + 1 WHERE k = 1");
  EXPECT_EQ(u.what, "UPDATE ... SET v = v +/- ...");
  EXPECT_EQ(u.hint, "counter and collection arithmetic; set the whole value (SET v = ?)");
  EXPECT_EQ(Parse<UnsupportedStatement>("UPDATE t SET v = v -1 WHERE k = 1").what,
            "UPDATE ... SET v = v +/- ...");
  EXPECT_EQ(Parse<UnsupportedStatement>("BEGIN BATCH UPDATE t SET v = v - 1 WHERE k = 1 APPLY "
                                        "BATCH")
                .what,
            "UPDATE ... SET v = v +/- ...");
  EXPECT_EQ(Parse<UnsupportedStatement>("SELECT * FROM t GROUP BY k").what, "SELECT ... GROUP BY");
  EXPECT_EQ(Parse<UnsupportedStatement>("SELECT * FROM t PER PARTITION LIMIT 1").what,
            "SELECT ... PER PARTITION LIMIT");
  EXPECT_EQ(Parse<UnsupportedStatement>("SELECT ttl(v) FROM t").what, "SELECT TTL(...)");
  // Still served: a column named like a keyword, `distinct` as a column.
  EXPECT_EQ(Parse<SelectStatement>("SELECT distinct FROM t").columns,
            std::vector<std::string>{"distinct"});
}

TEST(CqlParserTest, SyntaxErrorsNamePositionAndToken) {
  EXPECT_EQ(ParseErrorOf("SELECT * FORM t"),
            "line 1:9 no viable alternative at input 'FORM' (expected FROM)");
  EXPECT_EQ(ParseErrorOf("SELECT * FROM"),
            "line 1:13 no viable alternative at input '<EOF>' (expected a table name)");
  EXPECT_EQ(ParseErrorOf("SELEC * FROM t"),
            "line 1:0 no viable alternative at input 'SELEC' (expected a statement)");
  EXPECT_EQ(ParseErrorOf("SELECT * FROM t WHERE k == 1"),
            "line 1:25 no viable alternative at input '=' (expected a value)");
  EXPECT_EQ(ParseErrorOf("SELECT * FROM t\nWHERE k = 1 garbage"),
            "line 2:12 no viable alternative at input 'garbage' (expected end of statement)");
  EXPECT_EQ(ParseErrorOf("INSERT INTO t (k) VALUES (1"),
            "line 1:27 no viable alternative at input '<EOF>' (expected ')')");
  EXPECT_EQ(ParseErrorOf("CREATE TABLE t (a int)"),
            "line 1:21 no viable alternative at input ')' (expected a PRIMARY KEY declaration)");
  EXPECT_EQ(ParseErrorOf("SELECT * FROM select"),
            "line 1:14 no viable alternative at input 'select' (expected a table name)");
  EXPECT_EQ(ParseErrorOf("UPDATE t SET v = w + 1 WHERE k = 1"),
            "line 1:17 no viable alternative at input 'w' (expected a value)");
  EXPECT_EQ(ParseErrorOf("SELECT * FROM t WHERE k IN (1, [?])"),
            "line 1:32 no viable alternative at input '?' (expected a literal value (bind "
            "markers are not allowed here))");
}

}  // namespace
}  // namespace dataforge::cql
