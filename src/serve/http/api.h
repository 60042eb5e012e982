// The REST API's request, response and routing types, shared by the HTTP server (http_server.h)
// and the endpoint modules (serve/rest/*). The server parses, authenticates and authorizes a
// request, then calls the route's handler; handlers never see raw sockets or credentials.
//
// Errors are JSON: {"error":{"code":"...","message":"..."}} with the matching status
// (ErrorResponse). Codes: bad_request 400, unauthenticated 401, forbidden 403, not_found 404,
// method_not_allowed 405, conflict 409, payload_too_large 413, too_many_requests 429,
// internal 500, unavailable 503, timeout 504.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/access.h"
#include "auth/principal.h"
#include "common/status.h"

namespace dataforge::auth {
class AccessPolicy;
class AuditLog;
}  // namespace dataforge::auth

namespace dataforge::http {

struct ApiRequest {
  std::string method;                                      // "GET", "PUT", ...
  std::string path;                                        // percent-decoded
  std::map<std::string, std::string> path_params;          // {name} segments, decoded
  std::vector<std::pair<std::string, std::string>> query;  // in request order, decoded
  std::string body;
  std::string client_address;
  auth::Principal principal;
  // Null while authentication is off (everything allowed).
  const auth::AccessPolicy* policy = nullptr;
  // When the server gives up on the request (HttpServerOptions::request_deadline_ms): handlers
  // that loop (paging, aggregates) stop there and answer DeadlineExceeded (504). Added by the
  // http helper (issue 15); max() = none.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // The If-None-Match header ("" when absent): static assets answer 304 when it names their
  // ETag (serve/console/). Added for issue 16.
  std::string if_none_match;
  // The Content-Type header ("" when absent): the schema registry takes only its media types
  // (serve/registry/). Added for issue 17.
  std::string content_type;

  // The first value of query parameter `name`, or nullptr.
  const std::string* Query(std::string_view name) const;
  // Whether the principal may `action` the resource (kind, name); true while auth is off.
  // For list endpoints that show only what the caller may read.
  bool Allowed(auth::ResourceKind kind, std::string_view name, auth::Action action) const;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

ApiResponse JsonResponse(std::string body, int status = 200);
ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message);
// Maps a Status: InvalidArgument/ConfigError 400, Unauthenticated 401, PermissionDenied 403,
// NotFound 404, FailedPrecondition 409, ResourceExhausted 413, Unavailable 503,
// DeadlineExceeded 504, others 500 (message kept; never a stack trace).
ApiResponse ErrorFromStatus(const Status& status);
// The response `fn` (returning Result<ApiResponse>) builds, or the error envelope of its Status:
// the body of most route handlers.
template <typename Fn>
ApiResponse ResponseOrError(Fn&& fn) {
  Result<ApiResponse> r = fn();
  return r.ok() ? std::move(r).value() : ErrorFromStatus(r.status());
}

// What a route needs. The server checks it before calling the handler: kind and action, with the
// resource name taken from the path parameter `name_param` ("" = the kind's single resource
// "*", or a list endpoint that filters with ApiRequest::Allowed itself).
struct RouteAccess {
  auth::ResourceKind kind;
  auth::Action action;
  std::string name_param;
  // Written to the audit log (writes and admin actions).
  bool audited = false;
};

using ApiHandler = std::function<ApiResponse(const ApiRequest&)>;

// Routes by method and path pattern ("/v1/tables/{table}/rows/{key}": a {name} matches one
// non-empty path segment). Thread-safety: Add() before the server starts; Match() from any
// thread afterwards.
class ApiRouter {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::optional<RouteAccess> access;  // nullopt: public (GET /health, GET /openapi.json)
    ApiHandler handler;
  };

  void Add(std::string method, std::string pattern, std::optional<RouteAccess> access,
           ApiHandler handler);
  const std::vector<Route>& routes() const { return routes_; }

  struct Match {
    const Route* route = nullptr;              // null: no route (see path_known)
    bool path_known = false;                   // some route has this path with another method (405)
    std::vector<std::string> allowed_methods;  // for 405's Allow header
    std::map<std::string, std::string> params;
  };
  // `raw_path`: as on the request line, without the query. Each segment is percent-decoded;
  // InvalidArgument naming the segment for bad percent-encoding.
  Result<Match> Find(std::string_view method, std::string_view raw_path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace dataforge::http
