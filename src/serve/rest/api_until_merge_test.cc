// TODO(merge): delete this file when the http helper's serve/http/api.cc is merged (it defines
// these symbols for real). Until then the tables tests link against this minimal version of the
// ApiRouter/ApiRequest/ErrorResponse functions they use; it is compiled into df_serve_tests only.
#include <fmt/format.h>

#include "common/json_writer.h"
#include "serve/http/api.h"

namespace dataforge::http {

const std::string* ApiRequest::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

bool ApiRequest::Allowed(auth::ResourceKind, std::string_view, auth::Action) const {
  return policy == nullptr;  // the tests run with authentication off
}

ApiResponse JsonResponse(std::string body, int status) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  JsonObjectWriter inner;
  inner.String("code", code).String("message", message);
  return JsonResponse(JsonObjectWriter().Raw("error", inner.Finish()).Finish(), status);
}

ApiResponse ErrorFromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kConfigError:
      return ErrorResponse(400, "bad_request", status.message());
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", status.message());
    case StatusCode::kFailedPrecondition:
      return ErrorResponse(409, "conflict", status.message());
    case StatusCode::kUnavailable:
      return ErrorResponse(503, "unavailable", status.message());
    default:
      return ErrorResponse(500, "internal", status.message());
  }
}

void ApiRouter::Add(std::string method, std::string pattern, std::optional<RouteAccess> access,
                    ApiHandler handler) {
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(access), std::move(handler)});
}

}  // namespace dataforge::http
