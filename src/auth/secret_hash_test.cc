// HashSecret / VerifySecret (argon2id) and API key generation and parsing.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "auth/credential_store.h"

namespace dataforge::auth {
namespace {

TEST(SecretHashTest, HashIsArgon2idWithItsParameters) {
  auto h = HashSecret("correct horse battery staple");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *h;
  // $argon2id$v=19$m=19456,t=2,p=1$<22 chars of salt>$<43 chars of hash>
  EXPECT_TRUE(std::regex_match(
      *h, std::regex(R"(\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43})")))
      << *h;
  EXPECT_EQ(h->find("correct horse"), std::string::npos);
}

TEST(SecretHashTest, VerifiesTheSecretAndNothingElse) {
  auto h = HashSecret("s3cret");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(VerifySecret(*h, "s3cret"));
  EXPECT_FALSE(VerifySecret(*h, "s3cret "));
  EXPECT_FALSE(VerifySecret(*h, "S3cret"));
  EXPECT_FALSE(VerifySecret(*h, ""));
  EXPECT_FALSE(VerifySecret(*h, std::string("s3cret\0", 7)));
  auto empty = HashSecret("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(VerifySecret(*empty, ""));
  EXPECT_FALSE(VerifySecret(*empty, "x"));
}

TEST(SecretHashTest, SaltDiffersEveryTime) {
  std::set<std::string> hashes;
  for (int i = 0; i < 3; ++i) {
    auto h = HashSecret("same");
    ASSERT_TRUE(h.ok());
    EXPECT_TRUE(VerifySecret(*h, "same"));
    hashes.insert(*h);
  }
  EXPECT_EQ(hashes.size(), 3u);
}

TEST(SecretHashTest, MalformedHashesNeverVerify) {
  auto h = HashSecret("pw");
  ASSERT_TRUE(h.ok());
  std::string good = *h;
  const std::vector<std::string> bad = {
      "",                               // a user without a password
      "pw",                             // plain text is not a hash
      good.substr(0, good.size() - 1),  // truncated hash
      good.substr(0, good.rfind('$')),  // no hash part
      "$argon2i" + good.substr(9),      // argon2i, not argon2id
      "$argon2d" + good.substr(9),      // argon2d
      std::string(good).replace(1, 8, "ARGON2ID"),
      good + "$",  // trailing junk
      std::string(good).insert(10, std::string("\0", 1)),
      "$argon2id$v=19$m=19456,t=2,p=1$$",  // empty salt and hash
      "$argon2id$v=19$m=0,t=0,p=0$c2FsdHNhbHRzYWx0$aGFzaA",
  };
  for (const auto& b : bad) EXPECT_FALSE(VerifySecret(b, "pw")) << b;
  EXPECT_TRUE(VerifySecret(good, "pw"));
}

TEST(ApiKeyTest, GeneratedKeyHasTheDocumentedShapeAndOnlyItsHashIsKept) {
  auto k = GenerateApiKey("alice", 1'700'000'000, 1'700'086'400);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_TRUE(std::regex_match(k->text, std::regex("dfk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")))
      << k->text;
  EXPECT_EQ(k->record.key_id.size(), 12u);
  EXPECT_EQ(k->text.substr(4, 12), k->record.key_id);
  EXPECT_EQ(k->record.user, "alice");
  EXPECT_EQ(k->record.created_unix, 1'700'000'000);
  EXPECT_EQ(k->record.expires_unix, 1'700'086'400);
  EXPECT_EQ(k->record.revoked_unix, 0);
  EXPECT_EQ(k->record.secret_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(k->record.secret_hash.find(k->text.substr(17)), std::string::npos);
  EXPECT_TRUE(VerifySecret(k->record.secret_hash, k->text));
  // The hash is of the whole text: the secret alone, or another key id, does not verify.
  EXPECT_FALSE(VerifySecret(k->record.secret_hash, k->text.substr(17)));
  std::string other_id = k->text;
  other_id[4] = other_id[4] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(VerifySecret(k->record.secret_hash, other_id));
  EXPECT_EQ(ApiKeyId(k->text), k->record.key_id);
}

TEST(ApiKeyTest, KeysAreUnique) {
  std::set<std::string> ids, texts;
  for (int i = 0; i < 3; ++i) {
    auto k = GenerateApiKey("bob", 1, 0);
    ASSERT_TRUE(k.ok());
    ids.insert(k->record.key_id);
    texts.insert(k->text);
  }
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(texts.size(), 3u);
}

TEST(ApiKeyTest, ParsingIsStrict) {
  const std::string secret = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde";  // 43 characters
  ASSERT_EQ(secret.size(), 43u);
  EXPECT_EQ(ApiKeyId("dfk_0123456789ab_" + secret), "0123456789ab");
  // A secret may hold '_' and '-': only the first '_' after the id separates.
  EXPECT_EQ(ApiKeyId("dfk_deadbeef0000_" + std::string(43, '_')), "deadbeef0000");
  const std::vector<std::string> bad = {
      "",
      "dfk_",
      "dfk__" + secret,
      "DFK_0123456789ab_" + secret,  // prefix is lower case
      "dfk-0123456789ab_" + secret,
      "dfk_0123456789AB_" + secret,  // key ids are lower-case hex
      "dfk_0123456789ag_" + secret,
      "dfk_0123456789a_" + secret + "b",             // 11-character id
      "dfk_0123456789abc_" + secret.substr(1),       // 13-character id
      "dfk_0123456789ab-" + secret,                  // separator
      "dfk_0123456789ab_" + secret.substr(1),        // secret too short
      "dfk_0123456789ab_" + secret + "A",            // secret too long
      "dfk_0123456789ab_" + secret.substr(1) + "=",  // padding
      "dfk_0123456789ab_" + secret.substr(1) + "+",  // base64, not base64url
      "dfk_0123456789ab_" + secret.substr(1) + " ",
      "dfk_0123456789ab_" + secret.substr(0, 42) + "\n",
      " dfk_0123456789ab_" + secret.substr(1),
      std::string("dfk_0123456789ab_") + std::string(42, 'a') + std::string("\0", 1),
      "Bearer dfk_0123456789ab_" + secret,
  };
  for (const auto& b : bad) EXPECT_EQ(ApiKeyId(b), std::nullopt) << "'" << b << "'";
}

}  // namespace
}  // namespace dataforge::auth
