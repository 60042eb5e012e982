#include "serve/http/api.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/escape.h"
#include "common/json_writer.h"
#include "serve/http/url_decode.h"

namespace dataforge::http {
namespace {

// "/a/b/c" -> {"a","b","c"}; "/" -> {""}. `path` starts with '/'.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 1;
  while (true) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(pos));
      return out;
    }
    out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
}

bool IsParam(std::string_view segment) {
  return segment.size() >= 3 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

const std::string* ApiRequest::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return &v;
  }
  return nullptr;
}

ApiResponse JsonResponse(std::string body, int status) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  JsonObjectWriter error;
  error.String("code", code).String("message", message);
  JsonObjectWriter envelope;
  envelope.Raw("error", error.Finish());
  return JsonResponse(envelope.Finish(), status);
}

ApiResponse ErrorFromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kConfigError:
      return ErrorResponse(400, "bad_request", status.message());
    case StatusCode::kUnauthenticated:
      return ErrorResponse(401, "unauthenticated", status.message());
    case StatusCode::kPermissionDenied:
      return ErrorResponse(403, "forbidden", status.message());
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", status.message());
    case StatusCode::kFailedPrecondition:
      return ErrorResponse(409, "conflict", status.message());
    case StatusCode::kResourceExhausted:
      return ErrorResponse(413, "payload_too_large", status.message());
    case StatusCode::kUnavailable:
      return ErrorResponse(503, "unavailable", status.message());
    case StatusCode::kDeadlineExceeded:
      return ErrorResponse(504, "timeout", status.message());
    default:
      return ErrorResponse(500, "internal", status.ok() ? "internal error" : status.message());
  }
}

void ApiRouter::Add(std::string method, std::string pattern, std::optional<RouteAccess> access,
                    ApiHandler handler) {
  std::vector<std::string> segments;
  for (std::string_view s : Segments(pattern)) segments.emplace_back(s);
  patterns_.push_back(std::move(segments));
  routes_.push_back(
      Route{std::move(method), std::move(pattern), std::move(access), std::move(handler)});
}

Result<ApiRouter::Match> ApiRouter::Find(std::string_view method, std::string_view raw_path) const {
  Match match;
  if (raw_path.empty() || raw_path.front() != '/') return match;
  std::vector<std::string> segments;
  for (std::string_view raw : Segments(raw_path)) {
    std::string decoded;
    if (!PercentDecode(raw, /*plus_as_space=*/false, &decoded)) {
      return Status::InvalidArgument(fmt::format(
          "path segment '{}': bad percent-encoding (a '%' must be followed by two hex digits)",
          EscapeControlChars(raw.substr(0, 64))));
    }
    segments.push_back(std::move(decoded));
  }
  int best_literals = -1;
  for (size_t r = 0; r < routes_.size(); ++r) {
    const Route& route = routes_[r];
    const std::vector<std::string>& pattern = patterns_[r];
    if (pattern.size() != segments.size()) continue;
    int literals = 0;
    bool ok = true;
    for (size_t i = 0; i < pattern.size() && ok; ++i) {
      if (IsParam(pattern[i])) {
        ok = !segments[i].empty();
      } else {
        ok = pattern[i] == segments[i];
        ++literals;
      }
    }
    if (!ok) continue;
    if (route.method != method) {
      match.path_known = true;
      if (std::find(match.allowed_methods.begin(), match.allowed_methods.end(), route.method) ==
          match.allowed_methods.end()) {
        match.allowed_methods.push_back(route.method);
      }
      continue;
    }
    // A literal segment beats a {param} ("/v1/runs/latest" before "/v1/runs/{id}").
    if (literals > best_literals) {
      best_literals = literals;
      match.route = &route;
      match.params.clear();
      for (size_t i = 0; i < pattern.size(); ++i) {
        if (IsParam(pattern[i])) {
          match.params[pattern[i].substr(1, pattern[i].size() - 2)] = segments[i];
        }
      }
    }
  }
  std::sort(match.allowed_methods.begin(), match.allowed_methods.end());
  return match;
}

}  // namespace dataforge::http
