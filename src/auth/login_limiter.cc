#include "auth/login_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace dataforge::auth {
namespace {
constexpr int64_t kMinuteUs = 60'000'000;
}  // namespace

std::string LoginLimiter::BucketKey(std::string_view address) {
  if (address.find(':') == std::string_view::npos || address.size() >= INET6_ADDRSTRLEN) {
    return std::string(address);
  }
  const std::string text(address);
  unsigned char a[16];
  if (inet_pton(AF_INET6, text.c_str(), a) != 1) return text;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN];
  if (std::memcmp(a, kMapped, sizeof kMapped) == 0) {
    return inet_ntop(AF_INET, a + 12, out, sizeof out) ? std::string(out) : text;
  }
  std::memset(a + 8, 0, 8);
  return inet_ntop(AF_INET6, a, out, sizeof out) ? std::string(out) + "/64" : text;
}

void LoginLimiter::Decay(Bucket* b, int64_t now_us) const {
  // A minute pays back any debt; the clamp also keeps elapsed x N far from overflow.
  const int64_t elapsed = std::clamp<int64_t>(now_us - b->updated_us, 0, kMinuteUs);
  b->debt = std::max<int64_t>(0, b->debt - elapsed * max_per_minute_);
  b->updated_us = now_us;
}

int64_t LoginLimiter::RetryAfterSeconds(std::string_view address, int64_t now_us) {
  if (max_per_minute_ <= 0 || tracked_.load(std::memory_order_relaxed) == 0) return 0;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(BucketKey(address));
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
  auto [it, inserted] = buckets_.try_emplace(BucketKey(address), Bucket{0, now_us});
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
