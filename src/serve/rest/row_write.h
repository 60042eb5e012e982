// The write side of the tables API: PUT /v1/tables/{table}/rows/{key} (a partial upsert of the
// body's columns, store.h RowWrite) and DELETE of the same path, as StoreBatches that are not
// counted in the store counters (like the CQL endpoint's writes). Values are checked against the
// column types and stored in the store's JSON form (cql/types.h: timestamps as
// "YYYY-MM-DDTHH:MM:SS.mmmZ", uuids lower-case, decimals as exact text). Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace dataforge::rest {

// The key column's canonical text for `key` (what the store keys the row by: "42" for an int
// key written "+42"); InvalidArgument when `key` is not a value of the key column's type.
Result<std::string> CanonicalKey(const TableSchema& schema, const std::string& key);

// The batch for PUT: `body` must be a JSON object of the table's columns; the key column, when
// given, must equal `key`, and is written in any case. InvalidArgument with the API's message.
Result<StoreBatch> PutBatch(const TableSchema& schema, const std::string& key,
                            std::string_view body);

// The batch for DELETE.
StoreBatch DeleteBatch(const std::string& table, const std::string& key);

}  // namespace dataforge::rest
