// JSON <-> CQL value bytes (types.h: JsonToValue, AppendValueAsJson). Rows in DataForge's store
// are JSON objects; these convert one column between the two forms. The forms are listed in
// docs/cql.md ("Types and their JSON forms").
#include <arpa/inet.h>

#include <bit>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/decimal.h"
#include "common/json_writer.h"
#include "common/timestamp.h"
#include "cql/json_element.h"
#include "cql/types.h"
#include "cql/value_check.h"

namespace dataforge::cql {
namespace {

namespace dom = simdjson::dom;

// Collections nest at most this deep in a value (types from ReadType are bounded the same way;
// this also bounds types built by hand or by ParseTypeName).
constexpr int kMaxValueDepth = 16;
constexpr size_t kMaxShown = 80;
constexpr int64_t kMillisPerDay = 86'400'000;
constexpr int64_t kDateEpoch = int64_t{1} << 31;  // a date is days since 1970-01-01 + 2^31
// Timestamps between 0000-01-01 and 9999-12-31 are written as ISO-8601 text; others as epoch
// milliseconds (ParseTimestampMillis reads four-digit years only).
constexpr int64_t kMinTextMillis = -62'167'219'200'000;
constexpr int64_t kMaxTextMillis = 253'402'300'799'999;

std::string Shown(std::string_view json) {
  if (json.size() <= kMaxShown) return std::string(json);
  return fmt::format("{}... ({} bytes)", json.substr(0, kMaxShown), json.size());
}

Status Mismatch(const DataType& t, dom::element e, std::string_view why) {
  return Status::InvalidArgument(fmt::format("cannot convert JSON value {} to CQL {}: {}",
                                             Shown(simdjson::minify(e)), TypeName(t), why));
}

Status NoJsonForm(const DataType& t) {
  return Status::InvalidArgument(fmt::format(
      "CQL type {} has no JSON form in DataForge; use text, numbers, uuid, timestamp, date, "
      "time, inet, blob, boolean or list/set/map of those",
      TypeName(t)));
}

// An integer from a JSON integer, an integral double, or numeric text.
Status GetInteger(const DataType& t, dom::element e, int64_t lo, int64_t hi, int64_t* out) {
  int64_t v = 0;
  switch (e.type()) {
    case dom::element_type::INT64:
      v = e.get_int64().value_unsafe();
      break;
    case dom::element_type::UINT64:
      return Mismatch(t, e, "out of range");
    case dom::element_type::DOUBLE: {
      const double d = e.get_double().value_unsafe();
      if (!(d >= -9.2e18 && d <= 9.2e18) || std::trunc(d) != d) {
        return Mismatch(t, e, "not an integer");
      }
      v = static_cast<int64_t>(d);
      break;
    }
    case dom::element_type::STRING: {
      const std::string_view s = e.get_string().value_unsafe();
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc::result_out_of_range) return Mismatch(t, e, "out of range");
      if (ec != std::errc() || end != s.data() + s.size()) {
        return Mismatch(t, e, "not an integer");
      }
      break;
    }
    default:
      return Mismatch(t, e, "expected an integer");
  }
  if (v < lo || v > hi) return Mismatch(t, e, fmt::format("out of range [{}, {}]", lo, hi));
  *out = v;
  return Status::OK();
}

Status GetDouble(const DataType& t, dom::element e, double* out) {
  switch (e.type()) {
    case dom::element_type::INT64:
      *out = static_cast<double>(e.get_int64().value_unsafe());
      return Status::OK();
    case dom::element_type::UINT64:
      *out = static_cast<double>(e.get_uint64().value_unsafe());
      return Status::OK();
    case dom::element_type::DOUBLE:
      *out = e.get_double().value_unsafe();
      return Status::OK();
    case dom::element_type::STRING: {
      const std::string_view s = e.get_string().value_unsafe();
      if (s == "NaN") {
        *out = std::numeric_limits<double>::quiet_NaN();
      } else if (s == "Infinity") {
        *out = std::numeric_limits<double>::infinity();
      } else if (s == "-Infinity") {
        *out = -std::numeric_limits<double>::infinity();
      } else {
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
        if (ec != std::errc() || end != s.data() + s.size()) {
          return Mismatch(t, e, "not a number");
        }
      }
      return Status::OK();
    }
    default:
      return Mismatch(t, e, "expected a number");
  }
}

Status GetString(const DataType& t, dom::element e, std::string_view* out) {
  if (e.type() != dom::element_type::STRING) return Mismatch(t, e, "expected a JSON string");
  *out = e.get_string().value_unsafe();
  return Status::OK();
}

// "HH:MM:SS[.fffffffff]" -> nanoseconds since midnight.
bool ParseTime(std::string_view s, int64_t* nanos) {
  auto two = [&](size_t pos, int max, int64_t* v) {
    if (pos + 2 > s.size() || s[pos] < '0' || s[pos] > '9' || s[pos + 1] < '0' ||
        s[pos + 1] > '9') {
      return false;
    }
    *v = (s[pos] - '0') * 10 + (s[pos + 1] - '0');
    return *v <= max;
  };
  int64_t h, m, sec;
  if (s.size() < 8 || !two(0, 23, &h) || s[2] != ':' || !two(3, 59, &m) || s[5] != ':' ||
      !two(6, 59, &sec)) {
    return false;
  }
  int64_t frac = 0;
  if (s.size() > 8) {
    if (s[8] != '.' || s.size() == 9 || s.size() > 18) return false;
    int digits = 0;
    for (size_t i = 9; i < s.size(); ++i, ++digits) {
      if (s[i] < '0' || s[i] > '9') return false;
      frac = frac * 10 + (s[i] - '0');
    }
    for (; digits < 9; ++digits) frac *= 10;
  }
  *nanos = ((h * 60 + m) * 60 + sec) * 1'000'000'000 + frac;
  return true;
}

std::string VarintBytes(int64_t v) {
  std::string out;
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * i)));
  // Minimal two's complement: drop a leading byte that only repeats the sign of the next.
  size_t skip = 0;
  while (skip + 1 < out.size()) {
    const auto b = static_cast<uint8_t>(out[skip]);
    const auto next = static_cast<uint8_t>(out[skip + 1]);
    if ((b == 0x00 && !(next & 0x80)) || (b == 0xFF && (next & 0x80))) {
      ++skip;
    } else {
      break;
    }
  }
  return out.substr(skip);
}

