#include "expr/value.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/json_writer.h"
#include "common/timestamp.h"
#include "expr/function_util.h"

namespace dataforge::expr {
namespace {

constexpr size_t kDescribeMaxBytes = 64;

void AppendDouble(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(d)) {
    out->append(d > 0 ? "Infinity" : "-Infinity");
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), d);
  out->append(buf, r.ptr);
}

void AppendInt(int64_t i, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), i);
  out->append(buf, r.ptr);
}

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kInt:
      return "int";
    case Kind::kDouble:
      return "double";
    case Kind::kString:
      return "string";
    case Kind::kTimestamp:
      return "timestamp";
    case Kind::kJson:
      return "json";
  }
  return "unknown";
}

std::string DescribeValue(const Value& v) {
  std::string out = KindName(v.kind);
  if (v.kind == Kind::kNull) return out;
  out.push_back(' ');
  if (v.kind == Kind::kString || v.kind == Kind::kJson) {
    bool quote = v.kind == Kind::kString;
    if (quote) out.push_back('\'');
    // One line of valid UTF-8: control characters and invalid bytes as \xNN; cut at a code
    // point boundary.
    std::string_view s(v.s);
    size_t pos = 0;
    while (pos < s.size() && pos < kDescribeMaxBytes) {
      size_t at = pos;
      char32_t cp;
      if (internal::DecodeUtf8(s, &pos, &cp) && cp >= 0x20 && cp != 0x7F) {
        out.append(s.substr(at, pos - at));
      } else {
        pos = at + 1;
        out.append(fmt::format("\\x{:02X}", static_cast<unsigned char>(s[at])));
      }
    }
    if (pos < s.size()) out.append("...");
    if (quote) out.push_back('\'');
    if (v.s.size() > kDescribeMaxBytes) {
      out.append(" (");
      AppendInt(static_cast<int64_t>(v.s.size()), &out);
      out.append(" bytes)");
    }
    return out;
  }
  AppendText(v, &out);
  return out;
}

void AppendText(const Value& v, std::string* out) {
  switch (v.kind) {
    case Kind::kNull:
      return;
    case Kind::kBool:
      out->append(v.b ? "true" : "false");
      return;
    case Kind::kInt:
      AppendInt(v.i, out);
      return;
    case Kind::kDouble:
      AppendDouble(v.d, out);
      return;
    case Kind::kTimestamp:
      out->append(FormatTimestampMillis(v.i));
      return;
    case Kind::kString:
    case Kind::kJson:
      out->append(v.s);
      return;
  }
}

std::string ToText(const Value& v) {
  if (v.kind == Kind::kString || v.kind == Kind::kJson) return v.s;
  std::string out;
  AppendText(v, &out);
  return out;
}

void AppendJson(const Value& v, std::string* out) {
  switch (v.kind) {
    case Kind::kNull:
      out->append("null");
      return;
    case Kind::kDouble:
      if (!std::isfinite(v.d)) {
        out->append("null");
        return;
      }
      AppendDouble(v.d, out);
      return;
    case Kind::kBool:
    case Kind::kInt:
      AppendText(v, out);
      return;
    case Kind::kString:
      AppendJsonString(out, v.s);
      return;
    case Kind::kTimestamp:
      AppendJsonString(out, FormatTimestampMillis(v.i));
      return;
    case Kind::kJson:
      out->append(v.s);
      return;
  }
}

Value FromJsonElement(const simdjson::dom::element& e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::NULL_VALUE:
      return Value::Null();
    case element_type::BOOL:
      return Value::Bool(e.get_bool().value_unsafe());
    case element_type::INT64:
      return Value::Int(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return Value::Double(static_cast<double>(e.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return Value::Double(e.get_double().value_unsafe());
    case element_type::STRING:
      return Value::String(std::string(e.get_string().value_unsafe()));
    case element_type::ARRAY:
    case element_type::OBJECT:
      return Value::Json(simdjson::minify(e));
  }
  return Value::Null();
}

}  // namespace dataforge::expr
