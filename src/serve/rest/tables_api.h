// /v1/tables: the store's tables over HTTP (docs/serving.md), for every Store backend.
//   GET    /v1/tables                               tables, key column, column types
//   GET    /v1/tables/{table}/rows/{key}            one row (404 when absent)
//   GET    /v1/tables/{table}/rows?select=&limit=&cursor=&<col>=<op>.<value>
//                                                   rows in the store's scan order (RocksDB:
//                                                   key order; Cassandra: token order), keyset
//                                                   paging with an opaque cursor
//   GET    /v1/tables/{table}/count[?filters]
//   GET    /v1/tables/{table}/aggregate?group_by=col&agg=count,min(c),max(c)[&filters]
//   PUT    /v1/tables/{table}/rows/{key}            upsert (a JSON object of columns)
//   DELETE /v1/tables/{table}/rows/{key}
#pragma once

#include "serve/http/api.h"
#include "store/store.h"

namespace dataforge::rest {

// Registers the routes: reads need {tables, read, {table}}, writes {tables, write, {table}} and
// are audited; GET /v1/tables lists only what ApiRequest::Allowed lets the caller read.
// Answers: docs/serving.md "Tables". Handlers keep no state: every request reads the store.
// `store` must outlive every request the router serves. Thread-safe like the store.
void RegisterTablesApi(http::ApiRouter* router, Store* store);

}  // namespace dataforge::rest
