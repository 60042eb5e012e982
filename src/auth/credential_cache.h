// The Authenticator's cache of verified credentials, keyed by the SHA-256 of the credential
// (the Authorization header's value, or user and password), never the credential itself.
//
// An entry for an API key or a password was checked against the store at `checked_us`
// (monotonic); it is fresh for `max_age_us` and until `expires_unix` (wall clock; 0 = never).
// An entry for a JWT needs no store: it is fresh until the token's expiry.
//
// Memory: at most kMaxEntries; when full, the entries that are not fresh are dropped, and if
// that is not enough, all of them (the next requests verify again).
// Thread-safety: safe for concurrent use; Lookup() takes a shared lock, Put()/Erase() an
// exclusive one.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/principal.h"

namespace dataforge::auth {

using Digest = std::array<unsigned char, 32>;

// SHA-256 of the concatenation of `parts`, each preceded by its length (so ("ab","c") and
// ("a","bc") differ).
Digest CredentialDigest(std::initializer_list<std::string_view> parts);

struct CacheEntry {
  enum class Kind { kKey, kPassword, kJwt };
  Kind kind = Kind::kKey;
  Principal principal;
  // The argon2 hash the credential was verified against (key or user row): a revalidation that
  // finds another hash (key re-issued, password changed) must verify again.
  std::string stored_hash;
  int64_t checked_us = 0;    // monotonic time of the last check against the store
  int64_t expires_unix = 0;  // key expiry or token exp plus leeway; 0 = never
};

class CredentialCache {
 public:
  static constexpr size_t kMaxEntries = 100000;

  explicit CredentialCache(int64_t max_age_us) : max_age_us_(max_age_us) {}

  enum class State { kMiss, kFresh, kStale };
  // Whether the entry for `key` may be used as is. kFresh copies only its principal into *out
  // (the hot path stays cheap); kStale copies all of it, for the revalidation.
  State Lookup(const Digest& key, int64_t now_us, int64_t now_unix, CacheEntry* out) const;
  void Put(const Digest& key, CacheEntry entry, int64_t now_us, int64_t now_unix);
  void Erase(const Digest& key);
  size_t size() const;

 private:
  struct DigestHash {
    size_t operator()(const Digest& d) const {
      size_t h;
      std::memcpy(&h, d.data(), sizeof h);  // already uniformly distributed
      return h;
    }
  };
  bool Fresh(const CacheEntry& e, int64_t now_us, int64_t now_unix) const;

  const int64_t max_age_us_;
  mutable std::shared_mutex mu_;
  std::unordered_map<Digest, CacheEntry, DigestHash> entries_;  // GUARDED_BY(mu_)
};

}  // namespace dataforge::auth
