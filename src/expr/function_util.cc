#include "expr/function_util.h"

#include <cmath>

#include <fmt/format.h>

#include "common/timestamp.h"

namespace dataforge::expr::internal {

Status FnError(std::string_view fn, std::string_view what) {
  return Status::InvalidArgument(fmt::format("{}: {}", fn, what));
}

Status TypeError(std::string_view fn, std::string_view arg, std::string_view expected,
                 const Value& got) {
  return Status::InvalidArgument(
      fmt::format("{}: {} must be {}, got {}", fn, arg, expected, DescribeValue(got)));
}

Result<std::string_view> TextArg(std::string_view fn, std::string_view arg, const Value& v) {
  if (v.kind != Kind::kString) return TypeError(fn, arg, "a string", v);
  return std::string_view(v.s);
}

Result<int64_t> IntArg(std::string_view fn, std::string_view arg, const Value& v) {
  if (v.kind == Kind::kInt) return v.i;
  // 2^63 is exact as a double; every integral double in [-2^63, 2^63) fits an int64.
  if (v.kind == Kind::kDouble && std::trunc(v.d) == v.d && v.d >= -9223372036854775808.0 &&
      v.d < 9223372036854775808.0) {
    return static_cast<int64_t>(v.d);
  }
  return TypeError(fn, arg, "an int", v);
}

Result<double> NumberArg(std::string_view fn, std::string_view arg, const Value& v) {
  if (v.kind == Kind::kInt) return static_cast<double>(v.i);
  if (v.kind == Kind::kDouble) return v.d;
  return TypeError(fn, arg, "a number", v);
}

std::optional<int64_t> ParseIsoTimestamp(std::string_view text) {
  auto ms = ParseTimestampMillis(text);
  if (!ms.has_value() || text.size() < 10) return std::nullopt;
  int64_t y = 0;
  for (int k = 0; k < 4; ++k) y = y * 10 + (text[k] - '0');
  int m = (text[5] - '0') * 10 + (text[6] - '0');
  int d = (text[8] - '0') * 10 + (text[9] - '0');
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > (m == 2 && leap ? 29 : kDays[m - 1])) return std::nullopt;
  return ms;
}

Result<int64_t> TimestampArg(std::string_view fn, std::string_view arg, const Value& v) {
  if (v.kind == Kind::kTimestamp) return v.i;
  if (v.kind == Kind::kString) {
    if (auto ms = ParseIsoTimestamp(v.s)) return *ms;
  }
  return TypeError(fn, arg, "a timestamp or an ISO-8601 string", v);
}

bool DecodeUtf8(std::string_view s, size_t* pos, char32_t* cp) {
  size_t i = *pos;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) {
    *cp = c;
    *pos = i + 1;
    return true;
  }
  int n;
  char32_t v;
  char32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 1, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 2, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 3, v = c & 0x07, min = 0x10000;
  } else {
    return false;
  }
  for (int k = 1; k <= n; ++k) {
    if (i + k >= s.size()) return false;
    unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return false;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
  *cp = v;
  *pos = i + n + 1;
  return true;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

Status InvalidUtf8(std::string_view fn, std::string_view s, size_t at) {
  return Status::InvalidArgument(fmt::format("{}: invalid UTF-8 at byte {} of {}", fn, at,
                                             DescribeValue(Value::String(std::string(s)))));
}

Result<int64_t> CountCodePoints(std::string_view fn, std::string_view s) {
  int64_t n = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
    } else {
      char32_t cp;
      size_t at = pos;
      if (!DecodeUtf8(s, &pos, &cp)) return InvalidUtf8(fn, s, at);
    }
    ++n;
  }
  return n;
}

size_t CodePointOffset(std::string_view s, int64_t n) {
  size_t pos = 0;
  for (; n > 0 && pos < s.size(); --n) {
    ++pos;
    while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
  }
  return pos;
}

}  // namespace dataforge::expr::internal
