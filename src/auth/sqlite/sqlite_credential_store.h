// The credential store in the SQLite staging file (<data dir>/staging.db): tables auth_users
// and auth_api_keys beside the staging and run store tables, on a connection of its own (WAL,
// synchronous=FULL, the 10 s busy timeout of SqliteDb), so a running pipeline and a `dataforge
// users add` use the file at the same time.
//
// Writes are one BEGIN IMMEDIATE transaction each (RemoveUser deletes the user and revokes its
// keys in one); reads are single statements and see every committed change of any process.
// kReadOnly never creates the file or the tables: while either is missing every read answers
// "no users, no keys", and the next call looks again (a `users add` may create them).
//
// Thread-safety: calls are serialized by mu_.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "auth/credential_store.h"
#include "staging/sqlite/sqlite_db.h"

namespace dataforge::auth {

class SqliteCredentialStore final : public CredentialStore {
 public:
  static Result<std::unique_ptr<CredentialStore>> Open(const std::string& path, OpenMode mode);

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
  SqliteCredentialStore(std::string path, bool read_only)
      : path_(std::move(path)), read_only_(read_only) {}

  // Whether the tables can be read; in kReadOnly opens the file once it and the tables exist.
  // REQUIRES: mu_ is held.
  Result<bool> ReadableLocked();
  // Runs `body` in a BEGIN IMMEDIATE transaction: COMMIT if it succeeds, ROLLBACK otherwise.
  // REQUIRES: mu_ is held.
  Status WriteLocked(const std::function<Status()>& body);
  // Rows changed by the last statement. REQUIRES: mu_ is held.
  Result<int64_t> ChangesLocked();

  const std::string path_;
  const bool read_only_;
  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mu_; null in kReadOnly until the tables exist
};

}  // namespace dataforge::auth
