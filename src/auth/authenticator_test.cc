#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "auth/authenticator_impl.h"
#include "auth/credential_checks.h"
#include "auth/testing/jwt_test_keys.h"
#include "common/base64.h"
#include "common/timestamp.h"

namespace dataforge::auth {
namespace {

using testing::ManualClock;

// The CredentialStore contract (credential_store.h) in memory: the double these tests drive
// the Authenticator through. Counts lookups.
class MemoryStore final : public CredentialStore {
 public:
  Status AddUser(const UserRecord& user) override {
    std::lock_guard l(mu_);
    if (users_.count(user.name)) return Status::FailedPrecondition("user exists");
    users_[user.name] = user;
    return Status::OK();
  }
  Status RemoveUser(const std::string& name, int64_t now_unix) override {
    std::lock_guard l(mu_);
    if (!users_.erase(name)) return Status::NotFound("no user " + name);
    for (auto& [id, k] : keys_) {
      if (k.user == name && k.revoked_unix == 0) k.revoked_unix = now_unix;
    }
    return Status::OK();
  }
  Result<std::optional<UserRecord>> FindUser(const std::string& name) override {
    std::lock_guard l(mu_);
    ++find_user_calls;
    auto it = users_.find(name);
    if (it == users_.end()) return std::optional<UserRecord>();
    return std::optional<UserRecord>(it->second);
  }
  Result<std::vector<UserRecord>> ListUsers() override {
    std::lock_guard l(mu_);
    std::vector<UserRecord> out;
    for (auto& [n, u] : users_) out.push_back(u);
    return out;
  }
  Result<uint64_t> UserCount() override {
    std::lock_guard l(mu_);
    ++user_count_calls;
    return static_cast<uint64_t>(users_.size());
  }
  Status AddKey(const ApiKeyRecord& key) override {
    std::lock_guard l(mu_);
    if (!users_.count(key.user)) return Status::NotFound("no user " + key.user);
    keys_[key.key_id] = key;
    return Status::OK();
  }
  Status RevokeKey(const std::string& key_id, int64_t now_unix) override {
    std::lock_guard l(mu_);
    auto it = keys_.find(key_id);
    if (it == keys_.end()) return Status::NotFound("no key " + key_id);
    if (it->second.revoked_unix == 0) it->second.revoked_unix = now_unix;
    return Status::OK();
  }
  Result<std::optional<ApiKeyRecord>> FindKey(const std::string& key_id) override {
    std::lock_guard l(mu_);
    ++find_key_calls;
    if (down) return Status::IOError("database is locked");
    auto it = keys_.find(key_id);
    if (it == keys_.end()) return std::optional<ApiKeyRecord>();
    return std::optional<ApiKeyRecord>(it->second);
  }
  Result<std::vector<ApiKeyRecord>> ListKeys() override {
    std::lock_guard l(mu_);
    std::vector<ApiKeyRecord> out;
    for (auto& [id, k] : keys_) out.push_back(k);
    return out;
  }

  // Test controls (what `users` commands would do to the database).
  void SetUser(const UserRecord& u) {
    std::lock_guard l(mu_);
    users_[u.name] = u;
  }

  std::atomic<int> find_user_calls{0}, find_key_calls{0}, user_count_calls{0};
  std::atomic<bool> down{false};  // FindKey fails, as a store that cannot be read

 private:
  std::mutex mu_;
  std::map<std::string, UserRecord> users_;
  std::map<std::string, ApiKeyRecord> keys_;
};

const std::string kJwtSecret = "0123456789abcdef0123456789abcdef-test";

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.max_failed_logins_per_minute = 3;
    config_.jwt.hs256_secret = kJwtSecret;
    config_.roles.push_back(AuthRoleConfig{"analyst", {}, 1});
    auto policy = AccessPolicy::FromConfig(config_);
    ASSERT_TRUE(policy.ok());
    policy_ = std::make_unique<AccessPolicy>(std::move(policy).value());
  }

