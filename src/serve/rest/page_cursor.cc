#include "serve/rest/page_cursor.h"

#include <cstdint>

#include "common/base64.h"

namespace dataforge::rest {
namespace {

constexpr char kVersion = 1;

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    auto b = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool GetBytes(std::string_view* in, std::string_view* out) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodeCursor(std::string_view table, std::string_view last_key) {
  std::string raw(1, kVersion);
  PutVarint(&raw, table.size());
  raw.append(table);
  PutVarint(&raw, last_key.size());
  raw.append(last_key);
  return Base64UrlEncode(raw);
}

std::optional<std::string> DecodeCursor(std::string_view cursor, std::string_view table) {
  auto raw = Base64UrlDecode(cursor);
  if (!raw || raw->empty() || (*raw)[0] != kVersion) return std::nullopt;
  std::string_view in(*raw);
  in.remove_prefix(1);
  std::string_view t, key;
  if (!GetBytes(&in, &t) || !GetBytes(&in, &key) || !in.empty() || t != table || key.empty()) {
    return std::nullopt;
  }
  return std::string(key);
}

}  // namespace dataforge::rest
