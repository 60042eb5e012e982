#include "serve/registry/route_helpers.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "registry/registry_error.h"
#include "serve/registry/registry_api.h"
#include "serve/registry/registry_json.h"

namespace dataforge::serve_registry {
namespace {

constexpr std::array<std::string_view, 4> kAcceptedTypes = {
    "application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json",
    "application/json", "application/octet-stream"};

std::string MediaType(std::string_view header) {
  std::string_view t = header.substr(0, header.find(';'));
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  std::string out(t);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A decimal integer in [min, max] with no sign (other than a leading '-' when min < 0).
std::optional<int64_t> ParseInt(std::string_view text, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::string Pattern(std::string_view path) {
  return std::string(kPathPrefix) + std::string(path);
}

http::RouteAccess SubjectRead() {
  return {auth::ResourceKind::kSubjects, auth::Action::kRead, "subject", false};
}
http::RouteAccess SubjectWrite() {
  return {auth::ResourceKind::kSubjects, auth::Action::kWrite, "subject", true};
}
http::RouteAccess SubjectsFiltered() {
  return {auth::ResourceKind::kSubjects, auth::Action::kRead, "", false};
}
http::RouteAccess Admin() {
  return {auth::ResourceKind::kAdmin, auth::Action::kAdmin, "", true};
}

std::optional<http::ApiResponse> CheckContentType(const http::ApiRequest& req) {
  if (req.body.empty() || req.content_type.empty()) return std::nullopt;
  std::string type = MediaType(req.content_type);
  if (std::find(kAcceptedTypes.begin(), kAcceptedTypes.end(), type) != kAcceptedTypes.end()) {
    return std::nullopt;
  }
  return RegistryServerError(
      415, "unsupported_media_type",
      fmt::format("HTTP 415 Unsupported Media Type: the body is '{}'; send it as "
                  "application/vnd.schemaregistry.v1+json (or application/json)",
                  type));
}

http::ApiResponse ErrorAnswer(const Status& status) {
  return RegistryErrorResponse(status);
}

Result<std::optional<int32_t>> VersionParam(const http::ApiRequest& req) {
  const std::string& text = req.path_params.at("version");
  if (text == "latest" || text == "-1") return std::optional<int32_t>();
  auto v = ParseInt(text, 1, std::numeric_limits<int32_t>::max());
  if (!v) {
    return registry::RegistryStatus(
        registry::kInvalidVersion,
        fmt::format("The specified version '{}' is not a valid version id. Allowed values are "
                    "between [1, 2^31-1] and the string \"latest\"",
                    text));
  }
  return std::optional<int32_t>(static_cast<int32_t>(*v));
}

Result<int64_t> IdParam(const http::ApiRequest& req) {
  const std::string& text = req.path_params.at("id");
  auto v = ParseInt(text, 1, std::numeric_limits<int32_t>::max());
  if (!v) {
    return registry::RegistryStatus(registry::kSchemaNotFound,
                                    fmt::format("Schema {} not found", text));
  }
  return *v;
}

const std::string& SubjectParam(const http::ApiRequest& req) {
  return req.path_params.at("subject");
}

bool MayRead(const http::ApiRequest& req, std::string_view subject) {
  return req.Allowed(auth::ResourceKind::kSubjects, subject, auth::Action::kRead);
}

}  // namespace dataforge::serve_registry
