#include "common/timestamp.h"

#include <fmt/format.h>

namespace dataforge {
namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<int64_t> ParseTimestampMillis(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  size_t pos = 10;
  int64_t millis = 0;
  int64_t offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ') return std::nullopt;
    if (!Digits(s, pos + 1, 2, &h) || s.size() < pos + 9 || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &mi) || s[pos + 6] != ':' || !Digits(s, pos + 7, 2, &sec)) {
      return std::nullopt;
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    pos += 9;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int digits = 0;
      int64_t frac = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (digits < 3) frac = frac * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return std::nullopt;
      for (int i = digits; i < 3; ++i) frac *= 10;
      millis = frac;
    }
    if (pos < s.size()) {
      char c = s[pos];
      if (c == 'Z' && pos + 1 == s.size()) {
        ++pos;
      } else if (c == '+' || c == '-') {
        int oh, om = 0;
        size_t rest = s.size() - pos - 1;
        if (rest == 5 && s[pos + 3] == ':' && Digits(s, pos + 1, 2, &oh) &&
            Digits(s, pos + 4, 2, &om)) {
        } else if (rest == 4 && Digits(s, pos + 1, 2, &oh) && Digits(s, pos + 3, 2, &om)) {
        } else if (rest == 2 && Digits(s, pos + 1, 2, &oh)) {  // PostgreSQL's "+00", "-08"
        } else {
          return std::nullopt;
        }
        if (oh > 23 || om > 59) return std::nullopt;
        offset_minutes = (oh * 60 + om) * (c == '+' ? 1 : -1);
        pos = s.size();
      } else {
        return std::nullopt;
      }
    }
  }
  if (pos != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t seconds = days * 86400 + h * 3600 + mi * 60 + sec - offset_minutes * 60;
  return seconds * 1000 + millis;
}

std::string FormatTimestampMillis(int64_t millis) {
  int64_t secs = millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000);
  int64_t ms = millis - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 0 || y > 9999) {
    return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", y, m, d, rem / 3600,
                       (rem / 60) % 60, rem % 60, ms);
  }
  // The same text as the format above, without fmt's parsing (a hot path of the mapping).
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&](size_t at, int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) out[at + i] = static_cast<char>('0' + v % 10);
  };
  put(0, y, 4);
  put(5, m, 2);
  put(8, d, 2);
  put(11, rem / 3600, 2);
  put(14, (rem / 60) % 60, 2);
  put(17, rem % 60, 2);
  put(20, ms, 3);
  return out;
}

}  // namespace dataforge
