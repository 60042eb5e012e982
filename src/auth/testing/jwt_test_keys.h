// Test helpers: key pairs made with OpenSSL, JWKS text for their public halves, and tokens
// signed with libjwt (or crafted by hand for attacks). Header-only; for *_test.cc files.
#pragma once

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/clock.h"

namespace dataforge::auth::testing {

// A clock the test moves by hand.
class ManualClock final : public Clock {
 public:
  int64_t NowMicros() override { return now_us_; }
  int64_t MonotonicMicros() override { return now_us_; }
  bool SleepFor(int64_t micros, std::stop_token stop) override {
    now_us_ += micros;
    return !stop.stop_requested();
  }
  void Advance(int64_t micros) { now_us_ += micros; }
  int64_t NowUnix() const { return now_us_ / 1'000'000; }

 private:
  int64_t now_us_ = 1'796'300'000'000'000;  // 2026-12-03
};

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
  std::string jwk;  // public JWK as JSON (with kid)
};

inline std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

inline std::string BnParam(EVP_PKEY* pkey, const char* name, int pad) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) throw std::runtime_error(name);
  std::string out(pad > 0 ? pad : BN_num_bytes(bn), '\0');
  if (pad > 0) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), pad);
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  BN_free(bn);
  return Base64UrlEncode(out);
}

// "RSA" (2048 bits) or "EC" (P-256).
inline KeyPair MakeKeyPair(const std::string& type, const std::string& kid) {
  EVP_PKEY* pkey = type == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                 : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (pkey == nullptr) throw std::runtime_error("keygen failed");
  KeyPair kp;
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  kp.private_pem = BioText(priv);
  BIO_free(priv);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, pkey);
  kp.public_pem = BioText(pub);
  BIO_free(pub);
  if (type == "RSA") {
    kp.jwk = fmt::format(
        R"({{"kty":"RSA","kid":"{}","use":"sig","alg":"RS256","n":"{}","e":"{}"}})", kid,
        BnParam(pkey, OSSL_PKEY_PARAM_RSA_N, 0), BnParam(pkey, OSSL_PKEY_PARAM_RSA_E, 0));
  } else {
    kp.jwk = fmt::format(R"({{"kty":"EC","kid":"{}","crv":"P-256","x":"{}","y":"{}"}})", kid,
                         BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32),
                         BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
  }
  EVP_PKEY_free(pkey);
  return kp;
}

// A token signed by libjwt. `claims` is a JSON object; `kid` "" = no kid header.
inline std::string SignedToken(jwt_alg_t alg, const std::string& key, const std::string& claims,
                               const std::string& kid = "") {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  if (jwt_add_grants_json(jwt, claims.c_str()) != 0) throw std::runtime_error("bad claims");
  if (!kid.empty()) jwt_add_header(jwt, "kid", kid.c_str());
  if (jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()),
                  static_cast<int>(key.size())) != 0) {
    throw std::runtime_error("jwt_set_alg failed");
  }
  char* text = jwt_encode_str(jwt);
  jwt_free(jwt);
  if (text == nullptr) throw std::runtime_error("jwt_encode_str failed");
  std::string out(text);
  free(text);
  return out;
}

// A token assembled by hand: header and claims as JSON, signed with HMAC-SHA256 over `key`
// (for attacks: "alg":"none", an RSA public key used as an HS256 secret).
inline std::string HandMadeToken(const std::string& header, const std::string& claims,
                                 const std::string& hmac_key) {
  std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
  if (hmac_key.empty()) return input + ".";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), hmac_key.data(), static_cast<int>(hmac_key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
}

}  // namespace dataforge::auth::testing
