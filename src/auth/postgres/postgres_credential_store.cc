#include "auth/postgres/postgres_credential_store.h"

#include <fmt/format.h>

#include "staging/postgres/postgres_schema.h"

namespace dataforge::auth {
namespace {

using Params = std::vector<std::optional<std::string>>;

constexpr const char* kUserColumns = "name, role, password_hash, created_unix";
constexpr const char* kKeyColumns =
    "key_id, user_name, secret_hash, created_unix, expires_unix, revoked_unix";

UserRecord ReadUser(const PgResult& r, int row) {
  return UserRecord{std::string(r.Text(row, 0)), std::string(r.Text(row, 1)),
                    std::string(r.Text(row, 2)), r.Int(row, 3)};
}

ApiKeyRecord ReadKey(const PgResult& r, int row) {
  return ApiKeyRecord{std::string(r.Text(row, 0)),
                      std::string(r.Text(row, 1)),
                      std::string(r.Text(row, 2)),
                      r.Int(row, 3),
                      r.Int(row, 4),
                      r.Int(row, 5)};
}

std::string Int(int64_t v) {
  return std::to_string(v);
}

// Rolls back whatever transaction is open; the connection may already be gone.
void Rollback(PgConnection& c) {
  if (!c.Broken()) (void)c.Exec("ROLLBACK");
}

}  // namespace

Result<std::unique_ptr<CredentialStore>> PostgresCredentialStore::Open(const std::string& url,
                                                                       OpenMode mode,
                                                                       Clock* clock) {
  std::unique_ptr<PostgresCredentialStore> s(
      new PostgresCredentialStore(mode == OpenMode::kReadOnly));
  s->session_ = std::make_unique<PgSession>(url, "PostgreSQL staging (users and API keys)", clock,
                                            kMaxWaitUs);
  DF_RETURN_IF_ERROR(s->session_->Connect());
  if (mode == OpenMode::kReadWrite) {
    DF_RETURN_IF_ERROR(
        s->session_->Run("creating the user and API key tables",
                         [](PgConnection& c, int) { return MigrateStagingSchema(c); }));
    s->tables_ = true;
  }
  return std::unique_ptr<CredentialStore>(std::move(s));
}

Result<bool> PostgresCredentialStore::Readable(PgConnection& c) {
  if (tables_) return true;
  DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT to_regclass('dataforge.auth_users') IS NOT NULL AND "
                                      "to_regclass('dataforge.auth_api_keys') IS NOT NULL"));
  tables_ = r.Text(0, 0) == "t";
  return tables_.load();
}

Status PostgresCredentialStore::Write(std::string_view doing,
                                      const std::function<Status(PgConnection&, int)>& work) {
  if (read_only_) return Status::InvalidArgument("the credential store is open read-only");
  return session_->Run(doing, work);
}

Status PostgresCredentialStore::AddUser(const UserRecord& user) {
  return Write("adding a user", [&](PgConnection& c, int attempt) -> Status {
    DF_ASSIGN_OR_RETURN(
        auto r, c.Query(fmt::format("INSERT INTO dataforge.auth_users({}) VALUES($1, $2, $3, $4) "
                                    "ON CONFLICT (name) DO NOTHING RETURNING name",
                                    kUserColumns),
                        {user.name, user.role, user.password_hash, Int(user.created_unix)}));
    if (r.rows() == 1) return Status::OK();
    if (attempt > 0) {
      // The first attempt's COMMIT may have landed before the connection broke.
      DF_ASSIGN_OR_RETURN(
          auto row,
          c.Query(fmt::format("SELECT {} FROM dataforge.auth_users WHERE name = $1", kUserColumns),
                  {user.name}));
      if (row.rows() == 1) {
        UserRecord found = ReadUser(row, 0);
        if (found.role == user.role && found.password_hash == user.password_hash &&
            found.created_unix == user.created_unix) {
          return Status::OK();
        }
      }
    }
    return Status::FailedPrecondition(fmt::format("user '{}' exists already", user.name));
  });
}

Status PostgresCredentialStore::RemoveUser(const std::string& name, int64_t now_unix) {
  return Write("removing a user", [&](PgConnection& c, int attempt) -> Status {
    DF_RETURN_IF_ERROR(c.Exec("BEGIN"));
    auto body = [&]() -> Status {
      DF_ASSIGN_OR_RETURN(
          auto del,
          c.Query("DELETE FROM dataforge.auth_users WHERE name = $1 RETURNING name", {name}));
      if (del.rows() == 0) {
        // After a lost COMMIT, the first attempt removed it.
        if (attempt > 0) {
          Rollback(c);
          return Status::OK();
        }
        return Status::NotFound(fmt::format("no user '{}'", name));
      }
      DF_RETURN_IF_ERROR(c.Query("UPDATE dataforge.auth_api_keys SET revoked_unix = $2 WHERE "
                                 "user_name = $1 AND revoked_unix = 0",
                                 {name, Int(now_unix)})
                             .status());
      return c.Exec("COMMIT");
    };
    Status s = body();
    if (!s.ok()) Rollback(c);
    return s;
  });
}

Result<std::optional<UserRecord>> PostgresCredentialStore::FindUser(const std::string& name) {
  std::optional<UserRecord> out;
  DF_RETURN_IF_ERROR(session_->Run("reading a user", [&](PgConnection& c, int) -> Status {
    out.reset();
    DF_ASSIGN_OR_RETURN(bool readable, Readable(c));
    if (!readable) return Status::OK();
    DF_ASSIGN_OR_RETURN(
        auto r,
        c.Query(fmt::format("SELECT {} FROM dataforge.auth_users WHERE name = $1", kUserColumns),
                {name}));
    if (r.rows() == 1) out = ReadUser(r, 0);
    return Status::OK();
  }));
  return out;
}

