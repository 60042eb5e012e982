#include "process/processor.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/record.h"

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

void Processor::SetWireDecoder(WireDecoder* decoder) {
  decoder_ = decoder;
}

Processor::~Processor() {
  (void)Close();
}

void Processor::ValidateWith(std::shared_ptr<const RowSchema> schema) {
  validator_ = schema ? std::make_unique<RowValidator>(std::move(schema)) : nullptr;
}

TableSchema OutputSchema(const ProcessConfig& config) {
  TableSchema schema;
  schema.table = config.table;
  schema.key_column = config.key_column;
  for (const auto& c : config.columns) schema.columns.push_back({c.name, c.type});
  return schema;
}

Status Processor::Start() {
  if (write_table_) DF_RETURN_IF_ERROR(store_->EnsureTable(OutputSchema(config_)));
  DF_ASSIGN_OR_RETURN(log_id_, log_->LogId(topic_));
  DF_ASSIGN_OR_RETURN(consumer_, log_->Subscribe(config_.group, topic_, this));
  return Status::OK();
}

Result<std::optional<int64_t>> Processor::ResumeOffset(int32_t partition) {
  Result<std::optional<int64_t>> offset =
      store_->CommittedOffset(config_.group, topic_, partition, log_id_);
  if (offset.ok()) {
    for (BatchStage* stage : stages_) stage->OnResume(partition, *offset);
  }
  return offset;
}

void Processor::OnRecordsLost(const LostRange& range) {
  lost_.push_back(range);
}

void Processor::BeforeRevoke() {
  if (!applying_) return;
  applying_ = false;
  applied_early_ = applier_.Wait(&applied_early_us_);
  // Finish() commits them again with the rest of its work: a position committed twice is
  // the same position.
  if (applied_early_->ok()) (void)consumer_->Commit(current_.positions);
}

Status Processor::PollBatch(int64_t wait_us, std::stop_token stop,
                            std::vector<ConsumedRecord>* records, std::vector<LostRange>* lost) {
  records->clear();
  lost_.clear();
  Status s = consumer_->Poll(batch_records_, wait_us, stop, records);
  probe_->partitions = static_cast<int>(consumer_->Assignment().size());
  lost->swap(lost_);
  lost_.clear();
  if (!s.ok()) return s.WithContext(fmt::format("processor reading {}", topic_));
  if (!skip_below_.empty()) {  // applied (or counted lost) by a truncate barrier ahead
    std::erase_if(*records, [&](const ConsumedRecord& c) {
      auto it = skip_below_.find(c.partition);
      return it != skip_below_.end() && c.offset < it->second;
    });
    std::erase_if(*lost, [&](LostRange& r) {
      auto it = skip_below_.find(r.partition);
      if (it == skip_below_.end() || r.cause != LostRange::Cause::kDeleted) return false;
      if (r.resume_at <= it->second) return true;
      if (r.expected < it->second) {
        r.records -= static_cast<uint64_t>(it->second - r.expected);
        r.expected = it->second;
      }
      return false;
    });
  }
  return Status::OK();
}

Result<size_t> Processor::RunOnce(int64_t wait_us, std::stop_token stop) {
  if (barrier_) return ContinueBarrier(wait_us, stop);
  if (ahead_mapped_) {
    ahead_mapped_ = false;
    DF_RETURN_IF_ERROR(RunStages(&ahead_));
    std::swap(current_, ahead_);
    return ApplyOverlapped(stop);
  }
  std::vector<LostRange> lost;
  if (!ahead_records_.empty() || !ahead_lost_.empty()) {
    consumed_.swap(ahead_records_);
    ahead_records_.clear();
    lost.swap(ahead_lost_);
    ahead_lost_.clear();
  } else {
    DF_RETURN_IF_ERROR(PollBatch(wait_us, stop, &consumed_, &lost));
  }
  if (consumed_.empty() && lost.empty()) return size_t{0};
  if (HasTruncateMarker(consumed_)) return Process(std::move(consumed_), std::move(lost));
  DF_RETURN_IF_ERROR(Prepare(consumed_, std::move(lost), &current_));
  DF_RETURN_IF_ERROR(RunStages(&current_));
  return ApplyOverlapped(stop);
}

