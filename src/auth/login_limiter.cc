#include "auth/login_limiter.h"

#include <algorithm>
#include <cmath>

namespace dataforge::auth {
namespace {
constexpr double kMinuteUs = 60e6;
}  // namespace

void LoginLimiter::Refill(Bucket* b, int64_t now_us) const {
  const double rate = max_per_minute_ / kMinuteUs;  // tokens per microsecond
  const double elapsed = static_cast<double>(std::max<int64_t>(0, now_us - b->updated_us));
  b->tokens = std::min<double>(max_per_minute_, b->tokens + elapsed * rate);
  b->updated_us = now_us;
}

int64_t LoginLimiter::RetryAfterSeconds(std::string_view address, int64_t now_us) {
  if (max_per_minute_ <= 0 || tracked_.load(std::memory_order_relaxed) == 0) return 0;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(address));
  if (it == buckets_.end()) return 0;
  Refill(&it->second, now_us);
  if (it->second.tokens >= max_per_minute_) {  // recovered: forget the address
    buckets_.erase(it);
    tracked_.store(buckets_.size(), std::memory_order_relaxed);
    return 0;
  }
  if (it->second.tokens >= 1.0) return 0;
  const double wait_us = (1.0 - it->second.tokens) * kMinuteUs / max_per_minute_;
  return static_cast<int64_t>(std::ceil(wait_us / 1e6));
}

void LoginLimiter::RecordFailure(std::string_view address, int64_t now_us) {
  if (max_per_minute_ <= 0) return;
  std::lock_guard lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(std::string(address),
                                             Bucket{static_cast<double>(max_per_minute_), now_us});
  Refill(&it->second, now_us);
  it->second.tokens = std::max(0.0, it->second.tokens - 1.0);
  if (inserted && buckets_.size() > kMaxAddresses) PruneLocked(now_us);
  tracked_.store(buckets_.size(), std::memory_order_relaxed);
}

void LoginLimiter::PruneLocked(int64_t now_us) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(&it->second, now_us);
    it = it->second.tokens >= max_per_minute_ ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() > kMaxAddresses) buckets_.clear();
}

}  // namespace dataforge::auth
