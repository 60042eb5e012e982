#include <fmt/format.h>

#include "log/embedded/embedded_log.h"
#include "log/log.h"

namespace dataforge {

Result<std::unique_ptr<Log>> OpenLog(const std::string& url, OpenMode mode,
                                     const LogOptions& options) {
  std::string dir = url;
  if (url.rfind("file://", 0) == 0) {
    dir = url.substr(7);
  } else if (url.find("://") != std::string::npos) {
    std::string scheme = url.substr(0, url.find("://"));
    return Status::ConfigError(fmt::format(
        "log url '{}': unsupported scheme '{}'; use file://DIR (kafka:// arrives with the Kafka "
        "log)",
        url, scheme));
  }
  if (dir.empty()) {
    return Status::ConfigError(fmt::format("log url '{}' has no directory", url));
  }
  return EmbeddedLog::Open(dir, mode, options);
}

}  // namespace dataforge