Status Encode(const DataType& t, dom::element e, int depth, std::string* out);

bool KeyIsText(TypeId id) {
  switch (id) {
    case TypeId::kAscii:
    case TypeId::kVarchar:
    case TypeId::kUuid:
    case TypeId::kTimeuuid:
    case TypeId::kTimestamp:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kInet:
    case TypeId::kBlob:
      return true;
    default:
      return false;
  }
}

// A JSON object key is always text: for text-like key types it is the value itself, for
// others (int, boolean, frozen collections, ...) it is the key's JSON text ({"42": ...}).
Status EncodeMapKey(const DataType& t, std::string_view key, int depth, std::string* out) {
  dom::parser parser;  // not the caller's: its document must stay valid
  dom::element e;
  if (!KeyIsText(t.id)) {
    // A number, boolean or collection key as its JSON text; failing that (a double's "NaN"),
    // the key as a JSON string.
    const std::string raw(key);
    if (parser.parse(raw.data(), raw.size()).get(e) == simdjson::SUCCESS &&
        Encode(t, e, depth, out).ok()) {
      return Status::OK();
    }
  }
  const std::string text = JsonString(key);
  if (parser.parse(text.data(), text.size()).get(e) != simdjson::SUCCESS) {
    return Status::InvalidArgument(fmt::format(
        "cannot convert JSON object key {} to CQL {}: not valid UTF-8", text, TypeName(t)));
  }
  return Encode(t, e, depth, out);
}

