// Failed-login limit per client address (auth.max_failed_logins_per_minute = N): a bucket of N
// tries per address, one try back every 60/N s (a token bucket, kept as an integer "debt" so the
// waits are exact). Each failed login takes a try; with none left the address must wait until
// one is back.
//
// An IPv6 client is limited by its /64 (one host usually holds a whole /64, so counting single
// addresses would let it rotate through 2^64 of them); an IPv4-mapped IPv6 address counts as its
// IPv4 address. Any other text is its own key.
//
// Memory: an address is forgotten once its bucket is full again; past kMaxAddresses tracked
// addresses the full buckets are dropped, and if that is not enough all of them (the limiter
// then forgets rather than grow without bound).
// Thread-safety: safe for concurrent use. RetryAfterSeconds() with no recent failure anywhere
// costs one atomic load.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dataforge::auth {

class LoginLimiter {
 public:
  static constexpr size_t kMaxAddresses = 100000;

  // 0 = no limit.
  explicit LoginLimiter(int max_per_minute) : max_per_minute_(max_per_minute) {}

  // Whole seconds (rounded up) until `address` may try again; 0 = it may try now.
  // `now_us`: monotonic microseconds.
  int64_t RetryAfterSeconds(std::string_view address, int64_t now_us);
  void RecordFailure(std::string_view address, int64_t now_us);

  // The bucket `address` counts against: "2001:db8:1:2::/64" for an IPv6 address, the IPv4
  // address of an IPv4-mapped one, the text itself otherwise.
  static std::string BucketKey(std::string_view address);

 private:
  // Failed tries not yet paid back, in microseconds x N: each failure adds 60e6, each
  // microsecond pays back N. Over (N-1) x 60e6 the address waits.
  struct Bucket {
    int64_t debt;
    int64_t updated_us;
  };
  // Pays back `b`'s debt up to now. REQUIRES: mu_ held.
  void Decay(Bucket* b, int64_t now_us) const;
  void PruneLocked(int64_t now_us);

  const int max_per_minute_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
  std::atomic<size_t> tracked_{0};                   // buckets_.size(), read without mu_
};

}  // namespace dataforge::auth
