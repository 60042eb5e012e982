// HashSecret / VerifySecret (argon2id, libargon2) and API key generation and parsing
// (credential_store.h). See docs/security.md "Users and API keys".
#include <argon2.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "auth/credential_store.h"
#include "common/base64.h"

namespace dataforge::auth {
namespace {

// argon2id parameters: OWASP's baseline (19 MiB, 2 passes, 1 lane): 26 ms per hash (and per
// verification) on the project's 2-core machine, measured with libargon2 20 times in a loop
// under a load average of 7. The encoded string carries them, so a change here keeps old hashes
// verifiable. Servers cache verified keys (auth/authenticator.h): one hash per new credential.
constexpr uint32_t kTimeCost = 2;
constexpr uint32_t kMemoryKiB = 19 * 1024;
constexpr uint32_t kLanes = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

constexpr std::string_view kKeyPrefix = "dfk_";
constexpr size_t kKeyIdBytes = 6;       // 12 hex characters
constexpr size_t kKeySecretBytes = 32;  // 43 base64url characters
constexpr size_t kKeyIdChars = 2 * kKeyIdBytes;
constexpr size_t kKeySecretChars = (kKeySecretBytes * 4 + 2) / 3;

Status RandomBytes(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    return Status::Internal("OpenSSL RAND_bytes failed: no random bytes for a salt or key");
  }
  return Status::OK();
}

std::string Hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 0xf];
  }
  return out;
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool IsBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

Result<std::string> HashSecret(const std::string& secret) {
  std::array<unsigned char, kSaltBytes> salt;
  DF_RETURN_IF_ERROR(RandomBytes(salt.data(), salt.size()));
  std::string encoded(
      argon2_encodedlen(kTimeCost, kMemoryKiB, kLanes, kSaltBytes, kHashBytes, Argon2_id), '\0');
  int rc =
      argon2id_hash_encoded(kTimeCost, kMemoryKiB, kLanes, secret.data(), secret.size(),
                            salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    // The message is libargon2's (e.g. "Memory allocation error"); never the secret.
    return Status::Internal(fmt::format("argon2id hashing failed: {}", argon2_error_message(rc)));
  }
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

bool VerifySecret(const std::string& encoded_hash, const std::string& secret) {
  // "" is a user without a password; anything else but argon2id is refused before libargon2
  // sees it. argon2id_verify recomputes the hash and compares in constant time.
  if (encoded_hash.rfind("$argon2id$", 0) != 0) return false;
  if (encoded_hash.find('\0') != std::string::npos) return false;
  return argon2id_verify(encoded_hash.c_str(), secret.data(), secret.size()) == ARGON2_OK;
}

Result<NewApiKey> GenerateApiKey(const std::string& user, int64_t now_unix, int64_t expires_unix) {
  std::array<unsigned char, kKeyIdBytes> id;
  std::array<unsigned char, kKeySecretBytes> secret;
  DF_RETURN_IF_ERROR(RandomBytes(id.data(), id.size()));
  DF_RETURN_IF_ERROR(RandomBytes(secret.data(), secret.size()));
  NewApiKey key;
  key.record.key_id = Hex(id.data(), id.size());
  key.text = fmt::format("{}{}_{}", kKeyPrefix, key.record.key_id,
                         Base64UrlEncode(std::string_view(
                             reinterpret_cast<const char*>(secret.data()), secret.size())));
  DF_ASSIGN_OR_RETURN(key.record.secret_hash, HashSecret(key.text));
  key.record.user = user;
  key.record.created_unix = now_unix;
  key.record.expires_unix = expires_unix;
  return key;
}

std::optional<std::string> ApiKeyId(std::string_view text) {
  if (text.size() != kKeyPrefix.size() + kKeyIdChars + 1 + kKeySecretChars) return std::nullopt;
  if (text.substr(0, kKeyPrefix.size()) != kKeyPrefix) return std::nullopt;
  std::string_view id = text.substr(kKeyPrefix.size(), kKeyIdChars);
  for (char c : id) {
    if (!IsLowerHex(c)) return std::nullopt;
  }
  if (text[kKeyPrefix.size() + kKeyIdChars] != '_') return std::nullopt;
  for (char c : text.substr(kKeyPrefix.size() + kKeyIdChars + 1)) {
    if (!IsBase64Url(c)) return std::nullopt;
  }
  return std::string(id);
}

}  // namespace dataforge::auth
