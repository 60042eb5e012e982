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
    DF_ASSIGN_OR_RETURN(auto resume, listener_->ResumeOffset(partition));
    DF_ASSIGN_OR_RETURN(auto group, log_->GroupOffset(group_, topic_, partition));
    // Below the start: Poll() reports the deleted offsets (they are not skipped silently).
    next_[p] = std::max(resume.value_or(0), group.value_or(0));
    assigned_at_[p] = next_[p];
    log_->HoldForConsumer(group_, topic_, partition, next_[p]);
  }
  assigned_ = true;
  return Status::OK();
}

void EmbeddedConsumer::ReportLost(int32_t partition, int64_t resume_at) {
  LostRange range;
  range.partition = partition;
  range.cause = LostRange::Cause::kDeleted;
  range.expected = next_[partition];
  range.resume_at = resume_at;
  range.records = static_cast<uint64_t>(resume_at - range.expected);
  range.why =
      "by the log's retention (log.retention_force, or a retention run while the processor "
      "lagged)";
  listener_->OnRecordsLost(range);
  next_[partition] = resume_at;
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
      auto partition = static_cast<int32_t>(p);
      size_t mark = out->size();
      Status s = log_->Read(topic_, partition, next_[p], want, out);
      if (!s.ok()) return s;
      if (out->size() > mark) {
        // Read starts at the partition's start when next_[p] was deleted.
        if ((*out)[mark].offset > next_[p]) ReportLost(partition, (*out)[mark].offset);
        next_[p] = out->back().offset + 1;
        // What this member read is not read again: let its pages go (a cache hint; new
        // appends reuse them instead of growing the page cache).
        log_->DropCacheBelow(topic_, partition, next_[p]);
      } else {
        // Everything from next_[p] on deleted? (A position past the end is not a loss: a tail
        // lost in a crash is streamed again by the relay at the same offsets; wait for it.)
        DF_ASSIGN_OR_RETURN(PartitionInfo info, log_->DescribePartition(topic_, partition));
        if (next_[p] < info.start_offset) ReportLost(partition, info.start_offset);
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
      log_->HoldForConsumer(group_, topic_, p.partition, p.next_offset);
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
    // member has only read. Below the start: Poll() has a LostRange to report first.
    int64_t done = std::max(committed_[p.partition], assigned_at_[p.partition]);
    if (done < p.end_offset || next_[p.partition] < p.start_offset) return false;
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
  Status s = log_->read_only() ? Status::OK() : WriteGroupOffsets();
  log_->ReleaseConsumer(group_, topic_);  // the group file holds retention from here on
  return s;
}

}  // namespace dataforge
