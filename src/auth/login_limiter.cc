#include "auth/login_limiter.h"

#include <algorithm>

namespace dataforge::auth {
namespace {
constexpr int64_t kMinuteUs = 60'000'000;
}  // namespace

void LoginLimiter::Decay(Bucket* b, int64_t now_us) const {
  // A minute pays back any debt; the clamp also keeps elapsed x N far from overflow.
  const int64_t elapsed = std::clamp<int64_t>(now_us - b->updated_us, 0, kMinuteUs);
  b->debt = std::max<int64_t>(0, b->debt - elapsed * max_per_minute_);
  b->updated_us = now_us;
}

int64_t LoginLimiter::RetryAfterSeconds(std::string_view address, int64_t now_us) {
  if (max_per_minute_ <= 0 || tracked_.load(std::memory_order_relaxed) == 0) return 0;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(address));
  if (it == buckets_.end()) return 0;
  Decay(&it->second, now_us);
  if (it->second.debt == 0) {  // recovered: forget the address
    buckets_.erase(it);
    tracked_.store(buckets_.size(), std::memory_order_relaxed);
    return 0;
  }
  const int64_t over = it->second.debt - (max_per_minute_ - 1) * kMinuteUs;
  if (over <= 0) return 0;
  const int64_t per_second = int64_t{max_per_minute_} * 1'000'000;
  return (over + per_second - 1) / per_second;
}

void LoginLimiter::RecordFailure(std::string_view address, int64_t now_us) {
  if (max_per_minute_ <= 0) return;
  std::lock_guard lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(std::string(address), Bucket{0, now_us});
  Decay(&it->second, now_us);
  // Never more than a full bucket of debt: waiting stays at most 60/N s past the last failure.
  it->second.debt = std::min(it->second.debt + kMinuteUs, int64_t{max_per_minute_} * kMinuteUs);
  if (inserted && buckets_.size() > kMaxAddresses) PruneLocked(now_us);
  tracked_.store(buckets_.size(), std::memory_order_relaxed);
}

void LoginLimiter::PruneLocked(int64_t now_us) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Decay(&it->second, now_us);
    it = it->second.debt == 0 ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() > kMaxAddresses) buckets_.clear();
}

}  // namespace dataforge::auth
