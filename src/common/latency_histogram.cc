#include "common/latency_histogram.h"

#include <bit>

namespace dataforge {

int LatencyHistogram::BucketOf(uint64_t v) {
  if (v < (1u << kSubBits)) return static_cast<int>(v);
  int msb = 63 - std::countl_zero(v);  // >= kSubBits
  int shift = msb - kSubBits;
  uint64_t sub = (v >> shift) & ((1u << kSubBits) - 1);
  return ((shift + 1) << kSubBits) + static_cast<int>(sub);
}

uint64_t LatencyHistogram::UpperBoundOf(int bucket) {
  int group = bucket >> kSubBits;
  uint64_t sub = static_cast<uint64_t>(bucket & ((1 << kSubBits) - 1));
  if (group == 0) return sub;
  int shift = group - 1;
  return (((1ull << kSubBits) | sub) << shift) + ((1ull << shift) - 1);
}

void LatencyHistogram::Record(int64_t micros) {
  uint64_t v = micros < 0 ? 0 : static_cast<uint64_t>(micros);
  buckets_[BucketOf(v)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  int64_t prev = max_.load(std::memory_order_relaxed);
  while (static_cast<int64_t>(v) > prev &&
         !max_.compare_exchange_weak(prev, static_cast<int64_t>(v), std::memory_order_relaxed)) {
  }
}

int64_t LatencyHistogram::Percentile(double p) const {
  uint64_t total = 0;
  for (const auto& b : buckets_) total += b.load(std::memory_order_relaxed);
  if (total == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(p / 100.0 * static_cast<double>(total) + 0.5);
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      int64_t bound = static_cast<int64_t>(UpperBoundOf(i));
      int64_t mx = Max();
      return bound < mx ? bound : mx;
    }
  }
  return Max();
}

std::vector<uint64_t> LatencyHistogram::CumulativeCounts(
    const std::vector<int64_t>& bounds_us) const {
  std::vector<uint64_t> out(bounds_us.size() + 1, 0);
  uint64_t seen = 0;
  size_t next = 0;  // the first bound the buckets so far have not passed
  for (int i = 0; i < kBuckets; ++i) {
    uint64_t upper = UpperBoundOf(i);
    // Bounds below this bucket's upper end hold what came before it.
    while (next < bounds_us.size() &&
           (bounds_us[next] < 0 || static_cast<uint64_t>(bounds_us[next]) < upper)) {
      out[next++] = seen;
    }
    seen += buckets_[i].load(std::memory_order_relaxed);
  }
  while (next < bounds_us.size()) out[next++] = seen;
  out.back() = seen;
  return out;
}

void LatencyHistogram::Reset() {
  for (auto& b : buckets_) b.store(0, std::memory_order_relaxed);
  count_.store(0);
  max_.store(0);
  sum_.store(0);
}

}  // namespace dataforge
