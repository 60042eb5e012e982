// Wall-clock search for matching minutes, stepping month -> day -> hour -> minute; see cron.h.
#include <bit>

#include "schedule/cron.h"
#include "schedule/time_zone.h"

namespace dataforge::schedule_internal {
namespace {

constexpr int64_t kMinutesPerDay = 24 * 60;

// The lowest set bit of `mask` at index >= from, or -1.
int NextBit(uint64_t mask, int from) {
  if (from >= 64) return -1;
  uint64_t m = mask >> from;
  return m == 0 ? -1 : from + std::countr_zero(m);
}

// The highest set bit of `mask` at index <= from, or -1.
int PrevBit(uint64_t mask, int from) {
  if (from < 0) return -1;
  uint64_t m = from >= 63 ? mask : mask & ((uint64_t{2} << from) - 1);
  return m == 0 ? -1 : 63 - std::countl_zero(m);
}

date::year_month_day CivilDay(int64_t day) {
  return date::year_month_day{date::sys_days{date::days{day}}};
}

int64_t DayNumber(date::year_month_day ymd) {
  return date::sys_days{ymd}.time_since_epoch().count();
}

}  // namespace

bool DayMatches(const CronSpec& spec, const date::year_month_day& ymd) {
  if (!(spec.months >> static_cast<unsigned>(ymd.month()) & 1)) return false;
  bool day = spec.days >> static_cast<unsigned>(ymd.day()) & 1;
  bool weekday = spec.weekdays >> date::weekday{date::sys_days{ymd}}.c_encoding() & 1;
  if (spec.days_star || spec.weekdays_star) return day && weekday;
  return day || weekday;
}

std::optional<int64_t> NextMatchingMinute(const CronSpec& spec, int64_t lo, int64_t hi) {
  int64_t day = FloorDiv(lo, kMinutesPerDay);
  int hour = static_cast<int>((lo - day * kMinutesPerDay) / 60);
  int minute = static_cast<int>((lo - day * kMinutesPerDay) % 60);
  while (day * kMinutesPerDay + hour * 60 + minute <= hi) {
    date::year_month_day ymd = CivilDay(day);
    int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    if (!(spec.months >> month & 1)) {  // the 1st of the next selected month
      int next = NextBit(spec.months, month + 1);
      int year = static_cast<int>(ymd.year());
      if (next < 0) {
        next = NextBit(spec.months, 1);
        ++year;
      }
      day = DayNumber(date::year{year} / next / 1);
      hour = minute = 0;
      continue;
    }
    if (!DayMatches(spec, ymd)) {
      ++day;
      hour = minute = 0;
      continue;
    }
    int next_hour = NextBit(spec.hours, hour);
    if (next_hour < 0) {
      ++day;
      hour = minute = 0;
      continue;
    }
    if (next_hour != hour) {
      hour = next_hour;
      minute = 0;
    }
    int next_minute = NextBit(spec.minutes, minute);
    if (next_minute < 0) {
      minute = 0;
      if (++hour == 24) {
        ++day;
        hour = 0;
      }
      continue;
    }
    int64_t found = day * kMinutesPerDay + hour * 60 + next_minute;
    if (found > hi) break;
    return found;
  }
  return std::nullopt;
}

std::optional<int64_t> PrevMatchingMinute(const CronSpec& spec, int64_t lo, int64_t hi) {
  int64_t day = FloorDiv(hi, kMinutesPerDay);
  int hour = static_cast<int>((hi - day * kMinutesPerDay) / 60);
  int minute = static_cast<int>((hi - day * kMinutesPerDay) % 60);
  while (day * kMinutesPerDay + hour * 60 + minute >= lo) {
    date::year_month_day ymd = CivilDay(day);
    int month = static_cast<int>(static_cast<unsigned>(ymd.month()));
    if (!(spec.months >> month & 1)) {  // the last day of the previous selected month
      int prev = PrevBit(spec.months, month - 1);
      int year = static_cast<int>(ymd.year());
      if (prev < 1) {
        prev = PrevBit(spec.months, 12);
        --year;
      }
      date::year_month_day_last last{date::year{year} / date::month(prev) / date::last};
      day = date::sys_days{last}.time_since_epoch().count();
      hour = 23;
      minute = 59;
      continue;
    }
    if (!DayMatches(spec, ymd)) {
      --day;
      hour = 23;
      minute = 59;
      continue;
    }
    int prev_hour = PrevBit(spec.hours, hour);
    if (prev_hour < 0) {
      --day;
      hour = 23;
      minute = 59;
      continue;
    }
    if (prev_hour != hour) {
      hour = prev_hour;
      minute = 59;
    }
    int prev_minute = PrevBit(spec.minutes, minute);
    if (prev_minute < 0) {
      minute = 59;
      if (--hour < 0) {
        --day;
        hour = 23;
      }
      continue;
    }
    int64_t found = day * kMinutesPerDay + hour * 60 + prev_minute;
    if (found < lo) break;
    return found;
  }
  return std::nullopt;
}

}  // namespace dataforge::schedule_internal
