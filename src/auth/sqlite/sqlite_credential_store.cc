#include "auth/sqlite/sqlite_credential_store.h"

#include <unistd.h>

#include <fmt/format.h>

namespace dataforge::auth {
namespace {

// The staging file's other tables are in staging/sqlite/sqlite_staging.cc and
// orchestrate/state/sqlite/sqlite_run_store.cc; none shares a name.
constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS auth_users(
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,          -- argon2id encoded; '' = no password
  created_unix INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_api_keys(
  key_id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,              -- kept after the user is removed (the key is revoked)
  secret_hash TEXT NOT NULL,            -- argon2id encoded hash of the whole key text
  created_unix INTEGER NOT NULL,
  expires_unix INTEGER NOT NULL,        -- 0 = never
  revoked_unix INTEGER NOT NULL);       -- 0 = not revoked
CREATE INDEX IF NOT EXISTS auth_api_keys_user ON auth_api_keys(user_name, created_unix);
)SQL";

constexpr const char* kSqliteUserColumns = "name, role, password_hash, created_unix";
constexpr const char* kSqliteKeyColumns =
    "key_id, user_name, secret_hash, created_unix, expires_unix, revoked_unix";

UserRecord ReadUser(const SqliteStatement& q) {
  return UserRecord{q.ColumnText(0), q.ColumnText(1), q.ColumnText(2), q.ColumnInt(3)};
}

ApiKeyRecord ReadKey(const SqliteStatement& q) {
  return ApiKeyRecord{q.ColumnText(0), q.ColumnText(1), q.ColumnText(2),
                      q.ColumnInt(3),  q.ColumnInt(4),  q.ColumnInt(5)};
}

Status ReadOnlyError() {
  return Status::InvalidArgument("the credential store is open read-only");
}

}  // namespace

Result<std::unique_ptr<CredentialStore>> SqliteCredentialStore::Open(const std::string& path,
                                                                     OpenMode mode) {
  std::unique_ptr<SqliteCredentialStore> s(
      new SqliteCredentialStore(path, mode == OpenMode::kReadOnly));
  if (mode == OpenMode::kReadWrite) {
    DF_ASSIGN_OR_RETURN(s->db_, SqliteDb::Open(path, /*read_only=*/false));
    DF_RETURN_IF_ERROR(s->db_->Exec("PRAGMA journal_mode=WAL"));
    // A user or key change is durable when the call returns.
    DF_RETURN_IF_ERROR(s->db_->Exec("PRAGMA synchronous=FULL"));
    std::lock_guard lock(s->mu_);
    DF_RETURN_IF_ERROR(s->WriteLocked([&] {
                          return s->db_->Exec(kSchema);
                        }).WithContext("creating the user and API key tables"));
  }
  return std::unique_ptr<CredentialStore>(std::move(s));
}

Result<bool> SqliteCredentialStore::ReadableLocked() {
  if (!read_only_) return true;
  if (!db_) {
    if (access(path_.c_str(), F_OK) != 0) return false;
    DF_ASSIGN_OR_RETURN(db_, SqliteDb::Open(path_, /*read_only=*/true));
  }
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT count(*) FROM sqlite_master WHERE "
                                           "type='table' AND name IN ('auth_users',"
                                           "'auth_api_keys')"));
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  return row && q.ColumnInt(0) == 2;
}

Status SqliteCredentialStore::WriteLocked(const std::function<Status()>& body) {
  if (read_only_) return ReadOnlyError();
  DF_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  Status s = body();
  if (s.ok()) s = db_->Exec("COMMIT");
  if (!s.ok()) (void)db_->Exec("ROLLBACK");
  return s;
}

Result<int64_t> SqliteCredentialStore::ChangesLocked() {
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT changes()"));
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.ColumnInt(0) : 0;
}

Status SqliteCredentialStore::AddUser(const UserRecord& user) {
  std::lock_guard lock(mu_);
  return WriteLocked([&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("INSERT INTO auth_users(name, role, password_hash, "
                                             "created_unix) VALUES(?, ?, ?, ?) ON "
                                             "CONFLICT(name) DO NOTHING"));
    q.BindText(1, user.name);
    q.BindText(2, user.role);
    q.BindText(3, user.password_hash);
    q.BindInt(4, user.created_unix);
    DF_RETURN_IF_ERROR(q.Run());
    DF_ASSIGN_OR_RETURN(int64_t n, ChangesLocked());
    if (n == 0)
      return Status::FailedPrecondition(fmt::format("user '{}' exists already", user.name));
    return Status::OK();
  });
}