Status EncodeCollectionValue(const DataType& t, dom::element e, int depth, std::string* out) {
  std::vector<std::string> parts;
  if (t.id == TypeId::kMap) {
    if (t.params.size() != 2) return Mismatch(t, e, "map type without key and value types");
    if (e.type() != dom::element_type::OBJECT) return Mismatch(t, e, "expected a JSON object");
    const dom::object object = e.get_object().value_unsafe();
    for (dom::key_value_pair kv : object) {
      std::string k, v;
      DF_RETURN_IF_ERROR(EncodeMapKey(t.params[0], kv.key, depth + 1, &k));
      if (kv.value.is_null()) return Mismatch(t, e, "a map value is null");
      DF_RETURN_IF_ERROR(Encode(t.params[1], kv.value, depth + 1, &v));
      parts.push_back(std::move(k));
      parts.push_back(std::move(v));
    }
  } else {
    if (t.params.size() != 1) return Mismatch(t, e, "collection type without element type");
    if (e.type() != dom::element_type::ARRAY) return Mismatch(t, e, "expected a JSON array");
    const dom::array array = e.get_array().value_unsafe();
    for (dom::element item : array) {
      if (item.is_null()) return Mismatch(t, e, "a collection element is null");
      std::string b;
      DF_RETURN_IF_ERROR(Encode(t.params[0], item, depth + 1, &b));
      parts.push_back(std::move(b));
    }
  }
  std::string body;
  WireWriter w(&body);
  w.Int(static_cast<int32_t>(t.id == TypeId::kMap ? parts.size() / 2 : parts.size()));
  for (const auto& p : parts) w.BytesView(p);
  *out = std::move(body);
  return Status::OK();
}

