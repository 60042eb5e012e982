// ParseTime (time_format.h): strptime-like reading of the format directives listed in
// docs/expressions.md, with errors that say what did not match.
#include <fmt/format.h>

#include "expr/function_util.h"
#include "expr/time_format.h"

namespace dataforge::expr::internal {
namespace {

bool EqualsIgnoringLetterCase(std::string_view a, std::string_view b) {
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
    if (EqualsIgnoringLetterCase(text_.substr(pos_, w.size()), w)) {
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
