// RocksDbStore: the schema catalog in the metadata column family: keyspaces and each table's
// key and typed columns (store.h EnsureTable, DescribeTable; docs/store-format.md).
#include <simdjson.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "store/rocksdb/rocksdb_keys.h"
#include "store/rocksdb/rocksdb_store.h"

namespace dataforge {

using rocksdb_keys::KeyspaceKey;
using rocksdb_keys::SchemaKey;

Status RocksDbStore::PutMeta(const std::string& key, const std::string& value) {
  if (mode_ != OpenMode::kReadWrite) {
    return Status::FailedPrecondition("the store is open read-only: schema changes refused");
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  rocksdb::Status st = db_->Put(wo, meta_, key, value);
  if (!st.ok()) return Error(st, "writing the schema catalog");
  return Status::OK();
}

Status RocksDbStore::CreateKeyspace(const KeyspaceSchema& keyspace) {
  std::lock_guard lock(schema_mu_);
  std::string v;
  if (db_->Get({}, meta_, KeyspaceKey(keyspace.name), &v).ok()) return Status::OK();
  JsonObjectWriter w;
  for (const auto& [k, val] : keyspace.replication) w.String(k, val);
  return PutMeta(KeyspaceKey(keyspace.name), w.Finish());
}

Result<std::vector<KeyspaceSchema>> RocksDbStore::ListKeyspaces() {
  std::vector<KeyspaceSchema> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}, meta_));
  std::string prefix = KeyspaceKey("");
  simdjson::dom::parser parser;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    KeyspaceSchema ks;
    ks.name.assign(it->key().data() + prefix.size(), it->key().size() - prefix.size());
    simdjson::dom::object o;
    std::string json = it->value().ToString();
    if (parser.parse(json).get(o) != simdjson::SUCCESS) {
      return Status::Corruption(
          fmt::format("store {}: keyspace {} has a corrupt catalog entry", dir_, ks.name));
    }
    for (auto field : o) {
      std::string_view sv;
      if (field.value.get(sv) == simdjson::SUCCESS) ks.replication.emplace_back(field.key, sv);
    }
    out.push_back(std::move(ks));
  }
  if (!it->status().ok()) return Error(it->status(), "listing keyspaces");
  return out;
}

Result<TableSchema> RocksDbStore::DescribeTable(const std::string& table) {
  std::string v;
  rocksdb::Status st = db_->Get({}, meta_, SchemaKey(table), &v);
  if (st.IsNotFound()) return Status::NotFound(fmt::format("no table {} in the store", table));
  if (!st.ok()) return Error(st, "reading the schema of " + table);
  TableSchema schema;
  schema.table = table;
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  simdjson::dom::array cols;
  std::string_view key;
  if (parser.parse(v).get(e) != simdjson::SUCCESS || e["key"].get(key) != simdjson::SUCCESS ||
      e["columns"].get(cols) != simdjson::SUCCESS) {
    return Status::Corruption(
        fmt::format("store {}: table {} has a corrupt schema entry", dir_, table));
  }
  schema.key_column = key;
  for (auto c : cols) {
    std::string_view name, type;
    if (c.at(0).get(name) != simdjson::SUCCESS || c.at(1).get(type) != simdjson::SUCCESS) {
      return Status::Corruption(
          fmt::format("store {}: table {} has a corrupt column entry", dir_, table));
    }
    schema.columns.push_back({std::string(name), std::string(type)});
  }
  return schema;
}

Status RocksDbStore::EnsureTable(const TableSchema& schema) {
  std::lock_guard lock(schema_mu_);
  auto dot = schema.table.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == schema.table.size()) {
    return Status::ConfigError(fmt::format(
        "table '{}' must be named keyspace.table (e.g. dataforge.created_users)", schema.table));
  }
  TableSchema merged;
  auto existing = DescribeTable(schema.table);
  if (existing.ok()) {
    merged = std::move(existing).value();
    if (merged.key_column != schema.key_column) {
      return Status::ConfigError(fmt::format(
          "table {}: its primary key is {} but the pipeline keys it by {}; use another table "
          "(process.table) or the same key_column",
          schema.table, merged.key_column, schema.key_column));
    }
    bool changed = false;
    for (const auto& c : schema.columns) {
      auto it = std::find_if(merged.columns.begin(), merged.columns.end(),
                             [&](const ColumnSchema& m) { return m.name == c.name; });
      if (it == merged.columns.end()) {
        merged.columns.push_back(c);
        changed = true;
      } else if (it->type != c.type) {
        return Status::ConfigError(fmt::format(
            "table {}: column {} is {} in the store but the pipeline maps it as {}; change "
            "process.columns or use another table",
            schema.table, c.name, it->type, c.type));
      }
    }
    if (!changed) return Status::OK();
  } else if (existing.status().code() == StatusCode::kNotFound) {
    merged = schema;
    std::string v;
    std::string ks = schema.table.substr(0, dot);
    if (!db_->Get({}, meta_, KeyspaceKey(ks), &v).ok()) {
      DF_RETURN_IF_ERROR(
          PutMeta(KeyspaceKey(ks), R"({"class":"SimpleStrategy","replication_factor":"1"})"));
    }
  } else {
    return existing.status();
  }
  std::string cols;
  for (const auto& c : merged.columns) {
    cols += cols.empty() ? "[" : ",";
    cols += "[" + JsonString(c.name) + "," + JsonString(c.type) + "]";
  }
  cols += "]";
  std::lock_guard columns_lock(columns_mu_);  // TableColumns reads the schema anew
  columns_.erase(schema.table);
  return PutMeta(SchemaKey(schema.table),
                 JsonObjectWriter().String("key", merged.key_column).Raw("columns", cols).Finish());
}

}  // namespace dataforge
