// Confluent Schema Registry's REST API under /registry on the product's HTTP server
// (docs/schema-registry.md), over registry::SchemaRegistry: the URL a Confluent client is given is
// http://host:port/registry.
//
// Every answer has content type application/vnd.schemaregistry.v1+json; errors are Confluent's
// {"error_code":N,"message":"..."} (registry/registry_error.h), also for the refusals the server
// makes before a handler (RegistryServerError, installed for the /registry prefix in
// http::HttpServerOptions::error_formats). Request bodies are taken as application/json,
// application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json or
// application/octet-stream (or without a Content-Type); another type gets 415.
//
// Access (auth/access.h, kind `subjects`, named by the subject): reading a subject, its versions,
// its config and mode, a lookup and a compatibility test need `read`; registering, deleting and
// changing its config or mode need `write`; the global config and mode are changed by `admin` only
// (read by any caller). GET /subjects and GET /schemas/ids/{id}/subjects|versions list only
// subjects the caller may read; GET /schemas/ids/{id} answers when the caller may read some
// subject holding the id (403 otherwise).
//
// Thread-safety: the handlers are safe to call from any thread (SchemaRegistry is); the registry
// must outlive the router.
#pragma once

#include <string_view>

#include "registry/schema_registry.h"
#include "serve/http/api.h"

namespace dataforge::serve_registry {

inline constexpr std::string_view kPathPrefix = "/registry";

// Adds every route of the API (28 of them) under kPathPrefix.
void RegisterRegistryApi(http::ApiRouter* router, registry::SchemaRegistry* registry);

}  // namespace dataforge::serve_registry
