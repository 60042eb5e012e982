#include "serve/cql/md5.h"

#include <openssl/evp.h>

#include "common/uuid.h"

namespace dataforge::cql {

std::string Md5(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  // EVP_Digest only fails on allocation failure; the digest is then all zero, which only
  // weakens an id's uniqueness, never memory safety.
  if (EVP_Digest(data.data(), data.size(), digest, &n, EVP_md5(), nullptr) != 1) n = 0;
  std::string out(16, '\0');
  for (unsigned int i = 0; i < n && i < 16; ++i) out[i] = static_cast<char>(digest[i]);
  return out;
}

std::string Md5Uuid(std::string_view data) {
  std::string d = Md5(data);
  unsigned char b[16];
  for (int i = 0; i < 16; ++i) b[i] = static_cast<unsigned char>(d[i]);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x30);  // version 3
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // IETF variant
  return FormatUuid(b);
}

}  // namespace dataforge::cql
