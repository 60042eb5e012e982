#include "serve/cql/cql_engine.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <thread>

#include "store/rocksdb/rocksdb_store.h"

namespace dataforge::cql {
namespace {

class CqlEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_cql_engine_XXXXXX";
    dir_ = mkdtemp(tmpl);
    StoreOptions options;
    options.sync = false;  // nothing here is about durability
    auto s = RocksDbStore::Open(dir_ + "/store", OpenMode::kReadWrite, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    EngineOptions eo;
    eo.default_page_size = 1000;
    engine_ = std::make_unique<CqlEngine>(store_.get(), eo);
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response Run(const std::string& query, QueryParameters params = {}) {
    return engine_->Query(&session_, QueryMessage{query, std::move(params)});
  }
  // A query that must succeed.
  ResultMessage Ok(const std::string& query, QueryParameters params = {}) {
    Response r = Run(query, std::move(params));
    if (auto* e = std::get_if<ErrorMessage>(&r)) {
      ADD_FAILURE() << query << " -> error 0x" << std::hex << e->code << ": " << e->message;
      return {};
    }
    return std::get<ResultMessage>(r);
  }
  // A query that must fail.
  ErrorMessage Err(const std::string& query, QueryParameters params = {}) {
    Response r = Run(query, std::move(params));
    if (auto* e = std::get_if<ErrorMessage>(&r)) return *e;
    ADD_FAILURE() << query << " succeeded";
    return {};
  }
  static std::string Text(const std::optional<std::string>& v) { return v.value_or("<null>"); }
  static std::vector<std::string> Names(const RowsMetadata& m) {
    std::vector<std::string> out;
    for (const ColumnSpec& c : m.columns) out.push_back(c.name);
    return out;
  }
  static std::vector<std::string> Types(const RowsMetadata& m) {
    std::vector<std::string> out;
    for (const ColumnSpec& c : m.columns) out.push_back(TypeName(c.type));
    return out;
  }
  void CreateUsers() {
    Ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
       "'replication_factor': 1}");
    Ok("CREATE TABLE ks.users (id text PRIMARY KEY, name text, age int, score double, "
       "active boolean, born timestamp, uid uuid, n bigint)");
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CqlEngine> engine_;
  SessionState session_;
};

constexpr int32_t kInvalid = 0x2200;

TEST_F(CqlEngineTest, CreateKeyspaceAndTableThenAlreadyExists) {
  ResultMessage r =
      Ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': "
         "1}");
  EXPECT_EQ(r.kind, ResultKind::kSchemaChange);
  EXPECT_EQ(r.schema_change.change_type, "CREATED");
  EXPECT_EQ(r.schema_change.target, "KEYSPACE");
  EXPECT_EQ(r.schema_change.keyspace, "ks");

  ErrorMessage e = Err("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy'}");
  EXPECT_EQ(e.code, 0x2400);
  EXPECT_EQ(e.message, "Cannot add existing keyspace \"ks\"");
  EXPECT_EQ(e.keyspace, "ks");
  EXPECT_EQ(e.table, "");
  EXPECT_EQ(Ok("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': "
               "'SimpleStrategy'}")
                .kind,
            ResultKind::kVoid);

  r = Ok("CREATE TABLE ks.t (k int PRIMARY KEY, v text) WITH comment = 'ignored'");
  EXPECT_EQ(r.kind, ResultKind::kSchemaChange);
  EXPECT_EQ(r.schema_change.target, "TABLE");
  EXPECT_EQ(r.schema_change.keyspace, "ks");
  EXPECT_EQ(r.schema_change.name, "t");
  auto schema = store_->DescribeTable("ks.t");
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->key_column, "k");
  ASSERT_EQ(schema->columns.size(), 2u);
  EXPECT_EQ(schema->columns[1].type, "text");

  e = Err("CREATE TABLE ks.t (k int PRIMARY KEY)");
  EXPECT_EQ(e.code, 0x2400);
  EXPECT_EQ(e.message, "Cannot add already existing table \"t\" to keyspace \"ks\"");
  EXPECT_EQ(e.keyspace, "ks");
  EXPECT_EQ(e.table, "t");
  EXPECT_EQ(Ok("CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY)").kind, ResultKind::kVoid);

  e = Err("CREATE TABLE ks.c (a int, b int, v text, PRIMARY KEY (a, b))");
  EXPECT_EQ(e.code, kInvalid);
  EXPECT_EQ(e.message,
            "compound primary keys are not supported by the embedded store: PRIMARY KEY (a, b) "
            "in CREATE TABLE ks.c; declare one column as the PRIMARY KEY");
  e = Err("CREATE TABLE nope.t (k int PRIMARY KEY)");
  EXPECT_EQ(e.message, "Cannot add table 't' to non existing keyspace 'nope'.");
  e = Err("CREATE TABLE t2 (k int PRIMARY KEY)");
  EXPECT_EQ(e.message,
            "No keyspace has been specified. USE a keyspace, or explicitly specify "
            "keyspace.tablename");
}

