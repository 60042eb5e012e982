#include "log/log.h"

#include <charconv>

namespace dataforge {

uint64_t OutboxSeqOf(const LogRecord& record) {
  for (const auto& [k, v] : record.headers) {
    if (k != "seq") continue;
    uint64_t seq = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seq);
    return ec == std::errc() && p == v.data() + v.size() ? seq : 0;
  }
  return 0;
}

std::string OriginOf(const LogRecord& record) {
  for (const auto& [k, v] : record.headers) {
    if (k == "origin") return v;
  }
  return "";
}

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
