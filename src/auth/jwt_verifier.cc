#include "auth/jwt_verifier.h"

#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <cerrno>
#include <memory>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/timestamp.h"

namespace dataforge::auth {
namespace {

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

Status Bad(std::string what) {
  return Status::Unauthenticated(std::move(what));
}

std::string Time(int64_t unix_s) {
  return FormatTimestampMillis(unix_s * 1000);
}

struct Parts {
  std::string_view header, payload, signature;
  std::string_view signing_input;  // "header.payload"
};

std::optional<Parts> Split(std::string_view token) {
  size_t a = token.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return Parts{token.substr(0, a), token.substr(a + 1, b - a - 1), token.substr(b + 1),
               token.substr(0, b)};
}

struct Header {
  std::string alg, kid;
};

Result<Header> ParseHeader(std::string_view b64) {
  auto json = Base64UrlDecode(b64);
  if (!json) return Bad("token header is not base64url");
  simdjson::dom::parser parser;
  simdjson::padded_string padded(*json);
  simdjson::dom::object obj;
  if (parser.parse(padded).get(obj) != simdjson::SUCCESS) {
    return Bad("token header is not a JSON object");
  }
  Header h;
  std::string_view v;
  if (obj["alg"].get_string().get(v) != simdjson::SUCCESS) return Bad("token header has no 'alg'");
  h.alg = std::string(v);
  if (obj["kid"].get_string().get(v) == simdjson::SUCCESS) h.kid = std::string(v);
  // RFC 7515 4.1.11: extensions the recipient does not understand make the token invalid.
  if (obj["crit"].error() != simdjson::NO_SUCH_FIELD) {
    return Bad("token header has 'crit' extensions, which are not supported");
  }
  return h;
}

// A claim that is a string, or an array of strings (aud, roles).
std::vector<std::string> StringOrArray(jwt_t* jwt, const char* claim) {
  std::vector<std::string> out;
  if (const char* s = jwt_get_grant(jwt, claim)) {
    out.emplace_back(s);
    return out;
  }
  std::unique_ptr<char, void (*)(void*)> json(jwt_get_grants_json(jwt, claim), &free);
  if (!json) return out;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(std::string_view(json.get()));
  simdjson::dom::array arr;
  if (parser.parse(padded).get(arr) != simdjson::SUCCESS) return out;
  for (auto item : arr) {
    std::string_view v;
    if (item.get_string().get(v) == simdjson::SUCCESS) out.emplace_back(v);
  }
  return out;
}

// A numeric claim; nullopt when absent or not an integer.
std::optional<int64_t> IntClaim(jwt_t* jwt, const char* claim) {
  errno = 0;
  long v = jwt_get_grant_int(jwt, claim);
  if (errno != 0) return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(const JwtConfig& config) {
  std::vector<PublicKey> keys;
  if (!config.jwks_file.empty()) {
    DF_ASSIGN_OR_RETURN(keys, LoadJwksFile(config.jwks_file));
  }
  return std::make_unique<JwtVerifier>(config, std::move(keys));
}

JwtVerifier::JwtVerifier(JwtConfig config, std::vector<PublicKey> keys)
    : config_(std::move(config)), keys_(std::move(keys)) {}

bool JwtVerifier::LooksLikeJwt(std::string_view text) {
  return Split(text).has_value();
}

Status JwtVerifier::VerifyHs256(std::string_view signing_input, std::string_view signature) const {
  if (config_.hs256_secret.empty()) {
    return Bad("HS256 tokens are not accepted (auth.jwt.hs256_secret is not set)");
  }
  auto sig = Base64UrlDecode(signature);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), config_.hs256_secret.data(), static_cast<int>(config_.hs256_secret.size()),
           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
           &mac_len) == nullptr) {
    return Status::Internal("HMAC-SHA256 failed in OpenSSL");
  }
  if (!sig || sig->size() != mac_len || CRYPTO_memcmp(sig->data(), mac, mac_len) != 0) {
    return Bad("token signature is invalid");
  }
  return Status::OK();
}

