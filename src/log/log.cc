#include "log/log.h"

#include <charconv>

#include <fmt/format.h>

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

Result<std::vector<std::optional<int64_t>>> Log::GroupOffsets(const std::string& group,
                                                              const std::string& topic,
                                                              int32_t partitions) {
  std::vector<std::optional<int64_t>> out;
  out.reserve(partitions > 0 ? partitions : 0);
  for (int32_t p = 0; p < partitions; ++p) {
    DF_ASSIGN_OR_RETURN(auto o, GroupOffset(group, topic, p));
    out.push_back(o);
  }
  return out;
}

std::string DescribeLostRange(const std::string& topic, const LostRange& r) {
  std::string head = fmt::format("log {} partition {}: ", topic, r.partition);
  if (r.cause == LostRange::Cause::kDeleted) {
    return head + fmt::format(
                      "offsets {}..{} ({} records) were deleted {} before they were processed; "
                      "they are counted as lost",
                      r.expected, r.resume_at - 1, r.records, r.why);
  }
  std::string lost =
      r.records == 0
          ? "nothing seen beyond it is counted as lost (what the old partition held past it is "
            "unknown)"
          : fmt::format("offsets {}..{} ({} records) seen before are counted as lost", r.expected,
                        r.expected + static_cast<int64_t>(r.records) - 1, r.records);
  return head + fmt::format(
                    "its offsets went back below {}, where processing stood ({}); {}; reading on "
                    "from offset {}",
                    r.expected, r.why, lost, r.resume_at);
}

Result<std::string> Log::LogId(const std::string& /*topic*/) {
  return std::string();  // a log without identities: offsets of any log match (as before)
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