  Authenticator& Auth() {
    if (!auth_) {
      AuthenticatorOptions options;
      options.verify_secret = [this](const std::string& hash, const std::string& secret) {
        ++verify_calls_;
        return VerifySecret(hash, secret);
      };
      auto a = CreateAuthenticator(config_, &store_, policy_.get(), &clock_, options);
      EXPECT_TRUE(a.ok()) << a.status().ToString();
      auth_ = std::move(a).value();
    }
    return *auth_;
  }

  void AddUser(const std::string& name, const std::string& role, const std::string& password) {
    UserRecord u{name, role, "", clock_.NowUnix()};
    if (!password.empty()) u.password_hash = HashSecret(password).value();
    ASSERT_TRUE(store_.AddUser(u).ok());
  }
  // A new key for `user`; returns its text.
  std::string AddKey(const std::string& user, int64_t expires_unix = 0) {
    auto k = GenerateApiKey(user, clock_.NowUnix(), expires_unix);
    EXPECT_TRUE(k.ok());
    EXPECT_TRUE(store_.AddKey(k->record).ok());
    return k->text;
  }
  Result<Principal> Http(const std::string& header, const std::string& from = "10.0.0.1") {
    return Auth().AuthenticateHttp(header, from);
  }
  static std::string Basic(const std::string& user_password) {
    return "Basic " + Base64Encode(user_password);
  }
  std::string Jwt(const std::string& role, int64_t exp) {
    return testing::SignedToken(
        JWT_ALG_HS256, kJwtSecret,
        fmt::format(R"({{"sub":"carol","role":"{}","exp":{}}})", role, exp));
  }

  AuthConfig config_;
  std::unique_ptr<AccessPolicy> policy_;
  MemoryStore store_;
  ManualClock clock_;
  std::atomic<int> verify_calls_{0};
  std::unique_ptr<Authenticator> auth_;
};

void ExpectPrincipal(const Result<Principal>& p, const std::string& name, const std::string& role,
                     const std::string& method, const std::string& key_id = "") {
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->name, name);
  EXPECT_EQ(p->role, role);
  EXPECT_EQ(p->method, method);
  EXPECT_EQ(p->key_id, key_id);
}

void ExpectRefused(const Result<Principal>& p, StatusCode code, const std::string& message) {
  ASSERT_FALSE(p.ok()) << "accepted as " << p->name;
  EXPECT_EQ(p.status().code(), code);
  EXPECT_EQ(p.status().message(), message);
}

std::string KeyId(const std::string& text) {
  return ApiKeyId(text).value();
}

TEST_F(AuthenticatorTest, OffWhileNoUserExistsAndOnOnceOneDoes) {
  EXPECT_FALSE(Auth().Required());
  ExpectPrincipal(Http(""), "anonymous", "admin", "none");
  ExpectPrincipal(Auth().AuthenticatePassword("x", "y", "1.2.3.4"), "anonymous", "admin", "none");
  AddUser("alice", "reader", "pw-alice");
  EXPECT_FALSE(Auth().Required());  // the count is re-read at most once a second
  clock_.Advance(1'000'000);
  EXPECT_TRUE(Auth().Required());
  ExpectRefused(Http(""), StatusCode::kUnauthenticated, std::string(kMissingCredentials));
  const int reads = store_.user_count_calls;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(Auth().Required());
  EXPECT_EQ(store_.user_count_calls, reads);
}

TEST_F(AuthenticatorTest, RequiredByConfigWithoutUsers) {
  config_.required = true;
  EXPECT_TRUE(Auth().Required());
  ExpectRefused(Http(""), StatusCode::kUnauthenticated, std::string(kMissingCredentials));
  ExpectPrincipal(Http("Bearer " + Jwt("reader", clock_.NowUnix() + 60)), "carol", "reader", "jwt");
}

