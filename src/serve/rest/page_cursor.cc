#include "serve/rest/page_cursor.h"

#include <cstdint>

namespace dataforge::rest {
namespace {

constexpr char kVersion = 1;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

std::string Base64Url(std::string_view bytes) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> FromBase64Url(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    size_t i = kAlphabet.find(c);
    if (i == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(i);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Canonical only: the leftover bits are padding zeros and fewer than a byte.
  if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace

std::string EncodeCursor(std::string_view table, std::string_view last_key) {
  std::string raw(1, kVersion);
  PutVarint(&raw, table.size());
  raw.append(table);
  PutVarint(&raw, last_key.size());
  raw.append(last_key);
  return Base64Url(raw);
}

std::optional<std::string> DecodeCursor(std::string_view cursor, std::string_view table) {
  auto raw = FromBase64Url(cursor);
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
