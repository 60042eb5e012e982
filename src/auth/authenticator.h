// Turns request credentials into a Principal: API keys (`Authorization: Bearer dfk_...`), HTTP
// Basic (user and password), JWTs (`Authorization: Bearer <jwt>`, libjwt: HS256 secret or
// RS256/ES256 keys from a JWKS file; exp, nbf, iss, aud checked; role from a configured claim),
// and user/password for the CQL endpoint's PasswordAuthenticator.
//
// Authentication is on when the credential store has a user or `auth.required` is true; while
// it is off every request is Principal{"anonymous", "admin", "none"}.
//
// Cost: a verified key, password or token is cached (keyed by a SHA-256 of the credential, never
// the credential itself), so a repeated request costs a hash lookup, not an argon2 hash. A cached
// key or user is re-checked against the store at least once a second, so a revoked key, a
// removed user or a changed role takes effect within a second.
//
// Failed logins are limited per client address (auth.max_failed_logins_per_minute): over the
// limit, Authenticate* answers ResourceExhausted ("too many failed logins from ADDR; retry in Ns")
// without checking the credentials.
//
// Errors: Unauthenticated with a message that names what was wrong (missing credentials, unknown
// key, expired key, bad signature, expired token, wrong audience...) but never echoes a secret.
// Thread-safety: safe for concurrent use.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "auth/access_policy.h"
#include "auth/credential_store.h"
#include "auth/principal.h"
#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge::auth {

class Authenticator {
 public:
  // ConfigError for a bad `auth.jwt` (unreadable JWKS file, a key it cannot use, a role claim
  // naming no role...). `store` must outlive the authenticator.
  static Result<std::unique_ptr<Authenticator>> Create(const AuthConfig& config,
                                                       CredentialStore* store,
                                                       const AccessPolicy* policy, Clock* clock);
  virtual ~Authenticator() = default;

  // Whether requests must authenticate (re-evaluated at most once a second).
  virtual bool Required() = 0;

  // `authorization`: the Authorization header's value ("" when absent).
  virtual Result<Principal> AuthenticateHttp(std::string_view authorization,
                                             std::string_view client_address) = 0;
  // User and password (CQL PasswordAuthenticator, and HTTP Basic once decoded).
  virtual Result<Principal> AuthenticatePassword(std::string_view user, std::string_view password,
                                                 std::string_view client_address) = 0;
};

}  // namespace dataforge::auth