Result<size_t> Processor::ApplyOverlapped(std::stop_token stop) {
  applier_.Start(&current_.batch);
  applying_ = true;
  // Meanwhile: the next batch, if one is there already (no waiting for one).
  std::vector<LostRange> lost;
  Status ahead = PollBatch(0, stop, &ahead_records_, &lost);
  if (ahead.ok() && !HasTruncateMarker(ahead_records_) &&
      (!ahead_records_.empty() || !lost.empty())) {
    ahead = Prepare(ahead_records_, std::move(lost), &ahead_);
    ahead_mapped_ = ahead.ok();
    ahead_records_.clear();
  } else {
    ahead_lost_ = std::move(lost);  // a truncate marker: Process() takes them next time
  }
  int64_t apply_us = applied_early_us_;
  Status applied = applying_ ? applier_.Wait(&apply_us) : std::move(*applied_early_);
  applying_ = false;
  applied_early_.reset();
  DF_RETURN_IF_ERROR(applied);
  DF_ASSIGN_OR_RETURN(size_t n, Finish(current_, apply_us));
  DF_RETURN_IF_ERROR(ahead);  // this batch is committed; the error ends the processor
  return n;
}

bool Processor::HasTruncateMarker(const std::vector<ConsumedRecord>& records) const {
  return std::any_of(records.begin(), records.end(),
                     [&](const ConsumedRecord& c) { return IsTruncateMarker(c); });
}

namespace {

std::string TruncatedTable(const ConsumedRecord& marker) {
  return marker.record.key.substr(kTruncateKeyPrefix.size());
}

// The "lsn" of a truncate event's JSON (written by the postgres_cdc source), "?" if absent.
std::string LsnOf(const ConsumedRecord& marker) {
  const std::string& v = marker.record.value;
  constexpr std::string_view kField = "\"lsn\":\"";
  size_t at = v.find(kField);
  if (at == std::string::npos) return "?";
  at += kField.size();
  size_t end = v.find('"', at);
  return end == std::string::npos ? "?" : v.substr(at, end - at);
}

bool SameEvent(const ConsumedRecord& a, const ConsumedRecord& b) {
  return a.record.key == b.record.key && a.record.value == b.record.value;
}

}  // namespace

bool Processor::IsTruncateMarker(const ConsumedRecord& c) const {
  if (!c.record.key.starts_with(kTruncateKeyPrefix)) return false;
  uint64_t seq = OutboxSeqOf(c.record);
  if (seq == 0) return true;
  auto it = applied_seq_.find({c.partition, OriginOf(c.record)});
  return it == applied_seq_.end() || seq > it->second;  // else a copy: skipped as a duplicate
}

Result<size_t> Processor::Process(std::vector<ConsumedRecord> records,
                                  std::vector<LostRange> lost) {
  auto first = std::find_if(records.begin(), records.end(),
                            [&](const ConsumedRecord& c) { return IsTruncateMarker(c); });
  if (first == records.end()) return ApplyRecords(records, lost);
  // Every partition is past the same truncates (a barrier ends on all of them at once), so the
  // first marker of each partition in this Poll is this event.
  Barrier b;
  b.marker = *first;
  std::vector<ConsumedRecord> before;
  for (auto& c : records) {
    if (b.reached.count(c.partition)) {
      b.held.push_back(std::move(c));
    } else if (IsTruncateMarker(c) && SameEvent(c, b.marker)) {
      b.reached[c.partition] = c.offset;
    } else {
      before.push_back(std::move(c));
    }
  }
  size_t n = 0;
  if (!before.empty() || !lost.empty()) {
    DF_ASSIGN_OR_RETURN(n, ApplyRecords(before, lost));
  }
  barrier_ = std::move(b);
  DF_ASSIGN_OR_RETURN(size_t more, ContinueBarrier(0, {}));
  return n + more;
}

