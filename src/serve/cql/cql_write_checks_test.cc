// What the engine refuses before anything is stored: bound values that fail CheckValue (as
// literals do), USING TIMESTAMP / TTL, WITH default_time_to_live, column types with no stored
// form, unsupported statement forms; and a BATCH with one bad value stores none of its rows.
// Each refusal is followed by a scan that shows the table unchanged and readable.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "cql/value_check.h"
#include "serve/cql/cql_engine.h"
#include "store/rocksdb/rocksdb_store.h"

namespace dataforge::cql {
namespace {

constexpr int32_t kInvalidCode = 0x2200;

class CqlWriteChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_cql_checks_XXXXXX";
    dir_ = mkdtemp(tmpl);
    StoreOptions options;
    options.sync = false;
    auto s = RocksDbStore::Open(dir_ + "/store", OpenMode::kReadWrite, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    engine_ = std::make_unique<CqlEngine>(store_.get(), EngineOptions{});
    Ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
       "'replication_factor': 1}");
    Ok("CREATE TABLE ks.t (k int PRIMARY KEY, a ascii, x text, tu timeuuid, i int, b bigint, "
       "d double, f boolean, u uuid, ts timestamp, s set<int>, m map<text, int>)");
    Ok("INSERT INTO ks.t (k, a) VALUES (1, 'one')");
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response Run(const std::string& query, std::vector<Value> values = {}) {
    QueryParameters p;
    p.values = std::move(values);
    return engine_->Query(&session_, QueryMessage{query, std::move(p)});
  }
  ResultMessage Ok(const std::string& query, std::vector<Value> values = {}) {
    Response r = Run(query, std::move(values));
    if (auto* e = std::get_if<ErrorMessage>(&r)) {
      ADD_FAILURE() << query << " -> " << e->message;
      return {};
    }
    return std::get<ResultMessage>(r);
  }
  ErrorMessage Err(const Response& r) {
    if (auto* e = std::get_if<ErrorMessage>(&r)) return *e;
    ADD_FAILURE() << "succeeded";
    return {};
  }
  std::string Prepare(const std::string& query) {
    Response r = engine_->Prepare(&session_, PrepareMessage{query});
    EXPECT_TRUE(std::holds_alternative<ResultMessage>(r));
    return std::get<ResultMessage>(r).prepared.id;
  }
  Response Execute(const std::string& id, std::vector<Value> values) {
    ExecuteMessage m;
    m.id = id;
    m.params.values = std::move(values);
    return engine_->Execute(&session_, m);
  }
  // The table as the engine reads it: SELECT * page by page (2 rows a page), keys in order.
  std::vector<int32_t> ScanKeys() {
    std::vector<int32_t> keys;
    std::optional<std::string> state;
    do {
      QueryParameters p;
      p.page_size = 2;
      p.paging_state = state;
      Response r = engine_->Query(&session_, QueryMessage{"SELECT * FROM ks.t", p});
      if (auto* e = std::get_if<ErrorMessage>(&r)) {
        ADD_FAILURE() << "scan: " << e->message;
        return keys;
      }
      const auto& rows = std::get<ResultMessage>(r).rows;
      for (const auto& row : rows.rows) keys.push_back(*DecodeInt(*row[0]));
      state = rows.metadata.paging_state;
    } while (state);
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CqlEngine> engine_;
  SessionState session_;
};

TEST_F(CqlWriteChecksTest, BoundValuesAreCheckedLikeLiterals) {
  const std::string id = Prepare(
      "INSERT INTO ks.t (k, a, x, tu, i, b, d, f, u, ts) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const std::string v4 = *EncodeUuid("6f1c2a4e-9b7d-4c3e-8f2a-1d5b6c7e8f90");
  struct Case {
    size_t column;
    std::string bytes;
    const char* error;
  };
  const Case cases[] = {
      {1, "caf\xc3\xa9",
       "Invalid value for column a of type ascii (bind marker 1): CQL ascii value: non-ASCII "
       "byte 0xc3 at offset 3"},
      {2, "bad\xff",
       "Invalid value for column x of type text (bind marker 2): CQL text value: invalid UTF-8 "
       "at byte 3 (0xff)"},
      {3, v4,
       "Invalid value for column tu of type timeuuid (bind marker 3): CQL timeuuid value: a "
       "version 4 UUID; timeuuid needs version 1 (time-based)"},
      {4, std::string("\x00\x01", 2),
       "Invalid value for column i of type int (bind marker 4): CQL int value: expected 4 bytes, "
       "got 2"},
      {5, EncodeInt(1),
       "Invalid value for column b of type bigint (bind marker 5): CQL bigint value: expected 8 "
       "bytes, got 4"},
      {6, EncodeInt(1),
       "Invalid value for column d of type double (bind marker 6): CQL double value: expected 8 "
       "bytes, got 4"},
      {7, "tr",
       "Invalid value for column f of type boolean (bind marker 7): CQL boolean value: expected "
       "1 bytes, got 2"},
      {8, "0123",
       "Invalid value for column u of type uuid (bind marker 8): CQL uuid value: expected 16 "
       "bytes, got 4"},
      {9, EncodeInt(1),
       "Invalid value for column ts of type timestamp (bind marker 9): CQL timestamp value: "
       "expected 8 bytes, got 4"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    std::vector<Value> values(10, Value::Null());
    values[0] = Value::Of(EncodeInt(2));
    values[c.column] = Value::Of(c.bytes);
    ErrorMessage e = Err(Execute(id, values));
    EXPECT_EQ(e.code, kInvalidCode);
    EXPECT_EQ(e.message, c.error);
    EXPECT_EQ(ScanKeys(), std::vector<int32_t>{1});
    EXPECT_EQ(store_->Get("ks.t", "2").status().code(), StatusCode::kNotFound);
  }
  // The same values as a QUERY with bound values, and in an UPDATE.
  ErrorMessage e = Err(
      Run("INSERT INTO ks.t (k, a) VALUES (?, ?)", {Value::Of(EncodeInt(3)), Value::Of("\x80")}));
  EXPECT_EQ(e.message,
            "Invalid value for column a of type ascii (bind marker 1): CQL ascii value: non-ASCII "
            "byte 0x80 at offset 0");
  e = Err(Run("UPDATE ks.t SET tu = ? WHERE k = ?", {Value::Of(v4), Value::Of(EncodeInt(1))}));
  EXPECT_EQ(e.message,
            "Invalid value for column tu of type timeuuid (bind marker 0): CQL timeuuid value: a "
            "version 4 UUID; timeuuid needs version 1 (time-based)");
  e = Err(Run("UPDATE ks.t SET a = 'x' WHERE k = ?", {Value::Of(std::string("\x00\x01", 2))}));
  EXPECT_EQ(e.message,
            "Invalid value for column k of type int (bind marker 0): CQL int value: expected 4 "
            "bytes, got 2");
  // The literal forms of the same values, through the same check.
  e = Err(Run("INSERT INTO ks.t (k, a) VALUES (4, 'café')"));
  EXPECT_EQ(e.message,
            "Invalid value 'café' for column a of type ascii: CQL ascii value: non-ASCII byte "
            "0xc3 at offset 3");
  e = Err(Run("INSERT INTO ks.t (k, tu) VALUES (4, 6f1c2a4e-9b7d-4c3e-8f2a-1d5b6c7e8f90)"));
  EXPECT_EQ(e.message,
            "Invalid value 6f1c2a4e-9b7d-4c3e-8f2a-1d5b6c7e8f90 for column tu of type timeuuid: "
            "CQL timeuuid value: a version 4 UUID; timeuuid needs version 1 (time-based)");
  EXPECT_EQ(ScanKeys(), std::vector<int32_t>{1});
  EXPECT_EQ(*store_->Get("ks.t", "1"), R"({"k":1,"a":"one"})");
}

TEST_F(CqlWriteChecksTest, ABatchWithOneBadValueStoresNothing) {
  const std::string id = Prepare("INSERT INTO ks.t (k, x) VALUES (?, ?)");
  BatchMessage b;
  auto add = [&](std::vector<Value> values) {
    BatchStatement s;
    s.prepared = true;
    s.query_or_id = id;
    s.values = std::move(values);
    b.statements.push_back(std::move(s));
  };
  add({Value::Of(EncodeInt(10)), Value::Of("fine")});
  add({Value::Of(EncodeInt(11)), Value::Of("\xc3\x28")});
  ErrorMessage e = Err(engine_->Batch(&session_, b));
  EXPECT_EQ(e.message,
            "Invalid value for column x of type text (bind marker 1): CQL text value: invalid "
            "UTF-8 at byte 0 (0xc3)");
  EXPECT_EQ(ScanKeys(), std::vector<int32_t>{1});
  // The text form: the second statement's literal is refused, the first is not stored.
  e =
      Err(Run("BEGIN BATCH INSERT INTO ks.t (k) VALUES (12); "
              "INSERT INTO ks.t (k, a) VALUES (13, 'é') APPLY BATCH"));
  EXPECT_EQ(e.message,
            "Invalid value 'é' for column a of type ascii: CQL ascii value: non-ASCII byte 0xc3 "
            "at offset 0");
  EXPECT_EQ(ScanKeys(), std::vector<int32_t>{1});
}

TEST_F(CqlWriteChecksTest, SetsAndMapsAreStoredCanonical) {
  Ok("INSERT INTO ks.t (k, s, m) VALUES (5, {3, 1, 3, 2}, {'b': 1, 'a': 2, 'b': 3})");
  EXPECT_EQ(*store_->Get("ks.t", "5"), R"({"k":5,"s":[1,2,3],"m":{"a":2,"b":3}})");
  // Bound: the driver's bytes as sent, with duplicates and out of order.
  std::string set = EncodeCollection({EncodeInt(9), EncodeInt(-4), EncodeInt(9)});
  std::string map =
      EncodeStringMap({{"z", EncodeInt(1)}, {"y", EncodeInt(2)}, {"z", EncodeInt(3)}});
  Ok("UPDATE ks.t SET s = ?, m = ? WHERE k = 6", {Value::Of(set), Value::Of(map)});
  EXPECT_EQ(*store_->Get("ks.t", "6"), R"({"k":6,"s":[-4,9],"m":{"y":2,"z":3}})");
  ResultMessage r = Ok("SELECT s FROM ks.t WHERE k = 6");
  EXPECT_EQ(*r.rows.rows[0][0], EncodeCollection({EncodeInt(-4), EncodeInt(9)}));
  EXPECT_EQ(ScanKeys(), (std::vector<int32_t>{1, 5, 6}));
}

// Issue 22: decimal columns keep every digit, from a literal (its text, not a double) and from
// bound bytes (int32 scale + varint), and read back as the same bytes.
TEST_F(CqlWriteChecksTest, DecimalKeepsEveryDigit) {
  Ok("CREATE TABLE ks.dec (k int PRIMARY KEY, v decimal, l list<decimal>)");
  Ok("INSERT INTO ks.dec (k, v, l) VALUES (1, 12345678901234567890.123456789, [1.50, -0.001])");
  EXPECT_EQ(*store_->Get("ks.dec", "1"),
            R"({"k":1,"v":"12345678901234567890.123456789","l":["1.50","-0.001"]})");
  const std::string bound("\x00\x00\x00\x1e\x01", 5);  // 1e-30: scale 30, unscaled 1
  Ok("INSERT INTO ks.dec (k, v) VALUES (2, ?)", {Value::Of(bound)});
  EXPECT_EQ(*store_->Get("ks.dec", "2"), R"({"k":2,"v":"0.000000000000000000000000000001"})");
  ResultMessage r = Ok("SELECT v FROM ks.dec WHERE k = 2");
  EXPECT_EQ(*r.rows.rows[0][0], bound);
  EXPECT_EQ(
      Err(Run("INSERT INTO ks.dec (k, v) VALUES (3, ?)", {Value::Of(std::string(3, 'x'))})).message,
      "Invalid value for column v of type decimal (bind marker 0): CQL decimal value: "
      "expected at least 5 bytes (scale and unscaled value), got 3");
}

TEST_F(CqlWriteChecksTest, UsingTimestampAndTtlAreRefused) {
  EXPECT_EQ(Err(Run("INSERT INTO ks.t (k) VALUES (7) USING TIMESTAMP 1000")).message,
            "USING TIMESTAMP is not supported by the DataForge CQL endpoint: remove it from the "
            "INSERT on ks.t (writes apply in the order they arrive; the last one wins)");
  EXPECT_EQ(Err(Run("UPDATE ks.t USING TIMESTAMP 5 SET a = 'x' WHERE k = 1")).message,
            "USING TIMESTAMP is not supported by the DataForge CQL endpoint: remove it from the "
            "UPDATE on ks.t (writes apply in the order they arrive; the last one wins)");
  EXPECT_EQ(Err(Run("DELETE FROM ks.t USING TIMESTAMP 5 WHERE k = 1")).message,
            "USING TIMESTAMP is not supported by the DataForge CQL endpoint: remove it from the "
            "DELETE on ks.t (writes apply in the order they arrive; the last one wins)");
  EXPECT_EQ(Err(Run("BEGIN BATCH USING TIMESTAMP 5 INSERT INTO ks.t (k) VALUES (8) "
                    "APPLY BATCH"))
                .message,
            "USING TIMESTAMP is not supported by the DataForge CQL endpoint: remove it from the "
            "BATCH (writes apply in the order they arrive; the last one wins)");
  EXPECT_EQ(Err(Run("BEGIN BATCH USING TTL 5 INSERT INTO ks.t (k) VALUES (8) APPLY BATCH")).message,
            "USING TTL is not supported by the DataForge CQL endpoint: remove it from the BATCH "
            "(rows never expire)");
  // Refused at PREPARE already.
  EXPECT_EQ(
      Err(engine_->Prepare(&session_,
                           PrepareMessage{"DELETE FROM ks.t USING TIMESTAMP ? WHERE k = ?"}))
          .message,
      "USING TIMESTAMP is not supported by the DataForge CQL endpoint: remove it from the DELETE "
      "on ks.t (writes apply in the order they arrive; the last one wins)");
  EXPECT_EQ(Err(engine_->Prepare(&session_, PrepareMessage{"BEGIN BATCH USING TTL 1 INSERT INTO "
                                                           "ks.t (k) VALUES (?) APPLY BATCH"}))
                .message,
            "USING TTL is not supported by the DataForge CQL endpoint: remove it from the BATCH "
            "(rows never expire)");
  EXPECT_EQ(ScanKeys(), std::vector<int32_t>{1});
  EXPECT_EQ(*store_->Get("ks.t", "1"), R"({"k":1,"a":"one"})");
}

TEST_F(CqlWriteChecksTest, CreateTableRefusals) {
  EXPECT_EQ(Err(Run("CREATE TABLE ks.ttl (k int PRIMARY KEY) WITH default_time_to_live = 60 "
                    "AND comment = 'x'"))
                .message,
            "default_time_to_live is not supported by the DataForge CQL endpoint: remove WITH "
            "default_time_to_live = 60 from the CREATE TABLE ks.ttl (rows never expire)");
  Ok("CREATE TABLE ks.ttl0 (k int PRIMARY KEY) WITH default_time_to_live = 0");
  EXPECT_EQ(Err(Run("CREATE TABLE ks.c (k int PRIMARY KEY, v counter)")).message,
            "column v counter in CREATE TABLE ks.c: CQL type counter is not supported by the "
            "DataForge CQL endpoint (no counter updates); use bigint");
  EXPECT_EQ(Err(Run("CREATE TABLE ks.tu (k int PRIMARY KEY, v frozen<tuple<int, text>>)")).message,
            "column v frozen<tuple<int, text>> in CREATE TABLE ks.tu: CQL type tuple<int, text> "
            "has no stored form in DataForge; use text, numbers, uuid, timestamp, date, time, "
            "inet, blob, boolean or list/set/map of those");
  for (const char* t : {"ttl", "c", "tu"}) {
    EXPECT_EQ(store_->DescribeTable(std::string("ks.") + t).status().code(), StatusCode::kNotFound)
        << t;
  }
}

TEST_F(CqlWriteChecksTest, UnsupportedStatementFormsAreNamed) {
  const std::string tail =
      " is not supported by the DataForge CQL endpoint (it serves SELECT, INSERT, UPDATE, "
      "DELETE, BATCH, CREATE KEYSPACE, CREATE TABLE, ALTER TABLE ... ADD and USE)";
  const std::pair<const char*, const char*> cases[] = {
      {"ALTER KEYSPACE ks WITH durable_writes = false", "ALTER KEYSPACE"},
      {"DROP TABLE ks.t", "DROP TABLE"},
      {"DROP KEYSPACE ks", "DROP KEYSPACE"},
      {"TRUNCATE ks.t", "TRUNCATE"},
      {"CREATE INDEX ON ks.t (a)", "CREATE INDEX"},
      {"CREATE CUSTOM INDEX ON ks.t (a) USING 'x'", "CREATE CUSTOM INDEX"},
      {"CREATE TYPE ks.addr (street text)", "CREATE TYPE"},
      {"CREATE FUNCTION ks.f (x int) RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS "
       "'return x;'",
       "CREATE FUNCTION"},
      {"CREATE MATERIALIZED VIEW ks.v AS SELECT * FROM ks.t WHERE k IS NOT NULL PRIMARY KEY (k)",
       "CREATE MATERIALIZED VIEW"},
      {"CREATE ROLE bob", "CREATE ROLE"},
      {"GRANT SELECT ON ks.t TO bob", "GRANT"},
      {"REVOKE SELECT ON ks.t FROM bob", "REVOKE"},
      {"LIST ROLES", "LIST"},
      {"DESCRIBE TABLES", "DESCRIBE"},
      {"BEGIN COUNTER BATCH UPDATE ks.t SET i = i + 1 WHERE k = 1 APPLY BATCH",
       "BEGIN COUNTER BATCH"},
  };
  for (const auto& [query, what] : cases) {
    ErrorMessage e = Err(Run(query));
    EXPECT_EQ(e.code, kInvalidCode) << query;
    EXPECT_EQ(e.message, std::string(what) + tail) << query;
  }
  // Forms of served statements: the message says what to do instead, also at PREPARE and in a
  // BATCH, and bound values do not matter.
  const std::pair<const char*, const char*> forms[] = {
      {"UPDATE ks.t SET i = i + 1 WHERE k = 1",
       "UPDATE ... SET i = i +/- ... is not supported by the DataForge CQL endpoint: counter and "
       "collection arithmetic; set the whole value (SET i = ?)"},
      {"UPDATE ks.t SET s = s - {1} WHERE k = 1",
       "UPDATE ... SET s = s +/- ... is not supported by the DataForge CQL endpoint: counter and "
       "collection arithmetic; set the whole value (SET s = ?)"},
      {"UPDATE ks.t SET s = {1} + s WHERE k = 1",
       "UPDATE ... SET s = ... + s is not supported by the DataForge CQL endpoint: collection "
       "arithmetic; set the whole value (SET s = ?)"},
      {"UPDATE ks.t SET m['a'] = 1 WHERE k = 1",
       "UPDATE ... SET m[...] = ... is not supported by the DataForge CQL endpoint: setting one "
       "element of a collection or a field; set the whole value (SET m = ?)"},
      {"DELETE m['a'] FROM ks.t WHERE k = 1",
       "DELETE m[...] is not supported by the DataForge CQL endpoint: deleting one element of a "
       "collection or a field; set the whole value (UPDATE ... SET m = ?)"},
      {"UPDATE ks.t SET a = 'x' WHERE k = 1 IF a = 'one'",
       "UPDATE ... IF <condition> is not supported by the DataForge CQL endpoint: conditions on "
       "column values (lightweight transactions); only IF EXISTS is served"},
      {"DELETE FROM ks.t WHERE k = 1 IF a = 'one'",
       "DELETE ... IF <condition> is not supported by the DataForge CQL endpoint: conditions on "
       "column values (lightweight transactions); only IF EXISTS is served"},
      {"SELECT * FROM ks.t WHERE k = 1 ORDER BY a",
       "SELECT ... ORDER BY is not supported by the DataForge CQL endpoint: rows come in the "
       "store's key order, one row per partition"},
      {"SELECT max(i) FROM ks.t",
       "SELECT MAX(...) is not supported by the DataForge CQL endpoint: functions other than "
       "COUNT(*) in a SELECT; select the columns"},
      {"SELECT k, writetime(a) FROM ks.t",
       "SELECT WRITETIME(...) is not supported by the DataForge CQL endpoint: functions other "
       "than COUNT(*) in a SELECT; select the columns"},
      {"SELECT DISTINCT k FROM ks.t",
       "SELECT DISTINCT is not supported by the DataForge CQL endpoint: select the key column "
       "instead (each row is one partition)"},
  };
  for (const auto& [query, message] : forms) {
    ErrorMessage e = Err(Run(query, {Value::Of(EncodeInt(1))}));
    EXPECT_EQ(e.code, kInvalidCode) << query;
    EXPECT_EQ(e.message, message) << query;
    e = Err(engine_->Prepare(&session_, PrepareMessage{query}));
    EXPECT_EQ(e.message, message) << query;
  }
  BatchMessage b;
  BatchStatement st;
  st.query_or_id = "UPDATE ks.t SET i = i + 1 WHERE k = 1";
  b.statements.push_back(st);
  EXPECT_EQ(Err(engine_->Batch(&session_, b)).message, forms[0].second);
  EXPECT_EQ(Err(Run("BEGIN BATCH INSERT INTO ks.t (k) VALUES (2); UPDATE ks.t SET i = i + 1 "
                    "WHERE k = 1 APPLY BATCH"))
                .message,
            forms[0].second);
  EXPECT_EQ(ScanKeys(), std::vector<int32_t>{1});
  EXPECT_EQ(*store_->Get("ks.t", "1"), R"({"k":1,"a":"one"})");
}

}  // namespace
}  // namespace dataforge::cql
