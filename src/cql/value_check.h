// The one check every CQL value passes before DataForge stores it, whichever way it arrived: a
// literal in a statement (JsonToValue calls it after reading the JSON form) or a bound value of
// a prepared statement, a QUERY with values or a BATCH (the endpoint calls it on the bytes).
//
// A value is the serialized form of native_protocol_v4.spec section 6. What is checked:
//   text/varchar  valid UTF-8              ascii   bytes < 0x80
//   int 4 bytes, bigint/counter/timestamp/time 8, smallint 2, tinyint 1, double 8, float 4,
//   boolean 1, date 4, uuid/timeuuid 16 (timeuuid: version 1), inet 4 or 16, varint 1 to 8
//   (DataForge keeps 64-bit varints), time in [0, 86400000000000) ns, blob anything,
//   decimal a 4-byte scale and a varint of up to common/decimal.h's kMaxDecimalDigits digits;
//   list/set/map: a well-formed [int] count and [bytes] elements, no null element, each
//   element checked as its type. duration, UDTs, tuples and custom types have no
//   stored form and are refused.
// The value returned is canonical, as Cassandra stores it: a set's elements sorted in the
// element type's order (CompareValues) without duplicates, a map's entries sorted by key with
// one value per key (the last one given wins), a boolean 0x00 or 0x01, a decimal's unscaled
// value as a minimal varint.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "cql/types.h"

namespace dataforge::cql {

// Checks `*value` as a value of `t` and makes it canonical in place (unchanged when it already
// is). InvalidArgument names the type and what is wrong, and leaves `*value` as it was:
// "CQL ascii value: non-ASCII byte 0xc3 at offset 1".
[[nodiscard]] Status CheckValue(const DataType& t, std::string* value);

// Cassandra's order of two values of `t` that passed CheckValue: < 0, 0 or > 0. Text, ascii,
// blob, inet: unsigned bytes; numbers and timestamps: numeric (doubles as Java's
// Double.compare: -0.0 < 0.0, NaN last); date: chronological; boolean: false first; uuid:
// version, then time for version 1, then unsigned bytes; timeuuid: time, then signed bytes;
// collections: element by element, then the shorter first.
int CompareValues(const DataType& t, std::string_view a, std::string_view b);

// Whether CREATE TABLE can declare a column of `t`: false for types no value of which
// CheckValue accepts (duration, counter, UDTs, tuples, custom), also inside a
// collection. `why` says which type and what to use instead.
bool StorableType(const DataType& t, std::string* why);

}  // namespace dataforge::cql
