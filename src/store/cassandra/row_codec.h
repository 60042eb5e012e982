// Conversions between DataForge rows (one JSON object per row, keyed by text) and CQL values
// of a table's columns (cql/types.h does each value). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cql/messages.h"
#include "cql/types.h"
#include "store/store.h"

namespace dataforge {

// A table's columns as the store binds them: the INSERT lists them in this order.
struct TableShape {
  std::string physical;  // "keyspace.table"
  std::vector<std::string> names;
  std::vector<cql::DataType> types;
  size_t key_index = 0;
};

// From a schema (types parsed; InvalidArgument naming an unknown type).
Result<TableShape> ShapeOf(const TableSchema& schema, const std::string& physical);

// The INSERT's values, in shape order. The key column is bound from `key` (the RowWrite's key
// is authoritative); a column absent from `row_json` is bound UNSET (nothing written, no
// tombstone), an explicit JSON null as null. InvalidArgument names the table, key and column.
Result<std::vector<cql::Value>> BindRow(const TableShape& shape, const std::string& key,
                                        std::string_view row_json);
// The key column's value for `key` (its text form).
Result<cql::Value> BindKey(const TableShape& shape, const std::string& key);

// One text or bigint value, as a statement binds it.
inline cql::Value TextValue(std::string_view s) {
  return cql::Value::Of(cql::EncodeText(s));
}
inline cql::Value BigintValue(int64_t v) {
  return cql::Value::Of(cql::EncodeBigint(v));
}

// A prepared write's query parameters, appended to `out` exactly as cql::EncodeQueryParameters
// writes them (consistency, flags values|default timestamp, the values, the timestamp), without
// building a cql::Value per column: the row is parsed once (a per-thread parser and buffer) and
// each column encoded into `out`, so a caller that reuses `out` allocates nothing per row.
// AppendRowParameters binds like BindRow (absent columns UNSET, or null with `absent_as_null`),
// AppendKeyParameters like BindKey (the DELETE's one value). Same errors; on error `out` is as
// it was.
Status AppendRowParameters(const TableShape& shape, const std::string& key,
                           std::string_view row_json, bool absent_as_null,
                           cql::Consistency consistency, int64_t timestamp_us, std::string* out);
Status AppendKeyParameters(const TableShape& shape, const std::string& key,
                           cql::Consistency consistency, int64_t timestamp_us, std::string* out);

// One result row as a JSON object, columns in result order; null columns are written as null.
Result<std::string> RowToJson(const std::vector<cql::ColumnSpec>& columns,
                              const std::vector<std::optional<std::string>>& row);
// A key value's text form (text as is; uuid, numbers, timestamps as in JSON without quotes).
Result<std::string> KeyText(const cql::DataType& type, const std::optional<std::string>& value);

}  // namespace dataforge
