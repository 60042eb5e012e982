#include "common/uuid.h"

#include <openssl/rand.h>

#include <fmt/format.h>

namespace dataforge {

std::string FormatUuid(const unsigned char b[16]) {
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:"
      "02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

bool IsUuidText(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    const char c = s[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

Result<std::string> RandomUuid() {
  unsigned char r[16];
  if (RAND_bytes(r, sizeof r) != 1) {
    return Status::Internal("the random number generator failed (OpenSSL RAND_bytes)");
  }
  r[6] = static_cast<unsigned char>((r[6] & 0x0f) | 0x40);  // version 4
  r[8] = static_cast<unsigned char>((r[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return FormatUuid(r);
}

}  // namespace dataforge
