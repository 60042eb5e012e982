// Hash functions (docs/expressions.md, "Hashing"): digests of a string's UTF-8 bytes through
// OpenSSL's EVP, as lower-case hex; crc32 as an int (zlib's, Spark's crc32).
#include <array>
#include <memory>

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

// The algorithm fetched from OpenSSL's default provider once (EVP_md5() and friends fetch it
// again on every use, which costs more than hashing a short string), or null.
const EVP_MD* Fetch(const char* name) {
  return EVP_MD_fetch(nullptr, name, nullptr);  // kept for the process's life
}

Result<Value> Digest(std::string_view fn, const EVP_MD* md, Args args) {
  if (args[0].is_null()) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, HashInput(fn, args[0]));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  // One context per thread, reset by each EVP_DigestInit_ex2.
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), s.data(), s.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &n) != 1) {
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
  static const EVP_MD* md = Fetch("MD5");
  return Digest("md5", md, args);
}
Result<Value> Sha1(Args args, const CallContext&) {
  static const EVP_MD* md = Fetch("SHA1");
  return Digest("sha1", md, args);
}
Result<Value> Sha256(Args args, const CallContext&) {
  static const EVP_MD* md = Fetch("SHA256");
  return Digest("sha256", md, args);
}
Result<Value> Sha512(Args args, const CallContext&) {
  static const EVP_MD* md = Fetch("SHA512");
  return Digest("sha512", md, args);
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

constexpr FunctionDef kHashFunctions[] = {
    {"md5", 1, 1, Md5, "md5(text)"},          {"sha1", 1, 1, Sha1, "sha1(text)"},
    {"sha256", 1, 1, Sha256, "sha256(text)"}, {"sha512", 1, 1, Sha512, "sha512(text)"},
    {"crc32", 1, 1, Crc32, "crc32(text)"},
};

}  // namespace

std::span<const FunctionDef> HashFunctions() {
  return kHashFunctions;
}

}  // namespace dataforge::expr::internal
