// Users and API keys, kept in the staging database (SQLite in the data dir, or a PostgreSQL that
// several servers share). Only argon2id hashes are kept: a password or key secret never is.
//
// API keys: "dfk_<key_id>_<secret>", printed once by `dataforge keys create`. A key acts as the
// user it was created for, with that user's role; removing the user revokes its keys.
//
// Thread-safety: safe for concurrent use (each call is one short transaction). Several
// processes may open the same database at once (a `run` and a `users add`); a change is visible
// to every other open store at its next call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/open_mode.h"
#include "common/status.h"

namespace dataforge::auth {

struct UserRecord {
  std::string name;
  std::string role;
  std::string password_hash;  // argon2id encoded string; "" = no password (keys/JWT only)
  int64_t created_unix = 0;
};

struct ApiKeyRecord {
  std::string key_id;       // public part of the key, unique
  std::string user;         // the user it acts as
  std::string secret_hash;  // argon2id encoded hash of the whole key text
  int64_t created_unix = 0;
  int64_t expires_unix = 0;  // 0 = never
  int64_t revoked_unix = 0;  // 0 = not revoked
};

class CredentialStore {
 public:
  virtual ~CredentialStore() = default;

  // Users. AddUser: FailedPrecondition if the name exists. RemoveUser: NotFound if absent;
  // revokes the user's keys in the same transaction.
  virtual Status AddUser(const UserRecord& user) = 0;
  virtual Status RemoveUser(const std::string& name, int64_t now_unix) = 0;
  virtual Result<std::optional<UserRecord>> FindUser(const std::string& name) = 0;
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;  // sorted by name
  virtual Result<uint64_t> UserCount() = 0;

  // Keys. AddKey: NotFound if the user does not exist. RevokeKey: NotFound if absent; revoking
  // a revoked key is OK and keeps the first time.
  virtual Status AddKey(const ApiKeyRecord& key) = 0;
  virtual Status RevokeKey(const std::string& key_id, int64_t now_unix) = 0;
  virtual Result<std::optional<ApiKeyRecord>> FindKey(const std::string& key_id) = 0;
  virtual Result<std::vector<ApiKeyRecord>> ListKeys() = 0;  // by user, then created
};

// Opens the credential tables of the staging database `staging_url` (resolved: "sqlite:///abs
// /staging.db" or "postgresql://..."), creating them when mode is kReadWrite. kReadOnly never
// creates anything: a database without the tables reads as no users and no keys.
Result<std::unique_ptr<CredentialStore>> OpenCredentialStore(const std::string& staging_url,
                                                             OpenMode mode);

// argon2id (libargon2) with a random salt; the encoded string carries its parameters.
Result<std::string> HashSecret(const std::string& secret);
// Constant-time check of `secret` against an encoded argon2id hash; false on a malformed hash.
bool VerifySecret(const std::string& encoded_hash, const std::string& secret);

// A new API key for `user`: the record to store (hash only) and the key text to print once.
struct NewApiKey {
  ApiKeyRecord record;
  std::string text;  // "dfk_<key_id>_<secret>"
};
Result<NewApiKey> GenerateApiKey(const std::string& user, int64_t now_unix, int64_t expires_unix);
// Splits "dfk_<key_id>_<secret>"; nullopt if `text` does not have that shape.
std::optional<std::string> ApiKeyId(std::string_view text);

}  // namespace dataforge::auth
