// The PostgreSQL credential store across a server restart and a kill -9: calls reconnect and go
// on (PgSession), and nothing committed is lost. The contract itself is checked for every
// backend by tests/conformance/credential_store_conformance_test.cc.
#include <gtest/gtest.h>

#include "auth/credential_store.h"
#include "integration/pg_server.h"

namespace dataforge::testing {
namespace {

TEST(CredentialStorePostgresTest, SurvivesRestartsOfTheServer) {
  PostgresServer pg;
  auto opened = auth::OpenCredentialStore(pg.Url(), OpenMode::kReadWrite);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto store = std::move(opened).value();
  auto reader = auth::OpenCredentialStore(pg.Url(), OpenMode::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE(store->AddUser({"alice", "admin", "", 1}).ok());
  ASSERT_TRUE(store->AddKey({"0123456789ab", "alice", "$argon2id$x", 2, 0, 0}).ok());

  pg.Restart();
  // Both connections broke; each call reconnects and succeeds.
  auto alice = (*reader)->FindUser("alice");
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  ASSERT_TRUE(alice->has_value());
  EXPECT_EQ((*alice)->role, "admin");
  Status s = store->AddUser({"bob", "reader", "", 3});
  EXPECT_TRUE(s.ok()) << s.ToString();

  pg.Kill9();
  pg.Start();
  s = store->RevokeKey("0123456789ab", 4);
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = store->RemoveUser("bob", 5);
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto count = (*reader)->UserCount();
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 1u);
  auto key = (*reader)->FindKey("0123456789ab");
  ASSERT_TRUE(key.ok() && key->has_value()) << key.status().ToString();
  EXPECT_EQ((*key)->revoked_unix, 4);
  EXPECT_EQ(pg.Psql("SELECT string_agg(name || ':' || role, ',' ORDER BY name) FROM "
                    "dataforge.auth_users"),
            "alice:admin");
}

}  // namespace
}  // namespace dataforge::testing
