#include "process/processor.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace dataforge {

Processor::Processor(Log* log, Store* store, Mapper* mapper, const ProcessConfig& config,
                     std::string topic, size_t batch_records, Clock* clock, ProcessorProbe* probe)
    : log_(log),
      store_(store),
      mapper_(mapper),
      config_(config),
      topic_(std::move(topic)),
      batch_records_(batch_records),
      clock_(clock),
      probe_(probe) {}

Processor::~Processor() {
  (void)Close();
}

TableSchema OutputSchema(const ProcessConfig& config) {
  TableSchema schema;
  schema.table = config.table;
  schema.key_column = config.key_column;
  for (const auto& c : config.columns) schema.columns.push_back({c.name, c.type});
  return schema;
}

Status Processor::Start() {
  DF_RETURN_IF_ERROR(store_->EnsureTable(OutputSchema(config_)));
  DF_ASSIGN_OR_RETURN(log_id_, log_->LogId(topic_));
  DF_ASSIGN_OR_RETURN(consumer_, log_->Subscribe(config_.group, topic_, this));
  return Status::OK();
}

Result<std::optional<int64_t>> Processor::ResumeOffset(int32_t partition) {
  return store_->CommittedOffset(config_.group, topic_, partition, log_id_);
}

void Processor::OnRecordsLost(const LostRange& range) {
  lost_.push_back(range);
}

Result<size_t> Processor::RunOnce(int64_t wait_us, std::stop_token stop) {
  consumed_.clear();
  lost_.clear();
  Status s = consumer_->Poll(batch_records_, wait_us, stop, &consumed_);
  probe_->partitions = static_cast<int>(consumer_->Assignment().size());
  if (!s.ok()) return s.WithContext(fmt::format("processor reading {}", topic_));
  if (consumed_.empty() && lost_.empty()) return size_t{0};
  batch_.table = config_.table;
  batch_.group = config_.group;
  batch_.rows.clear();
  batch_.dead_letters.clear();
  batch_.offsets.clear();
  positions_.clear();
  counts_.clear();
  timestamps_.clear();
  size_t duplicates = 0;
  uint64_t lost = 0;
  // A partition's lost range comes before its records of this Poll (log.h): the position
  // moves to where reading goes on, even back (a topic made again).
  for (const LostRange& r : lost_) {
    auto it = std::find_if(positions_.begin(), positions_.end(),
                           [&](const PartitionPosition& p) { return p.partition == r.partition; });
    if (it == positions_.end()) {
      positions_.push_back({r.partition, r.resume_at});
      counts_.push_back({});
      it = positions_.end() - 1;
    }
    it->next_offset = r.resume_at;
    counts_[it - positions_.begin()].lost += r.records;
    lost += r.records;
  }
  for (auto& c : consumed_) {
    // Records of a partition arrive in offset order: the last one seen is the position.
    auto it = std::find_if(positions_.begin(), positions_.end(),
                           [&](const PartitionPosition& p) { return p.partition == c.partition; });
    if (it == positions_.end()) {
      positions_.push_back({c.partition, c.offset + 1});
      counts_.push_back({});
      it = positions_.end() - 1;
    } else {
      it->next_offset = c.offset + 1;  // offset order within a partition, after its lost range
    }
    PartitionCounts& counts = counts_[it - positions_.begin()];
    if (IsDuplicate(c)) {
      ++duplicates;
      continue;
    }
    auto where = [&] { return fmt::format("{}/{}@{}", topic_, c.partition, c.offset); };
    if (c.record.value.size() > config_.max_record_bytes) {
      batch_.dead_letters.push_back(
          {"process",
           fmt::format("record of {} bytes exceeds process.max_record_bytes ({})",
                       c.record.value.size(), config_.max_record_bytes),
           where(), c.record.value.substr(0, 1024), clock_->NowMicros()});
      ++counts.dead_lettered;
    } else {
      MapResult m = mapper_->Map(c.record.key, c.record.value);
      if (m.ok) {
        batch_.rows.push_back({std::move(m.key), std::move(m.row_json), m.deleted});
        ++counts.stored;
      } else {
        batch_.dead_letters.push_back({"process", std::move(m.error), where(),
                                       std::move(c.record.value), clock_->NowMicros()});
        ++counts.dead_lettered;
      }
    }
    timestamps_.push_back(c.record.timestamp_us);
  }
  if (log_id_.empty()) {
    // The log could not tell its identity (a Kafka topic whose first record was not there yet):
    // asked again; the rows written without one go to it with this batch (store.h).
    if (auto id = log_->LogId(topic_); id.ok()) log_id_ = *id;
  }
  for (size_t i = 0; i < positions_.size(); ++i) {
    batch_.offsets.push_back({topic_, positions_[i].partition, positions_[i].next_offset,
                              counts_[i].stored, counts_[i].dead_lettered, counts_[i].lost,
                              log_id_});
  }
  DF_RETURN_IF_ERROR(store_->Apply(batch_));
  for (const LostRange& r : lost_) spdlog::error("{}", DescribeLostRange(topic_, r));
  DF_RETURN_IF_ERROR(consumer_->Commit(positions_));
  int64_t now = clock_->NowMicros();
  for (int64_t t : timestamps_) probe_->fetch_to_queryable_us.Record(now - t);
  size_t total = consumed_.size();
  probe_->consumed += total;
  probe_->stored += batch_.rows.size();
  probe_->dead_lettered += batch_.dead_letters.size();
  probe_->duplicates += duplicates;
  probe_->lost += lost;
  probe_->batches += 1;
  return total + static_cast<size_t>(lost);
}

bool Processor::IsDuplicate(const ConsumedRecord& c) {
  uint64_t seq = OutboxSeqOf(c.record);
  if (seq == 0) return false;  // not relayed by DataForge: nothing to compare
  uint64_t& applied = applied_seq_[{c.partition, OriginOf(c.record)}];
  if (seq <= applied) return true;
  applied = seq;
  return false;
}

Result<bool> Processor::CaughtUp() {
  return consumer_->CaughtUp();
}

Status Processor::Close() {
  if (!consumer_) return Status::OK();
  Status s = consumer_->Close();
  consumer_.reset();
  return s;
}

}  // namespace dataforge
