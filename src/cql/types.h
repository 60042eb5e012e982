// CQL data types ([option] in native_protocol_v4.spec section 4.2.5.2 and 6) and the
// serialization of values of the types DataForge maps to (docs/cql.md):
//
//   pipeline column type   CQL type    on the wire (section 6)
//   text                   text        UTF-8 bytes
//   uuid                   uuid        16 bytes
//   int                    int         4 bytes, big-endian two's complement
//   bigint                 bigint      8 bytes
//   double                 double      8 bytes, IEEE 754 big-endian
//   boolean                boolean     1 byte (0 = false)
//   timestamp              timestamp   8 bytes, milliseconds since the epoch
//   decimal                decimal     [int] scale + varint unscaled value (common/decimal.h);
//                                      its JSON form is the exact text: "12345678901234567890.1"
//
// Collections (list, set, map) are decoded and encoded too: drivers read them from the system
// tables (replication map<text,text>, tokens set<text>, ...). Rows in DataForge's store are JSON
// objects; JsonToValue/ValueToJson convert one column between the two forms, with timestamps as
// "YYYY-MM-DDTHH:MM:SS.mmmZ" text in JSON (common/timestamp.h) and uuids as lower-case text.
// Pure functions and values; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cql/wire.h"

namespace dataforge::cql {

enum class TypeId : uint16_t {
  kCustom = 0x0000,
  kAscii = 0x0001,
  kBigint = 0x0002,
  kBlob = 0x0003,
  kBoolean = 0x0004,
  kCounter = 0x0005,
  kDecimal = 0x0006,
  kDouble = 0x0007,
  kFloat = 0x0008,
  kInt = 0x0009,
  kTimestamp = 0x000B,
  kUuid = 0x000C,
  kVarchar = 0x000D,  // "text"
  kVarint = 0x000E,
  kTimeuuid = 0x000F,
  kInet = 0x0010,
  kDate = 0x0011,
  kTime = 0x0012,
  kSmallint = 0x0013,
  kTinyint = 0x0014,
  kList = 0x0020,
  kMap = 0x0021,
  kSet = 0x0022,
  kUdt = 0x0030,
  kTuple = 0x0031,
};

struct UdtField;

// A CQL type. Collections hold their element types in `params` (list/set: 1, map: 2).
// `custom` is the class name of a custom type. UDTs and tuples are decoded (so a driver's
// metadata parses) but not converted to JSON.
struct DataType {
  TypeId id = TypeId::kVarchar;
  std::vector<DataType> params;
  std::string custom;
  // UDT only: keyspace, name, and (field name, type) pairs.
  std::string udt_keyspace, udt_name;
  std::vector<UdtField> udt_fields;

  static DataType Of(TypeId id);
  static DataType List(DataType e);
  static DataType Set(DataType e);
  static DataType Map(DataType k, DataType v);
  bool operator==(const DataType& o) const;
  bool operator!=(const DataType& o) const { return !(*this == o); }
};
// One field of a UDT. A named struct rather than std::pair<std::string, DataType>: clang with
// libstdc++ 12 cannot instantiate that pair as a member of the still incomplete DataType.
struct UdtField {
  std::string name;
  DataType type;
  bool operator==(const UdtField& o) const { return name == o.name && type == o.type; }
};

inline DataType DataType::Of(TypeId id) {
  DataType t;
  t.id = id;
  return t;
}

// CQL spelling: "text", "uuid", "bigint", "map<text, text>", "frozen<...>" is not produced.
std::string TypeName(const DataType& t);
// Parses a CQL type name as written in CREATE TABLE or system_schema.columns.type: "text",
// "varchar", "uuid", "int", "bigint", "double", "boolean", "timestamp", "ascii", "blob",
// "float", "smallint", "tinyint", "timeuuid", "inet", "date", "time", "varint", "counter",
// "list<T>", "set<T>", "map<K, V>", "frozen<T>" (frozen dropped). Case-insensitive.
Result<DataType> ParseTypeName(std::string_view name);

// [option] encoding (section 4.2.5.2).
void WriteType(const DataType& t, WireWriter* w);
DataType ReadType(WireReader* r);  // sets r's error on a malformed option

// --- Value serialization (section 6) ---
std::string EncodeInt(int32_t v);
std::string EncodeBigint(int64_t v);
std::string EncodeDouble(double v);
std::string EncodeBoolean(bool v);
std::string EncodeText(std::string_view v);
// `uuid` is the 36-character text form; InvalidArgument if it is not one.
Result<std::string> EncodeUuid(std::string_view uuid);
// Collections: [int] n, then each element as [bytes] (map: key, value, ...).
std::string EncodeCollection(const std::vector<std::string>& elements);
std::string EncodeStringSet(const std::vector<std::string>& texts);  // set<text>/list<text>
std::string EncodeStringMap(const std::vector<std::pair<std::string, std::string>>& m);

// Decoders: InvalidArgument("... expected 4 bytes, got 3") on a wrong size.
Result<int32_t> DecodeInt(std::string_view b);
Result<int64_t> DecodeBigint(std::string_view b);  // also timestamp and counter
Result<double> DecodeDouble(std::string_view b);
Result<bool> DecodeBoolean(std::string_view b);
Result<std::string> DecodeUuid(std::string_view b);  // lower-case 36-character text

// One JSON value (its text: `"abc"`, `42`, `true`, `null`, ...) -> the value's bytes for `t`
// (nullopt for JSON null). Accepts what the mapping writes (timestamps as ISO-8601 text or
// epoch milliseconds, uuids as text, numbers as numbers or numeric text). InvalidArgument names
// the type and the value on a mismatch.
Result<std::optional<std::string>> JsonToValue(const DataType& t, std::string_view json);
// The value's bytes (nullopt = null) -> JSON text appended to `out`, in the mapping's form.
// Collections become JSON arrays / objects; blobs "0x..." text.
Status AppendValueAsJson(const DataType& t, const std::optional<std::string>& value,
                         std::string* out);

// The range of the `time` type: nanoseconds since midnight, below one day.
inline constexpr int64_t kNanosPerDay = 86'400'000'000'000;

// The value of a hex digit ('0'-'9', 'a'-'f', 'A'-'F'); -1 for any other character.
int HexDigit(char c);

}  // namespace dataforge::cql