TEST_F(CqlEngineTest, AlterTableAddsColumnsThatOldRowsReadAsNull) {
  CreateUsers();
  Ok("INSERT INTO ks.users (id, name) VALUES ('u1', 'Ann')");
  ResultMessage r = Ok("ALTER TABLE ks.users ADD email text");
  EXPECT_EQ(r.kind, ResultKind::kSchemaChange);
  EXPECT_EQ(r.schema_change.change_type, "UPDATED");
  EXPECT_EQ(r.schema_change.target, "TABLE");
  EXPECT_EQ(r.schema_change.keyspace, "ks");
  EXPECT_EQ(r.schema_change.name, "users");
  auto schema = store_->DescribeTable("ks.users");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  ASSERT_FALSE(schema->columns.empty());
  EXPECT_EQ(schema->columns.back().name, "email");
  EXPECT_EQ(schema->columns.back().type, "text");
  // The new column is written and read at once, by this session's cached description too; the
  // row written before reads it as null.
  Ok("INSERT INTO ks.users (id, name, email) VALUES ('u2', 'Bo', 'bo@example.com')");
  ResultMessage rows = Ok("SELECT id, email FROM ks.users WHERE id = 'u2'");
  ASSERT_EQ(rows.rows.rows.size(), 1u);
  EXPECT_EQ(*rows.rows.rows[0][1], "bo@example.com");
  rows = Ok("SELECT id, email FROM ks.users WHERE id = 'u1'");
  ASSERT_EQ(rows.rows.rows.size(), 1u);
  EXPECT_FALSE(rows.rows.rows[0][1].has_value());

  // Several at once; IF NOT EXISTS skips the ones there; IF EXISTS a missing table.
  Ok("USE ks");
  r = Ok("ALTER TABLE users ADD IF NOT EXISTS (email text, visits bigint, tags set<text>)");
  EXPECT_EQ(r.kind, ResultKind::kSchemaChange);
  schema = store_->DescribeTable("ks.users");
  ASSERT_TRUE(schema.ok());
  ASSERT_GE(schema->columns.size(), 3u);
  EXPECT_EQ(schema->columns[schema->columns.size() - 2].name, "visits");
  EXPECT_EQ(schema->columns.back().type, "set<text>");
  EXPECT_EQ(Ok("ALTER TABLE users ADD IF NOT EXISTS email text").kind, ResultKind::kVoid);
  EXPECT_EQ(Ok("ALTER TABLE IF EXISTS ks.nope ADD x int").kind, ResultKind::kVoid);

  // Refusals change nothing.
  const size_t columns = schema->columns.size();
  EXPECT_EQ(Err("ALTER TABLE ks.users ADD email text").message,
            "Column with name 'email' already exists");
  EXPECT_EQ(Err("ALTER TABLE ks.users ADD (a int, a text)").message,
            "Column with name 'a' already exists");
  EXPECT_EQ(Err("ALTER TABLE ks.nope ADD x int").message, "Table 'ks.nope' doesn't exist");
  EXPECT_EQ(Err("ALTER TABLE ks.users ADD x widget").message,
            "Unknown type widget for column x in ALTER TABLE ks.users");
  EXPECT_EQ(Err("ALTER TABLE ks.users ADD c counter").message,
            "column c counter in ALTER TABLE ks.users: CQL type counter is not supported by the "
            "DataForge CQL endpoint (no counter updates); use bigint");
  EXPECT_EQ(Err("ALTER TABLE system.local ADD x int").message,
            "system keyspace is not user-modifiable");
  schema = store_->DescribeTable("ks.users");
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->columns.size(), columns);
}

TEST_F(CqlEngineTest, UseSetsTheSessionKeyspace) {
  CreateUsers();
  ResultMessage r = Ok("USE ks");
  EXPECT_EQ(r.kind, ResultKind::kSetKeyspace);
  EXPECT_EQ(r.keyspace, "ks");
  EXPECT_EQ(session_.keyspace, "ks");
  Ok("INSERT INTO users (id, name) VALUES ('a', 'Ann')");
  EXPECT_EQ(Ok("SELECT name FROM users WHERE id = 'a'").rows.rows.size(), 1u);
  EXPECT_EQ(Err("USE nope").message, "Keyspace 'nope' does not exist");
}

