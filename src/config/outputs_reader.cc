#include "config/outputs_reader.h"

#include <set>
#include <string>

#include <fmt/format.h>

namespace dataforge {
namespace {

Status ReadFormat(YamlReader& r, const YAML::Node& n, OutputSpec* o) {
  std::string format = "json";
  DF_RETURN_IF_ERROR(r.Choice(n, "format", {"json", "confluent-json", "confluent-avro"}, &format));
  o->format = format == "confluent-json"   ? LogConfig::Format::kConfluentJson
              : format == "confluent-avro" ? LogConfig::Format::kConfluentAvro
                                           : LogConfig::Format::kJson;
  DF_RETURN_IF_ERROR(r.Str(n, "subject", &o->subject));
  if (o->format != LogConfig::Format::kJson && o->subject.empty()) {
    return r.Error(n, fmt::format("topic output '{}' is {}: it needs 'subject' (the schema "
                                  "registry subject of the rows, e.g. subject: {}-value)",
                                  o->topic, format, o->topic));
  }
  if (o->format == LogConfig::Format::kJson && !o->subject.empty()) {
    return r.Error(n, fmt::format("topic output '{}': 'subject' is for the confluent formats; "
                                  "set format: confluent-json or confluent-avro, or remove subject",
                                  o->topic));
  }
  return Status::OK();
}

Status ReadTableOutput(YamlReader& r, const YAML::Node& n, const ColumnReaderFn& read_column,
                       const ProcessConfig& process, OutputSpec* o) {
  DF_RETURN_IF_ERROR(r.Keys(n, fmt::format("the derived table output '{}'", o->table),
                            {"table", "key_column", "columns", "where"}));
  if (o->table == process.table) {
    return r.Error(n, fmt::format("output table '{}' is process.table: the mapped rows are "
                                  "written there already; name another table (e.g. {}_by_...)",
                                  o->table, o->table));
  }
  auto dot = o->table.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == o->table.size()) {
    return r.Error(n, fmt::format("output table '{}' must be named keyspace.table (e.g. "
                                  "dataforge.users_by_country)",
                                  o->table));
  }
  DF_RETURN_IF_ERROR(r.Str(n, "key_column", &o->key_column));
  if (auto w = n["where"]) {
    DF_RETURN_IF_ERROR(r.Str(n, "where", &o->where));
    o->where_column = w.Mark().column + 1;
  }
  auto cols = n["columns"];
  if (!cols || !cols.IsSequence() || cols.size() == 0) {
    return r.Error(n, fmt::format("output table '{}' needs 'columns': a list of columns like "
                                  "process.columns (with its key column '{}')",
                                  o->table, o->key_column));
  }
  std::set<std::string> seen;
  for (const auto& item : cols) {
    ColumnSpec c;
    DF_RETURN_IF_ERROR(read_column(item, &c));
    if (!seen.insert(c.name).second) {
      return r.Error(item, fmt::format("column '{}' of output table '{}' is declared twice", c.name,
                                       o->table));
    }
    o->columns.push_back(std::move(c));
  }
  if (!seen.count(o->key_column)) {
    return r.Error(n, fmt::format("output table '{}': key_column '{}' is not one of its columns; "
                                  "add a column '{}' or set key_column",
                                  o->table, o->key_column, o->key_column));
  }
  return Status::OK();
}

}  // namespace

Status ReadOutputs(YamlReader& r, const YAML::Node& n, const ColumnReaderFn& read_column,
                   ProcessConfig* process) {
  if (!n.IsSequence()) {
    return r.Error(n,
                   "'process.outputs' must be a list of outputs: {table: ks.name, columns: "
                   "[...]} or {topic: NAME, format: json}");
  }
  process->outputs.clear();
  std::set<std::string> tables, topics;
  for (const auto& item : n) {
    if (!item.IsMap()) {
      return r.Error(item,
                     "each of 'process.outputs' must be a mapping: {table: ks.name, "
                     "columns: [...]} or {topic: NAME, format: json}");
    }
    OutputSpec o;
    o.line = item.Mark().line + 1;
    DF_RETURN_IF_ERROR(r.Str(item, "table", &o.table));
    DF_RETURN_IF_ERROR(r.Str(item, "topic", &o.topic));
    if (!o.table.empty() && !o.topic.empty()) {
      return r.Error(item, fmt::format("an output has both 'table' ({}) and 'topic' ({}); write "
                                       "two outputs, one with each",
                                       o.table, o.topic));
    }
    if (o.table.empty() && o.topic.empty()) {
      return r.Error(item,
                     "an output needs 'table' (a derived table) or 'topic' (a topic of the "
                     "log the mapped rows are published to)");
    }
    if (!o.table.empty()) {
      DF_RETURN_IF_ERROR(ReadTableOutput(r, item, read_column, *process, &o));
      if (!tables.insert(o.table).second) {
        return r.Error(item, fmt::format("output table '{}' is named twice; merge the two "
                                         "outputs or name another table",
                                         o.table));
      }
    } else {
      DF_RETURN_IF_ERROR(r.Keys(item, fmt::format("the topic output '{}'", o.topic),
                                {"topic", "format", "subject"}));
      DF_RETURN_IF_ERROR(ReadFormat(r, item, &o));
      if (!topics.insert(o.topic).second) {
        return r.Error(item, fmt::format("output topic '{}' is named twice; keep one", o.topic));
      }
    }
    process->outputs.push_back(std::move(o));
  }
  return Status::OK();
}

}  // namespace dataforge
