// The JSON bodies of the schema registry's REST API (Confluent's shapes, docs/schema-registry.md):
// parsing a request's schema, writing versions and schemas, the error envelope. Stateless,
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "registry/schema_registry.h"
#include "serve/http/api.h"

namespace dataforge::serve_registry {

// What every answer carries (Confluent's).
inline constexpr std::string_view kContentType = "application/vnd.schemaregistry.v1+json";

// The body of POST /subjects/{s}[/versions] and POST /compatibility/...: {"schema": "...",
// "schemaType": "AVRO"|"JSON" (default AVRO), "references": [{name, subject, version}], "id",
// "version"}. Other fields (metadata, ruleSet, ...) are ignored, as Confluent's newer clients send
// them. Errors as Confluent answers them: a body that is not JSON, or not an object, or a field of
// the wrong type, 400 (error_code 400: Confluent's REST layer answers unparsable JSON with 400, not
// 500); a missing or empty "schema" 42201 "Empty schema"; an unknown type 42201 "Invalid schema
// type X".
struct SchemaRequest {
  registry::SchemaText schema;
  std::optional<int64_t> id;
  std::optional<int32_t> version;
};
Result<SchemaRequest> ParseSchemaRequest(std::string_view body);

// {"compatibility": "FULL"} (PUT /config; "compatibilityLevel" accepted too) and {"mode": "..."}
// (PUT /mode). 42203 / 42204 for a missing or unknown level or mode.
Result<registry::Compatibility> ParseConfigRequest(std::string_view body);
Result<registry::Mode> ParseModeRequest(std::string_view body);

// {"subject","version","id","schemaType" (not for AVRO),"references" (when any),"schema"} plus
// "deleted":true for a soft-deleted version.
std::string SubjectVersionJson(const registry::SubjectVersion& v);
// GET /schemas/ids/{id}: {"schemaType" (not for AVRO),"schema","references" (when any)}.
std::string SchemaRecordJson(const registry::SchemaRecord& r);
std::string StringArrayJson(const std::vector<std::string>& items);
template <typename Int>
std::string IntArrayJson(const std::vector<Int>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(items[i]);
  }
  return out + "]";
}

// An answer with kContentType.
http::ApiResponse RegistryJson(std::string body, int status = 200);
// {"error_code":N,"message":"..."} with the HTTP status of `status` (registry::RegistryErrorOf).
http::ApiResponse RegistryErrorResponse(const Status& status);
// The same for a refusal the HTTP server makes before a handler runs (401, 403, 404, 405, 413,
// ...): error_code 40101 for 401, 40301 for 403, else the HTTP status itself (as Confluent's REST
// layer answers an unknown path: {"error_code":404,...}). The signature of
// http::HttpServerOptions::ErrorFormat.
http::ApiResponse RegistryServerError(int status, std::string_view code, std::string_view message);

// Confluent's boolean query parameters: "true" in any case is true; anything else (or absent) is
// false.
bool BoolParam(const http::ApiRequest& req, std::string_view name);

}  // namespace dataforge::serve_registry