TEST_F(CqlEngineTest, InsertAndSelectByKeyDecodesTypedValues) {
  CreateUsers();
  Ok("INSERT INTO ks.users (id, name, age, score, active, born, uid, n) VALUES ('u1', 'it''s', "
     "42, 1.5, true, '2024-01-02T03:04:05.678Z', 123E4567-e89b-12d3-a456-426614174000, "
     "-9000000000)");
  ResultMessage r = Ok("SELECT * FROM ks.users WHERE id = 'u1'");
  ASSERT_EQ(r.kind, ResultKind::kRows);
  const RowsMetadata& m = r.rows.metadata;
  EXPECT_EQ(Names(m),
            (std::vector<std::string>{"id", "name", "age", "score", "active", "born", "uid", "n"}));
  EXPECT_EQ(Types(m), (std::vector<std::string>{"text", "text", "int", "double", "boolean",
                                                "timestamp", "uuid", "bigint"}));
  EXPECT_EQ(m.columns[0].keyspace, "ks");
  EXPECT_EQ(m.columns[0].table, "users");
  EXPECT_FALSE(m.paging_state.has_value());
  ASSERT_EQ(r.rows.rows.size(), 1u);
  const auto& row = r.rows.rows[0];
  EXPECT_EQ(Text(row[0]), "u1");
  EXPECT_EQ(Text(row[1]), "it's");
  EXPECT_EQ(*DecodeInt(*row[2]), 42);
  EXPECT_EQ(*DecodeDouble(*row[3]), 1.5);
  EXPECT_EQ(*DecodeBoolean(*row[4]), true);
  EXPECT_EQ(*DecodeBigint(*row[5]), 1704164645678);
  EXPECT_EQ(*DecodeUuid(*row[6]), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(*DecodeBigint(*row[7]), -9000000000);
  // The stored row is the JSON the pipeline's rows use.
  EXPECT_EQ(*store_->Get("ks.users", "u1"),
            "{\"id\":\"u1\",\"name\":\"it's\",\"age\":42,\"score\":1.5,\"active\":true,"
            "\"born\":\"2024-01-02T03:04:05.678Z\",\"uid\":\"123e4567-e89b-12d3-a456-"
            "426614174000\",\"n\":-9000000000}");

  EXPECT_TRUE(Ok("SELECT * FROM ks.users WHERE id = 'missing'").rows.rows.empty());
  r = Ok("SELECT age, id FROM ks.users WHERE id IN ('missing', 'u1')");
  EXPECT_EQ(Names(r.rows.metadata), (std::vector<std::string>{"age", "id"}));
  ASSERT_EQ(r.rows.rows.size(), 1u);
  EXPECT_EQ(Text(r.rows.rows[0][1]), "u1");

  r = Ok("SELECT JSON id, age FROM ks.users WHERE id = 'u1'");
  EXPECT_EQ(Names(r.rows.metadata), (std::vector<std::string>{"[json]"}));
  EXPECT_EQ(Text(r.rows.rows[0][0]), "{\"id\": \"u1\", \"age\": 42}");

  ErrorMessage e = Err("SELECT nope FROM ks.users");
  EXPECT_EQ(e.code, kInvalid);
  EXPECT_EQ(e.message, "Undefined column name nope");
  EXPECT_EQ(Err("SELECT * FROM ks.nope").message, "unconfigured table nope");
  e = Err("INSERT INTO ks.users (id, age) VALUES ('x', 'old')");
  EXPECT_EQ(e.code, kInvalid);
  EXPECT_TRUE(e.message.starts_with("Invalid value 'old' for column age of type int: "))
      << e.message;
}

TEST_F(CqlEngineTest, PartialInsertAndUpdateKeepOtherColumns) {
  CreateUsers();
  Ok("INSERT INTO ks.users (id, name, age) VALUES ('u1', 'Ann', 30)");
  Ok("INSERT INTO ks.users (id, age) VALUES ('u1', 31)");
  Ok("UPDATE ks.users SET active = false WHERE id = 'u1'");
  ResultMessage r = Ok("SELECT name, age, active, score FROM ks.users WHERE id = 'u1'");
  ASSERT_EQ(r.rows.rows.size(), 1u);
  EXPECT_EQ(Text(r.rows.rows[0][0]), "Ann");
  EXPECT_EQ(*DecodeInt(*r.rows.rows[0][1]), 31);
  EXPECT_EQ(*DecodeBoolean(*r.rows.rows[0][2]), false);
  EXPECT_FALSE(r.rows.rows[0][3].has_value());

  Ok("DELETE name FROM ks.users WHERE id = 'u1'");
  r = Ok("SELECT name, age FROM ks.users WHERE id = 'u1'");
  EXPECT_FALSE(r.rows.rows[0][0].has_value());
  EXPECT_EQ(*DecodeInt(*r.rows.rows[0][1]), 31);
  Ok("DELETE FROM ks.users WHERE id = 'u1'");
  EXPECT_TRUE(Ok("SELECT * FROM ks.users WHERE id = 'u1'").rows.rows.empty());
  EXPECT_EQ(Err("UPDATE ks.users SET id = 'x' WHERE id = 'u1'").message,
            "PRIMARY KEY part id found in SET part");
  EXPECT_EQ(Err("INSERT INTO ks.users (name) VALUES ('x')").message,
            "Some partition key parts are missing: id");
}

TEST_F(CqlEngineTest, InsertIfNotExistsReturnsApplied) {
  CreateUsers();
  ResultMessage r = Ok("INSERT INTO ks.users (id, age) VALUES ('u1', 1) IF NOT EXISTS");
  EXPECT_EQ(Names(r.rows.metadata), (std::vector<std::string>{"[applied]"}));
  EXPECT_EQ(*DecodeBoolean(*r.rows.rows[0][0]), true);
  r = Ok("INSERT INTO ks.users (id, age) VALUES ('u1', 2) IF NOT EXISTS");
  ASSERT_EQ(r.rows.metadata.columns.size(), 9u);
  EXPECT_EQ(*DecodeBoolean(*r.rows.rows[0][0]), false);
  EXPECT_EQ(Text(r.rows.rows[0][1]), "u1");
  EXPECT_EQ(*DecodeInt(*r.rows.rows[0][3]), 1);  // the row that is there: age 1
}

TEST_F(CqlEngineTest, PagesThrough2500RowsExactlyOnce) {
  CreateUsers();
  for (int i = 0; i < 2500; ++i) {
    Ok("INSERT INTO ks.users (id, age) VALUES ('k" + std::to_string(100000 + i * 7 % 2500) + "', " +
       std::to_string(i) + ")");
  }
  std::set<std::string> seen;
  std::vector<size_t> pages;
  QueryParameters p;
  p.page_size = 1000;
  for (int round = 0; round < 10; ++round) {
    ResultMessage r = Ok("SELECT id FROM ks.users", p);
    pages.push_back(r.rows.rows.size());
    for (const auto& row : r.rows.rows) EXPECT_TRUE(seen.insert(Text(row[0])).second);
    if (!r.rows.metadata.paging_state) break;
    p.paging_state = r.rows.metadata.paging_state;
  }
  EXPECT_EQ(pages, (std::vector<size_t>{1000, 1000, 500}));
  EXPECT_EQ(seen.size(), 2500u);

  // LIMIT across pages: 1500 rows as 1000 + 500, then no more.
  p = {};
  p.page_size = 1000;
  ResultMessage r = Ok("SELECT id FROM ks.users LIMIT 1500", p);
  EXPECT_EQ(r.rows.rows.size(), 1000u);
  ASSERT_TRUE(r.rows.metadata.paging_state.has_value());
  p.paging_state = r.rows.metadata.paging_state;
  r = Ok("SELECT id FROM ks.users LIMIT 1500", p);
  EXPECT_EQ(r.rows.rows.size(), 500u);
  EXPECT_FALSE(r.rows.metadata.paging_state.has_value());

  // COUNT(*) over the table, and over one key.
  r = Ok("SELECT COUNT(*) FROM ks.users");
  EXPECT_EQ(Names(r.rows.metadata), (std::vector<std::string>{"count"}));
  EXPECT_EQ(Types(r.rows.metadata), (std::vector<std::string>{"bigint"}));
  EXPECT_EQ(*DecodeBigint(*r.rows.rows[0][0]), 2500);
  EXPECT_EQ(
      *DecodeBigint(*Ok("SELECT count(1) FROM ks.users WHERE id = 'k100005'").rows.rows[0][0]), 1);
  EXPECT_EQ(*DecodeBigint(
                *Ok("SELECT count(*) FROM ks.users WHERE age = 3 ALLOW FILTERING").rows.rows[0][0]),
            1);
  EXPECT_EQ(Err("SELECT * FROM ks.users WHERE age = 3").message,
            "Cannot execute this query as it might involve data filtering and thus may have "
            "unpredictable performance. If you want to execute this query despite the "
            "performance unpredictability, use ALLOW FILTERING");

  // token(id) > token(v): the rows after v in the store's order.
  r = Ok("SELECT id FROM ks.users WHERE token(id) > token('k102497')");
  ASSERT_EQ(r.rows.rows.size(), 2u);
  EXPECT_EQ(Text(r.rows.rows[0][0]), "k102498");
  EXPECT_EQ(Text(r.rows.rows[1][0]), "k102499");
  r = Ok("SELECT id FROM ks.users WHERE token(id) >= token('k102498') LIMIT 1");
  ASSERT_EQ(r.rows.rows.size(), 1u);
  EXPECT_EQ(Text(r.rows.rows[0][0]), "k102498");
}

TEST_F(CqlEngineTest, PreparedInsertAndSelect) {
  CreateUsers();
  // USING TIMESTAMP is refused at PREPARE (and at execution), never accepted and ignored.
  Response pr = engine_->Prepare(
      &session_, {"INSERT INTO ks.users (id, age, uid) VALUES (?, ?, :u) USING TIMESTAMP ?"});
  ASSERT_TRUE(std::holds_alternative<ErrorMessage>(pr));
  EXPECT_EQ(std::get<ErrorMessage>(pr).message,
            "USING TIMESTAMP is not supported by the DataForge CQL endpoint: remove it from the "
            "INSERT on ks.users (writes apply in the order they arrive; the last one wins)");
  pr = engine_->Prepare(&session_, {"INSERT INTO ks.users (id, age, uid) VALUES (?, ?, :u)"});
  ASSERT_TRUE(std::holds_alternative<ResultMessage>(pr)) << std::get<ErrorMessage>(pr).message;
  const PreparedResult& ins = std::get<ResultMessage>(pr).prepared;
  EXPECT_EQ(ins.id.size(), 16u);
  std::vector<std::string> names, types;
  for (const ColumnSpec& c : ins.bind_columns) {
    names.push_back(c.name);
    types.push_back(TypeName(c.type));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"id", "age", "u"}));
  EXPECT_EQ(types, (std::vector<std::string>{"text", "int", "uuid"}));
  EXPECT_EQ(ins.pk_indexes, (std::vector<uint16_t>{0}));
  EXPECT_TRUE(ins.result_metadata.no_metadata);
  // Preparing again gives the same id.
  Response again =
      engine_->Prepare(&session_, {"INSERT INTO ks.users (id, age, uid) VALUES (?, ?, :u)"});
  EXPECT_EQ(std::get<ResultMessage>(again).prepared.id, ins.id);

  ExecuteMessage ex;
  ex.id = ins.id;
  ex.params.values = {Value::Of("p1"), Value::Of(EncodeInt(7)),
                      Value::Of(*EncodeUuid("00000000-0000-0000-0000-000000000001"))};
  Response er = engine_->Execute(&session_, ex);
  ASSERT_TRUE(std::holds_alternative<ResultMessage>(er)) << std::get<ErrorMessage>(er).message;
  EXPECT_EQ(std::get<ResultMessage>(er).kind, ResultKind::kVoid);

  pr = engine_->Prepare(&session_, {"SELECT id, age FROM ks.users WHERE id = ?"});
  const PreparedResult& sel = std::get<ResultMessage>(pr).prepared;
  EXPECT_EQ(sel.pk_indexes, (std::vector<uint16_t>{0}));
  EXPECT_EQ(Names(sel.result_metadata), (std::vector<std::string>{"id", "age"}));
  ex = {};
  ex.id = sel.id;
  ex.params.values = {Value::Of("p1")};
  ex.params.skip_metadata = true;
  er = engine_->Execute(&session_, ex);
  const ResultMessage& rows = std::get<ResultMessage>(er);
  EXPECT_TRUE(rows.rows.metadata.no_metadata);
  EXPECT_EQ(rows.rows.metadata.column_count, 2);
  ASSERT_EQ(rows.rows.rows.size(), 1u);
  EXPECT_EQ(*DecodeInt(*rows.rows.rows[0][1]), 7);

  // Wrong number of values.
  ex.params.values.clear();
  ErrorMessage e = std::get<ErrorMessage>(engine_->Execute(&session_, ex));
  EXPECT_EQ(e.code, kInvalid);
  EXPECT_EQ(e.message, "There were 1 markers(?) in CQL but 0 bound variables");
}

