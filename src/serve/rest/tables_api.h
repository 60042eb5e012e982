// /v1/tables: the store's tables over HTTP (docs/serving.md), for every Store backend.
//   GET    /v1/tables                               tables, key column, column types
//   GET    /v1/tables/{table}/rows/{key}            one row (404 when absent)
//   GET    /v1/tables/{table}/rows?select=&limit=&cursor=&<col>=<op>.<value>
//                                                   rows in key order, keyset paging
//   GET    /v1/tables/{table}/count[?filters]
//   GET    /v1/tables/{table}/aggregate?group_by=col&agg=count,min(c),max(c)[&filters]
//   PUT    /v1/tables/{table}/rows/{key}            upsert (a JSON object of columns)
//   DELETE /v1/tables/{table}/rows/{key}
#pragma once

#include "serve/http/api.h"
#include "store/store.h"

namespace dataforge::rest {

// `store` must outlive every request the router serves. Thread-safe like the store.
void RegisterTablesApi(http::ApiRouter* router, Store* store);

}  // namespace dataforge::rest
