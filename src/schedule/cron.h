// Private to src/schedule: 5-field cron expressions (Vixie semantics) and their boundaries in a
// time zone.
//
// The search steps by fields (month -> day -> hour -> minute) over wall time, so the next
// boundary of "0 0 29 2 *" costs a few dozen steps, not a minute-by-minute scan. DST rules:
//  - a wall time skipped by a spring-forward gap fires once, at the first instant after it;
//  - a wall time repeated by a fall-back overlap fires at its first occurrence only, unless the
//    hour field covers all 24 hours ("*", "*/1", "0-23"): such hourly-or-finer expressions fire
//    at every distinct UTC instant whose wall time matches, so "0 * * * *" fires every UTC hour
//    through the overlap (01:00 EDT and 01:00 EST in New York).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <date/tz.h>

#include "common/status.h"

namespace dataforge::schedule_internal {

struct CronSpec {
  uint64_t minutes = 0;  // bit m: minute m (0-59)
  uint32_t hours = 0;    // bit h: hour h (0-23)
  uint32_t days = 0;     // bit d: day of month d (1-31)
  uint16_t months = 0;   // bit m: month m (1-12)
  uint8_t weekdays = 0;  // bit w: weekday w (0 = Sunday .. 6)
  // Vixie cron: a day field starting with '*' is unrestricted; when both are restricted a day
  // matches if either matches, otherwise both must.
  bool days_star = false;
  bool weekdays_star = false;

  bool AllHours() const { return hours == (1u << 24) - 1; }
};

// Parses "minute hour day-of-month month day-of-week". InvalidArgument names the field and its
// range, and rejects expressions that can never fire ("0 0 30 2 *").
Result<CronSpec> ParseCron(std::string_view text);

// True when the calendar day matches the day-of-month, month and day-of-week fields.
bool DayMatches(const CronSpec& spec, const date::year_month_day& ymd);

// Wall-clock search over minutes since 1970-01-01T00:00 local: the first matching minute in
// [lo, hi], or the last one in [lo, hi].
std::optional<int64_t> NextMatchingMinute(const CronSpec& spec, int64_t lo, int64_t hi);
std::optional<int64_t> PrevMatchingMinute(const CronSpec& spec, int64_t lo, int64_t hi);

// Boundaries in `zone` under the DST rules above: the first strictly after `t_us` / the last at
// or before `t_us`, searching at most ~50 years; nullopt beyond.
std::optional<int64_t> CronNextAfter(const CronSpec& spec, const date::time_zone* zone,
                                     int64_t t_us);
std::optional<int64_t> CronLastAtOrBefore(const CronSpec& spec, const date::time_zone* zone,
                                          int64_t t_us);

}  // namespace dataforge::schedule_internal