TEST_F(CqlEngineTest, NamedValuesBindByName) {
  CreateUsers();
  Response pr = engine_->Prepare(&session_, {"UPDATE ks.users SET age = :a WHERE id = :k"});
  ExecuteMessage ex;
  ex.id = std::get<ResultMessage>(pr).prepared.id;
  ex.params.values = {Value::Of("n1"), Value::Of(EncodeInt(5))};
  ex.params.value_names = {"k", "a"};
  Response r = engine_->Execute(&session_, ex);
  ASSERT_TRUE(std::holds_alternative<ResultMessage>(r)) << std::get<ErrorMessage>(r).message;
  EXPECT_EQ(*store_->Get("ks.users", "n1"), "{\"id\":\"n1\",\"age\":5}");
  ex.params.value_names = {"k", "x"};
  EXPECT_EQ(std::get<ErrorMessage>(engine_->Execute(&session_, ex)).message,
            "No value given for bind marker a");
}

// Two writers of different columns of one row: neither loses the other's values (the
// read-modify-write holds the key's stripe lock).
TEST_F(CqlEngineTest, ConcurrentPartialUpsertsKeepBothColumns) {
  CreateUsers();
  auto writer = [&](const std::string& column) {
    SessionState session;
    for (int i = 1; i <= 200; ++i) {
      QueryMessage q{
          "UPDATE ks.users SET " + column + " = " + std::to_string(i) + " WHERE id = 'shared'", {}};
      Response r = engine_->Query(&session, q);
      if (std::holds_alternative<ErrorMessage>(r)) return false;
    }
    return true;
  };
  bool a_ok = false, b_ok = false;
  std::thread a([&] { a_ok = writer("age"); });
  std::thread b([&] { b_ok = writer("n"); });
  a.join();
  b.join();
  EXPECT_TRUE(a_ok);
  EXPECT_TRUE(b_ok);
  ResultMessage r = Ok("SELECT age, n FROM ks.users WHERE id = 'shared'");
  ASSERT_EQ(r.rows.rows.size(), 1u);
  EXPECT_EQ(*DecodeInt(*r.rows.rows[0][0]), 200);
  EXPECT_EQ(*DecodeBigint(*r.rows.rows[0][1]), 200);
}