Result<size_t> Processor::ContinueBarrier(int64_t wait_us, std::stop_token stop) {
  Barrier& b = *barrier_;
  DF_ASSIGN_OR_RETURN(TopicInfo info, log_->DescribeTopic(topic_));
  auto partitions = static_cast<int32_t>(info.partitions.size());
  size_t owned = consumer_->Assignment().size();
  if (owned != static_cast<size_t>(partitions)) {
    return Status::FailedPrecondition(fmt::format(
        "processor: TRUNCATE of {} at LSN {} must be applied by a process member that owns "
        "every partition of {}, and this one owns {} of {}: run one `--role process` member "
        "for this pipeline (it applies the truncate and goes on)",
        TruncatedTable(b.marker), LsnOf(b.marker), topic_, owned, partitions));
  }
  size_t n = 0;
  // The partitions that have not reached the marker: read on from where they were applied up
  // to their copy of it, applying what comes before it.
  for (int32_t q = 0; q < partitions; ++q) {
    while (!b.reached.count(q)) {
      DF_ASSIGN_OR_RETURN(auto committed,
                          store_->CommittedOffset(config_.group, topic_, q, log_id_));
      DF_ASSIGN_OR_RETURN(auto group, log_->GroupOffset(config_.group, topic_, q));
      // Where the consumer resumed it (log.h), or further if a barrier read it ahead.
      int64_t pos = std::max(committed.value_or(0), group.value_or(0));
      if (auto it = skip_below_.find(q); it != skip_below_.end()) pos = std::max(pos, it->second);
      std::vector<ConsumedRecord> chunk;
      DF_RETURN_IF_ERROR(log_->Read(topic_, q, pos, batch_records_, &chunk)
                             .WithContext(fmt::format("processor reading {}", topic_)));
      if (chunk.empty()) {
        // The relay has not appended this partition's copy yet: wait (held, nothing lost).
        if (!log_->WaitForData(topic_, q, pos, wait_us, stop)) return n;
        continue;
      }
      std::vector<LostRange> lost;
      if (chunk.front().offset > pos) {
        lost.push_back({q, LostRange::Cause::kDeleted, pos, chunk.front().offset,
                        static_cast<uint64_t>(chunk.front().offset - pos),
                        "by the log's retention"});
      }
      std::vector<ConsumedRecord> before;
      int64_t next = chunk.back().offset + 1;
      for (auto& c : chunk) {
        if (IsTruncateMarker(c) && SameEvent(c, b.marker)) {
          b.reached[q] = c.offset;
          next = c.offset;
          break;
        }
        before.push_back(std::move(c));
      }
      if (!before.empty() || !lost.empty()) {
        DF_ASSIGN_OR_RETURN(size_t k, ApplyRecords(before, lost));
        n += k;
      }
      skip_below_[q] = next;
    }
  }
  // Every partition is at its marker: empty the table and move all of them past it, at once.
  StoreBatch& batch = current_.batch;
  std::vector<PartitionPosition>& positions = current_.positions;
  StartBatch(&batch);
  batch.truncate = write_table_;
  positions.clear();
  for (const auto& [q, offset] : b.reached) {
    // The event counts once, on the lowest partition.
    uint64_t stored = batch.offsets.empty() ? 1 : 0;
    batch.offsets.push_back({topic_, q, offset + 1, stored, 0, 0, log_id_});
    positions.push_back({q, offset + 1});
  }
  DF_RETURN_IF_ERROR(store_->Apply(batch));  // (the next StartBatch clears `truncate`)
  DF_RETURN_IF_ERROR(consumer_->Commit(positions));
  uint64_t seq = OutboxSeqOf(b.marker.record);
  for (const auto& [q, offset] : b.reached) {
    skip_below_[q] = std::max(skip_below_[q], offset + 1);
    if (seq != 0) {
      uint64_t& applied_seq = applied_seq_[{q, OriginOf(b.marker.record)}];
      applied_seq = std::max(applied_seq, seq);
    }
  }
  spdlog::info("processor: TRUNCATE of {} at LSN {}: {}", TruncatedTable(b.marker), LsnOf(b.marker),
               write_table_ ? "removed every row of " + config_.table
                            : "passed (" + config_.table + " is not rebuilt)");
  probe_->fetch_to_queryable_us.Record(clock_->NowMicros() - b.marker.record.timestamp_us);
  probe_->consumed += 1;
  probe_->stored += 1;
  probe_->batches += 1;
  n += b.reached.size();
  std::vector<ConsumedRecord> held = std::move(b.held);
  barrier_.reset();
  if (!held.empty()) {
    DF_ASSIGN_OR_RETURN(size_t k, Process(std::move(held), {}));
    n += k;
  }
  return n;
}

void Processor::StartBatch(StoreBatch* batch) {
  batch->table = config_.table;
  batch->group = config_.group;
  batch->rows.clear();
  batch->dead_letters.clear();
  batch->stage_letters = 0;
  batch->offsets.clear();
  batch->truncate = false;
  batch->truncate_also.clear();  // a stage sets it for one batch (reprocess --in-place)
}

