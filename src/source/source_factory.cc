#include "source/source_factory.h"

#include <fmt/format.h>

#include "source/http/http_source.h"

namespace dataforge {

Result<std::unique_ptr<Source>> MakeSource(const SourceConfig& config, const std::string& url,
                                           Clock* clock) {
  for (const char* scheme : {"http://", "https://", "file://"}) {
    if (url.rfind(scheme, 0) == 0 && url.size() > std::string_view(scheme).size()) {
      return std::unique_ptr<Source>(std::make_unique<HttpSource>(config, url, clock));
    }
  }
  return Status::ConfigError(fmt::format(
      "source url '{}': unsupported; use http://, https:// or file:///path/capture.json", url));
}

}  // namespace dataforge
