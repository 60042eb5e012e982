#include "serve/rest/row_write.h"

#include <simdjson.h>

#include <set>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "cql/types.h"
#include "serve/rest/row_filter.h"

namespace dataforge::rest {
namespace {

// One column value (JSON text) in the store's JSON form.
Result<std::string> NormalizeValue(const ColumnSchema& col, std::string_view json) {
  DF_ASSIGN_OR_RETURN(cql::DataType type, cql::ParseTypeName(col.type));
  auto bytes = cql::JsonToValue(type, json);
  if (!bytes.ok()) {
    return Status::InvalidArgument(
        fmt::format("column {} ({}): {}", col.name, col.type, bytes.status().message()));
  }
  std::string out;
  DF_RETURN_IF_ERROR(cql::AppendValueAsJson(type, *bytes, &out));
  return out;
}

// A key value's JSON as key text: strings unquoted, numbers and booleans as written.
std::string KeyTextOf(const std::string& json) {
  if (json.size() >= 2 && json.front() == '"') {
    simdjson::dom::parser parser;
    std::string_view s;
    if (parser.parse(json).get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  }
  return json;
}

StoreBatch Batch(const std::string& table) {
  StoreBatch b;
  b.table = table;
  b.counted = false;
  return b;
}

}  // namespace

Result<std::string> CanonicalKey(const TableSchema& schema, const std::string& key) {
  const ColumnSchema* col = FindColumn(schema, schema.key_column);
  if (col == nullptr) return key;
  auto json = NormalizeValue(*col, JsonString(key));
  if (!json.ok() || *json == "null") {
    return Status::InvalidArgument(
        fmt::format("key '{}' is not a valid {} for key column {}", key, col->type, col->name));
  }
  return KeyTextOf(*json);
}

Result<StoreBatch> PutBatch(const TableSchema& schema, const std::string& key,
                            std::string_view body) {
  const ColumnSchema* key_col = FindColumn(schema, schema.key_column);
  if (key_col == nullptr) {
    return Status::InvalidArgument(fmt::format(
        "table {} has no schema (key column {} unknown): it cannot be written over HTTP",
        schema.table, schema.key_column));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc); err) {
    return Status::InvalidArgument(
        fmt::format("body is not valid JSON: {}", simdjson::error_message(err)));
  }
  simdjson::dom::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) {
    return Status::InvalidArgument(
        "body: expected a JSON object of columns, e.g. {\"name\":\"Ann\"}");
  }
  DF_ASSIGN_OR_RETURN(std::string canonical, CanonicalKey(schema, key));
  if (canonical != key) {
    return Status::InvalidArgument(
        fmt::format("key '{}': the {} key column {} writes it as '{}'; use that in the path", key,
                    key_col->type, schema.key_column, canonical));
  }
  // The key column first, then the body's columns in its order.
  JsonObjectWriter w;
  DF_ASSIGN_OR_RETURN(std::string key_json, NormalizeValue(*key_col, JsonString(key)));
  w.Raw(schema.key_column, key_json);
  std::set<std::string_view> seen;
  for (auto field : object) {
    const ColumnSchema* col = FindColumn(schema, field.key);
    if (col == nullptr) {
      return Status::InvalidArgument(fmt::format("body: unknown column {}; columns of {}: {}",
                                                 field.key, schema.table, ColumnList(schema)));
    }
    if (!seen.insert(col->name).second) {
      return Status::InvalidArgument(fmt::format("body: column {} is given twice", col->name));
    }
    auto value = NormalizeValue(*col, simdjson::minify(field.value));
    if (!value.ok()) return Status::InvalidArgument("body: " + value.status().message());
    if (col->name == schema.key_column) {
      std::string text = KeyTextOf(*value);
      if (*value == "null" || text != key) {
        return Status::InvalidArgument(
            fmt::format("body: key column {} is '{}' but the path's key is '{}'", schema.key_column,
                        text, key));
      }
      continue;
    }
    w.Raw(col->name, *value);
  }
  StoreBatch b = Batch(schema.table);
  b.rows.push_back(RowWrite{key, w.Finish(), false, false});
  return b;
}

StoreBatch DeleteBatch(const std::string& table, const std::string& key) {
  StoreBatch b = Batch(table);
  b.rows.push_back(RowWrite{key, "", true, false});
  return b;
}

}  // namespace dataforge::rest
