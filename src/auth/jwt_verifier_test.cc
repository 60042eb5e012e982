#include "auth/jwt_verifier.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "auth/testing/jwt_test_keys.h"

namespace dataforge::auth {
namespace {

using testing::HandMadeToken;
using testing::KeyPair;
using testing::MakeKeyPair;
using testing::SignedToken;

constexpr int64_t kNow = 1'796'300'000;  // 2026-12-03T12:13:20Z
const std::string kSecret = "0123456789abcdef0123456789abcdef-test";

JwtConfig Config() {
  JwtConfig c;
  c.hs256_secret = kSecret;
  c.issuer = "https://issuer.example";
  c.audience = "dataforge";
  return c;
}

std::string Claims(const std::string& extra = "") {
  return fmt::format(
      R"({{"sub":"alice","role":"operator","iss":"https://issuer.example","aud":"dataforge",)"
      R"("exp":{}{}}})",
      kNow + 600, extra);
}

std::string Hs256(const std::string& claims) {
  return SignedToken(JWT_ALG_HS256, kSecret, claims);
}

Status Refused(const JwtVerifier& v, const std::string& token) {
  auto r = v.Verify(token, kNow);
  EXPECT_FALSE(r.ok()) << "accepted";
  if (r.ok()) return Status::OK();
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  // Never echoes the token or a part of it.
  const size_t dot = token.find('.');
  if (dot != std::string::npos && token.size() > dot + 13) {
    EXPECT_EQ(r.status().message().find(token.substr(dot + 1, 12)), std::string::npos);
  }
  return r.status();
}

TEST(JwtVerifierTest, Hs256GoodToken) {
  JwtVerifier v(Config(), {});
  auto t = v.Verify(Hs256(Claims()), kNow);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->subject, "alice");
  EXPECT_EQ(t->roles, std::vector<std::string>{"operator"});
  EXPECT_EQ(t->expires_unix, kNow + 600);
}

TEST(JwtVerifierTest, ExpiryAndNotBeforeWithLeeway) {
  JwtVerifier v(Config(), {});  // leeway 30 s
  auto claims = [](int64_t exp, const std::string& extra) {
    return fmt::format(R"({{"sub":"a","role":"reader","iss":"https://issuer.example",)"
                       R"("aud":"dataforge","exp":{}{}}})",
                       exp, extra);
  };
  EXPECT_EQ(Refused(v, Hs256(claims(kNow - 30, ""))).message(),
            "token expired at 2026-12-03T12:12:50.000Z");
  EXPECT_TRUE(v.Verify(Hs256(claims(kNow - 29, "")), kNow).ok());  // within the leeway
  EXPECT_EQ(Refused(v, Hs256(claims(kNow + 600, fmt::format(R"(,"nbf":{})", kNow + 31)))).message(),
            "token is not valid before 2026-12-03T12:13:51.000Z");
  EXPECT_TRUE(
      v.Verify(Hs256(claims(kNow + 600, fmt::format(R"(,"nbf":{})", kNow + 30))), kNow).ok());
  EXPECT_EQ(Refused(v, Hs256(R"({"sub":"a","role":"reader","iss":"https://issuer.example",)"
                             R"("aud":"dataforge"})"))
                .message(),
            "token has no numeric 'exp' (expiry) claim");
}

TEST(JwtVerifierTest, TamperedPayloadOrSignatureIsRefused) {
  JwtVerifier v(Config(), {});
  const std::string good = Hs256(Claims());
  const size_t dot1 = good.find('.'), dot2 = good.rfind('.');
  // Another payload (role admin) under the original signature.
  std::string forged = good.substr(0, dot1 + 1) +
                       Base64UrlEncode(fmt::format(R"({{"sub":"alice","role":"admin","iss":)"
                                                   R"("https://issuer.example","aud":"dataforge",)"
                                                   R"("exp":{}}})",
                                                   kNow + 600)) +
                       good.substr(dot2);
  EXPECT_EQ(Refused(v, forged).message(), "token signature is invalid");
  std::string bad_sig = good;
  bad_sig[dot2 + 1] = bad_sig[dot2 + 1] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Refused(v, bad_sig).message(), "token signature is invalid");
  EXPECT_EQ(Refused(v, good.substr(0, dot2 + 1)).message(), "token signature is invalid");
  // Signed with another secret.
  EXPECT_EQ(Refused(v, SignedToken(JWT_ALG_HS256, kSecret + "x", Claims())).message(),
            "token signature is invalid");
  EXPECT_EQ(Refused(v, "abc.def").message(), "malformed token (a JWT is header.payload.signature)");
}

