#include "serve/rest/tables_api.h"

namespace dataforge::rest {

// TODO(tables helper): the routes of tables_api.h.
void RegisterTablesApi(http::ApiRouter* /*router*/, Store* /*store*/) {}

}  // namespace dataforge::rest
