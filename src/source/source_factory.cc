#include "source/source_factory.h"

#include <fmt/format.h>

#include "source/http/http_source.h"
#include "source/postgres_cdc/postgres_cdc_source.h"

namespace dataforge {

Result<std::unique_ptr<Source>> MakeSource(const SourceConfig& config, const std::string& url,
                                           Clock* clock) {
  if (config.type == "postgres_cdc") {
    if (url.rfind("postgresql://", 0) != 0 && url.rfind("postgres://", 0) != 0) {
      return Status::ConfigError(fmt::format(
          "source url '{}': a postgres_cdc source reads postgresql://user:password@host:port/db",
          url));
    }
    return std::unique_ptr<Source>(std::make_unique<PostgresCdcSource>(config, url, clock));
  }
  for (const char* scheme : {"http://", "https://", "file://"}) {
    if (url.rfind(scheme, 0) == 0 && url.size() > std::string_view(scheme).size()) {
      return std::unique_ptr<Source>(std::make_unique<HttpSource>(config, url, clock));
    }
  }
  return Status::ConfigError(fmt::format(
      "source url '{}': unsupported; use http://, https:// or file:///path/capture.json", url));
}

}  // namespace dataforge