// Async writes are queued: not in the store and not answered until CommitWrites() applies
// them; a later write of the same key reads the queued row (read-modify-write stays atomic).
TEST_F(CqlEngineTest, QueuedWritesAreAnsweredOnceCommitted) {
  CreateUsers();
  std::vector<Response> answers;
  auto answer = [&](Response r) { answers.push_back(std::move(r)); };
  engine_->QueryAsync(&session_, {"INSERT INTO ks.users (id, name) VALUES ('q1', 'Ann')", {}},
                      answer);
  engine_->QueryAsync(&session_, {"UPDATE ks.users SET age = 7 WHERE id = 'q1'", {}}, answer);
  engine_->QueryAsync(&session_,
                      {"INSERT INTO ks.users (id, n) VALUES ('q2', 1) IF NOT EXISTS", {}}, answer);
  engine_->QueryAsync(&session_, {"DELETE FROM ks.users WHERE id = 'q2' IF EXISTS", {}}, answer);
  EXPECT_TRUE(answers.empty());
  EXPECT_EQ(store_->Get("ks.users", "q1").status().code(), StatusCode::kNotFound);
  engine_->CommitWrites();
  ASSERT_EQ(answers.size(), 4u);
  for (const Response& r : answers) {
    ASSERT_TRUE(std::holds_alternative<ResultMessage>(r)) << std::get<ErrorMessage>(r).message;
  }
  EXPECT_EQ(std::get<ResultMessage>(answers[0]).kind, ResultKind::kVoid);
  EXPECT_EQ(*DecodeBoolean(*std::get<ResultMessage>(answers[2]).rows.rows[0][0]), true);
  EXPECT_EQ(*DecodeBoolean(*std::get<ResultMessage>(answers[3]).rows.rows[0][0]), true);
  EXPECT_EQ(*store_->Get("ks.users", "q1"), "{\"id\":\"q1\",\"name\":\"Ann\",\"age\":7}");
  EXPECT_EQ(store_->Get("ks.users", "q2").status().code(), StatusCode::kNotFound);
  // A read is answered at once.
  engine_->QueryAsync(&session_, {"SELECT age FROM ks.users WHERE id = 'q1'", {}}, answer);
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(*DecodeInt(*std::get<ResultMessage>(answers[4]).rows.rows[0][0]), 7);
}

