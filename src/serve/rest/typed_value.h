// Typed column values for the tables API's filters and aggregates (docs/serving.md "Tables"):
// a value from a filter's text or from a stored row's JSON, read by the column's CQL type
// (TableSchema), and compared by that type: numbers numerically, timestamps by instant, uuids by
// their bytes, booleans false < true, text by bytes. Pure functions and values; thread-safe.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/decimal.h"

namespace dataforge::rest {

// How a column's values compare.
enum class ValueKind {
  kText,       // text, varchar, ascii, inet, date, time, and any type not listed here
  kInteger,    // int, bigint, smallint, tinyint, counter
  kDouble,     // double, float
  kDecimal,    // decimal, varint (exact)
  kBoolean,    // boolean
  kTimestamp,  // timestamp (milliseconds since the epoch)
  kUuid,       // uuid, timeuuid (compared by their bytes, as lower-case text)
};

// The kind of a CQL type name as DescribeTable gives it ("int", "timestamp", "map<text, int>").
ValueKind KindOfType(std::string_view cql_type);
// What a filter value must look like, for error messages: "a number", "a timestamp (...)".
std::string_view ExpectedText(ValueKind kind);
bool IsNumeric(ValueKind kind);

// One non-null value of a kind. Numbers of a kInteger column may hold a double (a filter
// `age=gt.1.5`): `is_int` tells which of `i` and `d` holds it.
struct TypedValue {
  ValueKind kind = ValueKind::kText;
  bool is_int = false;
  int64_t i = 0;     // kInteger (is_int), kTimestamp; kBoolean as 0/1
  double d = 0;      // kDouble, kInteger (!is_int)
  Decimal dec;       // kDecimal
  std::string text;  // kText, kUuid (lower-case)
};

// A filter's value text (percent-decoding done) as a value of `kind`; nullopt if it is not one.
// Timestamps: ParseTimestampMillis forms or integer epoch milliseconds. Booleans: true/false.
std::optional<TypedValue> ParseValueText(ValueKind kind, std::string_view text);

// A stored row's JSON value as a value of `kind`. `*is_null` is set for JSON null; nullopt with
// `*is_null` false when the JSON does not read as the kind (compared as no match).
// Numbers may be JSON numbers or numeric text; timestamps text or epoch milliseconds.
std::optional<TypedValue> ParseJsonValue(ValueKind kind, simdjson::dom::element e, bool* is_null);

// <0, 0, >0. Both values of the same kind.
int CompareValues(const TypedValue& a, const TypedValue& b);

}  // namespace dataforge::rest
