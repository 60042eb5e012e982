// Clock seam: all wall-clock and sleep access goes through a Clock so tests can jump time.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <stop_token>

namespace dataforge {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch (wall clock).
  virtual int64_t NowMicros() = 0;
  // Monotonic microseconds, for durations and deadlines.
  virtual int64_t MonotonicMicros() = 0;
  // Sleeps up to `micros`; returns false early if `stop` was requested.
  virtual bool SleepFor(int64_t micros, std::stop_token stop) = 0;

  // The process-wide real clock. Never null; lives forever.
  static Clock* Real();
};

// Monotonic milliseconds of the real clock, for timeouts and backoff where no clock is injected.
inline int64_t RealMonotonicMillis() {
  return Clock::Real()->MonotonicMicros() / 1000;
}

}  // namespace dataforge
