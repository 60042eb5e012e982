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

Result<uint64_t> Log::StartAppend(const std::string& topic,
                                  std::span<const std::vector<LogRecord>> by_partition) {
  DF_RETURN_IF_ERROR(AppendAll(topic, by_partition));
  return ++sync_tickets_;
}

Result<uint64_t> Log::Acknowledged(int64_t /*timeout_us*/) {
  return sync_tickets_;
}

}  // namespace dataforge