Result<size_t> Processor::ApplyRecords(std::vector<ConsumedRecord>& records,
                                       const std::vector<LostRange>& lost) {
  DF_RETURN_IF_ERROR(Prepare(records, lost, &current_));
  DF_RETURN_IF_ERROR(RunStages(&current_));
  int64_t apply_started = clock_->MonotonicMicros();
  DF_RETURN_IF_ERROR(store_->Apply(current_.batch));
  return Finish(current_, clock_->MonotonicMicros() - apply_started);
}

Status Processor::Prepare(std::vector<ConsumedRecord>& records, std::vector<LostRange> lost_ranges,
                          Prepared* out) {
  StoreBatch& batch = out->batch;
  std::vector<PartitionPosition>& positions = out->positions;
  StartBatch(&batch);
  positions.clear();
  out->kept.clear();
  out->letters.clear();
  out->records.clear();
  const bool staged = !stages_.empty();
  // With stages, the letters wait in record order beside the kept rows (RunStages).
  auto letter = [&](DeadLetter d) {
    if (staged) {
      out->letters.emplace_back(out->kept.size(), std::move(d));
    } else {
      batch.dead_letters.push_back(std::move(d));
    }
  };
  counts_.clear();
  out->timestamps.clear();
  out->lost = std::move(lost_ranges);
  out->duplicates = 0;
  out->lost_records = 0;
  out->consumed = records.size();
  // A partition's lost range comes before its records of this Poll (log.h): the position
  // moves to where reading goes on, even back (a topic made again).
  for (const LostRange& r : out->lost) {
    auto it = std::find_if(positions.begin(), positions.end(),
                           [&](const PartitionPosition& p) { return p.partition == r.partition; });
    if (it == positions.end()) {
      positions.push_back({r.partition, r.resume_at});
      counts_.push_back({});
      it = positions.end() - 1;
    }
    it->next_offset = r.resume_at;
    counts_[it - positions.begin()].lost += r.records;
    out->lost_records += r.records;
  }
  for (auto& c : records) {
    // Records of a partition arrive in offset order: the last one seen is the position.
    auto it = std::find_if(positions.begin(), positions.end(),
                           [&](const PartitionPosition& p) { return p.partition == c.partition; });
    if (it == positions.end()) {
      positions.push_back({c.partition, c.offset + 1});
      counts_.push_back({});
      it = positions.end() - 1;
    } else {
      it->next_offset = c.offset + 1;  // offset order within a partition, after its lost range
    }
    PartitionCounts& counts = counts_[it - positions.begin()];
    if (IsDuplicate(c)) {
      ++out->duplicates;
      continue;
    }
    auto where = [&] { return fmt::format("{}/{}@{}", topic_, c.partition, c.offset); };
    if (IsBroadcastKey(c.record.key)) {
      // Barriers take their markers out before this; one that is left came out of order.
      letter({"process",
              "a broadcast record (a source truncate) that is not at its place in the "
              "partitions' order: not applied",
              where(), c.record.value.substr(0, 1024), clock_->NowMicros()});
      ++counts.dead_lettered;
    } else if (c.record.value.size() > config_.max_record_bytes) {
      letter({"process",
              fmt::format("record of {} bytes exceeds process.max_record_bytes ({})",
                          c.record.value.size(), config_.max_record_bytes),
              where(), c.record.value.substr(0, 1024), clock_->NowMicros()});
      ++counts.dead_lettered;
    } else {
      // log.format confluent-*: the value in Confluent's wire format, decoded by its schema id.
      std::string* value = &c.record.value;
      std::optional<WireDecoder::Decoded> decoded;
      if (decoder_ != nullptr && !c.record.tombstone) {
        DF_ASSIGN_OR_RETURN(decoded, decoder_->Decode(c.record.value));
        value = &decoded->json;
      }
      MapResult m;
      if (decoded && !decoded->ok) {
        letter({"process", std::move(decoded->reason), where(), WirePayloadText(c.record.value),
                clock_->NowMicros(), std::move(c.record.key)});
        ++counts.dead_lettered;
        out->timestamps.push_back(c.record.timestamp_us);
        continue;
      }
      m = c.record.tombstone ? mapper_->MapTombstone(c.record.key, clock_->NowMicros() / 1000,
                                                     c.record.timestamp_us)
                             : mapper_->Map(c.record.key, *value, clock_->NowMicros() / 1000,
                                            c.record.timestamp_us);
      if (m.ok && !m.deleted && !m.filtered && validator_) {
        if (std::optional<std::string> failed = validator_->Check(m.row_json)) {
          m.ok = false;
          m.error = std::move(*failed);
        }
      }
      if (m.ok && m.filtered) {
        ++counts.filtered;
      } else if (m.ok) {
        RowWrite row{std::move(m.key), std::move(m.row_json), m.deleted};
        if (m.every_column) row.columns = mapper_->ColumnNames();
        ++counts.stored;
        if (staged) {
          std::optional<std::string> json;
          if (decoded) json = std::move(decoded->json);
          out->kept.push_back({static_cast<size_t>(&c - records.data()), std::move(m),
                               std::move(row), std::move(json)});
        } else if (write_table_) {
          batch.rows.push_back(std::move(row));
        }
      } else {
        letter({"process", std::move(m.error), where(), std::move(*value), clock_->NowMicros(),
                std::move(c.record.key)});
        ++counts.dead_lettered;
      }
    }
    out->timestamps.push_back(c.record.timestamp_us);
  }
  if (log_id_.empty()) {
    // The log could not tell its identity (a Kafka topic whose first record was not there yet):
    // asked again; the rows written without one go to it with this batch (store.h).
    if (auto id = log_->LogId(topic_); id.ok()) log_id_ = *id;
  }
  out->stored = out->dead_lettered = out->filtered = 0;
  for (size_t i = 0; i < positions.size(); ++i) {
    batch.offsets.push_back({topic_, positions[i].partition, positions[i].next_offset,
                             counts_[i].stored, counts_[i].dead_lettered, counts_[i].lost, log_id_,
                             counts_[i].filtered});
    out->stored += counts_[i].stored;
    out->dead_lettered += counts_[i].dead_lettered;
    out->filtered += counts_[i].filtered;
  }
  if (staged) out->records.swap(records);  // RunStages hands them to the stages
  return Status::OK();
}

