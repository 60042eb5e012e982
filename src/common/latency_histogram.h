// A fixed-bucket latency histogram (microseconds), log-linear: 16 sub-buckets per power of two,
// so a percentile is within ~6% of the true value. Record() is lock-free and thread-safe;
// Percentile() may run concurrently with Record() and sees a recent snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace dataforge {

class LatencyHistogram {
 public:
  void Record(int64_t micros);
  // The value below which `p` (0..100) percent of recorded samples fall; 0 when empty.
  int64_t Percentile(double p) const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  int64_t Max() const { return max_.load(std::memory_order_relaxed); }
  void Reset();

 private:
  static constexpr int kSubBits = 4;
  static constexpr int kBuckets = 64 << kSubBits;
  static int BucketOf(uint64_t v);
  static uint64_t UpperBoundOf(int bucket);

  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> max_{0};
};

}  // namespace dataforge