Status Encode(const DataType& t, dom::element e, int depth, std::string* out) {
  if (depth > kMaxValueDepth) return Mismatch(t, e, "nested too deeply");
  int64_t i = 0;
  double d = 0;
  std::string_view s;
  switch (t.id) {
    case TypeId::kVarchar:
    case TypeId::kAscii:  // ascii's bytes are checked by CheckValue
      DF_RETURN_IF_ERROR(GetString(t, e, &s));
      *out = std::string(s);
      return Status::OK();
    case TypeId::kUuid:
    case TypeId::kTimeuuid: {  // timeuuid's version is checked by CheckValue
      DF_RETURN_IF_ERROR(GetString(t, e, &s));
      Result<std::string> b = EncodeUuid(s);
      if (!b.ok()) return Mismatch(t, e, "not a UUID (36 characters, 8-4-4-4-12 hex digits)");
      *out = std::move(*b);
      return Status::OK();
    }
    case TypeId::kInt:
      DF_RETURN_IF_ERROR(GetInteger(t, e, INT32_MIN, INT32_MAX, &i));
      *out = EncodeInt(static_cast<int32_t>(i));
      return Status::OK();
    case TypeId::kBigint:
    case TypeId::kCounter:
      DF_RETURN_IF_ERROR(GetInteger(t, e, INT64_MIN, INT64_MAX, &i));
      *out = EncodeBigint(i);
      return Status::OK();
    case TypeId::kSmallint:
      DF_RETURN_IF_ERROR(GetInteger(t, e, INT16_MIN, INT16_MAX, &i));
      *out = EncodeInt(static_cast<int32_t>(i)).substr(2);
      return Status::OK();
    case TypeId::kTinyint:
      DF_RETURN_IF_ERROR(GetInteger(t, e, INT8_MIN, INT8_MAX, &i));
      *out = std::string(1, static_cast<char>(static_cast<int8_t>(i)));
      return Status::OK();
    case TypeId::kVarint:
      DF_RETURN_IF_ERROR(GetInteger(t, e, INT64_MIN, INT64_MAX, &i));
      *out = VarintBytes(i);
      return Status::OK();
    case TypeId::kDouble:
      DF_RETURN_IF_ERROR(GetDouble(t, e, &d));
      *out = EncodeDouble(d);
      return Status::OK();
    case TypeId::kDecimal: {
      // Exact from text ("12345678901234567890.123456789", the form AppendValueAsJson writes);
      // a JSON number is taken as the parser read it (integers exactly).
      std::string text;
      switch (e.type()) {
        case dom::element_type::STRING:
          text = std::string(e.get_string().value_unsafe());
          break;
        case dom::element_type::INT64:
          text = std::to_string(e.get_int64().value_unsafe());
          break;
        case dom::element_type::UINT64:
          text = std::to_string(e.get_uint64().value_unsafe());
          break;
        case dom::element_type::DOUBLE:
          text = fmt::format("{}", e.get_double().value_unsafe());
          break;
        default:
          return Mismatch(t, e, "expected a decimal number or its text");
      }
      std::optional<Decimal> dec = ParseDecimal(text);
      if (!dec) {
        return Mismatch(t, e,
                        fmt::format("not a decimal (digits, an optional point and exponent, at "
                                    "most {} digits; no NaN or Infinity)",
                                    kMaxDecimalDigits));
      }
      *out = DecimalToCql(*dec);
      return Status::OK();
    }
    case TypeId::kFloat: {
      DF_RETURN_IF_ERROR(GetDouble(t, e, &d));
      if (std::isfinite(d) && std::fabs(d) > FLT_MAX) return Mismatch(t, e, "out of float range");
      *out = EncodeInt(static_cast<int32_t>(std::bit_cast<uint32_t>(static_cast<float>(d))));
      return Status::OK();
    }
    case TypeId::kBoolean:
      if (e.type() == dom::element_type::BOOL) {
        *out = EncodeBoolean(e.get_bool().value_unsafe());
        return Status::OK();
      }
      if (e.type() == dom::element_type::STRING) {
        s = e.get_string().value_unsafe();
        if (s == "true" || s == "false") {
          *out = EncodeBoolean(s == "true");
          return Status::OK();
        }
      }
      return Mismatch(t, e, "expected true or false");
    case TypeId::kTimestamp: {
      if (e.type() == dom::element_type::STRING) {
        std::optional<int64_t> ms = ParseTimestampMillis(e.get_string().value_unsafe());
        if (!ms) return Mismatch(t, e, "expected \"YYYY-MM-DDTHH:MM:SS.mmmZ\" or epoch millis");
        *out = EncodeBigint(*ms);
        return Status::OK();
      }
      if (e.type() != dom::element_type::INT64) {
        return Mismatch(t, e, "expected \"YYYY-MM-DDTHH:MM:SS.mmmZ\" or epoch millis");
      }
      *out = EncodeBigint(e.get_int64().value_unsafe());
      return Status::OK();
    }
    case TypeId::kDate: {
      if (e.type() == dom::element_type::STRING) {
        s = e.get_string().value_unsafe();
        std::optional<int64_t> ms = s.size() == 10 ? ParseTimestampMillis(s) : std::nullopt;
        if (!ms) return Mismatch(t, e, "expected \"YYYY-MM-DD\"");
        i = *ms / kMillisPerDay + kDateEpoch;  // exact: midnight UTC
      } else {
        DF_RETURN_IF_ERROR(GetInteger(t, e, 0, UINT32_MAX, &i));
      }
      *out = EncodeInt(static_cast<int32_t>(static_cast<uint32_t>(i)));
      return Status::OK();
    }
    case TypeId::kTime:
      if (e.type() == dom::element_type::STRING) {
        if (!ParseTime(e.get_string().value_unsafe(), &i)) {
          return Mismatch(t, e, "expected \"HH:MM:SS[.fffffffff]\"");
        }
      } else {
        DF_RETURN_IF_ERROR(GetInteger(t, e, 0, kNanosPerDay - 1, &i));
      }
      *out = EncodeBigint(i);
      return Status::OK();
    case TypeId::kBlob: {
      DF_RETURN_IF_ERROR(GetString(t, e, &s));
      if (s.size() < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s.size() % 2 != 0) {
        return Mismatch(t, e, "expected \"0x\" and an even number of hex digits");
      }
      std::string b;
      for (size_t k = 2; k < s.size(); k += 2) {
        const int hi = HexDigit(s[k]), lo = HexDigit(s[k + 1]);
        if (hi < 0 || lo < 0) return Mismatch(t, e, fmt::format("non-hex digit at offset {}", k));
        b.push_back(static_cast<char>(hi * 16 + lo));
      }
      *out = std::move(b);
      return Status::OK();
    }
    case TypeId::kInet: {
      DF_RETURN_IF_ERROR(GetString(t, e, &s));
      const std::string text(s);
      unsigned char addr[16];
      if (inet_pton(AF_INET, text.c_str(), addr) == 1) {
        *out = std::string(reinterpret_cast<char*>(addr), 4);
      } else if (inet_pton(AF_INET6, text.c_str(), addr) == 1) {
        *out = std::string(reinterpret_cast<char*>(addr), 16);
      } else {
        return Mismatch(t, e, "not an IPv4 or IPv6 address");
      }
      return Status::OK();
    }
    case TypeId::kList:
    case TypeId::kSet:
    case TypeId::kMap:
      return EncodeCollectionValue(t, e, depth, out);
    default:
      return NoJsonForm(t);
  }
}