TEST(JwtVerifierTest, IssuerAndAudience) {
  JwtVerifier v(Config(), {});
  auto token = [](const std::string& iss_aud) {
    return Hs256(fmt::format(R"({{"sub":"a","role":"reader",{},"exp":{}}})", iss_aud, kNow + 60));
  };
  EXPECT_EQ(Refused(v, token(R"("iss":"https://evil.example","aud":"dataforge")")).message(),
            "token issuer is not 'https://issuer.example'");
  EXPECT_EQ(Refused(v, token(R"("aud":"dataforge")")).message(),
            "token has no 'iss' claim (expected 'https://issuer.example')");
  EXPECT_EQ(Refused(v, token(R"("iss":"https://issuer.example","aud":"other")")).message(),
            "token audience does not include 'dataforge'");
  EXPECT_EQ(Refused(v, token(R"("iss":"https://issuer.example","aud":["a","b"])")).message(),
            "token audience does not include 'dataforge'");
  EXPECT_EQ(Refused(v, token(R"("iss":"https://issuer.example")")).message(),
            "token audience does not include 'dataforge'");
  EXPECT_TRUE(
      v.Verify(token(R"("iss":"https://issuer.example","aud":["a","dataforge"])"), kNow).ok());
}

TEST(JwtVerifierTest, RoleAndSubjectClaimsAreConfigurable) {
  JwtConfig c = Config();
  c.role_claim = "groups";
  c.subject_claim = "email";
  JwtVerifier v(c, {});
  auto t = v.Verify(Hs256(Claims(R"(,"email":"a@example.com","groups":["x","reader"])")), kNow);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->subject, "a@example.com");
  EXPECT_EQ(t->roles, (std::vector<std::string>{"x", "reader"}));
  EXPECT_EQ(Refused(v, Hs256(Claims(R"(,"email":"a@example.com")"))).message(),
            "token has no 'groups' claim");
  EXPECT_EQ(Refused(v, Hs256(Claims(R"(,"groups":"reader")"))).message(),
            "token has no 'email' claim");
}

TEST(JwtVerifierTest, AlgNoneIsRefused) {
  JwtVerifier v(Config(), {});
  EXPECT_EQ(Refused(v, HandMadeToken(R"({"alg":"none","typ":"JWT"})", Claims(), "")).message(),
            "token is unsigned (alg 'none' is refused)");
  // libjwt's own unsigned token, too.
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  jwt_add_grants_json(jwt, Claims().c_str());
  char* text = jwt_encode_str(jwt);
  std::string unsigned_token(text);
  free(text);
  jwt_free(jwt);
  EXPECT_EQ(Refused(v, unsigned_token).message(), "token is unsigned (alg 'none' is refused)");
  EXPECT_EQ(Refused(v, HandMadeToken(R"({"alg":"HS512"})", Claims(), kSecret)).message(),
            "token alg 'HS512' is not accepted (HS256, RS256, ES256 are)");
}

class JwksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new KeyPair(MakeKeyPair("RSA", "r1"));
    ec_ = new KeyPair(MakeKeyPair("EC", "e1"));
    other_rsa_ = new KeyPair(MakeKeyPair("RSA", "r1"));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ec_;
    delete other_rsa_;
  }
  void SetUp() override {
    char tmpl[] = "/tmp/df_jwks_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteJwks(const std::string& keys) {
    std::string path = dir_ + "/jwks.json";
    std::ofstream(path) << R"({"keys":[)" << keys << "]}";
    return path;
  }
  std::unique_ptr<JwtVerifier> Verifier(const std::string& keys, const std::string& secret = "") {
    JwtConfig c = Config();
    c.hs256_secret = secret;
    c.jwks_file = WriteJwks(keys);
    auto v = JwtVerifier::Create(c);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? std::move(v).value() : nullptr;
  }

  static KeyPair* rsa_;
  static KeyPair* ec_;
  static KeyPair* other_rsa_;
  std::string dir_;
};
KeyPair* JwksTest::rsa_ = nullptr;
KeyPair* JwksTest::ec_ = nullptr;
KeyPair* JwksTest::other_rsa_ = nullptr;

TEST_F(JwksTest, Rs256AndEs256FromAJwksFile) {
  auto v = Verifier(rsa_->jwk + "," + ec_->jwk);
  ASSERT_TRUE(v);
  auto rs = v->Verify(SignedToken(JWT_ALG_RS256, rsa_->private_pem, Claims(), "r1"), kNow);
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->subject, "alice");
  EXPECT_EQ(rs->key_id, "r1");
  auto es = v->Verify(SignedToken(JWT_ALG_ES256, ec_->private_pem, Claims(), "e1"), kNow);
  ASSERT_TRUE(es.ok()) << es.status().ToString();
  EXPECT_EQ(es->key_id, "e1");
  // Without a kid: the one key of the token's algorithm.
  EXPECT_TRUE(v->Verify(SignedToken(JWT_ALG_ES256, ec_->private_pem, Claims()), kNow).ok());
}

TEST_F(JwksTest, WrongKeyUnknownKidAndAlgorithmMismatch) {
  auto v = Verifier(rsa_->jwk + "," + ec_->jwk);
  ASSERT_TRUE(v);
  EXPECT_EQ(
      Refused(*v, SignedToken(JWT_ALG_RS256, other_rsa_->private_pem, Claims(), "r1")).message(),
      "token signature is invalid");
  EXPECT_EQ(Refused(*v, SignedToken(JWT_ALG_RS256, rsa_->private_pem, Claims(), "nope")).message(),
            "token key id 'nope' is not in the JWKS file");
  // An RS256 token naming the EC key.
  EXPECT_EQ(Refused(*v, SignedToken(JWT_ALG_RS256, rsa_->private_pem, Claims(), "e1")).message(),
            "token alg 'RS256' does not match key 'e1', which is ES256");
  // Expired, although well signed.
  EXPECT_EQ(
      Refused(*v, SignedToken(JWT_ALG_ES256, ec_->private_pem,
                              fmt::format(R"({{"sub":"a","role":"r","exp":{}}})", kNow - 60), "e1"))
          .message(),
      "token expired at 2026-12-03T12:12:20.000Z");
}

// The classic confusion: the server's RSA public key (which anyone has) used as an HS256
// secret. Refused with and without an HS256 secret configured.
TEST_F(JwksTest, PublicKeyAsHs256SecretIsRefused) {
  const std::string forged =
      HandMadeToken(R"({"alg":"HS256","typ":"JWT","kid":"r1"})", Claims(), rsa_->public_pem);
  auto without_secret = Verifier(rsa_->jwk);
  ASSERT_TRUE(without_secret);
  EXPECT_EQ(Refused(*without_secret, forged).message(),
            "HS256 tokens are not accepted (auth.jwt.hs256_secret is not set)");
  auto with_secret = Verifier(rsa_->jwk, kSecret);
  ASSERT_TRUE(with_secret);
  EXPECT_EQ(Refused(*with_secret, forged).message(), "token signature is invalid");
  // And an RS256-labelled token HMAC-ed with the public key does not verify either.
  EXPECT_EQ(Refused(*with_secret,
                    HandMadeToken(R"({"alg":"RS256","kid":"r1"})", Claims(), rsa_->public_pem))
                .message(),
            "token signature is invalid");
}

TEST_F(JwksTest, BadJwksFilesAreConfigErrors) {
  JwtConfig c = Config();
  c.jwks_file = dir_ + "/missing.json";
  auto r = JwtVerifier::Create(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(r.status().message(), c.jwks_file +
                                      ": cannot read the JWKS file (auth.jwt.jwks_file): No such "
                                      "file or directory");

  auto error = [](const std::string& json) {
    auto keys = ParseJwks(json, "j.json");
    EXPECT_FALSE(keys.ok());
    return keys.status().message();
  };
  EXPECT_EQ(error("{"),
            "j.json: not a JWKS file: The JSON document has an improper structure: "
            "missing or superfluous commas, braces, missing keys, etc.");
  EXPECT_EQ(error(R"({"k":[]})"), "j.json: not a JWKS file: it needs {\"keys\": [...]}");
  EXPECT_EQ(error(R"({"keys":[{"kty":"RSA","kid":"a","e":"AQAB"}]})"),
            "j.json: key 'a': 'n' is missing");
  // (1, 1) is not on P-256.
  const std::string one = Base64UrlEncode(std::string(31, '\0') + "\x01");
  EXPECT_EQ(error(fmt::format(R"({{"keys":[{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}]}})", one,
                              one)),
            "j.json: key #1: x and y are not a point on P-256");
  EXPECT_EQ(error(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})"),
            "j.json: no usable key (RS256 RSA keys or ES256 P-256 keys)");
  EXPECT_EQ(error("{\"keys\":[" + rsa_->jwk + "," + rsa_->jwk + "]}"),
            "j.json: key 'r1': the kid appears twice");
}

}  // namespace
}  // namespace dataforge::auth
