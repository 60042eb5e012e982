#include <fmt/format.h>

#include "log/embedded/embedded_log.h"
#include "log/kafka/kafka_log.h"
#include "log/log.h"

namespace dataforge {

Result<std::unique_ptr<Log>> OpenLog(const std::string& url, OpenMode mode,
                                     const LogOptions& options) {
  std::string dir = url;
  if (url.rfind("kafka://", 0) == 0) return KafkaLog::Open(url, mode, options);
  if (url.rfind("file://", 0) == 0) {
    dir = url.substr(7);
  } else if (url.find("://") != std::string::npos) {
    std::string scheme = url.substr(0, url.find("://"));
    return Status::ConfigError(
        fmt::format("log url '{}': unsupported scheme '{}'; use file://DIR (the embedded log) or "
                    "kafka://host:port[,host:port...] (Apache Kafka)",
                    url, scheme));
  }
  if (dir.empty()) {
    return Status::ConfigError(fmt::format("log url '{}' has no directory", url));
  }
  return EmbeddedLog::Open(dir, mode, options);
}

}  // namespace dataforge
