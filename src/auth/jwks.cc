#include "auth/jwks.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "common/base64.h"

namespace dataforge::auth {
namespace {

constexpr int kMinRsaBits = 2048;

struct Freer {
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Freer>;

// One JWK being converted; errors name the file and the key.
struct Jwk {
  const std::string& where;
  std::string name;  // "key 'kid'" or "key #3"
  simdjson::dom::object obj;

  std::optional<std::string> Field(const char* key) const {
    std::string_view v;
    if (obj[key].get_string().get(v) != simdjson::SUCCESS) return std::nullopt;
    return std::string(v);
  }
  Status Error(const std::string& what) const {
    return Status::ConfigError(fmt::format("{}: {}: {}", where, name, what));
  }
  // A base64url member as bytes.
  Result<std::string> Bytes(const char* key) const {
    auto text = Field(key);
    if (!text) return Error(fmt::format("'{}' is missing", key));
    auto bytes = Base64UrlDecode(*text);
    if (!bytes || bytes->empty()) return Error(fmt::format("'{}' is not base64url", key));
    return *bytes;
  }
};

// `invalid`: what is wrong when OpenSSL refuses the parameters.
Result<std::string> ToPem(const Jwk& jwk, const char* type, OSSL_PARAM_BLD* bld,
                          const char* invalid) {
  Ptr<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Ptr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return jwk.Error(invalid);
  }
  Ptr<EVP_PKEY> pkey(raw);
  Ptr<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return jwk.Error(invalid);
  }
  if (std::strcmp(type, "RSA") == 0 && EVP_PKEY_get_bits(pkey.get()) < kMinRsaBits) {
    return jwk.Error(fmt::format("the RSA key has {} bits; at least {} are needed",
                                 EVP_PKEY_get_bits(pkey.get()), kMinRsaBits));
  }
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) {
    return jwk.Error("OpenSSL cannot write the key as PEM");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> RsaPem(const Jwk& jwk) {
  DF_ASSIGN_OR_RETURN(std::string n, jwk.Bytes("n"));
  DF_ASSIGN_OR_RETURN(std::string e, jwk.Bytes("e"));
  auto bn = [](const std::string& b) {
    return Ptr<BIGNUM>(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(b.data()), b.size(), nullptr));
  };
  Ptr<BIGNUM> bn_n = bn(n), bn_e = bn(e);
  Ptr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return jwk.Error("out of memory building the RSA key");
  }
  return ToPem(jwk, "RSA", bld.get(), "n and e are not an RSA public key");
}

Result<std::string> EcP256Pem(const Jwk& jwk) {
  DF_ASSIGN_OR_RETURN(std::string x, jwk.Bytes("x"));
  DF_ASSIGN_OR_RETURN(std::string y, jwk.Bytes("y"));
  if (x.size() != 32 || y.size() != 32) {
    return jwk.Error(
        fmt::format("P-256 'x' and 'y' must be 32 bytes each, not {} and {}", x.size(), y.size()));
  }
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  Ptr<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return jwk.Error("out of memory building the EC key");
  }
  return ToPem(jwk, "EC", bld.get(), "x and y are not a point on P-256");
}

// The key, or nullopt for a key this server does not use (skipped with a warning).
Result<std::optional<PublicKey>> Convert(const Jwk& jwk) {
  PublicKey key;
  key.kid = jwk.Field("kid").value_or("");
  auto kty = jwk.Field("kty");
  auto alg = jwk.Field("alg");
  auto use = jwk.Field("use");
  auto skip = [&](const std::string& why) -> Result<std::optional<PublicKey>> {
    spdlog::warn("{}: {} skipped: {}", jwk.where, jwk.name, why);
    return std::optional<PublicKey>();
  };
  if (!kty) return jwk.Error("'kty' is missing");
  if (use && *use != "sig") return skip(fmt::format("its use is '{}', not 'sig'", *use));
  if (*kty == "RSA") {
    if (alg && *alg != "RS256") return skip(fmt::format("alg '{}' is not supported", *alg));
    key.alg = "RS256";
    DF_ASSIGN_OR_RETURN(key.pem, RsaPem(jwk));
  } else if (*kty == "EC") {
    auto crv = jwk.Field("crv");
    if (!crv) return jwk.Error("'crv' is missing");
    if (*crv != "P-256") return skip(fmt::format("curve '{}' is not supported (P-256 is)", *crv));
    if (alg && *alg != "ES256") return skip(fmt::format("alg '{}' is not supported", *alg));
    key.alg = "ES256";
    DF_ASSIGN_OR_RETURN(key.pem, EcP256Pem(jwk));
  } else {
    return skip(fmt::format("kty '{}' is not supported (RSA and EC are)", *kty));
  }
  return std::optional<PublicKey>(std::move(key));
}

}  // namespace

Result<std::vector<PublicKey>> ParseJwks(std::string_view json, const std::string& where) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    return Status::ConfigError(
        fmt::format("{}: not a JWKS file: {}", where, simdjson::error_message(err)));
  }
  simdjson::dom::array keys;
  if (root["keys"].get_array().get(keys) != simdjson::SUCCESS) {
    return Status::ConfigError(
        fmt::format("{}: not a JWKS file: it needs {{\"keys\": [...]}}", where));
  }
  std::vector<PublicKey> out;
  size_t index = 0;
  for (simdjson::dom::element k : keys) {
    ++index;
    simdjson::dom::object obj;
    if (k.get_object().get(obj) != simdjson::SUCCESS) {
      return Status::ConfigError(fmt::format("{}: key #{} is not a JSON object", where, index));
    }
    Jwk jwk{where, fmt::format("key #{}", index), obj};
    if (auto kid = jwk.Field("kid")) jwk.name = fmt::format("key '{}'", *kid);
    DF_ASSIGN_OR_RETURN(auto key, Convert(jwk));
    if (!key) continue;
    for (const PublicKey& other : out) {
      if (!key->kid.empty() && other.kid == key->kid) {
        return jwk.Error("the kid appears twice");
      }
    }
    out.push_back(std::move(*key));
  }
  if (out.empty()) {
    return Status::ConfigError(
        fmt::format("{}: no usable key (RS256 RSA keys or ES256 P-256 keys)", where));
  }
  return out;
}

Result<std::vector<PublicKey>> LoadJwksFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::ConfigError(fmt::format("{}: cannot read the JWKS file (auth.jwt.jwks_file): {}",
                                           path, std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseJwks(text.str(), path);
}

}  // namespace dataforge::auth
