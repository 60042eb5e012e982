// TODO(merge): delete this file and its line in src/CMakeLists.txt once the "users" helper's
// credential functions (HashSecret, VerifySecret, GenerateApiKey, ApiKeyId in
// credential_store.h) are merged. Until then df_auth_tests links these: real argon2id (cheap
// parameters) and the key shape "dfk_<key id>_<secret>". They are weak symbols, so the real
// definitions win wherever both are linked.
#include <argon2.h>
#include <openssl/rand.h>

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

__attribute__((weak)) Result<NewApiKey> GenerateApiKey(const std::string& user, int64_t now_unix,
                                                       int64_t expires_unix) {
  NewApiKey k;
  k.record.key_id = RandomHex(6);
  k.text = "dfk_" + k.record.key_id + "_" + RandomHex(16);
  DF_ASSIGN_OR_RETURN(k.record.secret_hash, HashSecret(k.text));
  k.record.user = user;
  k.record.created_unix = now_unix;
  k.record.expires_unix = expires_unix;
  return k;
}

__attribute__((weak)) std::optional<std::string> ApiKeyId(std::string_view text) {
  if (text.substr(0, 4) != "dfk_") return std::nullopt;
  text.remove_prefix(4);
  size_t sep = text.find('_');
  if (sep == 0 || sep == std::string_view::npos || sep + 1 == text.size()) return std::nullopt;
  return std::string(text.substr(0, sep));
}

}  // namespace dataforge::auth
