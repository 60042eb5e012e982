// GET /openapi.json: the OpenAPI 3.1 document of the whole REST API (health, tables, pipeline,
// DAGs), kept in src/serve/rest/openapi.json and compiled into the binary. tests/rest checks
// that it lints clean (@redocly/cli) and matches the routes the registration functions add.
#pragma once

#include <string_view>

#include "serve/http/api.h"

namespace dataforge::rest {

// The document's text (JSON).
std::string_view OpenApiDocument();

// Adds GET /openapi.json (public: no credentials needed).
void RegisterOpenApi(http::ApiRouter* router);

}  // namespace dataforge::rest