TEST_F(AuthenticatorTest, ApiKeyIsVerifiedOnceThenServedFromTheCache) {
  AddUser("alice", "operator", "");
  const std::string key = AddKey("alice");
  for (int i = 0; i < 5; ++i) {
    ExpectPrincipal(Http("Bearer " + key), "alice", "operator", "key", KeyId(key));
  }
  EXPECT_EQ(verify_calls_, 1);
  EXPECT_EQ(store_.find_key_calls, 1);
}

TEST_F(AuthenticatorTest, RevokedKeyStopsWithinOneSecondWithoutArgon2) {
  AddUser("alice", "operator", "");
  const std::string key = AddKey("alice");
  ExpectPrincipal(Http("Bearer " + key), "alice", "operator", "key", KeyId(key));
  clock_.Advance(1);
  const int64_t revoked = clock_.NowUnix();
  ASSERT_TRUE(store_.RevokeKey(KeyId(key), revoked).ok());
  const std::string message = fmt::format("API key '{}' was revoked at {}", KeyId(key),
                                          FormatTimestampMillis(revoked * 1000));
  clock_.Advance(999'998);  // 0.999999 s after the check: still the cached answer
  ExpectPrincipal(Http("Bearer " + key), "alice", "operator", "key", KeyId(key));
  clock_.Advance(1);  // a second after the check: asked again
  ExpectRefused(Http("Bearer " + key), StatusCode::kUnauthenticated, message);
  // A fresh full check refuses it too (verifying the secret first).
  ExpectRefused(Http("Bearer " + key), StatusCode::kUnauthenticated, message);
  EXPECT_EQ(verify_calls_, 2);  // the first check and the last; not the revalidation
}

TEST_F(AuthenticatorTest, RoleChangeAndUserRemovalTakeEffectWithinOneSecond) {
  AddUser("admin", "admin", "");  // keeps authentication on once alice is gone
  AddUser("alice", "operator", "");
  const std::string key = AddKey("alice");
  ExpectPrincipal(Http("Bearer " + key), "alice", "operator", "key", KeyId(key));
  store_.SetUser(UserRecord{"alice", "reader", "", 0});
  clock_.Advance(1'000'000);
  ExpectPrincipal(Http("Bearer " + key), "alice", "reader", "key", KeyId(key));
  EXPECT_EQ(verify_calls_, 1);
  const int64_t removed = clock_.NowUnix();
  ASSERT_TRUE(store_.RemoveUser("alice", removed).ok());
  clock_.Advance(1'000'000);
  ExpectRefused(Http("Bearer " + key), StatusCode::kUnauthenticated,
                fmt::format("API key '{}' was revoked at {}", KeyId(key),
                            FormatTimestampMillis(removed * 1000)));
  EXPECT_EQ(verify_calls_, 1);
}

TEST_F(AuthenticatorTest, ExpiredKey) {
  AddUser("alice", "operator", "");
  const int64_t expires = clock_.NowUnix() + 10;
  const std::string key = AddKey("alice", expires);
  ExpectPrincipal(Http("Bearer " + key), "alice", "operator", "key", KeyId(key));
  clock_.Advance(10'000'000);
  ExpectRefused(
      Http("Bearer " + key), StatusCode::kUnauthenticated,
      fmt::format("API key '{}' expired at {}", KeyId(key), FormatTimestampMillis(expires * 1000)));
}

TEST_F(AuthenticatorTest, BadKeys) {
  AddUser("alice", "operator", "");
  const std::string key = AddKey("alice");
  const std::string id = KeyId(key);
  std::string wrong = key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';  // same shape, another secret
  ExpectRefused(Http("Bearer " + wrong), StatusCode::kUnauthenticated,
                fmt::format("API key '{}' has a wrong secret", id));
  auto ghost = GenerateApiKey("alice", clock_.NowUnix(), 0);  // never stored
  ASSERT_TRUE(ghost.ok());
  ExpectRefused(Http("Bearer " + ghost->text, "10.0.0.2"), StatusCode::kUnauthenticated,
                fmt::format("unknown API key '{}'", ghost->record.key_id));
  ExpectRefused(Http("Bearer dfk_", "10.0.0.2"), StatusCode::kUnauthenticated,
                "malformed API key (expected dfk_<key id>_<secret>)");
  ExpectRefused(Http("Bearer   ", "10.0.0.3"), StatusCode::kUnauthenticated,
                "the Bearer token is empty");
  ExpectRefused(Http("Bearer opaque-token", "10.0.0.3"), StatusCode::kUnauthenticated,
                "the Bearer token is neither an API key (dfk_...) nor a JWT");
  ExpectRefused(Http("Digest username=x", "10.0.0.4"), StatusCode::kUnauthenticated,
                "unsupported authorization scheme 'Digest' (use Bearer or Basic)");
  // The scheme is case-insensitive (RFC 9110).
  ExpectPrincipal(Http("bearer " + key), "alice", "operator", "key", id);
}

TEST_F(AuthenticatorTest, BasicAndCqlPasswords) {
  AddUser("bob", "analyst", "s3cret pass:word");
  ExpectPrincipal(Http(Basic("bob:s3cret pass:word")), "bob", "analyst", "basic");
  ExpectPrincipal(Http(Basic("bob:s3cret pass:word")), "bob", "analyst", "basic");
  EXPECT_EQ(verify_calls_, 1);
  ExpectPrincipal(Auth().AuthenticatePassword("bob", "s3cret pass:word", "10.0.0.9"), "bob",
                  "analyst", "password");
  ExpectRefused(Http(Basic("bob:wrong")), StatusCode::kUnauthenticated,
                "wrong user name or password");
  ExpectRefused(Http(Basic("nobody:wrong"), "10.0.0.5"), StatusCode::kUnauthenticated,
                "wrong user name or password");
  ExpectRefused(Http("Basic !!!", "10.0.0.6"), StatusCode::kUnauthenticated,
                "malformed Basic credentials (expected base64 of user:password)");
  ExpectRefused(Http(Basic("no-colon"), "10.0.0.6"), StatusCode::kUnauthenticated,
                "malformed Basic credentials (expected base64 of user:password)");
}

TEST_F(AuthenticatorTest, ChangedPasswordIsVerifiedAgain) {
  AddUser("bob", "analyst", "old-password");
  ExpectPrincipal(Http(Basic("bob:old-password")), "bob", "analyst", "basic");
  store_.SetUser(UserRecord{"bob", "analyst", HashSecret("new-password").value(), 0});
  clock_.Advance(1'000'000);
  ExpectRefused(Http(Basic("bob:old-password")), StatusCode::kUnauthenticated,
                "wrong user name or password");
  ExpectPrincipal(Http(Basic("bob:new-password")), "bob", "analyst", "basic");
}

TEST_F(AuthenticatorTest, FailedLoginsAreLimitedPerAddress) {
  AddUser("bob", "analyst", "right");
  for (int i = 0; i < 3; ++i) {
    ExpectRefused(Http(Basic("bob:wrong"), "10.0.0.7"), StatusCode::kUnauthenticated,
                  "wrong user name or password");
  }
  const int verified = verify_calls_;
  // Over the limit: refused without checking, even the right password.
  ExpectRefused(Http(Basic("bob:right"), "10.0.0.7"), StatusCode::kResourceExhausted,
                "too many failed logins from 10.0.0.7; retry in 20s");
  EXPECT_EQ(verify_calls_, verified);
  // Another address is not affected.
  ExpectPrincipal(Http(Basic("bob:right"), "10.0.0.8"), "bob", "analyst", "basic");
  clock_.Advance(19'000'000);
  ExpectRefused(Http(Basic("bob:right"), "10.0.0.7"), StatusCode::kResourceExhausted,
                "too many failed logins from 10.0.0.7; retry in 1s");
  clock_.Advance(1'000'000);
  ExpectPrincipal(Http(Basic("bob:right"), "10.0.0.7"), "bob", "analyst", "basic");
  // One token back only: the next failure blocks again.
  ExpectRefused(Http(Basic("bob:wrong"), "10.0.0.7"), StatusCode::kUnauthenticated,
                "wrong user name or password");
  ExpectRefused(Http(Basic("bob:right"), "10.0.0.7"), StatusCode::kResourceExhausted,
                "too many failed logins from 10.0.0.7; retry in 20s");
}

TEST_F(AuthenticatorTest, JwtsAreCachedUntilTheyExpire) {
  config_.required = true;
  const int64_t exp = clock_.NowUnix() + 60;
  const std::string token = Jwt("analyst", exp);
  ExpectPrincipal(Http("Bearer " + token), "carol", "analyst", "jwt");
  clock_.Advance(89'000'000);  // exp + 29 s: within the 30 s leeway
  ExpectPrincipal(Http("Bearer " + token), "carol", "analyst", "jwt");
  clock_.Advance(1'000'000);
  ExpectRefused(Http("Bearer " + token), StatusCode::kUnauthenticated,
                "token expired at " + FormatTimestampMillis(exp * 1000));
  ExpectRefused(Http("Bearer " + Jwt("superuser", clock_.NowUnix() + 60), "10.0.1.1"),
                StatusCode::kUnauthenticated,
                "the token's role 'superuser' is not a role of this server (built-in or "
                "auth.roles)");
}

TEST_F(AuthenticatorTest, ConcurrentRequestsWithANewKeyRunArgon2Once) {
  AddUser("alice", "operator", "");
  const std::string key = AddKey("alice");
  Auth();  // created before the threads share it
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) ok += Http("Bearer " + key).ok();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 1600);
  EXPECT_EQ(verify_calls_, 1);
}