// An INSERT of every column replaces the row without reading it (columns in statement order).
TEST_F(CqlEngineTest, InsertOfEveryColumnReplacesTheRow) {
  CreateUsers();
  Ok("INSERT INTO ks.users (id, name, age) VALUES ('w1', 'Ann', 30)");
  Ok("INSERT INTO ks.users (n, uid, born, active, score, age, name, id) VALUES (1, null, null, "
     "true, null, 31, 'Bo', 'w1')");
  EXPECT_EQ(*store_->Get("ks.users", "w1"),
            "{\"n\":1,\"uid\":null,\"born\":null,\"active\":true,\"score\":null,\"age\":31,"
            "\"name\":\"Bo\",\"id\":\"w1\"}");
}

// The endpoint caches table descriptions; a column the pipeline adds to the store's table
// (EnsureTable, not through CQL) must still be kept and be writable at once.
TEST_F(CqlEngineTest, ColumnAddedBehindTheEndpointIsKeptAndWritableAtOnce) {
  Ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
     "'replication_factor': 1}");
  Ok("CREATE TABLE ks.t (id text PRIMARY KEY, a int)");
  Ok("INSERT INTO ks.t (id, a) VALUES ('k', 1)");  // the description is cached now
  ASSERT_TRUE(
      store_->EnsureTable({"ks.t", "id", {{"id", "text"}, {"a", "int"}, {"b", "text"}}}).ok());
  // Named at once: the cached description lacks b, so it is read again.
  Ok("UPDATE ks.t SET b = 'kept' WHERE id = 'k'");
  EXPECT_EQ(*store_->Get("ks.t", "k"), "{\"id\":\"k\",\"a\":1,\"b\":\"kept\"}");
  ASSERT_TRUE(
      store_
          ->EnsureTable({"ks.t", "id", {{"id", "text"}, {"a", "int"}, {"b", "text"}, {"c", "int"}}})
          .ok());
  Ok("UPDATE ks.t SET c = 3 WHERE id = 'k'");
  // Every column the (cached) description had, none read first: c, added since, is kept.
  ASSERT_TRUE(store_
                  ->EnsureTable(
                      {"ks.t",
                       "id",
                       {{"id", "text"}, {"a", "int"}, {"b", "text"}, {"c", "int"}, {"d", "text"}}})
                  .ok());
  StoreBatch pipeline;  // the pipeline's partial upsert of d
  pipeline.table = "ks.t";
  pipeline.rows.push_back({"k", R"({"id":"k","d":"set"})", false});
  pipeline.counted = false;
  ASSERT_TRUE(store_->Apply(pipeline).ok());
  ASSERT_EQ(*store_->Get("ks.t", "k"),
            "{\"id\":\"k\",\"a\":1,\"b\":\"kept\",\"c\":3,\"d\":\"set\"}");
  Ok("INSERT INTO ks.t (id, a, b, c) VALUES ('k', 2, 'new', 4)");
  EXPECT_EQ(*store_->Get("ks.t", "k"),
            "{\"id\":\"k\",\"a\":2,\"b\":\"new\",\"c\":4,\"d\":\"set\"}");
  ResultMessage r = Ok("SELECT * FROM ks.t WHERE id = 'k'");
  ASSERT_EQ(r.rows.rows.size(), 1u);
}