Status SqliteCredentialStore::RemoveUser(const std::string& name, int64_t now_unix) {
  std::lock_guard lock(mu_);
  return WriteLocked([&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto del, db_->Prepare("DELETE FROM auth_users WHERE name = ?"));
    del.BindText(1, name);
    DF_RETURN_IF_ERROR(del.Run());
    DF_ASSIGN_OR_RETURN(int64_t n, ChangesLocked());
    if (n == 0) return Status::NotFound(fmt::format("no user '{}'", name));
    DF_ASSIGN_OR_RETURN(auto revoke, db_->Prepare("UPDATE auth_api_keys SET revoked_unix = ? "
                                                  "WHERE user_name = ? AND revoked_unix = 0"));
    revoke.BindInt(1, now_unix);
    revoke.BindText(2, name);
    return revoke.Run();
  });
}

Result<std::optional<UserRecord>> SqliteCredentialStore::FindUser(const std::string& name) {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(bool readable, ReadableLocked());
  if (!readable) return std::optional<UserRecord>();
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM auth_users WHERE name = ?",
                                                       kSqliteUserColumns)));
  q.BindText(1, name);
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<UserRecord>();
  return std::optional<UserRecord>(ReadUser(q));
}

Result<std::vector<UserRecord>> SqliteCredentialStore::ListUsers() {
  std::lock_guard lock(mu_);
  std::vector<UserRecord> out;
  DF_ASSIGN_OR_RETURN(bool readable, ReadableLocked());
  if (!readable) return out;
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM auth_users ORDER BY name",
                                                       kSqliteUserColumns)));
  while (true) {
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadUser(q));
  }
  return out;
}

Result<uint64_t> SqliteCredentialStore::UserCount() {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(bool readable, ReadableLocked());
  if (!readable) return uint64_t{0};
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT count(*) FROM auth_users"));
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<uint64_t>(q.ColumnInt(0)) : 0;
}

Status SqliteCredentialStore::AddKey(const ApiKeyRecord& key) {
  std::lock_guard lock(mu_);
  return WriteLocked([&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto user, db_->Prepare("SELECT 1 FROM auth_users WHERE name = ?"));
    user.BindText(1, key.user);
    DF_ASSIGN_OR_RETURN(bool exists, user.Step());
    if (!exists) return Status::NotFound(fmt::format("no user '{}'", key.user));
    DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("INSERT INTO auth_api_keys({}) "
                                                         "VALUES(?, ?, ?, ?, ?, ?) ON "
                                                         "CONFLICT(key_id) DO NOTHING",
                                                         kSqliteKeyColumns)));
    q.BindText(1, key.key_id);
    q.BindText(2, key.user);
    q.BindText(3, key.secret_hash);
    q.BindInt(4, key.created_unix);
    q.BindInt(5, key.expires_unix);
    q.BindInt(6, key.revoked_unix);
    DF_RETURN_IF_ERROR(q.Run());
    DF_ASSIGN_OR_RETURN(int64_t n, ChangesLocked());
    if (n == 0) {
      return Status::FailedPrecondition(fmt::format("API key '{}' exists already", key.key_id));
    }
    return Status::OK();
  });
}

Status SqliteCredentialStore::RevokeKey(const std::string& key_id, int64_t now_unix) {
  std::lock_guard lock(mu_);
  return WriteLocked([&]() -> Status {
    // A revoked key keeps its first revocation time.
    DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("UPDATE auth_api_keys SET revoked_unix = CASE WHEN "
                                             "revoked_unix = 0 THEN ? ELSE revoked_unix END "
                                             "WHERE key_id = ?"));
    q.BindInt(1, now_unix);
    q.BindText(2, key_id);
    DF_RETURN_IF_ERROR(q.Run());
    DF_ASSIGN_OR_RETURN(int64_t n, ChangesLocked());
    if (n == 0) return Status::NotFound(fmt::format("no API key '{}'", key_id));
    return Status::OK();
  });
}

Result<std::optional<ApiKeyRecord>> SqliteCredentialStore::FindKey(const std::string& key_id) {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(bool readable, ReadableLocked());
  if (!readable) return std::optional<ApiKeyRecord>();
  DF_ASSIGN_OR_RETURN(
      auto q, db_->Prepare(
                  fmt::format("SELECT {} FROM auth_api_keys WHERE key_id = ?", kSqliteKeyColumns)));
  q.BindText(1, key_id);
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ApiKeyRecord>();
  return std::optional<ApiKeyRecord>(ReadKey(q));
}

Result<std::vector<ApiKeyRecord>> SqliteCredentialStore::ListKeys() {
  std::lock_guard lock(mu_);
  std::vector<ApiKeyRecord> out;
  DF_ASSIGN_OR_RETURN(bool readable, ReadableLocked());
  if (!readable) return out;
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM auth_api_keys ORDER BY "
                                                       "user_name, created_unix, key_id",
                                                       kSqliteKeyColumns)));
  while (true) {
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadKey(q));
  }
  return out;
}

}  // namespace dataforge::auth
