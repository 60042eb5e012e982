// Cron boundaries in a time zone: the wall-clock search of cron_match.cc run over each span of
// constant UTC offset, with the gap and overlap rules of cron.h.
#include <algorithm>
#include <chrono>

#include "schedule/cron.h"
#include "schedule/time_zone.h"

namespace dataforge::schedule_internal {
namespace {

// How far a search looks before giving up (a valid expression fires at least every ~40 years:
// Feb 29 on a given weekday).
constexpr int64_t kHorizonMicros = 50 * 366 * kMicrosPerDay;
// Offsets of adjacent spans differ by less than this.
constexpr int64_t kMaxOffsetChangeMicros = 2 * kMicrosPerDay;
// Beyond year ~9999 the calendar helpers are not meant to go.
constexpr int64_t kMaxMicros = 253'402'300'799LL * kMicrosPerSecond;

// A span of constant UTC offset: [begin_us, end_us).
struct Span {
  int64_t begin_us;
  int64_t end_us;
  int64_t offset_us;
};

Span SpanAt(const date::time_zone* zone, int64_t utc_us) {
  date::sys_seconds t{std::chrono::seconds{FloorDiv(utc_us, kMicrosPerSecond)}};
  date::sys_info info = zone->get_info(t);
  auto micros = [](date::sys_seconds s) {
    int64_t sec = std::clamp<int64_t>(s.time_since_epoch().count(), -kMaxMicros / kMicrosPerSecond,
                                      kMaxMicros / kMicrosPerSecond);
    return sec * kMicrosPerSecond;
  };
  return {micros(info.begin), micros(info.end), info.offset.count() * kMicrosPerSecond};
}

// Minutes (wall time) for a wall time in microseconds.
int64_t FloorMinute(int64_t local_us) {
  return FloorDiv(local_us, kMicrosPerMinute);
}
int64_t CeilMinute(int64_t local_us) {
  return CeilDiv(local_us, kMicrosPerMinute);
}

// Whether a wall time in [from_us, to_us) matches (the gap a spring-forward skips).
bool MatchesIn(const CronSpec& spec, int64_t from_us, int64_t to_us) {
  int64_t lo = CeilMinute(from_us);
  int64_t hi = CeilMinute(to_us) - 1;
  return lo <= hi && NextMatchingMinute(spec, lo, hi).has_value();
}

}  // namespace

std::optional<int64_t> CronNextAfter(const CronSpec& spec, const date::time_zone* zone,
                                     int64_t t_us) {
  if (zone == nullptr || t_us >= kMaxMicros || t_us < -kMaxMicros) return std::nullopt;
  const int64_t horizon = std::min(t_us + kHorizonMicros, kMaxMicros);
  for (int64_t at = t_us; at <= horizon;) {
    Span span = SpanAt(zone, at);
    std::optional<int64_t> prev_offset;
    if (span.begin_us > t_us - kMaxOffsetChangeMicros) {
      prev_offset = SpanAt(zone, span.begin_us - 1).offset_us;
    }
    // Spring forward at begin: matching wall times in the gap fire at begin.
    if (span.begin_us > t_us && prev_offset && *prev_offset < span.offset_us &&
        MatchesIn(spec, span.begin_us + *prev_offset, span.begin_us + span.offset_us)) {
      return span.begin_us;
    }
    int64_t lo = std::max(FloorMinute(t_us + span.offset_us) + 1,
                          CeilMinute(span.begin_us + span.offset_us));
    // Fall back at begin: wall times already passed in the previous span repeat; fixed-hour
    // expressions skip the repeat.
    if (!spec.AllHours() && prev_offset && *prev_offset > span.offset_us) {
      lo = std::max(lo, CeilMinute(span.begin_us + *prev_offset));
    }
    int64_t hi = std::min(CeilMinute(span.end_us + span.offset_us) - 1,
                          FloorMinute(horizon + span.offset_us));
    if (lo <= hi) {
      if (auto minute = NextMatchingMinute(spec, lo, hi)) {
        return *minute * kMicrosPerMinute - span.offset_us;
      }
    }
    at = span.end_us;
  }
  return std::nullopt;
}

std::optional<int64_t> CronLastAtOrBefore(const CronSpec& spec, const date::time_zone* zone,
                                          int64_t t_us) {
  if (zone == nullptr || t_us > kMaxMicros || t_us <= -kMaxMicros) return std::nullopt;
  const int64_t horizon = std::max(t_us - kHorizonMicros, -kMaxMicros);
  for (int64_t at = t_us; at >= horizon;) {
    Span span = SpanAt(zone, at);
    std::optional<int64_t> prev_offset;
    if (span.begin_us > horizon) prev_offset = SpanAt(zone, span.begin_us - 1).offset_us;
    int64_t lo =
        std::max(CeilMinute(span.begin_us + span.offset_us), CeilMinute(horizon + span.offset_us));
    if (!spec.AllHours() && prev_offset && *prev_offset > span.offset_us) {
      lo = std::max(lo, CeilMinute(span.begin_us + *prev_offset));
    }
    int64_t hi =
        std::min(FloorMinute(t_us + span.offset_us), CeilMinute(span.end_us + span.offset_us) - 1);
    if (lo <= hi) {
      if (auto minute = PrevMatchingMinute(spec, lo, hi)) {
        return *minute * kMicrosPerMinute - span.offset_us;
      }
    }
    if (prev_offset && *prev_offset < span.offset_us &&
        MatchesIn(spec, span.begin_us + *prev_offset, span.begin_us + span.offset_us)) {
      return span.begin_us;
    }
    at = span.begin_us - 1;
  }
  return std::nullopt;
}

}  // namespace dataforge::schedule_internal