TEST_F(CqlEngineTest, UnknownPreparedIdIsUnprepared) {
  ExecuteMessage ex;
  ex.id = std::string("\x01\x02\x03", 3);
  ErrorMessage e = std::get<ErrorMessage>(engine_->Execute(&session_, ex));
  EXPECT_EQ(e.code, 0x2500);
  EXPECT_EQ(e.unprepared_id, ex.id);
  EXPECT_TRUE(e.message.starts_with("Prepared query with ID 010203 not found")) << e.message;
}

TEST_F(CqlEngineTest, BatchAppliesStatementsInOrder) {
  CreateUsers();
  Response pr = engine_->Prepare(&session_, {"INSERT INTO ks.users (id, age) VALUES (?, ?)"});
  BatchMessage b;
  b.type = BatchType::kLogged;
  auto add = [&](bool prepared, std::string query_or_id, std::vector<Value> values) {
    BatchStatement s;
    s.prepared = prepared;
    s.query_or_id = std::move(query_or_id);
    s.values = std::move(values);
    b.statements.push_back(std::move(s));
  };
  add(true, std::get<ResultMessage>(pr).prepared.id, {Value::Of("b1"), Value::Of(EncodeInt(1))});
  add(false, "UPDATE ks.users SET age = 2 WHERE id = 'b1'", {});
  add(false, "INSERT INTO ks.users (id, name) VALUES (?, 'x')", {Value::Of("b2")});
  Response r = engine_->Batch(&session_, b);
  ASSERT_TRUE(std::holds_alternative<ResultMessage>(r)) << std::get<ErrorMessage>(r).message;
  EXPECT_EQ(std::get<ResultMessage>(r).kind, ResultKind::kVoid);
  EXPECT_EQ(*store_->Get("ks.users", "b1"), "{\"id\":\"b1\",\"age\":2}");
  EXPECT_EQ(*store_->Get("ks.users", "b2"), "{\"id\":\"b2\",\"name\":\"x\"}");

  b.statements.clear();
  add(false, "SELECT * FROM ks.users", {});
  EXPECT_EQ(std::get<ErrorMessage>(engine_->Batch(&session_, b)).message,
            "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed.");
  Ok("BEGIN BATCH INSERT INTO ks.users (id) VALUES ('t1'); DELETE FROM ks.users WHERE id = "
     "'b2'; APPLY BATCH");
  EXPECT_EQ(*DecodeBigint(*Ok("SELECT COUNT(*) FROM ks.users").rows.rows[0][0]), 2);
}

TEST_F(CqlEngineTest, UnsupportedAndSyntaxErrors) {
  CreateUsers();
  ErrorMessage e = Err("DROP TABLE ks.users");
  EXPECT_EQ(e.code, kInvalid);
  EXPECT_EQ(e.message,
            "DROP TABLE is not supported by the DataForge CQL endpoint (it serves SELECT, INSERT, "
            "UPDATE, DELETE, BATCH, CREATE KEYSPACE, CREATE TABLE, ALTER TABLE ... ADD and USE)");
  EXPECT_TRUE(Err("TRUNCATE ks.users").message.starts_with("TRUNCATE is not supported"));
  EXPECT_EQ(Err("ALTER TABLE ks.users DROP name").message,
            "ALTER TABLE ... DROP is not supported by the DataForge CQL endpoint: the endpoint's "
            "tables only gain columns (ALTER TABLE ... ADD)");
  e = Err("INSERT INTO ks.users (id) VALUES ('a') USING TTL 10");
  EXPECT_EQ(e.code, kInvalid);
  EXPECT_EQ(e.message,
            "USING TTL is not supported by the DataForge CQL endpoint: remove it from the INSERT "
            "on ks.users (rows never expire)");
  e = Err("SELECT * FORM ks.users");
  EXPECT_EQ(e.code, 0x2000);
  EXPECT_EQ(e.message, "line 1:9 no viable alternative at input 'FORM' (expected FROM)");
  e = Err("INSERT INTO system.local (key) VALUES ('x')");
  EXPECT_EQ(e.code, 0x2100);
  EXPECT_EQ(e.message, "system keyspace is not user-modifiable");
}

