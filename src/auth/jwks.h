// A JWKS file (RFC 7517 key set) turned into PEM public keys that libjwt can verify with.
// Usable keys: RSA ("kty":"RSA", n/e, at least 2048 bits) for RS256 and EC P-256 ("kty":"EC",
// "crv":"P-256", x/y, a point on the curve) for ES256. Keys for encryption ("use":"enc") or
// for other algorithms are skipped with a warning; a malformed key is an error.
// Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dataforge::auth {

struct PublicKey {
  std::string kid;  // "" when the JWK has none
  std::string alg;  // "RS256" or "ES256": the only algorithm this key verifies
  std::string pem;  // SubjectPublicKeyInfo, PEM
};

// ConfigError naming `path` and the key (by kid or position) for an unreadable file, bad JSON,
// a malformed key or a file with no usable key.
Result<std::vector<PublicKey>> LoadJwksFile(const std::string& path);
// The same for JSON text; `where` names it in errors.
Result<std::vector<PublicKey>> ParseJwks(std::string_view json, const std::string& where);

}  // namespace dataforge::auth
