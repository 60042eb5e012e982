// Failed-login limit per client address (auth.max_failed_logins_per_minute): a token bucket per
// address holding `max_per_minute` tries, refilled at max_per_minute per 60 s. Each failed login
// takes a token; with none left the address must wait until one is back.
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

 private:
  struct Bucket {
    double tokens;
    int64_t updated_us;
  };
  // Refills `b` up to now. REQUIRES: mu_ held.
  void Refill(Bucket* b, int64_t now_us) const;
  void PruneLocked(int64_t now_us);

  const int max_per_minute_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
  std::atomic<size_t> tracked_{0};                   // buckets_.size(), read without mu_
};

}  // namespace dataforge::auth
