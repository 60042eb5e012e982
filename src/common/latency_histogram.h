// A fixed-bucket latency histogram (microseconds), log-linear: 16 sub-buckets per power of two,
// so a percentile is within ~6% of the true value. Record() is lock-free and thread-safe;
// Percentile() may run concurrently with Record() and sees a recent snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace dataforge {

class LatencyHistogram {
 public:
  void Record(int64_t micros);
  // The value below which `p` (0..100) percent of recorded samples fall; 0 when empty.
  int64_t Percentile(double p) const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  int64_t Max() const { return max_.load(std::memory_order_relaxed); }
  // The sum of the recorded samples (negative ones as 0), microseconds.
  uint64_t Sum() const { return sum_.load(std::memory_order_relaxed); }
  // For each of `bounds_us` (ascending): how many samples are <= it, from one pass over the
  // buckets, then the total of that pass as the last element (bounds_us.size() + 1 values).
  // A sample counts under a bound when its whole bucket does (the bucket's upper end <= the
  // bound): exact for bounds below 16 us and for bounds that end a bucket; otherwise the
  // samples of the one bucket that straddles the bound (at most 1/16 of the bound wide, e.g.
  // 496..511 us for 500 us) count under the next bound only, never under a lower one.
  std::vector<uint64_t> CumulativeCounts(const std::vector<int64_t>& bounds_us) const;
  void Reset();

 private:
  static constexpr int kSubBits = 4;
  static constexpr int kBuckets = 64 << kSubBits;
  static int BucketOf(uint64_t v);
  static uint64_t UpperBoundOf(int bucket);

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> max_{0};
  std::atomic<uint64_t> sum_{0};
};

}  // namespace dataforge
