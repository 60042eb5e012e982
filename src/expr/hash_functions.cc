// Hash functions (docs/expressions.md, "Hashing"): digests of a string's UTF-8 bytes through
// OpenSSL's EVP, as lower-case hex; crc32 as an int (zlib's, Spark's crc32).
#include <array>

#include <openssl/evp.h>

#include "expr/function_util.h"

namespace dataforge::expr::internal {
namespace {

using Args = std::span<const Value>;

// The bytes hashed: a string's, or a json value's compact text.
Result<std::string_view> HashInput(std::string_view fn, const Value& v) {
  if (v.kind == Kind::kString || v.kind == Kind::kJson) return std::string_view(v.s);
  return TypeError(fn, "text", "a string", v);
}

Result<Value> Digest(std::string_view fn, const EVP_MD* md, Args args) {
  if (args[0].is_null()) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, HashInput(fn, args[0]));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(s.data(), s.size(), digest, &n, md, nullptr) != 1) {
    return Status::Internal(std::string(fn) + ": OpenSSL's digest failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (unsigned int i = 0; i < n; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return Value::String(std::move(out));
}

Result<Value> Md5(Args args, const CallContext&) {
  return Digest("md5", EVP_md5(), args);
}
Result<Value> Sha1(Args args, const CallContext&) {
  return Digest("sha1", EVP_sha1(), args);
}
Result<Value> Sha256(Args args, const CallContext&) {
  return Digest("sha256", EVP_sha256(), args);
}
Result<Value> Sha512(Args args, const CallContext&) {
  return Digest("sha512", EVP_sha512(), args);
}

constexpr std::array<uint32_t, 256> kCrcTable = [] {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}();

Result<Value> Crc32(Args args, const CallContext&) {
  if (args[0].is_null()) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, HashInput("crc32", args[0]));
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : s) c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return Value::Int(static_cast<int64_t>(c ^ 0xFFFFFFFFu));
}

constexpr FunctionDef kFunctions[] = {
    {"md5", 1, 1, Md5, "md5(text)"},          {"sha1", 1, 1, Sha1, "sha1(text)"},
    {"sha256", 1, 1, Sha256, "sha256(text)"}, {"sha512", 1, 1, Sha512, "sha512(text)"},
    {"crc32", 1, 1, Crc32, "crc32(text)"},
};

}  // namespace

std::span<const FunctionDef> HashFunctions() {
  return kFunctions;
}

}  // namespace dataforge::expr::internal
