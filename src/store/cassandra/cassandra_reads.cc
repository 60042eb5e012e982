// CassandraStore: table metadata and prepared statements, and the row reads (Get, Scan, Count).
#include <algorithm>

#include <fmt/format.h>

#include "store/cassandra/cassandra_store.h"

namespace dataforge {

Result<std::shared_ptr<const CassandraStore::TableInfo>> CassandraStore::Table(
    const std::string& table) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = tables_.find(table); it != tables_.end()) return it->second;
  }
  const std::string physical = PhysicalName(table);
  auto schema = DescribePhysical(physical);
  if (!schema.ok()) {
    if (schema.status().code() == StatusCode::kNotFound) {
      return Status::NotFound(fmt::format(
          "cassandra table {} does not exist; run the pipeline once (it creates its table) or "
          "create it with cqlsh",
          physical));
    }
    return schema.status();
  }
  auto info = std::make_shared<TableInfo>();
  DF_ASSIGN_OR_RETURN(info->shape, ShapeOf(*schema, physical));
  info->consistency = ConsistencyFor(table, physical);
  const TableShape& s = info->shape;
  const std::string& key = s.names[s.key_index];
  std::string names, markers;
  for (size_t i = 0; i < s.names.size(); ++i) {
    names += (i ? ", " : "") + s.names[i];
    markers += i ? ", ?" : "?";
  }
  DF_ASSIGN_OR_RETURN(info->insert, session_->Prepare(fmt::format("INSERT INTO {} ({}) VALUES ({})",
                                                                  physical, names, markers)));
  DF_ASSIGN_OR_RETURN(info->remove,
                      session_->Prepare(fmt::format("DELETE FROM {} WHERE {} = ?", physical, key)));
  DF_ASSIGN_OR_RETURN(info->get, session_->Prepare(fmt::format("SELECT {} FROM {} WHERE {} = ?",
                                                               names, physical, key)));
  DF_ASSIGN_OR_RETURN(info->scan_all,
                      session_->Prepare(fmt::format("SELECT {} FROM {}", names, physical)));
  DF_ASSIGN_OR_RETURN(info->scan_after,
                      session_->Prepare(fmt::format("SELECT {} FROM {} WHERE token({}) > token(?)",
                                                    names, physical, key)));
  std::lock_guard<std::mutex> lock(mu_);
  return tables_.emplace(table, std::move(info)).first->second;
}

Result<std::string> CassandraStore::Get(const std::string& table, const std::string& key) {
  DF_ASSIGN_OR_RETURN(auto t, Table(table));
  DF_ASSIGN_OR_RETURN(cql::Value k, BindKey(t->shape, key));
  DF_ASSIGN_OR_RETURN(auto r, session_->Execute(t->get, Params(t->consistency, {std::move(k)})));
  if (r.rows.rows.empty()) {
    return Status::NotFound(
        fmt::format("cassandra table {}: no row with key '{}'", t->shape.physical, key));
  }
  return RowToJson(r.rows.metadata.columns, r.rows.rows[0]);
}

Status CassandraStore::Scan(const std::string& table, const std::string& start_after, size_t limit,
                            const std::function<bool(const std::string&, const std::string&)>& fn) {
  DF_ASSIGN_OR_RETURN(auto t, Table(table));
  cql::client::PreparedPtr statement = t->scan_all;
  std::vector<cql::Value> values;
  if (!start_after.empty()) {
    DF_ASSIGN_OR_RETURN(cql::Value k, BindKey(t->shape, start_after));
    values.push_back(std::move(k));
    statement = t->scan_after;
  }
  size_t seen = 0;
  Status row_error;
  cql::QueryParameters params = Params(t->consistency, std::move(values));
  // A bounded scan asks for no more rows a page than it takes (a REST page of 101 rows would
  // otherwise fetch the client's default 1,000).
  if (limit != 0) params.page_size = static_cast<int32_t>(std::min<size_t>(limit, 5000));
  DF_RETURN_IF_ERROR(
      session_->ExecutePages(statement, std::move(params), [&](const cql::RowsResult& page) {
        const auto& columns = page.metadata.columns;
        size_t key_col = t->shape.key_index;
        for (const auto& row : page.rows) {
          auto json = RowToJson(columns, row);
          auto key = key_col < row.size() && key_col < columns.size()
                         ? KeyText(columns[key_col].type, row[key_col])
                         : Result<std::string>(std::string());
          if (!json.ok() || !key.ok()) {
            row_error = json.ok() ? key.status() : json.status();
            return false;
          }
          if (!fn(*key, *json)) return false;
          if (limit != 0 && ++seen >= limit) return false;
        }
        return true;
      }));
  return row_error;
}

Result<uint64_t> CassandraStore::Count(const std::string& table) {
  DF_ASSIGN_OR_RETURN(auto t, Table(table));
  DF_ASSIGN_OR_RETURN(auto r,
                      session_->Query(fmt::format("SELECT COUNT(*) FROM {}", t->shape.physical),
                                      Params(t->consistency, {})));
  if (r.rows.rows.empty() || r.rows.rows[0].empty() || !r.rows.rows[0][0]) {
    return Status::Internal(
        fmt::format("cassandra table {}: SELECT COUNT(*) returned no value", t->shape.physical));
  }
  DF_ASSIGN_OR_RETURN(int64_t n, cql::DecodeBigint(*r.rows.rows[0][0]));
  return static_cast<uint64_t>(n);
}

}  // namespace dataforge
