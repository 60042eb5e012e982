#include "auth/credential_cache.h"

#include <gtest/gtest.h>

namespace dataforge::auth {
namespace {

CacheEntry Entry(CacheEntry::Kind kind, int64_t checked_us, int64_t expires_unix = 0) {
  CacheEntry e;
  e.kind = kind;
  e.principal = Principal{"alice", "reader", "key", "k1"};
  e.stored_hash = "$argon2id$...";
  e.checked_us = checked_us;
  e.expires_unix = expires_unix;
  return e;
}

TEST(CredentialCacheTest, DigestsSeparateTheParts) {
  EXPECT_NE(CredentialDigest({"ab", "c"}), CredentialDigest({"a", "bc"}));
  EXPECT_EQ(CredentialDigest({"http", "Bearer x"}), CredentialDigest({"http", "Bearer x"}));
  EXPECT_NE(CredentialDigest({"http", "Bearer x"}), CredentialDigest({"http", "Bearer y"}));
}

TEST(CredentialCacheTest, FreshThenStaleAfterMaxAgeOrExpiry) {
  CredentialCache cache(1'000'000);
  const Digest d = CredentialDigest({"k"});
  CacheEntry out;
  EXPECT_EQ(cache.Lookup(d, 0, 100, &out), CredentialCache::State::kMiss);
  cache.Put(d, Entry(CacheEntry::Kind::kKey, 5'000'000, 200), 5'000'000, 100);
  EXPECT_EQ(cache.Lookup(d, 5'999'999, 100, &out), CredentialCache::State::kFresh);
  EXPECT_EQ(out.principal.name, "alice");
  EXPECT_EQ(out.stored_hash, "");  // a fresh hit copies only the principal
  EXPECT_EQ(cache.Lookup(d, 6'000'000, 100, &out), CredentialCache::State::kStale);
  EXPECT_EQ(out.stored_hash, "$argon2id$...");
  EXPECT_EQ(cache.Lookup(d, 5'000'000, 200, &out), CredentialCache::State::kStale);  // expired
  // A JWT entry needs no store: fresh until its expiry, however old.
  const Digest j = CredentialDigest({"jwt"});
  cache.Put(j, Entry(CacheEntry::Kind::kJwt, 0, 300), 0, 100);
  EXPECT_EQ(cache.Lookup(j, 1'000'000'000, 299, &out), CredentialCache::State::kFresh);
  EXPECT_EQ(cache.Lookup(j, 0, 300, &out), CredentialCache::State::kStale);
  cache.Erase(j);
  EXPECT_EQ(cache.Lookup(j, 0, 100, &out), CredentialCache::State::kMiss);
}

TEST(CredentialCacheTest, BoundedSize) {
  CredentialCache cache(1'000'000);
  for (size_t i = 0; i < CredentialCache::kMaxEntries; ++i) {
    cache.Put(CredentialDigest({std::to_string(i)}), Entry(CacheEntry::Kind::kKey, 0), 0, 100);
  }
  EXPECT_EQ(cache.size(), CredentialCache::kMaxEntries);
  // Full, and every entry stale a second later: they make room for the new one.
  cache.Put(CredentialDigest({"new"}), Entry(CacheEntry::Kind::kKey, 1'000'000), 1'000'000, 100);
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace dataforge::auth
