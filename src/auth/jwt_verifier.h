// Verifies JSON Web Tokens (RFC 7519) for the Authenticator: signature with an HS256 shared
// secret or an RS256/ES256 public key from a JWKS file (by `kid`), then exp, nbf (with leeway),
// iss and aud. libjwt parses the token and verifies RS256/ES256; HS256 is checked here with
// OpenSSL's HMAC and a constant-time comparison (libjwt 1.10 compares HMACs with strcmp).
//
// The algorithm comes from the key, never from the token alone: a token whose `alg` is not the
// key's (an RS256 public key used as an HS256 secret, "alg":"none") is refused.
//
// Errors are Unauthenticated and never quote the token: "token expired at <time>", "token
// signature is invalid", "token audience does not include 'dataforge'", ...
// Thread-safety: immutable after Create(); Verify() from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwks.h"
#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge::auth {

struct VerifiedToken {
  std::string subject;             // the subject_claim
  std::vector<std::string> roles;  // the role_claim: one string, or each string of an array
  int64_t expires_unix = 0;        // exp
  std::string key_id;              // the kid that verified it ("" for HS256)
};

class JwtVerifier {
 public:
  // Reads the JWKS file when one is configured (ConfigError as LoadJwksFile).
  static Result<std::unique_ptr<JwtVerifier>> Create(const JwtConfig& config);
  // For tests: keys given directly instead of a file.
  JwtVerifier(JwtConfig config, std::vector<PublicKey> keys);

  // Whether any token can be accepted (a secret or keys are configured).
  bool enabled() const { return !config_.hs256_secret.empty() || !keys_.empty(); }
  int64_t leeway_s() const { return config_.leeway_s; }

  // Whether `text` has the shape of a JWT (three base64url parts), to tell it from an API key.
  static bool LooksLikeJwt(std::string_view text);

  Result<VerifiedToken> Verify(std::string_view token, int64_t now_unix) const;

 private:
  Status VerifyHs256(std::string_view signing_input, std::string_view signature) const;
  Result<const PublicKey*> FindKey(const std::string& alg, const std::string& kid) const;

  JwtConfig config_;
  std::vector<PublicKey> keys_;
};

}  // namespace dataforge::auth