Result<std::vector<UserRecord>> PostgresCredentialStore::ListUsers() {
  std::vector<UserRecord> out;
  DF_RETURN_IF_ERROR(session_->Run("listing users", [&](PgConnection& c, int) -> Status {
    out.clear();
    DF_ASSIGN_OR_RETURN(bool readable, Readable(c));
    if (!readable) return Status::OK();
    // COLLATE "C": byte order, as SQLite sorts.
    DF_ASSIGN_OR_RETURN(auto r, c.Query(fmt::format("SELECT {} FROM dataforge.auth_users ORDER "
                                                    "BY name COLLATE \"C\"",
                                                    kUserColumns)));
    for (int i = 0; i < r.rows(); ++i) out.push_back(ReadUser(r, i));
    return Status::OK();
  }));
  return out;
}

Result<uint64_t> PostgresCredentialStore::UserCount() {
  uint64_t n = 0;
  DF_RETURN_IF_ERROR(session_->Run("counting users", [&](PgConnection& c, int) -> Status {
    n = 0;
    DF_ASSIGN_OR_RETURN(bool readable, Readable(c));
    if (!readable) return Status::OK();
    DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT count(*) FROM dataforge.auth_users"));
    n = static_cast<uint64_t>(r.Int(0, 0));
    return Status::OK();
  }));
  return n;
}

Status PostgresCredentialStore::AddKey(const ApiKeyRecord& key) {
  return Write("adding an API key", [&](PgConnection& c, int attempt) -> Status {
    DF_RETURN_IF_ERROR(c.Exec("BEGIN"));
    auto body = [&]() -> Status {
      // FOR SHARE: a RemoveUser running now waits for this transaction (and then revokes it).
      DF_ASSIGN_OR_RETURN(
          auto user,
          c.Query("SELECT 1 FROM dataforge.auth_users WHERE name = $1 FOR SHARE", {key.user}));
      if (user.rows() == 0) return Status::NotFound(fmt::format("no user '{}'", key.user));
      DF_ASSIGN_OR_RETURN(
          auto r, c.Query(fmt::format("INSERT INTO dataforge.auth_api_keys({}) VALUES($1, $2, "
                                      "$3, $4, $5, $6) ON CONFLICT (key_id) DO NOTHING RETURNING "
                                      "key_id",
                                      kKeyColumns),
                          {key.key_id, key.user, key.secret_hash, Int(key.created_unix),
                           Int(key.expires_unix), Int(key.revoked_unix)}));
      if (r.rows() == 0) {
        if (attempt > 0) {
          DF_ASSIGN_OR_RETURN(auto row, c.Query("SELECT secret_hash FROM dataforge.auth_api_keys "
                                                "WHERE key_id = $1",
                                                {key.key_id}));
          if (row.rows() == 1 && row.Text(0, 0) == key.secret_hash) {
            Rollback(c);
            return Status::OK();
          }
        }
        return Status::FailedPrecondition(fmt::format("API key '{}' exists already", key.key_id));
      }
      return c.Exec("COMMIT");
    };
    Status s = body();
    if (!s.ok()) Rollback(c);
    return s;
  });
}

Status PostgresCredentialStore::RevokeKey(const std::string& key_id, int64_t now_unix) {
  return Write("revoking an API key", [&](PgConnection& c, int) -> Status {
    // A revoked key keeps its first revocation time; so a retry changes nothing.
    DF_ASSIGN_OR_RETURN(auto r, c.Query("UPDATE dataforge.auth_api_keys SET revoked_unix = CASE "
                                        "WHEN revoked_unix = 0 THEN $2 ELSE revoked_unix END "
                                        "WHERE key_id = $1 RETURNING key_id",
                                        {key_id, Int(now_unix)}));
    if (r.rows() == 0) return Status::NotFound(fmt::format("no API key '{}'", key_id));
    return Status::OK();
  });
}

Result<std::optional<ApiKeyRecord>> PostgresCredentialStore::FindKey(const std::string& key_id) {
  std::optional<ApiKeyRecord> out;
  DF_RETURN_IF_ERROR(session_->Run("reading an API key", [&](PgConnection& c, int) -> Status {
    out.reset();
    DF_ASSIGN_OR_RETURN(bool readable, Readable(c));
    if (!readable) return Status::OK();
    DF_ASSIGN_OR_RETURN(auto r, c.Query(fmt::format("SELECT {} FROM dataforge.auth_api_keys "
                                                    "WHERE key_id = $1",
                                                    kKeyColumns),
                                        {key_id}));
    if (r.rows() == 1) out = ReadKey(r, 0);
    return Status::OK();
  }));
  return out;
}

Result<std::vector<ApiKeyRecord>> PostgresCredentialStore::ListKeys() {
  std::vector<ApiKeyRecord> out;
  DF_RETURN_IF_ERROR(session_->Run("listing API keys", [&](PgConnection& c, int) -> Status {
    out.clear();
    DF_ASSIGN_OR_RETURN(bool readable, Readable(c));
    if (!readable) return Status::OK();
    DF_ASSIGN_OR_RETURN(auto r, c.Query(fmt::format("SELECT {} FROM dataforge.auth_api_keys ORDER "
                                                    "BY user_name COLLATE \"C\", created_unix, "
                                                    "key_id COLLATE \"C\"",
                                                    kKeyColumns)));
    for (int i = 0; i < r.rows(); ++i) out.push_back(ReadKey(r, i));
    return Status::OK();
  }));
  return out;
}

}  // namespace dataforge::auth
