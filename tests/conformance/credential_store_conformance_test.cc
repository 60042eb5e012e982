// The CredentialStore contract (auth/credential_store.h), checked for every backend: SQLite, and
// PostgreSQL on a real throwaway server (shared_postgres.h).
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "auth/credential_store.h"
#include "conformance/shared_postgres.h"
#include "integration/subprocess.h"

namespace dataforge::auth {
namespace {

struct SqliteBackend {
  testing::TempDir dir;
  std::string url() { return "sqlite://" + dir.Sub("staging.db"); }
  // Whether opening made a database file.
  bool Created() { return access(dir.Sub("staging.db").c_str(), F_OK) == 0; }
};

struct PostgresBackend {
  std::string db = testing::FreshPostgresDatabase();
  std::string url() { return db; }
  bool Created() { return false; }  // the database exists before the test
};

UserRecord User(const std::string& name, const std::string& role, int64_t created,
                const std::string& hash = "") {
  return UserRecord{name, role, hash, created};
}

ApiKeyRecord Key(const std::string& id, const std::string& user, int64_t created,
                 int64_t expires = 0, int64_t revoked = 0) {
  return ApiKeyRecord{id, user, "$argon2id$hash-of-" + id, created, expires, revoked};
}

void ExpectUser(const UserRecord& got, const UserRecord& want) {
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.role, want.role);
  EXPECT_EQ(got.password_hash, want.password_hash);
  EXPECT_EQ(got.created_unix, want.created_unix);
}

void ExpectKey(const ApiKeyRecord& got, const ApiKeyRecord& want) {
  EXPECT_EQ(got.key_id, want.key_id);
  EXPECT_EQ(got.user, want.user);
  EXPECT_EQ(got.secret_hash, want.secret_hash);
  EXPECT_EQ(got.created_unix, want.created_unix);
  EXPECT_EQ(got.expires_unix, want.expires_unix);
  EXPECT_EQ(got.revoked_unix, want.revoked_unix);
}

template <typename B>
class CredentialStoreConformance : public ::testing::Test {
 protected:
  std::unique_ptr<CredentialStore> Open(OpenMode mode = OpenMode::kReadWrite) {
    auto s = OpenCredentialStore(backend_.url(), mode);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  std::vector<std::string> UserNames(CredentialStore* s) {
    auto users = s->ListUsers();
    EXPECT_TRUE(users.ok()) << users.status().ToString();
    std::vector<std::string> out;
    if (users.ok()) {
      for (const auto& u : *users) out.push_back(u.name);
    }
    return out;
  }

  std::vector<std::string> KeyIds(CredentialStore* s) {
    auto keys = s->ListKeys();
    EXPECT_TRUE(keys.ok()) << keys.status().ToString();
    std::vector<std::string> out;
    if (keys.ok()) {
      for (const auto& k : *keys) out.push_back(k.key_id);
    }
    return out;
  }

  B backend_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteBackend> ? "Sqlite" : "Postgres";
  }
};
TYPED_TEST_SUITE(CredentialStoreConformance, Backends, BackendNames);

TYPED_TEST(CredentialStoreConformance, AFreshStoreHasNoUsersAndNoKeys) {
  auto s = this->Open();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(*s->UserCount(), 0u);
  EXPECT_EQ(this->UserNames(s.get()), std::vector<std::string>{});
  EXPECT_EQ(this->KeyIds(s.get()), std::vector<std::string>{});
  EXPECT_EQ(*s->FindUser("admin"), std::nullopt);
  EXPECT_EQ(s->FindKey("0123456789ab")->has_value(), false);
}

TYPED_TEST(CredentialStoreConformance, ReadOnlyWithoutTablesReadsEmptyThenSeesLaterChanges) {
  auto reader = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  EXPECT_FALSE(this->backend_.Created()) << "kReadOnly created the database file";
  EXPECT_EQ(*reader->UserCount(), 0u);
  EXPECT_EQ(this->UserNames(reader.get()), std::vector<std::string>{});
  EXPECT_EQ(this->KeyIds(reader.get()), std::vector<std::string>{});
  EXPECT_EQ(*reader->FindUser("bob"), std::nullopt);
  EXPECT_EQ(reader->FindKey("k1")->has_value(), false);
  Status w = reader->AddUser(User("bob", "reader", 10));
  EXPECT_EQ(w.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.message(), "the credential store is open read-only");
  EXPECT_EQ(reader->RemoveUser("bob", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->AddKey(Key("k1", "bob", 1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->RevokeKey("k1", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*reader->UserCount(), 0u);

  // A writer creates the tables; the open reader sees its changes at its next call.
  auto writer = this->Open();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->AddUser(User("bob", "reader", 10)).ok());
  ASSERT_TRUE(writer->AddKey(Key("k1", "bob", 11)).ok());
  EXPECT_EQ(*reader->UserCount(), 1u);
  ExpectUser(reader->FindUser("bob")->value(), User("bob", "reader", 10));
  ExpectKey(reader->FindKey("k1")->value(), Key("k1", "bob", 11));
  ASSERT_TRUE(writer->RevokeKey("k1", 12).ok());
  EXPECT_EQ(reader->FindKey("k1")->value().revoked_unix, 12);
  ASSERT_TRUE(writer->RemoveUser("bob", 13).ok());
  EXPECT_EQ(*reader->FindUser("bob"), std::nullopt);
  EXPECT_EQ(*reader->UserCount(), 0u);
}

TYPED_TEST(CredentialStoreConformance, UsersAreAddedOnceFoundAndListedByName) {
  auto s = this->Open();
  ASSERT_NE(s, nullptr);
  auto hash = HashSecret("pw");
  ASSERT_TRUE(hash.ok());
  ASSERT_TRUE(s->AddUser(User("carol", "operator", 300, *hash)).ok());
  ASSERT_TRUE(s->AddUser(User("alice", "admin", 100)).ok());
  ASSERT_TRUE(s->AddUser(User("Bob", "reader", 200)).ok());
  Status dup = s->AddUser(User("alice", "reader", 400, *hash));
  EXPECT_EQ(dup.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(dup.message(), "user 'alice' exists already");
  EXPECT_EQ(*s->UserCount(), 3u);
  // Byte order: upper case first.
  EXPECT_EQ(this->UserNames(s.get()), (std::vector<std::string>{"Bob", "alice", "carol"}));
  auto users = s->ListUsers();
  ASSERT_TRUE(users.ok());
  ExpectUser((*users)[0], User("Bob", "reader", 200));
  ExpectUser((*users)[1], User("alice", "admin", 100));  // the duplicate changed nothing
  ExpectUser((*users)[2], User("carol", "operator", 300, *hash));
  auto carol = s->FindUser("carol");
  ASSERT_TRUE(carol.ok() && carol->has_value());
  EXPECT_TRUE(VerifySecret((*carol)->password_hash, "pw"));
  EXPECT_EQ(*s->FindUser("bob"), std::nullopt);  // names are case-sensitive
  // Durable: a new handle sees the same.
  s.reset();
  auto again = this->Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(this->UserNames(again.get()), (std::vector<std::string>{"Bob", "alice", "carol"}));
}

TYPED_TEST(CredentialStoreConformance, KeysBelongToExistingUsersAndAreListedByUserThenCreated) {
  auto s = this->Open();
  ASSERT_NE(s, nullptr);
  Status orphan = s->AddKey(Key("k0", "nobody", 1));
  EXPECT_EQ(orphan.code(), StatusCode::kNotFound);
  EXPECT_EQ(orphan.message(), "no user 'nobody'");
  ASSERT_TRUE(s->AddUser(User("bob", "reader", 1)).ok());
  ASSERT_TRUE(s->AddUser(User("alice", "admin", 1)).ok());
  ASSERT_TRUE(s->AddKey(Key("k3", "bob", 30, 1000)).ok());
  ASSERT_TRUE(s->AddKey(Key("k1", "bob", 10)).ok());
  ASSERT_TRUE(s->AddKey(Key("k2", "alice", 20)).ok());
  Status dup = s->AddKey(Key("k1", "alice", 40));
  EXPECT_EQ(dup.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(dup.message(), "API key 'k1' exists already");
  EXPECT_EQ(this->KeyIds(s.get()), (std::vector<std::string>{"k2", "k1", "k3"}));
  ExpectKey(s->FindKey("k3")->value(), Key("k3", "bob", 30, 1000));
  ExpectKey(s->FindKey("k1")->value(), Key("k1", "bob", 10));  // the duplicate changed nothing
  EXPECT_EQ(s->FindKey("k4")->has_value(), false);

  // A generated key is found by the id in its text and verifies against the stored hash.
  auto generated = GenerateApiKey("alice", 50, 0);
  ASSERT_TRUE(generated.ok());
  ASSERT_TRUE(s->AddKey(generated->record).ok());
  auto id = ApiKeyId(generated->text);
  ASSERT_TRUE(id.has_value());
  auto found = s->FindKey(*id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->user, "alice");
  EXPECT_TRUE(VerifySecret((*found)->secret_hash, generated->text));
}

TYPED_TEST(CredentialStoreConformance, RevokingKeepsTheFirstTime) {
  auto s = this->Open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->AddUser(User("bob", "reader", 1)).ok());
  ASSERT_TRUE(s->AddKey(Key("k1", "bob", 10)).ok());
  ASSERT_TRUE(s->AddKey(Key("k2", "bob", 11)).ok());
  ASSERT_TRUE(s->RevokeKey("k1", 100).ok());
  ASSERT_TRUE(s->RevokeKey("k1", 200).ok());
  EXPECT_EQ(s->FindKey("k1")->value().revoked_unix, 100);
  EXPECT_EQ(s->FindKey("k2")->value().revoked_unix, 0);
  Status missing = s->RevokeKey("nope", 300);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.message(), "no API key 'nope'");
}

TYPED_TEST(CredentialStoreConformance, RemovingAUserRevokesItsKeysAndOnlyItsKeys) {
  auto s = this->Open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->AddUser(User("bob", "reader", 1)).ok());
  ASSERT_TRUE(s->AddUser(User("carol", "reader", 1)).ok());
  ASSERT_TRUE(s->AddKey(Key("b1", "bob", 10)).ok());
  ASSERT_TRUE(s->AddKey(Key("b2", "bob", 11, 0, 50)).ok());  // revoked before
  ASSERT_TRUE(s->AddKey(Key("c1", "carol", 12)).ok());
  ASSERT_TRUE(s->RemoveUser("bob", 100).ok());
  EXPECT_EQ(*s->FindUser("bob"), std::nullopt);
  EXPECT_EQ(*s->UserCount(), 1u);
  ExpectKey(s->FindKey("b1")->value(), Key("b1", "bob", 10, 0, 100));
  ExpectKey(s->FindKey("b2")->value(), Key("b2", "bob", 11, 0, 50));
  ExpectKey(s->FindKey("c1")->value(), Key("c1", "carol", 12, 0, 0));
  Status again = s->RemoveUser("bob", 200);
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.message(), "no user 'bob'");
  // A new user of the same name does not bring the old keys back; new keys are its own.
  ASSERT_TRUE(s->AddUser(User("bob", "admin", 300)).ok());
  EXPECT_EQ(s->FindKey("b1")->value().revoked_unix, 100);
  ASSERT_TRUE(s->AddKey(Key("b3", "bob", 301)).ok());
  EXPECT_EQ(this->KeyIds(s.get()), (std::vector<std::string>{"b1", "b2", "b3", "c1"}));
}

TYPED_TEST(CredentialStoreConformance, TwoOpenStoresSeeEachOthersChanges) {
  auto a = this->Open();
  auto b = this->Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->AddUser(User("bob", "reader", 1)).ok());
  EXPECT_EQ(b->AddUser(User("bob", "admin", 2)).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(b->AddKey(Key("k1", "bob", 3)).ok());
  EXPECT_EQ(a->FindKey("k1")->value().user, "bob");
  ASSERT_TRUE(b->RemoveUser("bob", 4).ok());
  EXPECT_EQ(*a->FindUser("bob"), std::nullopt);
  EXPECT_EQ(a->FindKey("k1")->value().revoked_unix, 4);
  EXPECT_EQ(a->AddKey(Key("k2", "bob", 5)).code(), StatusCode::kNotFound);
}

TYPED_TEST(CredentialStoreConformance, ConcurrentAddsOfOneNameLetExactlyOneWin) {
  // Four stores (four connections) and two threads on each: every name is added by all eight.
  std::vector<std::unique_ptr<CredentialStore>> stores;
  for (int i = 0; i < 4; ++i) {
    stores.push_back(this->Open());
    ASSERT_NE(stores.back(), nullptr);
  }
  constexpr int kNames = 10;
  std::atomic<int> won{0}, lost{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      CredentialStore* s = stores[t % 4].get();
      for (int n = 0; n < kNames; ++n) {
        Status st = s->AddUser(User(fmt::format("user{}", n), "reader", t));
        if (st.ok()) {
          ++won;
        } else if (st.code() == StatusCode::kFailedPrecondition) {
          ++lost;
        } else {
          ++failed;
          ADD_FAILURE() << st.ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), kNames);
  EXPECT_EQ(lost.load(), 7 * kNames);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(*stores[0]->UserCount(), static_cast<uint64_t>(kNames));
}

}  // namespace
}  // namespace dataforge::auth