Status Processor::RunStages(Prepared* p) {
  if (stages_.empty()) return Status::OK();
  StoreBatch& batch = p->batch;
  size_t next_letter = 0;
  auto letters_through = [&](size_t kept) {
    while (next_letter < p->letters.size() && p->letters[next_letter].first <= kept) {
      batch.dead_letters.push_back(std::move(p->letters[next_letter++].second));
    }
  };
  for (size_t i = 0; i < p->kept.size(); ++i) {
    letters_through(i);
    Prepared::KeptRow& k = p->kept[i];
    ConsumedRecord& c = p->records[k.record];
    // The row joins the batch after the stages saw it: a stage may add rows to the batch in
    // OnRow (a derived table), and a reference into batch.rows would move under it.
    const size_t letters = batch.dead_letters.size();
    // The stages see the JSON the mapping read: a confluent log.format's value decoded
    // (swapped in for them, then back).
    if (k.decoded) c.record.value.swap(*k.decoded);
    Status staged = Status::OK();
    for (BatchStage* stage : stages_) {
      staged = stage->OnRow(c, k.mapped, k.row, &batch);
      if (!staged.ok()) break;
    }
    if (k.decoded) c.record.value.swap(*k.decoded);
    DF_RETURN_IF_ERROR(staged);
    batch.stage_letters += batch.dead_letters.size() - letters;
    if (write_table_) batch.rows.push_back(std::move(k.row));
  }
  letters_through(p->kept.size());
  p->kept.clear();
  p->letters.clear();
  p->records.clear();
  if (!stages_.empty()) {
    const std::vector<int32_t> held = consumer_->Assignment();
    for (BatchStage* stage : stages_) stage->OnPartitionsHeld(held);
  }
  for (BatchStage* stage : stages_) DF_RETURN_IF_ERROR(stage->BeforeApply(&batch));
  return Status::OK();
}

Result<size_t> Processor::Finish(Prepared& p, int64_t apply_us) {
  for (BatchStage* stage : stages_) DF_RETURN_IF_ERROR(stage->AfterApply(p.batch));
  probe_->apply_duration_us.Record(apply_us);
  for (const LostRange& r : p.lost) spdlog::error("{}", DescribeLostRange(topic_, r));
  DF_RETURN_IF_ERROR(consumer_->Commit(p.positions));
  int64_t now = clock_->NowMicros();
  for (int64_t t : p.timestamps) probe_->fetch_to_queryable_us.Record(now - t);
  probe_->consumed += p.consumed;
  probe_->stored += p.stored;
  probe_->dead_lettered += p.dead_lettered;
  probe_->filtered += p.filtered;
  probe_->duplicates += p.duplicates;
  probe_->lost += p.lost_records;
  probe_->batches += 1;
  return p.consumed + static_cast<size_t>(p.lost_records);
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