TEST_F(CqlEngineTest, SystemLocalAndPeers) {
  ResultMessage r = Ok("SELECT * FROM system.local WHERE key='local'");
  EXPECT_EQ(
      Names(r.rows.metadata),
      (std::vector<std::string>{"key", "bootstrapped", "broadcast_address", "cluster_name",
                                "cql_version", "data_center", "host_id", "listen_address",
                                "native_protocol_version", "partitioner", "rack", "release_version",
                                "rpc_address", "schema_version", "tokens"}));
  EXPECT_EQ(
      Types(r.rows.metadata),
      (std::vector<std::string>{"text", "text", "inet", "text", "text", "text", "uuid", "inet",
                                "text", "text", "text", "text", "inet", "uuid", "set<text>"}));
  ASSERT_EQ(r.rows.rows.size(), 1u);
  const auto& row = r.rows.rows[0];
  EXPECT_EQ(Text(row[0]), "local");
  EXPECT_EQ(*row[2], std::string("\x7f\x00\x00\x01", 4));
  EXPECT_EQ(Text(row[3]), "DataForge");
  EXPECT_EQ(Text(row[5]), "datacenter1");
  EXPECT_EQ(Text(row[9]), "org.apache.cassandra.dht.Murmur3Partitioner");
  EXPECT_EQ(Text(row[11]), "3.11.16");
  EXPECT_EQ(*row[14], EncodeStringSet({"0"}));
  std::string version_before = *DecodeUuid(*row[13]);
  EXPECT_EQ(*engine_->SchemaVersion(), version_before);

  EXPECT_TRUE(Ok("SELECT * FROM system.local WHERE key='other'").rows.rows.empty());
  r = Ok("SELECT peer, rpc_address, schema_version FROM system.peers");
  EXPECT_EQ(Names(r.rows.metadata),
            (std::vector<std::string>{"peer", "rpc_address", "schema_version"}));
  EXPECT_TRUE(r.rows.rows.empty());
  ErrorMessage e = Err("SELECT * FROM system.peers_v2");
  EXPECT_EQ(e.code, kInvalid);
  EXPECT_EQ(e.message, "unconfigured table peers_v2");
  EXPECT_EQ(Err("SELECT * FROM system_virtual_schema.keyspaces").message,
            "unconfigured table keyspaces");

  // The schema version follows the catalog.
  CreateUsers();
  r = Ok("SELECT schema_version FROM system.local WHERE key='local'");
  std::string version_after = *DecodeUuid(*r.rows.rows[0][0]);
  EXPECT_NE(version_after, version_before);
  EXPECT_EQ(*engine_->SchemaVersion(), version_after);
}

TEST_F(CqlEngineTest, SystemSchemaDescribesTheCatalog) {
  CreateUsers();
  ResultMessage r = Ok("SELECT * FROM system_schema.keyspaces");
  ASSERT_EQ(r.rows.rows.size(), 1u);
  EXPECT_EQ(Text(r.rows.rows[0][0]), "ks");
  EXPECT_EQ(*r.rows.rows[0][2],
            EncodeStringMap({{"class", "SimpleStrategy"}, {"replication_factor", "1"}}));

  r =
      Ok("SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = "
         "'users'");
  ASSERT_EQ(r.rows.rows.size(), 1u);
  EXPECT_EQ(r.rows.metadata.columns.size(), 20u);
  EXPECT_EQ(Text(r.rows.rows[0][1]), "users");

  r =
      Ok("SELECT column_name, kind, position, type FROM system_schema.columns WHERE "
         "keyspace_name = 'ks' AND table_name = 'users'");
  std::vector<std::string> got;
  for (const auto& row : r.rows.rows) {
    got.push_back(Text(row[0]) + " " + Text(row[1]) + " " + std::to_string(*DecodeInt(*row[2])) +
                  " " + Text(row[3]));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"id partition_key 0 text", "name regular -1 text",
                                           "age regular -1 int", "score regular -1 double",
                                           "active regular -1 boolean", "born regular -1 timestamp",
                                           "uid regular -1 uuid", "n regular -1 bigint"}));
  for (std::string t : {"types", "functions", "aggregates", "triggers", "indexes", "views"}) {
    r = Ok("SELECT * FROM system_schema." + t);
    EXPECT_TRUE(r.rows.rows.empty()) << t;
    EXPECT_EQ(r.rows.metadata.columns[0].name, "keyspace_name") << t;
  }
}

}  // namespace
}  // namespace dataforge::cql
