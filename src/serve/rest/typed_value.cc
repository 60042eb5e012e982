#include "serve/rest/typed_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "common/timestamp.h"

namespace dataforge::rest {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  // Only JSON-like numbers: digits, sign, point, exponent (no "nan", "inf", hex).
  if (s.empty() || s.find_first_not_of("0123456789+-.eE") != std::string_view::npos) {
    return std::nullopt;
  }
  std::string copy(s);
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

ValueKind KindOfType(std::string_view cql_type) {
  const std::string t = Lower(cql_type);
  if (t == "int" || t == "bigint" || t == "smallint" || t == "tinyint" || t == "counter") {
    return ValueKind::kInteger;
  }
  if (t == "double" || t == "float") return ValueKind::kDouble;
  if (t == "decimal" || t == "varint") return ValueKind::kDecimal;
  if (t == "boolean") return ValueKind::kBoolean;
  if (t == "timestamp") return ValueKind::kTimestamp;
  if (t == "uuid" || t == "timeuuid") return ValueKind::kUuid;
  return ValueKind::kText;
}

std::string_view ExpectedText(ValueKind kind) {
  switch (kind) {
    case ValueKind::kInteger:
    case ValueKind::kDouble:
    case ValueKind::kDecimal:
      return "a number";
    case ValueKind::kBoolean:
      return "true or false";
    case ValueKind::kTimestamp:
      return "a timestamp (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.mmm][Z|+HH:MM] or epoch milliseconds)";
    case ValueKind::kUuid:
      return "a uuid (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)";
    case ValueKind::kText:
      return "text";
  }
  return "a value";
}

bool IsNumeric(ValueKind kind) {
  return kind == ValueKind::kInteger || kind == ValueKind::kDouble || kind == ValueKind::kDecimal;
}

std::optional<TypedValue> ParseValueText(ValueKind kind, std::string_view text) {
  TypedValue v;
  v.kind = kind;
  switch (kind) {
    case ValueKind::kText:
      v.text = std::string(text);
      return v;
    case ValueKind::kInteger:
      if (auto i = ParseInt(text)) {
        v.is_int = true;
        v.i = *i;
        return v;
      }
      if (auto d = ParseDouble(text)) {
        v.d = *d;
        return v;
      }
      return std::nullopt;
    case ValueKind::kDouble:
      if (auto d = ParseDouble(text)) {
        v.d = *d;
        return v;
      }
      return std::nullopt;
    case ValueKind::kDecimal:
      if (auto d = ParseDecimal(text)) {
        v.dec = std::move(*d);
        return v;
      }
      return std::nullopt;
    case ValueKind::kBoolean:
      if (text == "true" || text == "false") {
        v.i = text == "true";
        return v;
      }
      return std::nullopt;
    case ValueKind::kTimestamp:
      if (auto ms = ParseInt(text)) {
        v.i = *ms;
        return v;
      }
      if (auto ms = ParseTimestampMillis(text)) {
        v.i = *ms;
        return v;
      }
      return std::nullopt;
    case ValueKind::kUuid:
      if (!IsUuid(text)) return std::nullopt;
      v.text = Lower(text);
      return v;
  }
  return std::nullopt;
}

std::optional<TypedValue> ParseJsonValue(ValueKind kind, simdjson::dom::element e, bool* is_null) {
  *is_null = e.is_null();
  if (*is_null) return std::nullopt;
  TypedValue v;
  v.kind = kind;
  std::string_view s;
  const bool is_string = e.get_string().get(s) == simdjson::SUCCESS;
  switch (kind) {
    case ValueKind::kText:
      if (is_string) {
        v.text = std::string(s);
      } else {
        v.text = simdjson::minify(e);
      }
      return v;
    case ValueKind::kInteger:
    case ValueKind::kDouble:
      if (is_string) return ParseValueText(kind, s);
      if (kind == ValueKind::kInteger && e.is_int64()) {
        v.is_int = true;
        v.i = int64_t(e);
        return v;
      }
      if (e.is_number()) {
        double d = 0;
        if (e.get_double().get(d) != simdjson::SUCCESS) return std::nullopt;
        v.d = d;
        return v;
      }
      return std::nullopt;
    case ValueKind::kDecimal:
      if (is_string) return ParseValueText(kind, s);
      if (e.is_number()) return ParseValueText(kind, simdjson::minify(e));
      return std::nullopt;
    case ValueKind::kBoolean:
      if (e.is_bool()) {
        v.i = bool(e);
        return v;
      }
      return std::nullopt;
    case ValueKind::kTimestamp:
      if (is_string) return ParseValueText(kind, s);
      if (e.is_int64()) {
        v.i = int64_t(e);
        return v;
      }
      return std::nullopt;
    case ValueKind::kUuid:
      if (is_string) return ParseValueText(kind, s);
      return std::nullopt;
  }
  return std::nullopt;
}

int CompareValues(const TypedValue& a, const TypedValue& b) {
  switch (a.kind) {
    case ValueKind::kText:
    case ValueKind::kUuid:
      return Cmp(a.text, b.text);
    case ValueKind::kInteger:
      if (a.is_int && b.is_int) return Cmp(a.i, b.i);
      return Cmp(a.is_int ? static_cast<double>(a.i) : a.d,
                 b.is_int ? static_cast<double>(b.i) : b.d);
    case ValueKind::kDouble:
      return Cmp(a.d, b.d);
    case ValueKind::kDecimal:
      return CompareDecimals(a.dec, b.dec);
    case ValueKind::kBoolean:
    case ValueKind::kTimestamp:
      return Cmp(a.i, b.i);
  }
  return 0;
}

}  // namespace dataforge::rest
