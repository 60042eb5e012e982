#include "log/log.h"

namespace dataforge {

Status Log::AppendAll(const std::string& topic,
                      std::span<const std::vector<LogRecord>> by_partition) {
  for (size_t p = 0; p < by_partition.size(); ++p) {
    if (by_partition[p].empty()) continue;
    auto base = Append(topic, static_cast<int32_t>(p), by_partition[p]);
    if (!base.ok()) return base.status();
  }
  return Status::OK();
}

}  // namespace dataforge
