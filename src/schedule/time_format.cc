// ParseDateTime, FormatDate, FormatDateNoDash, FormatIso8601 and IsTimeZone.
#include <array>
#include <cctype>
#include <chrono>

#include <fmt/format.h>

#include "common/escape.h"
#include "schedule/schedule.h"
#include "schedule/time_zone.h"

namespace dataforge {
namespace {

using schedule_internal::FloorDiv;
using schedule_internal::kMicrosPerDay;
using schedule_internal::kMicrosPerMinute;
using schedule_internal::kMicrosPerSecond;

constexpr std::array<const char*, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

// A cursor over the text being parsed.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}
  bool done() const { return pos_ == text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  bool Consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // Exactly `n` digits.
  bool Digits(int n, int* value) {
    if (pos_ + n > text_.size()) return false;
    int v = 0;
    for (int i = 0; i < n; ++i) {
      char c = text_[pos_ + i];
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      v = v * 10 + (c - '0');
    }
    pos_ += n;
    *value = v;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

Status SyntaxError(std::string_view text) {
  return Status::InvalidArgument(fmt::format(
      "date-time '{}' is not valid; use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or either time with Z "
      "or an offset such as +02:00",
      text));
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Wall time of `us` in `zone`, split into the day and the microseconds into it.
struct WallTime {
  date::year_month_day ymd;
  int64_t micros_of_day;
  int64_t offset_us;
};

WallTime ToWall(int64_t us, std::string_view time_zone) {
  const date::time_zone* zone = schedule_internal::ZoneOrUtc(time_zone);
  int64_t offset = schedule_internal::UtcOffsetMicros(zone, us);
  int64_t local = us + offset;
  int64_t day = FloorDiv(local, kMicrosPerDay);
  return {date::year_month_day{date::sys_days{date::days{day}}}, local - day * kMicrosPerDay,
          offset};
}

Result<int64_t> ParseDateTimeText(std::string_view text, std::string_view time_zone) {
  DF_ASSIGN_OR_RETURN(const date::time_zone* zone, schedule_internal::FindTimeZone(time_zone));
  std::string_view trimmed = TrimSpaces(text);
  Scanner s(trimmed);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t fraction_us = 0;
  if (!s.Digits(4, &year) || !s.Consume('-') || !s.Digits(2, &month) || !s.Consume('-') ||
      !s.Digits(2, &day)) {
    return SyntaxError(text);
  }
  bool has_time = s.Consume('T') || s.Consume('t') || s.Consume(' ');
  std::optional<int64_t> offset_us;
  if (has_time) {
    if (!s.Digits(2, &hour) || !s.Consume(':') || !s.Digits(2, &minute)) return SyntaxError(text);
    if (s.Consume(':')) {
      if (!s.Digits(2, &second)) return SyntaxError(text);
      if (s.Consume('.')) {
        int digits = 0;
        int64_t scale = 100'000;
        while (std::isdigit(static_cast<unsigned char>(s.peek()))) {
          int d = 0;
          (void)s.Digits(1, &d);
          fraction_us += d * scale;
          scale /= 10;
          ++digits;
        }
        if (digits == 0 || digits > 9) return SyntaxError(text);
      }
    }
    if (s.Consume('Z') || s.Consume('z')) {
      offset_us = 0;
    } else if (s.peek() == '+' || s.peek() == '-') {
      int sign = s.Consume('-') ? -1 : 1;
      s.Consume('+');
      int oh = 0, om = 0, os = 0;
      if (!s.Digits(2, &oh)) return SyntaxError(text);
      if (!s.done()) {  // "+02:00" or "+0200"; "+02" alone is whole hours
        s.Consume(':');
        if (!s.Digits(2, &om)) return SyntaxError(text);
        // "+00:53:28": an offset with seconds, as FormatIso8601 writes for local mean time.
        if (s.Consume(':') && !s.Digits(2, &os)) return SyntaxError(text);
      }
      if (oh > 23 || om > 59 || os > 59) return SyntaxError(text);
      offset_us = sign * ((oh * 60 + om) * 60 + os) * kMicrosPerSecond;
    }
  }
  if (!s.done()) return SyntaxError(text);

  if (month < 1 || month > 12) {
    return Status::InvalidArgument(
        fmt::format("date '{}' has month {:02}; months are 01-12", trimmed.substr(0, 10), month));
  }
  date::year_month_day ymd{date::year{year}, date::month(month), date::day(day)};
  if (!ymd.ok()) {
    unsigned days_in_month = static_cast<unsigned>(
        date::year_month_day_last{date::year{year} / date::month(month) / date::last}.day());
    return Status::InvalidArgument(fmt::format("date '{}' does not exist: {} {} has {} days",
                                               trimmed.substr(0, 10), kMonthNames[month - 1], year,
                                               days_in_month));
  }
  if (hour > 23 || minute > 59 || second > 59) {
    return Status::InvalidArgument(fmt::format(
        "time in '{}' is out of range; hours are 00-23, minutes and seconds 00-59", trimmed));
  }
  int64_t days = date::sys_days{ymd}.time_since_epoch().count();
  int64_t wall =
      days * kMicrosPerDay + (hour * 3600 + minute * 60 + second) * kMicrosPerSecond + fraction_us;
  if (offset_us) return wall - *offset_us;
  return schedule_internal::LocalToUtc(zone, wall);
}

}  // namespace

Result<int64_t> ParseDateTime(std::string_view text, std::string_view time_zone) {
  auto t = ParseDateTimeText(text, time_zone);
  if (!t.ok()) return OneLineError(t.status());
  return t;
}

Result<int64_t> ParseInstant(std::string_view text) {
  bool digits = !text.empty() && text.size() <= 15;
  for (char c : text) digits &= std::isdigit(static_cast<unsigned char>(c)) != 0;
  if (digits) return std::stoll(std::string(text)) * 1000;
  auto t = ParseDateTimeText(text, "UTC");
  if (t.ok()) return t;
  return Status::InvalidArgument(fmt::format(
      "'{}' is not a time: give ISO 8601 (2026-01-31T06:00:00Z, 2026-01-31T06:00:00.250+01:00, "
      "2026-01-31; UTC without an offset) or milliseconds since the Unix epoch (1769839200000)",
      text));
}

std::string FormatDate(int64_t us, std::string_view time_zone) {
  date::year_month_day ymd = ToWall(us, time_zone).ymd;
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::string FormatDateNoDash(int64_t us, std::string_view time_zone) {
  date::year_month_day ymd = ToWall(us, time_zone).ymd;
  return fmt::format("{:04}{:02}{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::string FormatIso8601(int64_t us, std::string_view time_zone) {
  WallTime w = ToWall(us, time_zone);
  int64_t seconds = w.micros_of_day / kMicrosPerSecond;
  int64_t micros = w.micros_of_day % kMicrosPerSecond;
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(w.ymd.year()),
                  static_cast<unsigned>(w.ymd.month()), static_cast<unsigned>(w.ymd.day()),
                  seconds / 3600, seconds / 60 % 60, seconds % 60);
  if (micros != 0) out += fmt::format(".{:06}", micros);
  int64_t offset_s = w.offset_us / kMicrosPerSecond;
  char sign = offset_s < 0 ? '-' : '+';
  if (offset_s < 0) offset_s = -offset_s;
  out += fmt::format("{}{:02}:{:02}", sign, offset_s / 3600, offset_s / 60 % 60);
  // Local mean time (before ~1900, Africa/Monrovia until 1972) has offsets with seconds:
  // dropping them would name another instant.
  if (offset_s % 60 != 0) out += fmt::format(":{:02}", offset_s % 60);
  return out;
}

bool IsTimeZone(std::string_view name) {
  return schedule_internal::FindTimeZone(name).ok();
}

}  // namespace dataforge