Status Decode(const DataType& t, std::string_view b, int depth, std::string* out);

Status DecodeCollectionValue(const DataType& t, std::string_view b, int depth, std::string* out) {
  const bool is_map = t.id == TypeId::kMap;
  if (t.params.size() != (is_map ? 2u : 1u)) {
    return Status::InvalidArgument(
        fmt::format("CQL {} value: type has no element types", TypeName(t)));
  }
  WireReader r(b);
  const int32_t n = r.Int();
  const size_t per = is_map ? 8 : 4;  // each element is at least an [int] length
  if (r.ok() && (n < 0 || static_cast<size_t>(n) * per > r.remaining())) {
    r.Fail(
        fmt::format("element count {} at byte 0 does not fit the {} bytes left", n, r.remaining()));
  }
  out->push_back(is_map ? '{' : '[');
  for (int32_t k = 0; k < n && r.ok(); ++k) {
    if (k > 0) out->push_back(',');
    if (is_map) {
      std::optional<std::string> key = r.Bytes();
      std::optional<std::string> value = r.Bytes();
      if (!r.ok()) break;
      std::string key_json;
      DF_RETURN_IF_ERROR(AppendValueAsJson(t.params[0], key, &key_json));
      // Object keys are text: a string key as it is, any other key as its JSON text.
      if (key_json.empty() || key_json[0] != '"') key_json = JsonString(key_json);
      out->append(key_json);
      out->push_back(':');
      if (value) {
        DF_RETURN_IF_ERROR(Decode(t.params[1], *value, depth + 1, out));
      } else {
        out->append("null");
      }
    } else {
      std::optional<std::string> item = r.Bytes();
      if (!r.ok()) break;
      if (item) {
        DF_RETURN_IF_ERROR(Decode(t.params[0], *item, depth + 1, out));
      } else {
        out->append("null");
      }
    }
  }
  if (r.ok() && r.remaining() != 0) {
    r.Fail(fmt::format("{} bytes after the last element", r.remaining()));
  }
  DF_RETURN_IF_ERROR(r.ToStatus(fmt::format("CQL {} value", TypeName(t))));
  out->push_back(is_map ? '}' : ']');
  return Status::OK();
}

