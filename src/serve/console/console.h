// The web console (docs/console.md): static HTML, CSS and JS in src/serve/console/, compiled
// into the binary at build time (src/CMakeLists.txt writes console_assets.cc), served by the
// product's HTTP server:
//   GET /                    index.html
//   GET /console/{asset}     console.js, console.css, favicon.svg
// Public routes: the assets hold no data; the page asks for an API key or a user and password
// and sends it with every API call it makes (Authorization: Bearer / Basic). Each answer has
// its Content-Type, an ETag (the SHA-256 of the file, so If-None-Match gets 304),
// Cache-Control: no-cache (revalidate each time: the URLs are not versioned) and a
// Content-Security-Policy that allows nothing but this server (no inline script or style, no
// other origin), with nosniff and no framing.
#pragma once

#include <string_view>
#include <vector>

#include "serve/http/api.h"

namespace dataforge::console {

struct Asset {
  std::string_view name;          // "index.html", "console.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view etag;          // "\"<16 hex digits of the SHA-256>\""
  std::string_view body;
};

// Every asset, as built in (console_assets.cc, generated).
const std::vector<Asset>& Assets();

// The Content-Security-Policy every console answer carries.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Adds GET / and GET /console/{asset} (public). Thread-safe after registration: the handlers
// only read the built-in assets.
void RegisterConsole(http::ApiRouter* router);

}  // namespace dataforge::console
