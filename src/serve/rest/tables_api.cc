// The /v1/tables routes (tables_api.h): each handler parses its request (rows_query.h,
// aggregate.h, row_write.h) and answers from the store. Errors: 400 for bad parameters with the
// parser's message, 404 for a missing table (naming the tables there are) or row, and the
// store's own errors through ErrorFromStatus (FailedPrecondition 409 for a read-only store,
// Unavailable 503).
#include "serve/rest/tables_api.h"

#include <fmt/format.h>

#include "common/json_writer.h"
#include "serve/rest/aggregate.h"
#include "serve/rest/row_write.h"
#include "serve/rest/rows_query.h"

namespace dataforge::rest {
namespace {

using http::ApiRequest;
using http::ApiResponse;

const std::string& Param(const ApiRequest& r, const char* name) {
  static const std::string kEmpty;
  auto it = r.path_params.find(name);
  return it == r.path_params.end() ? kEmpty : it->second;
}

ApiResponse BadRequest(const Status& s) {
  return http::ErrorResponse(400, "bad_request", s.message());
}

// 404 for a table that is not in the store, naming the ones that are.
ApiResponse NoTable(Store* store, const std::string& table) {
  std::string names;
  auto tables = store->ListTables();
  if (tables.ok()) {
    for (const auto& t : *tables) names += (names.empty() ? "" : ", ") + t;
  }
  return http::ErrorResponse(
      404, "not_found",
      fmt::format("no table {}; tables: {}", table, names.empty() ? "(none)" : names));
}

bool TableExists(Store* store, const std::string& table) {
  auto tables = store->ListTables();
  if (!tables.ok()) return true;  // let the caller's own error speak
  return std::find(tables->begin(), tables->end(), table) != tables->end();
}

// A store error of a table read: NotFound means the table is missing.
ApiResponse StoreError(Store* store, const std::string& table, const Status& s) {
  if (s.code() == StatusCode::kNotFound) return NoTable(store, table);
  if (s.code() == StatusCode::kInvalidArgument) return BadRequest(s);
  return http::ErrorFromStatus(s);
}

// The table's schema; a missing one is an answer (404), as is a store error.
Result<TableSchema> Schema(Store* store, const std::string& table, ApiResponse* error) {
  auto schema = store->DescribeTable(table);
  if (schema.ok()) return schema;
  if (schema.status().code() == StatusCode::kNotFound && TableExists(store, table)) {
    return TableSchema{table, "", {}};  // rows but no schema (an old RocksDB table)
  }
  *error = StoreError(store, table, schema.status());
  return schema.status();
}

ApiResponse ListTables(Store* store, const ApiRequest& r) {
  auto tables = store->ListTables();
  if (!tables.ok()) return http::ErrorFromStatus(tables.status());
  std::string out = "{\"tables\":[";
  bool first = true;
  for (const std::string& name : *tables) {
    if (!r.Allowed(auth::ResourceKind::kTables, name, auth::Action::kRead)) continue;
    auto schema = store->DescribeTable(name);
    if (!schema.ok() && schema.status().code() != StatusCode::kNotFound) {
      return http::ErrorFromStatus(schema.status());
    }
    std::string columns = "[";
    if (schema.ok()) {
      for (const ColumnSchema& c : schema->columns) {
        if (columns.size() > 1) columns.push_back(',');
        columns += JsonObjectWriter().String("name", c.name).String("type", c.type).Finish();
      }
    }
    columns.push_back(']');
    JsonObjectWriter w;
    w.String("name", name);
    if (schema.ok()) {
      w.String("key_column", schema->key_column);
    } else {
      w.Null("key_column");
    }
    if (!first) out.push_back(',');
    first = false;
    out += w.Raw("columns", columns).Finish();
  }
  out += "]}";
  return http::JsonResponse(std::move(out));
}

ApiResponse GetRow(Store* store, const ApiRequest& r) {
  const std::string& table = Param(r, "table");
  const std::string& key = Param(r, "key");
  auto row = store->Get(table, key);
  if (row.ok()) return http::JsonResponse(std::move(row).value());
  if (row.status().code() != StatusCode::kNotFound) return StoreError(store, table, row.status());
  if (!TableExists(store, table)) return NoTable(store, table);
  return http::ErrorResponse(404, "not_found",
                             fmt::format("no row with key '{}' in table {}", key, table));
}

ApiResponse ListRows(Store* store, const ApiRequest& r) {
  const std::string& table = Param(r, "table");
  std::optional<TableSchema> schema;
  if (r.Query("select") != nullptr || HasFilters(r, {"select", "limit", "cursor"})) {
    ApiResponse error;
    auto s = Schema(store, table, &error);
    if (!s.ok()) return error;
    schema = std::move(*s);
  }
  auto query = ParseRowsQuery(r, table, schema ? &*schema : nullptr);
  if (!query.ok()) return BadRequest(query.status());
  auto page = ReadPage(store, table, *query);
  if (!page.ok()) return StoreError(store, table, page.status());
  return http::JsonResponse(std::move(page).value());
}

ApiResponse CountRows(Store* store, const ApiRequest& r) {
  const std::string& table = Param(r, "table");
  uint64_t count = 0;
  if (!HasFilters(r, {})) {
    auto n = store->Count(table);
    if (!n.ok()) return StoreError(store, table, n.status());
    count = *n;
  } else {
    ApiResponse error;
    auto schema = Schema(store, table, &error);
    if (!schema.ok()) return error;
    auto matcher = ParseFilters(r, *schema, {});
    if (!matcher.ok()) return BadRequest(matcher.status());
    Status st = ScanMatching(store, table, *matcher, kMaxScannedPerAggregate, r.deadline,
                             [&](simdjson::dom::object) { ++count; });
    if (!st.ok()) return StoreError(store, table, st);
  }
  return http::JsonResponse(JsonObjectWriter().Int("count", static_cast<int64_t>(count)).Finish());
}

ApiResponse Aggregate(Store* store, const ApiRequest& r) {
  const std::string& table = Param(r, "table");
  ApiResponse error;
  auto schema = Schema(store, table, &error);
  if (!schema.ok()) return error;
  auto query = ParseAggregateQuery(r, *schema);
  if (!query.ok()) return BadRequest(query.status());
  auto out = RunAggregate(store, table, *schema, *query, r);
  if (!out.ok()) return StoreError(store, table, out.status());
  return http::JsonResponse(std::move(out).value());
}

// 200 with the row as read right after the write.
ApiResponse PutRow(Store* store, const ApiRequest& r) {
  const std::string& table = Param(r, "table");
  const std::string& key = Param(r, "key");
  ApiResponse error;
  auto schema = Schema(store, table, &error);
  if (!schema.ok()) return error;
  auto batch = PutBatch(*schema, key, r.body);
  if (!batch.ok()) return BadRequest(batch.status());
  Status st = store->Apply(*batch);
  if (!st.ok()) return http::ErrorFromStatus(st);
  auto row = store->Get(table, key);
  if (!row.ok()) return http::ErrorFromStatus(row.status());
  return http::JsonResponse(std::move(row).value());
}

// 204 whether or not the row was there (DELETE is idempotent).
ApiResponse DeleteRow(Store* store, const ApiRequest& r) {
  const std::string& table = Param(r, "table");
  const std::string& key = Param(r, "key");
  ApiResponse error;
  auto schema = Schema(store, table, &error);
  if (!schema.ok()) return error;
  if (!schema->key_column.empty()) {
    auto canonical = CanonicalKey(*schema, key);
    if (!canonical.ok()) return BadRequest(canonical.status());
  }
  Status st = store->Apply(DeleteBatch(table, key));
  if (!st.ok()) return http::ErrorFromStatus(st);
  ApiResponse response;
  response.status = 204;
  return response;
}

}  // namespace

void RegisterTablesApi(http::ApiRouter* router, Store* store) {
  using auth::Action;
  using auth::ResourceKind;
  const http::RouteAccess read{ResourceKind::kTables, Action::kRead, "table", false};
  const http::RouteAccess write{ResourceKind::kTables, Action::kWrite, "table", true};
  auto bind = [store](ApiResponse (*fn)(Store*, const ApiRequest&)) {
    return [store, fn](const ApiRequest& r) { return fn(store, r); };
  };
  router->Add("GET", "/v1/tables",
              http::RouteAccess{ResourceKind::kTables, Action::kRead, "", false},
              bind(&ListTables));
  router->Add("GET", "/v1/tables/{table}/rows/{key}", read, bind(&GetRow));
  router->Add("GET", "/v1/tables/{table}/rows", read, bind(&ListRows));
  router->Add("GET", "/v1/tables/{table}/count", read, bind(&CountRows));
  router->Add("GET", "/v1/tables/{table}/aggregate", read, bind(&Aggregate));
  router->Add("PUT", "/v1/tables/{table}/rows/{key}", write, bind(&PutRow));
  router->Add("DELETE", "/v1/tables/{table}/rows/{key}", write, bind(&DeleteRow));
}

}  // namespace dataforge::rest
