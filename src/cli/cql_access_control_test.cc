// The CQL endpoint's adapter to src/auth (cli/cql_access_control.h) over a real SQLite
// credential store in a temp data dir, argon2id hashes and the pipeline file's roles, with a
// clock moved by hand (the role re-check, the failed-login limit, the audit log's times).
#include "cli/cql_access_control.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "auth/credential_store.h"
#include "pipeline/data_dir.h"

namespace dataforge {
namespace {

using cql::CqlPermission;
using cql::CqlUser;

class HandClock final : public Clock {
 public:
  int64_t NowMicros() override { return now_us_; }
  int64_t MonotonicMicros() override { return now_us_; }
  bool SleepFor(int64_t micros, std::stop_token stop) override {
    now_us_ += micros;
    return !stop.stop_requested();
  }
  void Advance(int64_t micros) { now_us_ += micros; }

 private:
  int64_t now_us_ = 1'796'300'000'000'000;  // 2026-12-03T...Z
};

AuthRoleConfig Role(const std::string& name, const std::string& tables_glob) {
  AuthGrantConfig grant;
  grant.kind = "tables";
  grant.glob = tables_glob;
  grant.actions = {"read", "write"};
  AuthRoleConfig role;
  role.name = name;
  role.grants.push_back(grant);
  return role;
}

class CqlAccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_cql_access_control_XXXXXX";
    dir_ = mkdtemp(tmpl);
    data_dir_ = dir_ + "/data";
    std::filesystem::create_directories(data_dir_);
    // A role of the pipeline file: the tables of keyspace shop, read and write.
    config_.auth.roles.push_back(Role("loader", "shop.*"));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<cql::CqlAccessControl> Open(CqlEndpointFlags flags = {}) {
    auto access = OpenCqlAccessControl(flags, config_, data_dir_, &clock_);
    EXPECT_TRUE(access.ok()) << access.status().ToString();
    return access.ok() ? std::move(access).value() : nullptr;
  }
  // Adds (or, with `remove`, removes) a user through a second, read-write store: as `dataforge
  // users add` would from another process.
  void AddUser(const std::string& name, const std::string& role, const std::string& password) {
    auto store = Writer();
    auto hash = auth::HashSecret(password);
    ASSERT_TRUE(hash.ok()) << hash.status().ToString();
    ASSERT_TRUE(store->AddUser({name, role, *hash, 1}).ok());
  }
  void RemoveUser(const std::string& name) { ASSERT_TRUE(Writer()->RemoveUser(name, 2).ok()); }
  std::unique_ptr<auth::CredentialStore> Writer() {
    auto store =
        auth::OpenCredentialStore(ResolveUrls(config_, data_dir_).staging, OpenMode::kReadWrite);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return std::move(store).value();
  }
  std::string AuditText() {
    std::ifstream in(data_dir_ + "/audit.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  static constexpr int64_t kSecond = 1'000'000;

  std::string dir_, data_dir_;
  PipelineConfig config_;
  HandClock clock_;
};

TEST_F(CqlAccessControlTest, NoUserMeansOffUntilOneIsAdded) {
  auto access = Open();
  ASSERT_NE(access, nullptr);
  EXPECT_FALSE(access->Required());
  AddUser("rita", "reader", "pw-reader");
  clock_.Advance(kSecond + 1);  // Required() is re-evaluated at most once a second
  EXPECT_TRUE(access->Required());
}

TEST_F(CqlAccessControlTest, AuthRequiredWithoutUsers) {
  config_.auth.required = true;
  auto access = Open();
  ASSERT_NE(access, nullptr);
  EXPECT_TRUE(access->Required());
  auto r = access->Authenticate("anyone", "x", "127.0.0.1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(CqlAccessControlTest, StoredUsersAuthenticateWithTheirRoles) {
  AddUser("rita", "reader", "pw-reader");
  auto access = Open();
  ASSERT_NE(access, nullptr);
  EXPECT_TRUE(access->Required());
  auto ok = access->Authenticate("rita", "pw-reader", "127.0.0.1");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->name, "rita");
  EXPECT_EQ(ok->role, "reader");
  for (auto [user, password] : std::vector<std::pair<std::string, std::string>>{
           {"rita", "pw-reade"}, {"rita", ""}, {"nobody", "pw-reader"}}) {
    auto bad = access->Authenticate(user, password, "10.0.0.1");
    ASSERT_FALSE(bad.ok()) << user;
    EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated) << user;
    EXPECT_EQ(bad.status().message().find(password.empty() ? "\x01" : password), std::string::npos)
        << "the password must not be echoed: " << bad.status().message();
  }
}

TEST_F(CqlAccessControlTest, PermissionsMapOntoTheTablesGrants) {
  AddUser("ada", "admin", "pw-admin");
  AddUser("rita", "reader", "pw-reader");
  AddUser("otto", "operator", "pw-operator");
  AddUser("lou", "loader", "pw-loader");
  auto access = Open();
  ASSERT_NE(access, nullptr);
  std::map<std::string, CqlUser> users;
  for (auto [name, password] :
       std::vector<std::pair<std::string, std::string>>{{"ada", "pw-admin"},
                                                        {"rita", "pw-reader"},
                                                        {"otto", "pw-operator"},
                                                        {"lou", "pw-loader"}}) {
    auto u = access->Authenticate(name, password, "127.0.0.1");
    ASSERT_TRUE(u.ok()) << name << ": " << u.status().ToString();
    users[name] = *u;
  }
  auto allows = [&](const std::string& user, CqlPermission p, const std::string& ks,
                    const std::string& table) { return access->Allows(users[user], p, ks, table); };
  // admin: everything.
  EXPECT_TRUE(allows("ada", CqlPermission::kModify, "other", "t"));
  EXPECT_TRUE(allows("ada", CqlPermission::kCreate, "other", ""));
  // reader and operator: SELECT anywhere, no MODIFY, no CREATE.
  for (const char* u : {"rita", "otto"}) {
    EXPECT_TRUE(allows(u, CqlPermission::kSelect, "shop", "items")) << u;
    EXPECT_TRUE(allows(u, CqlPermission::kSelect, "other", "t")) << u;
    EXPECT_FALSE(allows(u, CqlPermission::kModify, "shop", "items")) << u;
    EXPECT_FALSE(allows(u, CqlPermission::kCreate, "shop", "new")) << u;
    EXPECT_FALSE(allows(u, CqlPermission::kCreate, "shop", "")) << u;
  }
  // loader ("shop.*": read, write): SELECT, MODIFY and CREATE TABLE in shop, CREATE KEYSPACE
  // shop itself, nothing elsewhere.
  EXPECT_TRUE(allows("lou", CqlPermission::kSelect, "shop", "items"));
  EXPECT_TRUE(allows("lou", CqlPermission::kModify, "shop", "items"));
  EXPECT_TRUE(allows("lou", CqlPermission::kCreate, "shop", "new"));
  EXPECT_TRUE(allows("lou", CqlPermission::kCreate, "shop", ""));
  EXPECT_FALSE(allows("lou", CqlPermission::kSelect, "other", "t"));
  EXPECT_FALSE(allows("lou", CqlPermission::kModify, "shopping", "t"));
  EXPECT_FALSE(allows("lou", CqlPermission::kCreate, "other", ""));
}

TEST_F(CqlAccessControlTest, KeyspaceCreateNeedsAGrantOfTheWholeKeyspace) {
  config_.auth.roles.push_back(Role("one_table", "shop.items"));
  AddUser("tim", "one_table", "pw-tim");
  auto access = Open();
  ASSERT_NE(access, nullptr);
  auto tim = access->Authenticate("tim", "pw-tim", "127.0.0.1");
  ASSERT_TRUE(tim.ok());
  EXPECT_TRUE(access->Allows(*tim, CqlPermission::kModify, "shop", "items"));
  EXPECT_TRUE(access->Allows(*tim, CqlPermission::kCreate, "shop", "items"));
  EXPECT_FALSE(access->Allows(*tim, CqlPermission::kCreate, "shop", ""));
  EXPECT_FALSE(access->Allows(*tim, CqlPermission::kModify, "shop", "other"));
}

TEST_F(CqlAccessControlTest, RemovedUserOrChangedRoleTakesEffectWithinASecond) {
  AddUser("rita", "reader", "pw-reader");
  auto access = Open();
  ASSERT_NE(access, nullptr);
  auto rita = access->Authenticate("rita", "pw-reader", "127.0.0.1");
  ASSERT_TRUE(rita.ok());
  EXPECT_TRUE(access->Allows(*rita, CqlPermission::kSelect, "shop", "items"));
  EXPECT_FALSE(access->Allows(*rita, CqlPermission::kModify, "shop", "items"));
  // Made an admin (removed and added again): her open connection writes within a second.
  RemoveUser("rita");
  AddUser("rita", "admin", "pw-reader");
  clock_.Advance(kSecond + 1);
  EXPECT_TRUE(access->Allows(*rita, CqlPermission::kModify, "shop", "items"));
  // Removed: her open connection may do nothing within a second.
  RemoveUser("rita");
  EXPECT_TRUE(access->Allows(*rita, CqlPermission::kSelect, "shop", "items"));  // not yet
  clock_.Advance(kSecond + 1);
  EXPECT_FALSE(access->Allows(*rita, CqlPermission::kSelect, "shop", "items"));
  EXPECT_FALSE(access->Authenticate("rita", "pw-reader", "127.0.0.1").ok());
}

TEST_F(CqlAccessControlTest, UsernameFlagAddsOneAdminBesideTheStoredUsers) {
  CqlEndpointFlags flags;
  flags.username = "alice";
  flags.password = "s3cret";
  {
    // No stored user: only alice; nobody else gets in (not even as the anonymous admin that
    // "authentication off" would give).
    auto access = Open(flags);
    ASSERT_NE(access, nullptr);
    EXPECT_TRUE(access->Required());
    auto alice = access->Authenticate("alice", "s3cret", "127.0.0.1");
    ASSERT_TRUE(alice.ok());
    EXPECT_EQ(alice->role, "admin");
    EXPECT_TRUE(access->Allows(*alice, CqlPermission::kCreate, "any", ""));
    auto bob = access->Authenticate("bob", "whatever", "127.0.0.1");
    ASSERT_FALSE(bob.ok());
    EXPECT_EQ(bob.status().code(), StatusCode::kUnauthenticated);
    EXPECT_FALSE(access->Authenticate("alice", "wrong", "127.0.0.1").ok());
  }
  AddUser("rita", "reader", "pw-reader");
  auto access = Open(flags);
  ASSERT_NE(access, nullptr);
  auto rita = access->Authenticate("rita", "pw-reader", "127.0.0.1");
  ASSERT_TRUE(rita.ok());
  EXPECT_EQ(rita->role, "reader");
  EXPECT_TRUE(access->Authenticate("alice", "s3cret", "127.0.0.1").ok());
}

TEST_F(CqlAccessControlTest, FailedLoginsAreLimitedPerAddress) {
  config_.auth.max_failed_logins_per_minute = 1;
  AddUser("rita", "reader", "pw-reader");
  auto access = Open();
  ASSERT_NE(access, nullptr);
  auto bad = access->Authenticate("rita", "wrong", "10.0.0.7");
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
  auto limited = access->Authenticate("rita", "pw-reader", "10.0.0.7");
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(limited.status().message(), "too many failed logins from 10.0.0.7; retry in 60s");
  // Another address is not limited.
  EXPECT_TRUE(access->Authenticate("rita", "pw-reader", "10.0.0.8").ok());
  clock_.Advance(60 * kSecond);
  EXPECT_TRUE(access->Authenticate("rita", "pw-reader", "10.0.0.7").ok());
}

TEST_F(CqlAccessControlTest, AuditLinesNameWhoWhatFromWhereAndTheResult) {
  AddUser("rita", "reader", "pw-reader");
  auto access = Open();
  ASSERT_NE(access, nullptr);
  auto rita = access->Authenticate("rita", "pw-reader", "127.0.0.1");
  ASSERT_TRUE(rita.ok());
  access->Audit({*rita, "127.0.0.1"}, "CQL INSERT INTO shop.items", "Unauthorized");
  clock_.Advance(1500);
  access->Audit({*rita, "127.0.0.1"}, "CQL BATCH shop.a, shop.b", "ok");
  std::string text = AuditText();
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u) << text;
  auto after_at = [](const std::string& line) { return line.substr(line.find("\"who\"")); };
  EXPECT_EQ(after_at(lines[0]),
            "\"who\":\"rita\",\"role\":\"reader\",\"method\":\"password\",\"from\":\"127.0.0.1\","
            "\"action\":\"CQL INSERT INTO shop.items\",\"result\":\"Unauthorized\"}");
  EXPECT_EQ(after_at(lines[1]),
            "\"who\":\"rita\",\"role\":\"reader\",\"method\":\"password\",\"from\":\"127.0.0.1\","
            "\"action\":\"CQL BATCH shop.a, shop.b\",\"result\":\"ok\"}");
  EXPECT_EQ(lines[0].rfind("{\"at\":\"2026-12-03T12:13:20.000000Z\",", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("{\"at\":\"2026-12-03T12:13:20.001500Z\",", 0), 0u) << lines[1];
  EXPECT_EQ(text.find("pw-reader"), std::string::npos);
}

}  // namespace
}  // namespace dataforge
