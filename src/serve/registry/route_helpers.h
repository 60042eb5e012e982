// What the registry's route files share (private to serve/registry/): the answer wrapper
// (content type check, errors in Confluent's envelope), path and query parsing, access checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/access.h"
#include "common/status.h"
#include "registry/schema_registry.h"
#include "serve/http/api.h"

namespace dataforge::serve_registry {

// Route pattern under the prefix: "/registry" + path.
std::string Pattern(std::string_view path);

// Access of a route: kind `subjects` named by the path's {subject} (the server checks it), or
// with no name (the handler checks what it shows), or `admin`.
http::RouteAccess SubjectRead();
http::RouteAccess SubjectWrite();
http::RouteAccess SubjectsFiltered();
http::RouteAccess Admin();

// The handler's answer, or Confluent's error envelope for its Status; 415 first for a body of a
// type the registry does not take.
template <typename Fn>
http::ApiResponse Answer(const http::ApiRequest& req, Fn&& fn);

// 415 {"error_code":415,...} when `req` has a body whose Content-Type is not one of the four
// accepted; nullopt when it is fine.
std::optional<http::ApiResponse> CheckContentType(const http::ApiRequest& req);
http::ApiResponse ErrorAnswer(const Status& status);

// {version} of a path: "latest" or -1 is nullopt (the latest); 1..2^31-1 the version; anything
// else 42202 with Confluent's message.
Result<std::optional<int32_t>> VersionParam(const http::ApiRequest& req);
// {id} of a path: 1..2^31-1, else 40403 "Schema <id> not found".
Result<int64_t> IdParam(const http::ApiRequest& req);
const std::string& SubjectParam(const http::ApiRequest& req);

// Whether the caller may read `subject` (always true while auth is off).
bool MayRead(const http::ApiRequest& req, std::string_view subject);

template <typename Fn>
http::ApiResponse Answer(const http::ApiRequest& req, Fn&& fn) {
  if (auto refused = CheckContentType(req)) return *std::move(refused);
  Result<http::ApiResponse> r = fn();
  return r.ok() ? std::move(r).value() : ErrorAnswer(r.status());
}

void RegisterSubjectRoutes(http::ApiRouter* router, registry::SchemaRegistry* registry);
void RegisterSchemaRoutes(http::ApiRouter* router, registry::SchemaRegistry* registry);
void RegisterConfigRoutes(http::ApiRouter* router, registry::SchemaRegistry* registry);

}  // namespace dataforge::serve_registry
