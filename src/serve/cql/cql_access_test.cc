// Access control in the engine (cql_access.h): which permission each statement needs, the
// Unauthorized errors' exact text, nothing applied when refused, and the audit of writes.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "serve/cql/cql_access.h"
#include "serve/cql/cql_engine.h"
#include "serve/cql/testing/fake_access_control.h"
#include "store/rocksdb/rocksdb_store.h"

namespace dataforge::cql {
namespace {

using testing::FakeAccessControl;

constexpr int32_t kUnauthorized = 0x2100;

class CqlAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_cql_access_XXXXXX";
    dir_ = mkdtemp(tmpl);
    StoreOptions options;
    options.sync = false;
    auto s = RocksDbStore::Open(dir_ + "/store", OpenMode::kReadWrite, options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    EngineOptions eo;
    eo.access_control = &access_;
    engine_ = std::make_unique<CqlEngine>(store_.get(), eo);
    // reader: SELECT ks.users; writer: SELECT and MODIFY ks.users; creator: CREATE ks.made and
    // keyspace ks2; nobody: nothing.
    access_.Grant("reader", CqlPermission::kSelect, "ks.users");
    access_.Grant("writer", CqlPermission::kSelect, "ks.users");
    access_.Grant("writer", CqlPermission::kModify, "ks.users");
    access_.Grant("creator", CqlPermission::kCreate, "ks.made");
    access_.Grant("creator", CqlPermission::kCreate, "ks2");
    admin_ = Session("root", "admin");
    Ok(admin_,
       "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
       "'replication_factor': 1}");
    Ok(admin_, "CREATE TABLE ks.users (id text PRIMARY KEY, name text)");
    Ok(admin_, "CREATE TABLE ks.secrets (id text PRIMARY KEY, v text)");
    Ok(admin_, "INSERT INTO ks.users (id, name) VALUES ('u1', 'Ann')");
    Ok(admin_, "INSERT INTO ks.secrets (id, v) VALUES ('s1', 'x')");
  }
  void TearDown() override {
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static SessionState Session(const std::string& user, const std::string& role) {
    SessionState s;
    s.user =
        std::make_shared<const CqlSessionUser>(CqlSessionUser{CqlUser{user, role}, "127.0.0.1"});
    return s;
  }
  ResultMessage Ok(SessionState& session, const std::string& query) {
    Response r = engine_->Query(&session, QueryMessage{query, {}});
    if (auto* e = std::get_if<ErrorMessage>(&r)) {
      ADD_FAILURE() << query << " -> error 0x" << std::hex << e->code << ": " << e->message;
      return {};
    }
    return std::get<ResultMessage>(r);
  }
  ErrorMessage Err(SessionState& session, const std::string& query) {
    Response r = engine_->Query(&session, QueryMessage{query, {}});
    if (auto* e = std::get_if<ErrorMessage>(&r)) return *e;
    ADD_FAILURE() << query << " succeeded";
    return {};
  }
  // Rows of ks.<table> as the admin sees them.
  size_t RowCount(const std::string& table) {
    return Ok(admin_, "SELECT * FROM ks." + table).rows.rows.size();
  }
  // The audit records after SetUp's.
  std::vector<FakeAccessControl::AuditRecord> NewAudit() {
    auto all = access_.audit();
    return {all.begin() + kSetUpAudits, all.end()};
  }
  static std::vector<std::string> Actions(const std::vector<FakeAccessControl::AuditRecord>& a) {
    std::vector<std::string> out;
    for (const auto& r : a) out.push_back(r.user + " " + r.action + " -> " + r.result);
    return out;
  }

  static constexpr size_t kSetUpAudits = 5;  // the admin's 3 CREATEs and 2 INSERTs
  FakeAccessControl access_;
  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CqlEngine> engine_;
  SessionState admin_;
};

TEST_F(CqlAccessTest, SetUpWritesAreAuditedAsTheAdmin) {
  auto all = access_.audit();
  ASSERT_EQ(all.size(), kSetUpAudits);
  EXPECT_EQ(Actions(all), (std::vector<std::string>{
                              "root CQL CREATE KEYSPACE ks -> ok",
                              "root CQL CREATE TABLE ks.users -> ok",
                              "root CQL CREATE TABLE ks.secrets -> ok",
                              "root CQL INSERT INTO ks.users -> ok",
                              "root CQL INSERT INTO ks.secrets -> ok",
                          }));
  EXPECT_EQ(all[0].role, "admin");
  EXPECT_EQ(all[0].peer, "127.0.0.1");
}

TEST_F(CqlAccessTest, ReaderSelectsItsTableOnly) {
  SessionState reader = Session("rita", "reader");
  ResultMessage r = Ok(reader, "SELECT id, name FROM ks.users");
  ASSERT_EQ(r.rows.rows.size(), 1u);
  EXPECT_EQ(r.rows.rows[0][1], std::optional<std::string>("Ann"));
  ErrorMessage e = Err(reader, "SELECT * FROM ks.secrets");
  EXPECT_EQ(e.code, kUnauthorized);
  EXPECT_EQ(e.message,
            "User rita has no SELECT permission on <table ks.secrets> or any of its parents");
  EXPECT_TRUE(NewAudit().empty());  // reads are not audited
}

TEST_F(CqlAccessTest, SystemTablesAreReadableByEveryAuthenticatedUser) {
  SessionState nobody = Session("nina", "nobody");
  EXPECT_EQ(Ok(nobody, "SELECT key FROM system.local").rows.rows.size(), 1u);
  EXPECT_EQ(Ok(nobody, "SELECT * FROM system_schema.tables").rows.rows.size(), 2u);
  Ok(nobody, "USE system");
  EXPECT_EQ(Ok(nobody, "SELECT key FROM local").rows.rows.size(), 1u);
  // Writing them is still a MODIFY.
  ErrorMessage e = Err(nobody, "INSERT INTO system.local (key) VALUES ('x')");
  EXPECT_EQ(e.code, kUnauthorized);
  EXPECT_EQ(e.message,
            "User nina has no MODIFY permission on <table system.local> or any of its parents");
}

TEST_F(CqlAccessTest, ReaderInsertUpdateDeleteAreRefusedNamingModifyAndApplyNothing) {
  SessionState reader = Session("rita", "reader");
  ErrorMessage e = Err(reader, "INSERT INTO ks.users (id, name) VALUES ('u2', 'Bob')");
  EXPECT_EQ(e.code, kUnauthorized);
  EXPECT_EQ(e.message,
            "User rita has no MODIFY permission on <table ks.users> or any of its parents");
  e = Err(reader, "UPDATE ks.users SET name = 'Zed' WHERE id = 'u1'");
  EXPECT_EQ(e.code, kUnauthorized);
  EXPECT_EQ(e.message,
            "User rita has no MODIFY permission on <table ks.users> or any of its parents");
  e = Err(reader, "DELETE FROM ks.users WHERE id = 'u1'");
  EXPECT_EQ(e.code, kUnauthorized);
  ResultMessage r = Ok(admin_, "SELECT id, name FROM ks.users");
  ASSERT_EQ(r.rows.rows.size(), 1u);
  EXPECT_EQ(r.rows.rows[0][1], std::optional<std::string>("Ann"));
  auto audit = NewAudit();
  EXPECT_EQ(Actions(audit), (std::vector<std::string>{
                                "rita CQL INSERT INTO ks.users -> Unauthorized",
                                "rita CQL UPDATE ks.users -> Unauthorized",
                                "rita CQL DELETE FROM ks.users -> Unauthorized",
                            }));
  EXPECT_EQ(audit[0].role, "reader");
}

TEST_F(CqlAccessTest, WriterWritesItsTableAndIsAudited) {
  SessionState writer = Session("wes", "writer");
  Ok(writer, "INSERT INTO ks.users (id, name) VALUES ('u2', 'Bob')");
  Ok(writer, "UPDATE ks.users SET name = 'Zed' WHERE id = 'u1'");
  Ok(writer, "DELETE FROM ks.users WHERE id = 'u2'");
  ResultMessage r = Ok(writer, "SELECT id, name FROM ks.users");
  ASSERT_EQ(r.rows.rows.size(), 1u);
  EXPECT_EQ(r.rows.rows[0][1], std::optional<std::string>("Zed"));
  ErrorMessage e = Err(writer, "INSERT INTO ks.secrets (id, v) VALUES ('s2', 'y')");
  EXPECT_EQ(e.message,
            "User wes has no MODIFY permission on <table ks.secrets> or any of its parents");
  // A write that is allowed but invalid is audited with its error.
  e = Err(writer, "INSERT INTO ks.users (id, nope) VALUES ('u3', 'x')");
  EXPECT_EQ(e.code, 0x2200);
  EXPECT_EQ(Actions(NewAudit()), (std::vector<std::string>{
                                     "wes CQL INSERT INTO ks.users -> ok",
                                     "wes CQL UPDATE ks.users -> ok",
                                     "wes CQL DELETE FROM ks.users -> ok",
                                     "wes CQL INSERT INTO ks.secrets -> Unauthorized",
                                     "wes CQL INSERT INTO ks.users -> Invalid",
                                 }));
}

TEST_F(CqlAccessTest, TablesWithoutKeyspaceAreCheckedInTheSessionKeyspace) {
  SessionState reader = Session("rita", "reader");
  Ok(reader, "USE ks");
  EXPECT_EQ(Ok(reader, "SELECT * FROM users").rows.rows.size(), 1u);
  ErrorMessage e = Err(reader, "SELECT * FROM secrets");
  EXPECT_EQ(e.message,
            "User rita has no SELECT permission on <table ks.secrets> or any of its parents");
  e = Err(reader, "INSERT INTO users (id) VALUES ('u9')");
  EXPECT_EQ(e.message,
            "User rita has no MODIFY permission on <table ks.users> or any of its parents");
}

TEST_F(CqlAccessTest, BatchStatementIsCheckedWholeBeforeAnyWrite) {
  SessionState writer = Session("wes", "writer");
  ErrorMessage e = Err(writer,
                       "BEGIN BATCH INSERT INTO ks.users (id, name) VALUES ('u2', 'Bob'); "
                       "INSERT INTO ks.secrets (id, v) VALUES ('s2', 'y'); APPLY BATCH");
  EXPECT_EQ(e.code, kUnauthorized);
  EXPECT_EQ(e.message,
            "User wes has no MODIFY permission on <table ks.secrets> or any of its parents");
  EXPECT_EQ(RowCount("users"), 1u);
  EXPECT_EQ(RowCount("secrets"), 1u);
  EXPECT_EQ(Actions(NewAudit()), (std::vector<std::string>{
                                     "wes CQL BATCH ks.users, ks.secrets -> Unauthorized",
                                 }));
}

TEST_F(CqlAccessTest, BatchMessageIsCheckedWholeBeforeAnyWrite) {
  SessionState writer = Session("wes", "writer");
  Response p = engine_->Prepare(&writer, {"INSERT INTO ks.secrets (id, v) VALUES (?, ?)"});
  ASSERT_TRUE(std::holds_alternative<ResultMessage>(p));  // PREPARE is not checked
  BatchMessage m;
  m.statements.push_back({false, "INSERT INTO ks.users (id, name) VALUES ('u2', 'Bob')", {}, {}});
  m.statements.push_back(
      {true, std::get<ResultMessage>(p).prepared.id, {Value::Of("s2"), Value::Of("y")}, {}});
  Response r = engine_->Batch(&writer, m);
  ASSERT_TRUE(std::holds_alternative<ErrorMessage>(r));
  EXPECT_EQ(std::get<ErrorMessage>(r).code, kUnauthorized);
  EXPECT_EQ(std::get<ErrorMessage>(r).message,
            "User wes has no MODIFY permission on <table ks.secrets> or any of its parents");
  EXPECT_EQ(RowCount("users"), 1u);
  EXPECT_EQ(RowCount("secrets"), 1u);
  // The same batch on the writer's own table applies.
  m.statements.pop_back();
  r = engine_->Batch(&writer, m);
  ASSERT_TRUE(std::holds_alternative<ResultMessage>(r)) << std::get<ErrorMessage>(r).message;
  EXPECT_EQ(RowCount("users"), 2u);
  EXPECT_EQ(Actions(NewAudit()), (std::vector<std::string>{
                                     "wes CQL BATCH ks.users, ks.secrets -> Unauthorized",
                                     "wes CQL BATCH ks.users -> ok",
                                 }));
}

TEST_F(CqlAccessTest, PreparedStatementsAreCheckedAtExecute) {
  SessionState reader = Session("rita", "reader");
  Response p = engine_->Prepare(&reader, {"INSERT INTO ks.users (id, name) VALUES (?, ?)"});
  ASSERT_TRUE(std::holds_alternative<ResultMessage>(p));
  ExecuteMessage ex;
  ex.id = std::get<ResultMessage>(p).prepared.id;
  ex.params.values = {Value::Of("u2"), Value::Of("Bob")};
  Response r = engine_->Execute(&reader, ex);
  ASSERT_TRUE(std::holds_alternative<ErrorMessage>(r));
  EXPECT_EQ(std::get<ErrorMessage>(r).code, kUnauthorized);
  EXPECT_EQ(std::get<ErrorMessage>(r).message,
            "User rita has no MODIFY permission on <table ks.users> or any of its parents");
  // The same prepared statement, executed by a writer's session, applies.
  SessionState writer = Session("wes", "writer");
  r = engine_->Execute(&writer, ex);
  ASSERT_TRUE(std::holds_alternative<ResultMessage>(r)) << std::get<ErrorMessage>(r).message;
  EXPECT_EQ(RowCount("users"), 2u);
  // A prepared SELECT of a table the reader may not read.
  p = engine_->Prepare(&reader, {"SELECT * FROM ks.secrets WHERE id = ?"});
  ex.id = std::get<ResultMessage>(p).prepared.id;
  ex.params.values = {Value::Of("s1")};
  r = engine_->Execute(&reader, ex);
  ASSERT_TRUE(std::holds_alternative<ErrorMessage>(r));
  EXPECT_EQ(std::get<ErrorMessage>(r).message,
            "User rita has no SELECT permission on <table ks.secrets> or any of its parents");
}

TEST_F(CqlAccessTest, CreateTableAndKeyspaceNeedCreate) {
  SessionState creator = Session("carl", "creator");
  Ok(creator, "CREATE TABLE ks.made (id text PRIMARY KEY)");
  ErrorMessage e = Err(creator, "CREATE TABLE ks.other (id text PRIMARY KEY)");
  EXPECT_EQ(e.code, kUnauthorized);
  EXPECT_EQ(e.message,
            "User carl has no CREATE permission on <table ks.other> or any of its parents");
  Ok(creator, "CREATE KEYSPACE ks2 WITH replication = {'class': 'SimpleStrategy'}");
  e = Err(creator, "CREATE KEYSPACE ks3 WITH replication = {'class': 'SimpleStrategy'}");
  EXPECT_EQ(e.code, kUnauthorized);
  EXPECT_EQ(e.message,
            "User carl has no CREATE permission on <keyspace ks3> or any of its parents");
  // CREATE does not grant MODIFY: the creator may not fill the table it made.
  e = Err(creator, "INSERT INTO ks.made (id) VALUES ('a')");
  EXPECT_EQ(e.message,
            "User carl has no MODIFY permission on <table ks.made> or any of its parents");
  SessionState reader = Session("rita", "reader");
  e = Err(reader, "CREATE TABLE ks.made2 (id text PRIMARY KEY)");
  EXPECT_EQ(e.message,
            "User rita has no CREATE permission on <table ks.made2> or any of its parents");
  EXPECT_EQ(Ok(admin_, "SELECT * FROM system_schema.tables").rows.rows.size(),
            3u);  // ks.users, ks.secrets, ks.made
  EXPECT_EQ(Actions(NewAudit()), (std::vector<std::string>{
                                     "carl CQL CREATE TABLE ks.made -> ok",
                                     "carl CQL CREATE TABLE ks.other -> Unauthorized",
                                     "carl CQL CREATE KEYSPACE ks2 -> ok",
                                     "carl CQL CREATE KEYSPACE ks3 -> Unauthorized",
                                     "carl CQL INSERT INTO ks.made -> Unauthorized",
                                     "rita CQL CREATE TABLE ks.made2 -> Unauthorized",
                                 }));
}

TEST_F(CqlAccessTest, AlterTableNeedsAlterOnTheTable) {
  SessionState reader = Session("rita", "reader");
  ErrorMessage e = Err(reader, "ALTER TABLE ks.users ADD nickname text");
  EXPECT_EQ(e.code, kUnauthorized);
  EXPECT_EQ(e.message,
            "User rita has no ALTER permission on <table ks.users> or any of its parents");
  auto schema = store_->DescribeTable("ks.users");
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(std::none_of(schema->columns.begin(), schema->columns.end(),
                           [](const ColumnSchema& c) { return c.name == "nickname"; }));
  Ok(admin_, "ALTER TABLE ks.users ADD nickname text");
  EXPECT_EQ(Actions(NewAudit()), (std::vector<std::string>{
                                     "rita CQL ALTER TABLE ks.users -> Unauthorized",
                                     "root CQL ALTER TABLE ks.users -> ok",
                                 }));
}

TEST_F(CqlAccessTest, SessionWithoutUserIsNeitherCheckedNorAuditedWhileAuthIsOff) {
  access_.set_required(false);
  SessionState anonymous;  // opened while authentication was off
  Ok(anonymous, "INSERT INTO ks.secrets (id, v) VALUES ('s2', 'y')");
  EXPECT_EQ(RowCount("secrets"), 2u);
  EXPECT_TRUE(NewAudit().empty());
  // A user was added: that session may do nothing more, not even read.
  access_.set_required(true);
  for (const char* q : {"SELECT * FROM ks.users", "SELECT key FROM system.local",
                        "INSERT INTO ks.secrets (id, v) VALUES ('s3', 'z')"}) {
    ErrorMessage e = Err(anonymous, q);
    EXPECT_EQ(e.code, kUnauthorized) << q;
    EXPECT_EQ(e.message,
              "authentication was turned on after this connection was opened (a user was added, "
              "or auth.required): reconnect with a username and password")
        << q;
  }
  EXPECT_EQ(RowCount("secrets"), 2u);
}

TEST(CqlAccessTextTest, PeerHost) {
  EXPECT_EQ(PeerHost("127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(PeerHost("::1:5000"), "::1");
  EXPECT_EQ(PeerHost("host"), "host");
}

TEST(CqlAccessTextTest, PermissionAndResourceNames) {
  EXPECT_EQ(CqlPermissionName(CqlPermission::kSelect), "SELECT");
  EXPECT_EQ(CqlPermissionName(CqlPermission::kModify), "MODIFY");
  EXPECT_EQ(CqlPermissionName(CqlPermission::kCreate), "CREATE");
  EXPECT_EQ(CqlResourceText("ks", "t"), "<table ks.t>");
  EXPECT_EQ(CqlResourceText("ks", ""), "<keyspace ks>");
}

TEST(StaticCqlAccessControlTest, OneUserWithEveryPermission) {
  StaticCqlAccessControl access("alice", "s3cret");
  EXPECT_TRUE(access.Required());
  auto ok = access.Authenticate("alice", "s3cret", "127.0.0.1:1");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->name, "alice");
  EXPECT_EQ(ok->role, "admin");
  for (auto [user, password] :
       std::vector<std::pair<std::string, std::string>>{{"alice", "wrong"},
                                                        {"alice", "s3cre"},
                                                        {"alice", "s3crett"},
                                                        {"bob", "s3cret"},
                                                        {"", ""}}) {
    auto bad = access.Authenticate(user, password, "127.0.0.1:1");
    ASSERT_FALSE(bad.ok()) << user << "/" << password;
    EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
  }
  EXPECT_TRUE(access.Allows(*ok, CqlPermission::kCreate, "any", ""));
}

}  // namespace
}  // namespace dataforge::cql
