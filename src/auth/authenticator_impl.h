// The Authenticator's construction with its seams, for tests and for callers that tune it.
// Authenticator::Create() is CreateAuthenticator() with the default options.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "auth/authenticator.h"

namespace dataforge::auth {

struct AuthenticatorOptions {
  // The argon2id check (credential_store.h's VerifySecret). Tests wrap it to count calls: a
  // cached credential must not reach it again.
  std::function<bool(const std::string& encoded_hash, const std::string& secret)> verify_secret;
  // How long a verified key or password is used before it is checked against the store again
  // (revocation, removal, role change); also how long Required()'s user count is kept.
  int64_t revalidate_us = 1'000'000;
};

Result<std::unique_ptr<Authenticator>> CreateAuthenticator(const AuthConfig& config,
                                                           CredentialStore* store,
                                                           const AccessPolicy* policy, Clock* clock,
                                                           AuthenticatorOptions options);

}  // namespace dataforge::auth
