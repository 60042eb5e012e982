// The full checks behind the Authenticator's cache: an Authorization header, an API key, a user
// and password, a JWT; and the cheap re-check of a cached key or password against the store
// (no argon2). Errors are Unauthenticated (a refused credential; never quoting a secret) or
// Unavailable (the credential store could not be read).
// Thread-safety: the methods may run concurrently (the store and verifier are thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/access_policy.h"
#include "auth/credential_cache.h"
#include "auth/credential_store.h"
#include "auth/jwt_verifier.h"
#include "common/clock.h"
#include "common/status.h"

namespace dataforge::auth {

inline constexpr std::string_view kMissingCredentials =
    "missing credentials: send 'Authorization: Bearer <API key or JWT>' or HTTP Basic";
// The same answer for an unknown user and a wrong password: the error does not tell which
// user names exist.
inline constexpr std::string_view kWrongPassword = "wrong user name or password";

class CredentialChecks {
 public:
  using VerifyFn = std::function<bool(const std::string& encoded_hash, const std::string& secret)>;

  // `store` (may be null: keys and passwords are then refused), `policy` (may be null: a JWT's
  // role is not checked) and `clock` must outlive this object.
  CredentialChecks(CredentialStore* store, const AccessPolicy* policy,
                   std::unique_ptr<JwtVerifier> jwt, VerifyFn verify, Clock* clock);
  CredentialChecks(CredentialChecks&&) = default;

  Result<CacheEntry> CheckHttp(std::string_view authorization);
  Result<CacheEntry> CheckKey(const std::string& text);
  // `method`: "basic" or "password" (CQL).
  Result<CacheEntry> CheckPassword(const std::string& user, const std::string& password,
                                   const char* method);
  Result<CacheEntry> CheckJwt(std::string_view token);

  // The cached key or password entry brought up to date from the store: its user's role now,
  // or the error that refuses it now (revoked, expired, removed). nullopt: the stored hash is
  // not the one the entry was verified against (verify in full again).
  Result<std::optional<CacheEntry>> Revalidate(const CacheEntry& entry, int64_t now_unix);

 private:
  Result<UserRecord> KeyUser(const ApiKeyRecord& key);
  // Spends an argon2 check on a made-up hash, so an unknown user costs what a known one does.
  void DummyVerify(const std::string& password);
  int64_t NowUnix() const { return clock_->NowMicros() / 1'000'000; }

  CredentialStore* store_;
  const AccessPolicy* policy_;
  std::unique_ptr<JwtVerifier> jwt_;
  VerifyFn verify_;
  Clock* clock_;
  std::unique_ptr<std::once_flag> dummy_once_ = std::make_unique<std::once_flag>();
  std::string dummy_hash_;  // written once under dummy_once_
};

}  // namespace dataforge::auth
