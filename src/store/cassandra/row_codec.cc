#include "store/cassandra/row_codec.h"

#include <map>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/json_writer.h"
#include "cql/json_element.h"

namespace dataforge {

Result<TableShape> ShapeOf(const TableSchema& schema, const std::string& physical) {
  TableShape s;
  s.physical = physical;
  bool has_key = false;
  for (const auto& c : schema.columns) {
    auto t = cql::ParseTypeName(c.type);
    if (!t.ok()) {
      return Status::InvalidArgument(
          fmt::format("cassandra table {}: column {}: {}", physical, c.name, t.status().message()));
    }
    if (c.name == schema.key_column) {
      s.key_index = s.names.size();
      has_key = true;
    }
    s.names.push_back(c.name);
    s.types.push_back(std::move(*t));
  }
  if (!has_key) {
    return Status::InvalidArgument(fmt::format(
        "cassandra table {}: key column {} is not among the columns", physical, schema.key_column));
  }
  return s;
}

Result<cql::Value> BindKey(const TableShape& shape, const std::string& key) {
  auto v = cql::JsonToValue(shape.types[shape.key_index], JsonString(key));
  if (!v.ok()) {
    return Status::InvalidArgument(fmt::format("cassandra table {}: key '{}' for column {}: {}",
                                               shape.physical, key, shape.names[shape.key_index],
                                               v.status().message()));
  }
  return v->has_value() ? cql::Value::Of(std::move(**v)) : cql::Value::Null();
}

Result<std::vector<cql::Value>> BindRow(const TableShape& shape, const std::string& key,
                                        std::string_view row_json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  simdjson::padded_string padded(row_json);
  if (auto err = parser.parse(padded).get_object().get(object); err) {
    return Status::InvalidArgument(
        fmt::format("cassandra table {}: row '{}' is not a JSON object: {}", shape.physical, key,
                    simdjson::error_message(err)));
  }
  std::map<std::string_view, std::string> fields;
  for (auto field : object) fields[field.key] = simdjson::minify(field.value);
  std::vector<cql::Value> values(shape.names.size(), cql::Value::Unset());
  for (size_t i = 0; i < shape.names.size(); ++i) {
    if (i == shape.key_index) {
      DF_ASSIGN_OR_RETURN(values[i], BindKey(shape, key));
      continue;
    }
    auto it = fields.find(shape.names[i]);
    if (it == fields.end()) continue;  // UNSET
    auto v = cql::JsonToValue(shape.types[i], it->second);
    if (!v.ok()) {
      return Status::InvalidArgument(fmt::format("cassandra table {}: row '{}' column {}: {}",
                                                 shape.physical, key, shape.names[i],
                                                 v.status().message()));
    }
    values[i] = v->has_value() ? cql::Value::Of(std::move(**v)) : cql::Value::Null();
  }
  return values;
}

namespace {

// The parameters' head: consistency, flags (values and default timestamp), value count.
void AppendParametersHead(cql::Consistency consistency, size_t values, std::string* out) {
  cql::WireWriter w(out);
  w.Short(static_cast<uint16_t>(consistency));
  w.Byte(static_cast<uint8_t>(cql::kQueryValues | cql::kQueryDefaultTimestamp));
  w.Short(static_cast<uint16_t>(values));
}

}  // namespace

Status AppendKeyParameters(const TableShape& shape, const std::string& key,
                           cql::Consistency consistency, int64_t timestamp_us, std::string* out) {
  DF_ASSIGN_OR_RETURN(cql::Value v, BindKey(shape, key));
  AppendParametersHead(consistency, 1, out);
  cql::WireWriter w(out);
  w.ValueBytes(v);
  w.Long(timestamp_us);
  return Status::OK();
}

Status AppendRowParameters(const TableShape& shape, const std::string& key,
                           std::string_view row_json, bool absent_as_null,
                           cql::Consistency consistency, int64_t timestamp_us, std::string* out) {
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;  // the row with simdjson's padding, reused
  thread_local std::vector<std::optional<simdjson::dom::element>> found;
  padded.reserve(row_json.size() + simdjson::SIMDJSON_PADDING);
  padded.assign(row_json);
  simdjson::dom::object object;
  if (auto err = parser.parse(padded.data(), padded.size(), false).get_object().get(object); err) {
    return Status::InvalidArgument(
        fmt::format("cassandra table {}: row '{}' is not a JSON object: {}", shape.physical, key,
                    simdjson::error_message(err)));
  }
  // Each column's member (the last one when a name repeats, as BindRow's map keeps it).
  found.assign(shape.names.size(), std::nullopt);
  for (auto field : object) {
    for (size_t i = 0; i < shape.names.size(); ++i) {
      if (shape.names[i] == field.key) {
        found[i] = field.value;
        break;
      }
    }
  }
  const size_t mark = out->size();
  AppendParametersHead(consistency, shape.names.size(), out);
  cql::WireWriter w(out);
  for (size_t i = 0; i < shape.names.size(); ++i) {
    if (i == shape.key_index) {
      auto v = BindKey(shape, key);
      if (!v.ok()) {
        out->resize(mark);
        return v.status();
      }
      w.ValueBytes(*v);
      continue;
    }
    if (!found[i]) {
      w.ValueBytes(absent_as_null ? cql::Value::Null() : cql::Value::Unset());
      continue;
    }
    Status st = cql::AppendJsonElementAsValue(shape.types[i], *found[i], out);
    if (!st.ok()) {
      out->resize(mark);
      return Status::InvalidArgument(fmt::format("cassandra table {}: row '{}' column {}: {}",
                                                 shape.physical, key, shape.names[i],
                                                 st.message()));
    }
  }
  w.Long(timestamp_us);
  return Status::OK();
}

Result<std::string> RowToJson(const std::vector<cql::ColumnSpec>& columns,
                              const std::vector<std::optional<std::string>>& row) {
  std::string out = "{";
  for (size_t i = 0; i < columns.size() && i < row.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, columns[i].name);
    out.push_back(':');
    DF_RETURN_IF_ERROR(cql::AppendValueAsJson(columns[i].type, row[i], &out));
  }
  out.push_back('}');
  return out;
}

Result<std::string> KeyText(const cql::DataType& type, const std::optional<std::string>& value) {
  if (!value) return std::string();
  if (type.id == cql::TypeId::kVarchar || type.id == cql::TypeId::kAscii) return *value;
  std::string json;
  DF_RETURN_IF_ERROR(cql::AppendValueAsJson(type, value, &json));
  if (json.size() >= 2 && json.front() == '"' && json.back() == '"') {
    return json.substr(1, json.size() - 2);
  }
  return json;
}

}  // namespace dataforge