Result<const PublicKey*> JwtVerifier::FindKey(const std::string& alg,
                                              const std::string& kid) const {
  if (keys_.empty()) {
    return Bad(fmt::format("{} tokens are not accepted (auth.jwt.jwks_file is not set)", alg));
  }
  const PublicKey* found = nullptr;
  if (!kid.empty()) {
    for (const PublicKey& k : keys_) {
      if (k.kid == kid) found = &k;
    }
    if (!found) return Bad(fmt::format("token key id '{}' is not in the JWKS file", kid));
  } else {
    size_t n = 0;
    for (const PublicKey& k : keys_) {
      if (k.alg == alg) {
        found = &k;
        ++n;
      }
    }
    if (n == 0) return Bad(fmt::format("the JWKS file has no {} key", alg));
    if (n > 1) {
      return Bad(fmt::format("token has no 'kid' and the JWKS file has {} {} keys", n, alg));
    }
  }
  // The key decides the algorithm: a token may not pick another one for it.
  if (found->alg != alg) {
    return Bad(fmt::format("token alg '{}' does not match key '{}', which is {}", alg, found->kid,
                           found->alg));
  }
  return found;
}

Result<VerifiedToken> JwtVerifier::Verify(std::string_view token, int64_t now_unix) const {
  auto parts = Split(token);
  if (!parts) return Bad("malformed token (a JWT is header.payload.signature)");
  DF_ASSIGN_OR_RETURN(Header header, ParseHeader(parts->header));
  VerifiedToken out;
  const std::string token_z(token);  // libjwt wants NUL-terminated text
  jwt_t* raw = nullptr;
  if (header.alg == "HS256") {
    DF_RETURN_IF_ERROR(VerifyHs256(parts->signing_input, parts->signature));
    // Verified above; libjwt only parses (no key: no second check).
    if (jwt_decode(&raw, token_z.c_str(), nullptr, 0) != 0) {
      return Bad("token payload is not valid JSON");
    }
  } else if (header.alg == "RS256" || header.alg == "ES256") {
    DF_ASSIGN_OR_RETURN(const PublicKey* key, FindKey(header.alg, header.kid));
    out.key_id = key->kid;
    if (jwt_decode(&raw, token_z.c_str(), reinterpret_cast<const unsigned char*>(key->pem.data()),
                   static_cast<int>(key->pem.size())) != 0) {
      return Bad("token signature is invalid");
    }
  } else if (header.alg == "none" || header.alg == "None" || header.alg == "NONE") {
    return Bad("token is unsigned (alg 'none' is refused)");
  } else {
    return Bad(fmt::format("token alg '{}' is not accepted (HS256, RS256, ES256 are)",
                           header.alg.substr(0, 16)));
  }
  JwtPtr jwt(raw);
  // Defence in depth: libjwt must have used the algorithm checked above.
  if (header.alg != "HS256" && jwt_get_alg(jwt.get()) != jwt_str_alg(header.alg.c_str())) {
    return Bad("token signature is invalid");
  }

  const int64_t leeway = config_.leeway_s;
  auto exp = IntClaim(jwt.get(), "exp");
  if (!exp) return Bad("token has no numeric 'exp' (expiry) claim");
  if (now_unix >= *exp + leeway) return Bad(fmt::format("token expired at {}", Time(*exp)));
  if (auto nbf = IntClaim(jwt.get(), "nbf"); nbf && *nbf > now_unix + leeway) {
    return Bad(fmt::format("token is not valid before {}", Time(*nbf)));
  }
  out.expires_unix = *exp;
  if (!config_.issuer.empty()) {
    const char* iss = jwt_get_grant(jwt.get(), "iss");
    if (!iss) return Bad(fmt::format("token has no 'iss' claim (expected '{}')", config_.issuer));
    if (config_.issuer != iss) {
      return Bad(fmt::format("token issuer is not '{}'", config_.issuer));
    }
  }
  if (!config_.audience.empty()) {
    bool found = false;
    for (const std::string& a : StringOrArray(jwt.get(), "aud")) found |= a == config_.audience;
    if (!found) {
      return Bad(fmt::format("token audience does not include '{}'", config_.audience));
    }
  }
  const char* sub = jwt_get_grant(jwt.get(), config_.subject_claim.c_str());
  if (!sub || !*sub) return Bad(fmt::format("token has no '{}' claim", config_.subject_claim));
  out.subject = sub;
  out.roles = StringOrArray(jwt.get(), config_.role_claim.c_str());
  if (out.roles.empty()) return Bad(fmt::format("token has no '{}' claim", config_.role_claim));
  return out;
}

}  // namespace dataforge::auth
