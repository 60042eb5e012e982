// Private to src/schedule: IANA zone lookup (cached) and wall-time <-> UTC conversion.
#pragma once

#include <cstdint>
#include <string_view>

#include <date/tz.h>

#include "common/status.h"

namespace dataforge::schedule_internal {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kMicrosPerDay = 24 * 60 * kMicrosPerMinute;

// floor(a / b) and ceil(a / b) for b > 0.
constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && a < 0);
}
constexpr int64_t CeilDiv(int64_t a, int64_t b) {
  return -FloorDiv(-a, b);
}

// The zone named `name` ("UTC", "Europe/Berlin"); the pointer lives forever. Lookups are cached
// and thread-safe. InvalidArgument for names tzdata does not know.
Result<const date::time_zone*> FindTimeZone(std::string_view name);
// For formatting, where no Status can be returned: the named zone, or UTC when it is unknown.
const date::time_zone* ZoneOrUtc(std::string_view name);

// The zone's UTC offset at `utc_us`, in microseconds.
int64_t UtcOffsetMicros(const date::time_zone* zone, int64_t utc_us);
// A wall time (microseconds since 1970-01-01T00:00 local) to UTC: a wall time skipped by a gap
// maps to the first instant after the gap; a repeated one to its first occurrence.
int64_t LocalToUtc(const date::time_zone* zone, int64_t local_us);

}  // namespace dataforge::schedule_internal