Status Decode(const DataType& t, std::string_view b, int depth, std::string* out) {
  if (depth > kMaxValueDepth) {
    return Status::InvalidArgument(
        fmt::format("CQL {} value nests deeper than {} levels", TypeName(t), kMaxValueDepth));
  }
  auto size_error = [&](size_t want) {
    return Status::InvalidArgument(
        fmt::format("CQL {} value: expected {} bytes, got {}", TypeName(t), want, b.size()));
  };
  switch (t.id) {
    case TypeId::kVarchar:
    case TypeId::kAscii:
      AppendJsonString(out, b);
      return Status::OK();
    case TypeId::kUuid:
    case TypeId::kTimeuuid: {
      DF_ASSIGN_OR_RETURN(std::string u, DecodeUuid(b));
      AppendJsonString(out, u);
      return Status::OK();
    }
    case TypeId::kInt: {
      DF_ASSIGN_OR_RETURN(int32_t v, DecodeInt(b));
      out->append(std::to_string(v));
      return Status::OK();
    }
    case TypeId::kBigint:
    case TypeId::kCounter: {
      DF_ASSIGN_OR_RETURN(int64_t v, DecodeBigint(b));
      out->append(std::to_string(v));
      return Status::OK();
    }
    case TypeId::kSmallint:
      if (b.size() != 2) return size_error(2);
      out->append(std::to_string(
          static_cast<int16_t>((static_cast<uint8_t>(b[0]) << 8) | static_cast<uint8_t>(b[1]))));
      return Status::OK();
    case TypeId::kTinyint:
      if (b.size() != 1) return size_error(1);
      out->append(std::to_string(static_cast<int8_t>(b[0])));
      return Status::OK();
    case TypeId::kVarint: {
      if (b.empty() || b.size() > 8) {
        return Status::InvalidArgument(fmt::format(
            "CQL varint value of {} bytes: DataForge converts 1 to 8 bytes (64-bit) only",
            b.size()));
      }
      uint64_t u = (static_cast<uint8_t>(b[0]) & 0x80) ? ~uint64_t{0} : 0;
      for (char c : b) u = (u << 8) | static_cast<uint8_t>(c);
      out->append(std::to_string(static_cast<int64_t>(u)));
      return Status::OK();
    }
    case TypeId::kDouble:
    case TypeId::kFloat: {
      double v;
      if (t.id == TypeId::kDouble) {
        DF_ASSIGN_OR_RETURN(v, DecodeDouble(b));
      } else {
        if (b.size() != 4) return size_error(4);
        DF_ASSIGN_OR_RETURN(int32_t bits, DecodeInt(b));
        v = std::bit_cast<float>(bits);
      }
      if (std::isnan(v)) {
        out->append("\"NaN\"");
      } else if (std::isinf(v)) {
        out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      } else if (v == 0 && std::signbit(v)) {
        out->append("-0.0");  // "-0" would read back as the integer 0 (float and double alike)
      } else if (t.id == TypeId::kFloat) {
        out->append(fmt::format("{}", static_cast<float>(v)));
      } else {
        out->append(fmt::format("{}", v));
      }
      return Status::OK();
    }
    case TypeId::kDecimal: {
      std::optional<Decimal> dec = DecimalFromCql(b);
      if (!dec) {
        return Status::InvalidArgument(fmt::format(
            "CQL decimal value of {} bytes: expected a 4-byte scale and an unscaled value of "
            "at most {} digits",
            b.size(), kMaxDecimalDigits));
      }
      AppendJsonString(out, FormatDecimal(*dec));
      return Status::OK();
    }
    case TypeId::kBoolean: {
      DF_ASSIGN_OR_RETURN(bool v, DecodeBoolean(b));
      out->append(v ? "true" : "false");
      return Status::OK();
    }
    case TypeId::kTimestamp: {
      DF_ASSIGN_OR_RETURN(int64_t ms, DecodeBigint(b));
      if (ms >= kMinTextMillis && ms <= kMaxTextMillis) {
        AppendJsonString(out, FormatTimestampMillis(ms));
      } else {
        out->append(std::to_string(ms));
      }
      return Status::OK();
    }
    case TypeId::kDate: {
      DF_ASSIGN_OR_RETURN(int32_t raw, DecodeInt(b));
      const int64_t days = static_cast<int64_t>(static_cast<uint32_t>(raw)) - kDateEpoch;
      const int64_t ms = days * kMillisPerDay;
      if (ms >= kMinTextMillis && ms <= kMaxTextMillis) {
        AppendJsonString(out, FormatTimestampMillis(ms).substr(0, 10));
      } else {
        out->append(std::to_string(static_cast<uint32_t>(raw)));
      }
      return Status::OK();
    }
    case TypeId::kTime: {
      DF_ASSIGN_OR_RETURN(int64_t ns, DecodeBigint(b));
      if (ns < 0 || ns >= kNanosPerDay) {
        return Status::InvalidArgument(
            fmt::format("CQL time value {} is outside [0, 86400000000000) nanoseconds", ns));
      }
      const int64_t secs = ns / 1'000'000'000;
      AppendJsonString(out, fmt::format("{:02d}:{:02d}:{:02d}.{:09d}", secs / 3600, secs / 60 % 60,
                                        secs % 60, ns % 1'000'000'000));
      return Status::OK();
    }
    case TypeId::kBlob: {
      std::string hex = "\"0x";
      for (char c : b) hex.append(fmt::format("{:02x}", static_cast<uint8_t>(c)));
      hex.push_back('"');
      out->append(hex);
      return Status::OK();
    }
    case TypeId::kInet: {
      char text[INET6_ADDRSTRLEN] = {};
      if (b.size() != 4 && b.size() != 16) {
        return Status::InvalidArgument(
            fmt::format("CQL inet value: expected 4 or 16 bytes, got {}", b.size()));
      }
      inet_ntop(b.size() == 4 ? AF_INET : AF_INET6, b.data(), text, sizeof text);
      AppendJsonString(out, text);
      return Status::OK();
    }
    case TypeId::kList:
    case TypeId::kSet:
    case TypeId::kMap:
      return DecodeCollectionValue(t, b, depth, out);
    default:
      return NoJsonForm(t);
  }
}

}  // namespace

Result<std::optional<std::string>> JsonToValue(const DataType& t, std::string_view json) {
  thread_local dom::parser parser;
  dom::element e;
  const auto err = parser.parse(json.data(), json.size()).get(e);
  if (err != simdjson::SUCCESS) {
    return Status::InvalidArgument(fmt::format("value {} for CQL {} is not valid JSON: {}",
                                               Shown(json), TypeName(t),
                                               simdjson::error_message(err)));
  }
  return JsonElementToValue(t, e);
}

Result<std::optional<std::string>> JsonElementToValue(const DataType& t,
                                                      const dom::element& element) {
  if (element.is_null()) return std::optional<std::string>();
  std::string out;
  DF_RETURN_IF_ERROR(Encode(t, element, 0, &out));
  // The check every stored value passes, literal or bound (value_check.h): also sorts sets and
  // keeps one value per map key.
  DF_RETURN_IF_ERROR(CheckValue(t, &out));
  return std::optional<std::string>(std::move(out));
}

Status AppendJsonElementAsValue(const DataType& t, const dom::element& element, std::string* out) {
  WireWriter w(out);
  if (element.is_null()) {
    w.Int(-1);
    return Status::OK();
  }
  thread_local std::string value;  // reused: no allocation per value once warm
  value.clear();
  DF_RETURN_IF_ERROR(Encode(t, element, 0, &value));
  DF_RETURN_IF_ERROR(CheckValue(t, &value));
  w.BytesView(value);
  return Status::OK();
}

Status AppendValueAsJson(const DataType& t, const std::optional<std::string>& value,
                         std::string* out) {
  if (!value) {
    out->append("null");
    return Status::OK();
  }
  const size_t mark = out->size();
  Status s = Decode(t, *value, 0, out);
  if (!s.ok()) out->resize(mark);  // no half-written value on failure
  return s;
}

}  // namespace dataforge::cql
