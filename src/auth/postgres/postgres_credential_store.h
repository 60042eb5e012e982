// The credential store in a PostgreSQL staging database: tables dataforge.auth_users and
// dataforge.auth_api_keys (staging schema migration 3, staging/postgres/postgres_schema.cc),
// shared by every server and CLI on the database.
//
// Each call is one statement or one transaction (RemoveUser deletes the user and revokes its
// keys in one; AddKey locks the user's row FOR SHARE, so a concurrent RemoveUser cannot leave an
// active key of a removed user). A change is visible to every store at its next call.
//
// Faults: every call runs in a PgSession that reconnects and retries while the server is
// unreachable, for at most kMaxWaitUs: a request being authenticated must not wait minutes.
// A write whose COMMIT outcome was lost is checked before it is redone (an AddUser that landed
// is not reported as "exists already").
//
// kReadOnly migrates nothing: while the tables are missing (no `dataforge users add` or `run`
// with this build yet) every read answers "no users, no keys".
//
// Thread-safety: one connection; calls are serialized by the session's mutex.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "auth/credential_store.h"
#include "common/clock.h"
#include "pg/pg_session.h"

namespace dataforge::auth {

class PostgresCredentialStore final : public CredentialStore {
 public:
  static constexpr int64_t kMaxWaitUs = 10'000'000;

  static Result<std::unique_ptr<CredentialStore>> Open(const std::string& url, OpenMode mode,
                                                       Clock* clock = Clock::Real());

  Status AddUser(const UserRecord& user) override;
  Status RemoveUser(const std::string& name, int64_t now_unix) override;
  Result<std::optional<UserRecord>> FindUser(const std::string& name) override;
  Result<std::vector<UserRecord>> ListUsers() override;
  Result<uint64_t> UserCount() override;
  Status AddKey(const ApiKeyRecord& key) override;
  Status RevokeKey(const std::string& key_id, int64_t now_unix) override;
  Result<std::optional<ApiKeyRecord>> FindKey(const std::string& key_id) override;
  Result<std::vector<ApiKeyRecord>> ListKeys() override;

 private:
  explicit PostgresCredentialStore(bool read_only) : read_only_(read_only) {}

  // Whether the tables exist (always in kReadWrite; looked up until found in kReadOnly).
  Result<bool> Readable(PgConnection& c);
  Status Write(std::string_view doing, const std::function<Status(PgConnection&, int)>& work);

  const bool read_only_;
  std::atomic<bool> tables_{false};
  std::unique_ptr<PgSession> session_;
};

}  // namespace dataforge::auth