// A store that cannot be read is a 503, not a refused key: it does not count as a failed login.
TEST_F(AuthenticatorTest, StoreOutageIsUnavailableAndNotAFailedLogin) {
  AddUser("alice", "operator", "");
  const std::string key = AddKey("alice");
  ExpectPrincipal(Http("Bearer " + key), "alice", "operator", "key", KeyId(key));
  store_.down = true;
  clock_.Advance(1'000'000);
  for (int i = 0; i < 5; ++i) {
    ExpectRefused(Http("Bearer " + key), StatusCode::kUnavailable,
                  "credential store: database is locked");
  }
  store_.down = false;
  ExpectPrincipal(Http("Bearer " + key), "alice", "operator", "key", KeyId(key));
}

// What docs/security.md's Python snippet makes: JSON with spaces in the header.
TEST_F(AuthenticatorTest, TokenMintedAsTheDocsShow) {
  config_.required = true;
  const std::string token = testing::HandMadeToken(
      R"({"alg": "HS256", "typ": "JWT"})",
      fmt::format(R"({{"sub": "ci-bot", "role": "reader", "aud": "dataforge", "exp": {}}})",
                  clock_.NowUnix() + 600),
      kJwtSecret);
  ExpectPrincipal(Http("Bearer " + token), "ci-bot", "reader", "jwt");
}

// The last user removed: authentication is off again (unless auth.required), as documented.
TEST_F(AuthenticatorTest, RemovingTheLastUserTurnsAuthenticationOff) {
  AddUser("alice", "operator", "");
  const std::string key = AddKey("alice");
  EXPECT_TRUE(Auth().Required());
  ASSERT_TRUE(store_.RemoveUser("alice", clock_.NowUnix()).ok());
  clock_.Advance(1'000'000);
  EXPECT_FALSE(Auth().Required());
  ExpectPrincipal(Http(""), "anonymous", "admin", "none");
}

TEST_F(AuthenticatorTest, BadJwtConfigIsAConfigError) {
  config_.jwt.jwks_file = "/nonexistent/jwks.json";
  auto a = Authenticator::Create(config_, &store_, policy_.get(), &clock_);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(a.status().message(),
            "/nonexistent/jwks.json: cannot read the JWKS file (auth.jwt.jwks_file): No such "
            "file or directory");
}

}  // namespace
}  // namespace dataforge::auth
