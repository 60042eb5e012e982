// Private to src/expr: civil time, time zones and strftime-like formats for the date functions
// (docs/expressions.md, "Dates and times"). Stateless; thread-safe.
//
// Times are milliseconds since the epoch. A "local" time is the wall clock of a zone expressed
// the same way (milliseconds since 1970-01-01T00:00 on that wall clock). Zones are IANA names
// from the system's tzdata (through src/schedule's cached lookup); a null zone is UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "expr/value.h"

namespace date {
class time_zone;
}  // namespace date

namespace dataforge::expr::internal {

using Zone = const date::time_zone*;  // nullptr = UTC

// English names; the three-letter abbreviations are their first three letters.
inline constexpr std::string_view kMonths[] = {"January",   "February", "March",    "April",
                                               "May",       "June",     "July",     "August",
                                               "September", "October",  "November", "December"};
inline constexpr std::string_view kWeekdays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                 "Thursday", "Friday", "Saturday"};

// Supported instants: 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z.
inline constexpr int64_t kMinMillis = -62167219200000;
inline constexpr int64_t kMaxMillis = 253402300799999;
// "<fn>: <what> is outside the supported years 0000-9999" unless kMinMillis <= ms <= kMaxMillis.
Status CheckRange(std::string_view fn, std::string_view what, int64_t ms);

struct Civil {
  int64_t year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  int hour = 0, minute = 0, second = 0, millis = 0;
};
Civil CivilFromMillis(int64_t ms);
int64_t MillisFromCivil(const Civil& c);
int DaysInMonth(int64_t year, int month);
// 0 = Sunday .. 6 = Saturday, of the day holding `ms`.
int Weekday(int64_t ms);
int DayOfYear(const Civil& c);  // 1-366
// The ISO 8601 week (1-53) of the day, and its week-based year.
int IsoWeek(const Civil& c, int64_t* iso_year);

// The zone named by a function's argument ("UTC", "Europe/Berlin"), or the error
// "<fn>: unknown time zone 'X'; use an IANA name such as UTC or Europe/Berlin".
Result<Zone> ZoneArg(std::string_view fn, const Value& v);
int64_t UtcToLocal(Zone zone, int64_t utc_ms);
// A wall time skipped by a DST gap maps to the first instant after the gap; a repeated one
// (the hour after a fall-back) to its first occurrence.
int64_t LocalToUtc(Zone zone, int64_t local_ms);

// Appends `utc_ms` in `zone` written with `format` (the directives of docs/expressions.md);
// an unknown directive is an error naming `fn`.
Status FormatTime(std::string_view fn, int64_t utc_ms, std::string_view format, Zone zone,
                  std::string* out);
// Parses `text` with `format`; wall times without a %z offset are in `zone`. The error says
// what did not match: "<fn>: cannot parse 'X' with format 'F': <why>".
Result<int64_t> ParseTime(std::string_view fn, std::string_view text, std::string_view format,
                          Zone zone);

}  // namespace dataforge::expr::internal
