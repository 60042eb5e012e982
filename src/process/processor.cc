#include "process/processor.h"

#include <fmt/format.h>

namespace dataforge {

Processor::Processor(Log* log, Store* store, Mapper* mapper, const ProcessConfig& config,
                     std::string topic, int32_t partitions, size_t batch_records, Clock* clock,
                     ProcessorProbe* probe)
    : log_(log),
      store_(store),
      mapper_(mapper),
      config_(config),
      topic_(std::move(topic)),
      partitions_(partitions),
      batch_records_(batch_records),
      clock_(clock),
      probe_(probe) {}

Status Processor::Recover() {
  next_offset_.assign(partitions_, 0);
  for (int32_t p = 0; p < partitions_; ++p) {
    DF_ASSIGN_OR_RETURN(auto committed, store_->CommittedOffset(config_.group, topic_, p));
    next_offset_[p] = committed.value_or(0);
  }
  return Status::OK();
}

Result<size_t> Processor::RunOnce() {
  batch_.table = config_.table;
  batch_.group = config_.group;
  batch_.rows.clear();
  batch_.dead_letters.clear();
  batch_.offsets.clear();
  timestamps_.clear();
  size_t per_partition = std::max<size_t>(1, batch_records_ / partitions_);
  size_t total = 0;
  for (int32_t p = 0; p < partitions_; ++p) {
    consumed_.clear();
    Status s = log_->Read(topic_, p, next_offset_[p], per_partition, &consumed_);
    if (!s.ok()) return s.WithContext(fmt::format("processor reading {}/{}", topic_, p));
    if (consumed_.empty()) continue;
    for (auto& c : consumed_) {
      MapResult m = mapper_->Map(c.record.key, c.record.value);
      if (m.ok) {
        batch_.rows.push_back({std::move(m.key), std::move(m.row_json)});
      } else {
        batch_.dead_letters.push_back({"process", std::move(m.error),
                                       fmt::format("{}/{}@{}", topic_, p, c.offset),
                                       std::move(c.record.value), clock_->NowMicros()});
      }
      timestamps_.push_back(c.record.timestamp_us);
    }
    batch_.offsets.push_back({topic_, p, consumed_.back().offset + 1});
    total += consumed_.size();
  }
  if (total == 0) return size_t{0};
  DF_RETURN_IF_ERROR(store_->Apply(batch_));
  for (const auto& o : batch_.offsets) next_offset_[o.partition] = o.next_offset;
  int64_t now = clock_->NowMicros();
  for (int64_t t : timestamps_) probe_->fetch_to_queryable_us.Record(now - t);
  probe_->consumed += total;
  probe_->stored += batch_.rows.size();
  probe_->dead_lettered += batch_.dead_letters.size();
  probe_->batches += 1;
  return total;
}

Result<bool> Processor::CaughtUp() {
  DF_ASSIGN_OR_RETURN(auto info, log_->DescribeTopic(topic_));
  for (const auto& p : info.partitions) {
    if (p.partition < partitions_ && next_offset_[p.partition] < p.end_offset) return false;
  }
  return true;
}

}  // namespace dataforge
