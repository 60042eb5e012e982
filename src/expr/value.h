// The value of an expression (docs/expressions.md): what a field path, a literal, an operator or
// a function gives. Plain value; thread-compatible.
//
// Types: null; boolean; int (64-bit); double (NaN and infinities allowed, JSON writes them as
// null); string (UTF-8, not validated on construction: functions that need valid UTF-8 say so
// in their error); timestamp (milliseconds since 1970-01-01 UTC); json (an object or array
// from the record, as its compact JSON text).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace dataforge::expr {

enum class Kind { kNull, kBool, kInt, kDouble, kString, kTimestamp, kJson };

struct Value {
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;  // kInt; kTimestamp: milliseconds since the epoch, UTC
  double d = 0;   // kDouble
  std::string s;  // kString; kJson: compact JSON text

  static Value Null() { return {}; }
  static Value Bool(bool v) {
    Value x;
    x.kind = Kind::kBool;
    x.b = v;
    return x;
  }
  static Value Int(int64_t v) {
    Value x;
    x.kind = Kind::kInt;
    x.i = v;
    return x;
  }
  static Value Double(double v) {
    Value x;
    x.kind = Kind::kDouble;
    x.d = v;
    return x;
  }
  static Value String(std::string v) {
    Value x;
    x.kind = Kind::kString;
    x.s = std::move(v);
    return x;
  }
  static Value Timestamp(int64_t millis) {
    Value x;
    x.kind = Kind::kTimestamp;
    x.i = millis;
    return x;
  }
  static Value Json(std::string text) {
    Value x;
    x.kind = Kind::kJson;
    x.s = std::move(text);
    return x;
  }
  bool is_null() const { return kind == Kind::kNull; }
};

// "null", "boolean", "int", "double", "string", "timestamp", "json".
const char* KindName(Kind kind);

// The value for error messages: its kind and its text, strings quoted and cut after 64 bytes:
// "string 'x'", "int 5", "double NaN", "timestamp 2024-01-01T00:00:00.000Z", "null".
std::string DescribeValue(const Value& v);

// The text form of a value (concat, CAST(x AS text)): "true"/"false", decimal ints, the
// shortest double that reads back exactly ("2.5", "3", "NaN", "Infinity", "-Infinity"),
// timestamps as "YYYY-MM-DDTHH:MM:SS.mmmZ", strings and json as they are; null appends nothing.
void AppendText(const Value& v, std::string* out);
std::string ToText(const Value& v);

// The value as JSON text: null, true/false, numbers (NaN and infinities as null), strings
// escaped, timestamps as ISO-8601 strings, json as it is.
void AppendJson(const Value& v, std::string* out);

// The Value of a JSON element: null, boolean, int (int64; a uint64 above INT64_MAX becomes a
// double), double, string, or json (an object or array, as its compact text).
Value FromJsonElement(const simdjson::dom::element& e);

}  // namespace dataforge::expr
