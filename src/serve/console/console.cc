#include "serve/console/console.h"

#include <string>

#include <fmt/format.h>

namespace dataforge::console {
namespace {

const Asset* Find(std::string_view name) {
  for (const Asset& a : Assets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// Whether an If-None-Match header ("\"a\", \"b\"", or "*") names `etag`.
bool Matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  size_t pos = 0;
  while (pos < if_none_match.size()) {
    size_t comma = if_none_match.find(',', pos);
    std::string_view item = if_none_match.substr(
        pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.substr(0, 2) == "W/") item.remove_prefix(2);  // weak comparison, RFC 9110 13.1.2
    if (item == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

http::ApiResponse Serve(const http::ApiRequest& req, const Asset& asset) {
  http::ApiResponse r;
  r.content_type = std::string(asset.content_type);
  r.headers = {{"ETag", std::string(asset.etag)},
               {"Cache-Control", "no-cache"},
               {"Content-Security-Policy", std::string(kContentSecurityPolicy)},
               {"X-Content-Type-Options", "nosniff"},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"}};
  if (Matches(req.if_none_match, asset.etag)) {
    r.status = 304;
    return r;
  }
  r.body = std::string(asset.body);
  return r;
}

}  // namespace

void RegisterConsole(http::ApiRouter* router) {
  router->Add("GET", "/", std::nullopt,
              [](const http::ApiRequest& req) { return Serve(req, *Find("index.html")); });
  router->Add("GET", "/console/{asset}", std::nullopt, [](const http::ApiRequest& req) {
    const std::string& name = req.path_params.at("asset");
    const Asset* asset = Find(name);
    if (asset == nullptr || name == "index.html") {
      std::string names;
      for (const Asset& a : Assets()) {
        if (a.name == "index.html") continue;
        names += (names.empty() ? "" : ", ") + std::string(a.name);
      }
      return http::ErrorResponse(
          404, "not_found",
          fmt::format("no console asset '{}' (the console is at /; its assets: {})",
                      name.substr(0, 100), names));
    }
    return Serve(req, *asset);
  });
}

}  // namespace dataforge::console
