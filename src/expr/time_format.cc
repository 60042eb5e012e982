#include "expr/time_format.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>

#include "expr/function_util.h"
#include "schedule/time_zone.h"

namespace dataforge::expr::internal {
namespace {

constexpr int64_t kMillisPerDay = 86'400'000;

constexpr std::string_view kMonths[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
constexpr std::string_view kWeekdays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};

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

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
  }
  return true;
}

// What a format parse found so far.
struct Fields {
  Civil civil;
  int day_of_year = 0;  // %j; 0 = not given
  int pm = -1;          // %p: -1 not given, 0 AM, 1 PM
  bool hour12 = false;  // %I
  bool has_offset = false;
  int64_t offset_ms = 0;
  bool has_epoch = false;
  int64_t epoch_s = 0;
};

class Parser {
 public:
  Parser(std::string_view text) : text_(text) {}

  // Matches `format` from the current position; on failure sets why_ and returns false.
  bool Run(std::string_view format, Fields* f) {
    for (size_t i = 0; i < format.size(); ++i) {
      char c = format[i];
      if (c == ' ' || c == '\t') {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
        continue;
      }
      if (c != '%' || i + 1 == format.size()) {
        if (pos_ >= text_.size() || text_[pos_] != c) {
          return Fail(fmt::format("expected '{}' at character {}", c, pos_ + 1));
        }
        ++pos_;
        continue;
      }
      char d = format[++i];
      int64_t v = 0;
      switch (d) {
        case 'Y':
          if (!Number(d, 1, 4, &v)) return false;
          f->civil.year = v;
          break;
        case 'y':
          if (!Number(d, 2, 2, &v)) return false;
          f->civil.year = v < 69 ? 2000 + v : 1900 + v;  // POSIX
          break;
        case 'm':
          if (!Number(d, 1, 2, &v)) return false;
          f->civil.month = static_cast<int>(v);
          break;
        case 'd':
        case 'e':
          if (d == 'e' && pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
          if (!Number(d, 1, 2, &v)) return false;
          f->civil.day = static_cast<int>(v);
          break;
        case 'H':
        case 'I':
          if (!Number(d, 1, 2, &v)) return false;
          f->civil.hour = static_cast<int>(v);
          f->hour12 = d == 'I';
          break;
        case 'M':
          if (!Number(d, 1, 2, &v)) return false;
          f->civil.minute = static_cast<int>(v);
          break;
        case 'S':
          if (!Number(d, 1, 2, &v)) return false;
          f->civil.second = static_cast<int>(v);
          break;
        case 'f': {
          size_t b = pos_;
          if (!Number(d, 1, 9, &v)) return false;
          size_t digits = pos_ - b;
          for (; digits > 3; --digits) v /= 10;
          for (; digits < 3; ++digits) v *= 10;
          f->civil.millis = static_cast<int>(v);
          break;
        }
        case 'j':
          if (!Number(d, 1, 3, &v)) return false;
          f->day_of_year = static_cast<int>(v);
          break;
        case 'p':
          if (Word("AM")) {
            f->pm = 0;
          } else if (Word("PM")) {
            f->pm = 1;
          } else {
            return Fail(fmt::format("expected AM or PM for %p at character {}", pos_ + 1));
          }
          break;
        case 'b':
        case 'h':
        case 'B': {
          int found = Name(kMonths);
          if (found < 0) {
            return Fail(fmt::format("expected a month name for %{} at character {}", d, pos_ + 1));
          }
          f->civil.month = found + 1;
          break;
        }
        case 'a':
        case 'A':
          if (Name(kWeekdays) < 0) {
            return Fail(
                fmt::format("expected a weekday name for %{} at character {}", d, pos_ + 1));
          }
          break;
        case 'z':
          if (!Offset(f)) return false;
          break;
        case 's': {
          bool neg = pos_ < text_.size() && text_[pos_] == '-';
          if (neg) ++pos_;
          if (!Number(d, 1, 15, &v)) return false;
          f->has_epoch = true;
          f->epoch_s = neg ? -v : v;
          break;
        }
        case 'F':
          if (!Run("%Y-%m-%d", f)) return false;
          break;
        case 'T':
          if (!Run("%H:%M:%S", f)) return false;
          break;
        case '%':
          if (pos_ >= text_.size() || text_[pos_] != '%') {
            return Fail(fmt::format("expected '%' at character {}", pos_ + 1));
          }
          ++pos_;
          break;
        default:
          return Fail(fmt::format("unknown directive '%{}' in the format", d));
      }
    }
    return true;
  }

  bool AtEnd() const { return pos_ == text_.size(); }
  size_t pos() const { return pos_; }
  const std::string& why() const { return why_; }
  bool Fail(std::string why) {
    why_ = std::move(why);
    return false;
  }

 private:
  bool Number(char directive, int min_digits, int max_digits, int64_t* v) {
    size_t b = pos_;
    *v = 0;
    while (pos_ < text_.size() && static_cast<int>(pos_ - b) < max_digits && text_[pos_] >= '0' &&
           text_[pos_] <= '9') {
      *v = *v * 10 + (text_[pos_++] - '0');
    }
    if (static_cast<int>(pos_ - b) < min_digits) {
      return Fail(fmt::format("expected {} digit(s) for %{} at character {}", min_digits, directive,
                              b + 1));
    }
    return true;
  }

  bool Word(std::string_view w) {
    if (EqualsIgnoreCase(text_.substr(pos_, w.size()), w)) {
      pos_ += w.size();
      return true;
    }
    return false;
  }

  // The index of the full or three-letter name at pos_, or -1.
  template <size_t N>
  int Name(const std::string_view (&names)[N]) {
    for (size_t k = 0; k < N; ++k) {
      if (Word(names[k])) return static_cast<int>(k);
    }
    for (size_t k = 0; k < N; ++k) {
      if (Word(names[k].substr(0, 3))) return static_cast<int>(k);
    }
    return -1;
  }

  // "Z", "+hh", "+hhmm", "+hh:mm".
  bool Offset(Fields* f) {
    f->has_offset = true;
    if (pos_ < text_.size() && (text_[pos_] == 'Z' || text_[pos_] == 'z')) {
      ++pos_;
      f->offset_ms = 0;
      return true;
    }
    if (pos_ >= text_.size() || (text_[pos_] != '+' && text_[pos_] != '-')) {
      return Fail(
          fmt::format("expected Z or an offset like +02:00 for %z at character {}", pos_ + 1));
    }
    int sign = text_[pos_++] == '-' ? -1 : 1;
    int64_t h = 0, m = 0;
    if (!Number('z', 2, 2, &h)) return false;
    if (pos_ < text_.size() && text_[pos_] == ':') ++pos_;
    if (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (!Number('z', 2, 2, &m)) return false;
    }
    if (h > 23 || m > 59) return Fail(fmt::format("offset {:02d}:{:02d} is out of range", h, m));
    f->offset_ms = sign * (h * 60 + m) * 60000;
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string why_;
};

// The instant the parsed fields name, or why they do not name one.
Result<int64_t> Resolve(const Fields& f, Zone zone, std::string* why) {
  if (f.has_epoch) return f.epoch_s * 1000;
  Civil c = f.civil;
  if (f.day_of_year > 0) {
    int days = DaysInMonth(c.year, 2) == 29 ? 366 : 365;
    if (f.day_of_year > days) {
      *why = fmt::format("day of year {} does not exist in {}", f.day_of_year, c.year);
      return Status::InvalidArgument(*why);
    }
    int doy = f.day_of_year;
    c.month = 1;
    while (doy > DaysInMonth(c.year, c.month)) doy -= DaysInMonth(c.year, c.month++);
    c.day = doy;
  }
  if (f.hour12) {
    if (c.hour < 1 || c.hour > 12) *why = fmt::format("hour {} is out of range for %I", c.hour);
    if (f.pm >= 0) c.hour = c.hour % 12 + 12 * f.pm;
  } else if (f.pm == 1 && c.hour < 12) {
    c.hour += 12;
  }
  if (c.month < 1 || c.month > 12) *why = fmt::format("month {} is out of range", c.month);
  if (why->empty() && (c.day < 1 || c.day > DaysInMonth(c.year, c.month))) {
    *why = fmt::format("day {} does not exist in {:04d}-{:02d}", c.day, c.year, c.month);
  }
  if (c.hour > 23) *why = fmt::format("hour {} is out of range", c.hour);
  if (c.minute > 59) *why = fmt::format("minute {} is out of range", c.minute);
  if (c.second > 60) *why = fmt::format("second {} is out of range", c.second);
  if (!why->empty()) return Status::InvalidArgument(*why);
  int64_t local = MillisFromCivil(c);
  if (f.has_offset) return local - f.offset_ms;
  return LocalToUtc(zone, local);
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

Status FormatTime(std::string_view fn, int64_t utc_ms, std::string_view format, Zone zone,
                  std::string* out) {
  DF_RETURN_IF_ERROR(CheckRange(fn, "the timestamp", utc_ms));
  int64_t local = UtcToLocal(zone, utc_ms);
  Civil c = CivilFromMillis(local);
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
        DF_RETURN_IF_ERROR(FormatTime(fn, utc_ms, "%Y-%m-%d", zone, out));
        break;
      case 'T':
        DF_RETURN_IF_ERROR(FormatTime(fn, utc_ms, "%H:%M:%S", zone, out));
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

Result<int64_t> ParseTime(std::string_view fn, std::string_view text, std::string_view format,
                          Zone zone) {
  Parser parser(text);
  Fields fields;
  std::string why;
  if (!parser.Run(format, &fields)) {
    why = parser.why();
  } else if (!parser.AtEnd()) {
    why =
        fmt::format("unexpected '{}' at character {}", text.substr(parser.pos()), parser.pos() + 1);
  } else {
    auto ms = Resolve(fields, zone, &why);
    if (ms.ok()) {
      DF_RETURN_IF_ERROR(CheckRange(fn, fmt::format("'{}'", text), *ms));
      return *ms;
    }
  }
  return FnError(fn, fmt::format("cannot parse '{}' with format '{}': {}", text, format, why));
}

}  // namespace dataforge::expr::internal
