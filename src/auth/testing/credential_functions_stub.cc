// TODO(merge): delete this file and its lines in src/CMakeLists.txt once the "users" helper's
// credential functions (HashSecret, VerifySecret, GenerateApiKey, ApiKeyId in
// credential_store.h; src/auth/secret_hash.cc on wt-users) are merged. Until then df_auth_tests
// links these: real argon2id (cheap parameters) and the same key shape. CMake stops linking this
// file by itself once src/auth/secret_hash.cc exists; the symbols are weak besides.
#include <argon2.h>
#include <openssl/rand.h>

#include <cctype>

#include <fmt/format.h>

#include "auth/credential_store.h"

namespace dataforge::auth {
namespace {

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    std::abort();
  }
  std::string out;
  for (unsigned char c : raw) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace

__attribute__((weak)) Result<std::string> HashSecret(const std::string& secret) {
  const std::string salt = RandomHex(8);
  char encoded[256];
  int rc = argon2id_hash_encoded(1, 1 << 12, 1, secret.data(), secret.size(), salt.data(),
                                 salt.size(), 32, encoded, sizeof encoded);
  if (rc != ARGON2_OK) return Status::Internal(argon2_error_message(rc));
  return std::string(encoded);
}

__attribute__((weak)) bool VerifySecret(const std::string& encoded_hash,
                                        const std::string& secret) {
  return argon2id_verify(encoded_hash.c_str(), secret.data(), secret.size()) == ARGON2_OK;
}

// The users helper's shape: "dfk_" + 12 lower-case hex + "_" + 43 base64url characters.
__attribute__((weak)) Result<NewApiKey> GenerateApiKey(const std::string& user, int64_t now_unix,
                                                       int64_t expires_unix) {
  NewApiKey k;
  k.record.key_id = RandomHex(6);
  std::string secret = RandomHex(22).substr(0, 43);  // hex is base64url too
  k.text = "dfk_" + k.record.key_id + "_" + secret;
  DF_ASSIGN_OR_RETURN(k.record.secret_hash, HashSecret(k.text));
  k.record.user = user;
  k.record.created_unix = now_unix;
  k.record.expires_unix = expires_unix;
  return k;
}

__attribute__((weak)) std::optional<std::string> ApiKeyId(std::string_view text) {
  if (text.size() != 4 + 12 + 1 + 43 || text.substr(0, 4) != "dfk_" || text[16] != '_') {
    return std::nullopt;
  }
  for (char c : text.substr(4, 12)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  for (char c : text.substr(17)) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return std::nullopt;
  }
  return std::string(text.substr(4, 12));
}

}  // namespace dataforge::auth
