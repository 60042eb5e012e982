#include "expr/time_format.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include "expr/function_util.h"
#include "schedule/time_zone.h"

namespace dataforge::expr::internal {
namespace {

constexpr int64_t kMillisPerDay = 86'400'000;

int64_t FloorDiv(int64_t a, int64_t b) {
  return schedule_internal::FloorDiv(a, b);
}

void Put(std::string* out, int64_t v, int width, char pad = '0') {
  if (v < 0) {
    out->push_back('-');
    v = -v;
  }
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = n; i < width; ++i) out->push_back(pad);
  while (n > 0) out->push_back(buf[--n]);
}

void PutOffset(std::string* out, int64_t offset_ms) {
  out->push_back(offset_ms < 0 ? '-' : '+');
  int64_t minutes = (offset_ms < 0 ? -offset_ms : offset_ms) / 60000;
  Put(out, minutes / 60, 2);
  Put(out, minutes % 60, 2);
}

}  // namespace

Status CheckRange(std::string_view fn, std::string_view what, int64_t ms) {
  if (ms >= kMinMillis && ms <= kMaxMillis) return Status::OK();
  return FnError(fn, fmt::format("{} ({} ms since the epoch) is outside the supported years "
                                 "0000-9999",
                                 what, ms));
}

Civil CivilFromMillis(int64_t ms) {
  int64_t days = FloorDiv(ms, kMillisPerDay);
  int64_t rem = ms - days * kMillisPerDay;
  date::year_month_day ymd{date::sys_days{date::days{days}}};
  Civil c;
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  c.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  c.hour = static_cast<int>(rem / 3'600'000);
  c.minute = static_cast<int>(rem / 60'000 % 60);
  c.second = static_cast<int>(rem / 1000 % 60);
  c.millis = static_cast<int>(rem % 1000);
  return c;
}

int64_t MillisFromCivil(const Civil& c) {
  date::sys_days d{date::year{static_cast<int>(c.year)} / static_cast<unsigned>(c.month) /
                   static_cast<unsigned>(c.day)};
  return d.time_since_epoch().count() * kMillisPerDay + c.hour * 3'600'000LL + c.minute * 60'000LL +
         c.second * 1000LL + c.millis;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

int Weekday(int64_t ms) {
  int64_t days = FloorDiv(ms, kMillisPerDay);
  return static_cast<int>(((days % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
}

int DayOfYear(const Civil& c) {
  int doy = c.day;
  for (int m = 1; m < c.month; ++m) doy += DaysInMonth(c.year, m);
  return doy;
}

int IsoWeek(const Civil& c, int64_t* iso_year) {
  auto weeks_in = [](int64_t y) {
    // 53 weeks when 1 January is a Thursday, or a Wednesday in a leap year.
    Civil jan1;
    jan1.year = y;
    int wd = Weekday(MillisFromCivil(jan1));
    bool leap = DaysInMonth(y, 2) == 29;
    return wd == 4 || (leap && wd == 3) ? 53 : 52;
  };
  Civil day = c;
  day.hour = day.minute = day.second = day.millis = 0;
  int wd = Weekday(MillisFromCivil(day));
  int iso_wd = wd == 0 ? 7 : wd;
  int week = (DayOfYear(c) - iso_wd + 10) / 7;
  *iso_year = c.year;
  if (week < 1) {
    *iso_year = c.year - 1;
    return weeks_in(c.year - 1);
  }
  if (week > weeks_in(c.year)) {
    *iso_year = c.year + 1;
    return 1;
  }
  return week;
}

Result<Zone> ZoneArg(std::string_view fn, const Value& v) {
  if (v.kind != Kind::kString) return TypeError(fn, "zone", "a time zone name", v);
  if (v.s == "UTC" || v.s == "Etc/UTC") return Zone(nullptr);
  auto zone = schedule_internal::FindTimeZone(v.s);
  if (!zone.ok()) return FnError(fn, zone.status().message());
  return *zone;
}

int64_t UtcToLocal(Zone zone, int64_t utc_ms) {
  if (zone == nullptr) return utc_ms;
  return utc_ms + schedule_internal::UtcOffsetMicros(zone, utc_ms * 1000) / 1000;
}

int64_t LocalToUtc(Zone zone, int64_t local_ms) {
  if (zone == nullptr) return local_ms;
  return schedule_internal::LocalToUtc(zone, local_ms * 1000) / 1000;
}

namespace {

// FormatTime's directives for the instant `utc_ms`, whose wall clock is `local` and `c`.
Status FormatCivil(std::string_view fn, int64_t utc_ms, int64_t local, const Civil& c,
                   std::string_view format, Zone zone, std::string* out) {
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      out->push_back(format[i]);
      continue;
    }
    char d = format[++i];
    switch (d) {
      case 'Y':
        Put(out, c.year, 4);
        break;
      case 'y':
        Put(out, c.year % 100, 2);
        break;
      case 'm':
        Put(out, c.month, 2);
        break;
      case 'd':
        Put(out, c.day, 2);
        break;
      case 'e':
        Put(out, c.day, 2, ' ');
        break;
      case 'H':
        Put(out, c.hour, 2);
        break;
      case 'I':
        Put(out, c.hour % 12 == 0 ? 12 : c.hour % 12, 2);
        break;
      case 'M':
        Put(out, c.minute, 2);
        break;
      case 'S':
        Put(out, c.second, 2);
        break;
      case 'f':
        Put(out, c.millis, 3);
        break;
      case 'p':
        out->append(c.hour < 12 ? "AM" : "PM");
        break;
      case 'b':
      case 'h':
        out->append(kMonths[c.month - 1].substr(0, 3));
        break;
      case 'B':
        out->append(kMonths[c.month - 1]);
        break;
      case 'a':
        out->append(kWeekdays[Weekday(local)].substr(0, 3));
        break;
      case 'A':
        out->append(kWeekdays[Weekday(local)]);
        break;
      case 'j':
        Put(out, DayOfYear(c), 3);
        break;
      case 'u':
        Put(out, Weekday(local) == 0 ? 7 : Weekday(local), 1);
        break;
      case 'w':
        Put(out, Weekday(local), 1);
        break;
      case 'V':
      case 'G': {
        int64_t iso_year;
        int week = IsoWeek(c, &iso_year);
        Put(out, d == 'V' ? week : iso_year, d == 'V' ? 2 : 4);
        break;
      }
      case 'z':
        PutOffset(out, local - utc_ms);
        break;
      case 'Z':
        if (zone == nullptr) {
          out->append("UTC");
        } else {
          out->append(
              zone->get_info(date::sys_seconds{std::chrono::seconds{FloorDiv(utc_ms, 1000)}})
                  .abbrev);
        }
        break;
      case 's':
        Put(out, FloorDiv(utc_ms, 1000), 1);
        break;
      case 'F':
        DF_RETURN_IF_ERROR(FormatCivil(fn, utc_ms, local, c, "%Y-%m-%d", zone, out));
        break;
      case 'T':
        DF_RETURN_IF_ERROR(FormatCivil(fn, utc_ms, local, c, "%H:%M:%S", zone, out));
        break;
      case '%':
        out->push_back('%');
        break;
      default:
        return FnError(fn, fmt::format("unknown directive '%{}' in format '{}'", d, format));
    }
  }
  return Status::OK();
}

}  // namespace

Status FormatTime(std::string_view fn, int64_t utc_ms, std::string_view format, Zone zone,
                  std::string* out) {
  DF_RETURN_IF_ERROR(CheckRange(fn, "the timestamp", utc_ms));
  int64_t local = UtcToLocal(zone, utc_ms);
  return FormatCivil(fn, utc_ms, local, CivilFromMillis(local), format, zone, out);
}

}  // namespace dataforge::expr::internal
