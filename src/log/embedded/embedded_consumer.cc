#include "log/embedded/embedded_consumer.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/clock.h"
#include "log/embedded/embedded_log.h"

namespace dataforge {

constexpr int64_t kGroupFileEveryUs = 1'000'000;

EmbeddedConsumer::~EmbeddedConsumer() {
  (void)Close();
}

Status EmbeddedConsumer::AssignAll() {
  DF_ASSIGN_OR_RETURN(auto info, log_->DescribeTopic(topic_));
  size_t n = info.partitions.size();
  next_.assign(n, 0);
  committed_.assign(n, -1);
  assigned_at_.assign(n, 0);
  for (size_t p = 0; p < n; ++p) {
    auto partition = static_cast<int32_t>(p);
    int64_t start = info.partitions[p].start_offset;
    DF_ASSIGN_OR_RETURN(auto resume, listener_->ResumeOffset(partition));
    DF_ASSIGN_OR_RETURN(auto group, log_->GroupOffset(group_, topic_, partition));
    int64_t at = std::max(resume.value_or(0), group.value_or(0));
    next_[p] = std::max(at, start);
    assigned_at_[p] = next_[p];
  }
  assigned_ = true;
  return Status::OK();
}

Status EmbeddedConsumer::Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
                              std::vector<ConsumedRecord>* out) {
  if (!assigned_) DF_RETURN_IF_ERROR(AssignAll());
  size_t n = next_.size();
  if (n == 0) return Status::OK();
  int64_t deadline = Clock::Real()->MonotonicMicros() + timeout_us;
  size_t per_partition = std::max<size_t>(1, max_records / n);
  while (true) {
    uint64_t generation = log_->AppendGeneration();
    size_t before = out->size();
    for (size_t i = 0; i < n && out->size() - before < max_records; ++i) {
      size_t p = (start_partition_ + i) % n;
      size_t want = std::min(per_partition, max_records - (out->size() - before));
      Status s = log_->Read(topic_, static_cast<int32_t>(p), next_[p], want, out);
      if (!s.ok()) return s;
      if (out->size() > before && out->back().partition == static_cast<int32_t>(p)) {
        next_[p] = out->back().offset + 1;
      }
    }
    start_partition_ = (start_partition_ + 1) % n;
    if (out->size() > before) return Status::OK();
    int64_t left = deadline - Clock::Real()->MonotonicMicros();
    if (left <= 0 || stop.stop_requested()) return Status::OK();
    log_->WaitForAppend(generation, left, stop);
  }
}

Status EmbeddedConsumer::Commit(std::span<const PartitionPosition> positions) {
  for (const auto& p : positions) {
    if (p.partition >= 0 && static_cast<size_t>(p.partition) < committed_.size()) {
      committed_[p.partition] = std::max(committed_[p.partition], p.next_offset);
      dirty_ = true;
    }
  }
  int64_t now = Clock::Real()->MonotonicMicros();
  if (dirty_ && now - last_write_us_ >= kGroupFileEveryUs) {
    last_write_us_ = now;
    return WriteGroupOffsets();
  }
  return Status::OK();
}

Status EmbeddedConsumer::WriteGroupOffsets() {
  if (!dirty_) return Status::OK();
  dirty_ = false;
  for (size_t p = 0; p < committed_.size(); ++p) {
    if (committed_[p] < 0) continue;
    DF_RETURN_IF_ERROR(
        log_->CommitGroupOffset(group_, topic_, static_cast<int32_t>(p), committed_[p]));
  }
  return Status::OK();
}

Result<bool> EmbeddedConsumer::CaughtUp() {
  if (!assigned_) DF_RETURN_IF_ERROR(AssignAll());
  DF_ASSIGN_OR_RETURN(auto info, log_->DescribeTopic(topic_));
  for (const auto& p : info.partitions) {
    if (static_cast<size_t>(p.partition) >= next_.size()) return false;  // grew: re-assign
    // The group's progress: what was committed (or where the partition resumed), not what this
    // member has only read.
    int64_t done = std::max(committed_[p.partition], assigned_at_[p.partition]);
    if (done < p.end_offset) return false;
  }
  return true;
}

std::vector<int32_t> EmbeddedConsumer::Assignment() {
  std::vector<int32_t> all;
  for (size_t p = 0; p < next_.size(); ++p) all.push_back(static_cast<int32_t>(p));
  return all;
}

Status EmbeddedConsumer::Close() {
  if (!assigned_) return Status::OK();
  assigned_ = false;
  return log_->read_only() ? Status::OK() : WriteGroupOffsets();
}

}  // namespace dataforge
