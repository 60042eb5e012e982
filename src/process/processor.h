// The processing stage: a consumer-group member that maps each record of the log with the
// pipeline's column specs and writes rows to the store.
//
// Per batch: poll the log, map, then one atomic StoreBatch (rows + dead letters + the consumed
// offsets + counters), then commit the offsets to the log's group.
// Into one store this is exactly-once: a partition resumes at the later of the group's commit
// and the offsets the store holds (listener), so after a crash nothing is skipped or applied
// twice. The store's offsets are those of this log (Log::LogId, read at Start, and again before
// each batch while the log cannot tell it; written with every offset): another log's offsets in a
// shared store, or a topic's made before it was deleted and made again, are not this log's, so a
// new log is read from its beginning. When a partition moves to another member (Kafka), that member
// re-processes at most the batch whose group commit did not happen; rows are upserts by key, so a
// row is never doubled. Duplicates in the log itself (a producer's retried batch, a relay
// re-sending after a crash) carry the same outbox "seq" from the same "origin": a record whose seq
// is not above the highest this processor applied for that origin and partition is skipped and
// counted in `duplicates`, so the stored counter counts each fetched version once. (Kept in memory:
// after a restart, a duplicate of a record applied before it is applied again, harmlessly.) Records
// the log lost before they were read (the consumer's LostRange: retention, a topic made again) are
// counted in `lost`, per partition, in the same StoreBatch that moves the partition's offset past
// them (so a crash never counts them twice), and each range is logged as one error line once that
// batch is durable.
// Truncate barrier: a truncate event (a broadcast record, common/record.h) sits on every
// partition of the topic at its place in that partition's order. Its partition is held where
// the processor meets it (nothing after the marker is applied), the other partitions are read
// on directly from the log (Log::Read) up to their copy of it, applying what comes before it;
// then one StoreBatch empties the store table and moves every partition's offset past its
// marker together, and the held records follow. So the truncate removes every earlier change
// and no later one. The event counts once: 1 consumed, 1 stored (on the lowest partition's
// PartitionOffset), however many partitions carry it. A member that does not own every
// partition (several process members share a Kafka topic) cannot hold the others: RunOnce fails
// with one line naming the table, the LSN and the fix. Records a barrier read directly are
// skipped when the consumer returns them later. Memory: a barrier keeps at most the held
// records of one Poll.
// Overlap: while the store applies a batch (on the applier's thread, process/store_applier.h),
// the processor polls and maps the next one. Its stages (outputs, aggregates) see it only after
// the applied batch's AfterApply: a stage's state after a batch (e.g. an aggregate's evictions)
// feeds the next one, so the stages take batches one at a time. A rebalance inside that Poll waits
// for the Apply and commits its positions before the partitions go (BeforeRevoke), so a batch
// is never durable after its partitions moved to another member. RunOnce still returns only
// once its batch is durable and committed; the batch polled ahead is only polled (and mapped):
// its offsets are committed with its own Apply in the next RunOnce, so a crash, an error or
// Close() before then re-reads it from the store's offsets, as any unapplied batch.
// Thread-compatible: one thread drives a processor.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/latency_histogram.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "log/log.h"
#include "process/batch_stage.h"
#include "process/mapper.h"
#include "process/row_schema.h"
#include "process/store_applier.h"
#include "process/wire_decoder.h"
#include "store/store.h"

namespace dataforge {

struct ProcessorProbe {
  std::atomic<uint64_t> consumed{0};
  std::atomic<uint64_t> stored{0};
  std::atomic<uint64_t> dead_lettered{0};
  std::atomic<uint64_t> duplicates{0};  // log records skipped as copies of applied ones
  std::atomic<uint64_t> lost{0};        // log records deleted before they were read
  std::atomic<uint64_t> filtered{0};    // records process.where dropped
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> busy_us{0};        // time in RunOnce (written by the pipeline)
  std::atomic<int> partitions{0};          // partitions this member owns
  LatencyHistogram fetch_to_queryable_us;  // record fetched -> row committed in the store
  LatencyHistogram apply_duration_us;      // one batch's Store::Apply (durable), per batch
};

// The store table the mapping writes: process.table keyed by process.key_column, one column per
// output column with the column's type (the pipeline's types are CQL type names).
TableSchema OutputSchema(const ProcessConfig& config);

class Processor final : private ConsumerListener {
 public:
  // Borrows everything; all must outlive the processor.
  Processor(Log* log, Store* store, Mapper* mapper, const ProcessConfig& config, std::string topic,
            size_t batch_records, Clock* clock, ProcessorProbe* probe);
  ~Processor() override;

  // log.format confluent-*: decode every value with `decoder` (borrowed; null = values are the
  // JSON the mapper reads) before mapping it; a value it cannot decode is a dead letter with its
  // reason (process/wire_decoder.h). A letter of a decoded record that the mapping refused keeps
  // the decoded JSON, so a replay maps it as is. Call before the first RunOnce.
  void SetWireDecoder(WireDecoder* decoder);
  // process.schema: every mapped row (not a delete) is validated against `schema` before it
  // joins the batch; a row that fails is a dead letter whose reason names the schema (subject,
  // id, version), the JSON Pointer path and the rule (row_schema.h). Call before the first RunOnce.
  void ValidateWith(std::shared_ptr<const RowSchema> schema);
  // process.outputs / process.aggregates: `stage` (borrowed; outlives the processor) sees every
  // kept record and adds its writes to the batch (process/batch_stage.h). Call before Start.
  void AddStage(BatchStage* stage) { stages_.push_back(stage); }
  // process.table is not written (a reprocess that rebuilds only derived or aggregate tables,
  // pipeline/reprocess.h): Start does not ensure it, each kept record's mapped row goes to the
  // stages but not into the batch, and a truncate barrier empties nothing (it still moves the
  // offsets past its markers). The records still count as stored: their outcome is the mapping's.
  // Call before Start.
  void LeaveTableUnwritten() { write_table_ = false; }

  // Joins the consumer group. Call once first.
  Status Start();

  // Consumes at most one batch (waiting up to `wait_us` for the first record) and applies it
  // as one StoreBatch. Returns the number of log records consumed plus those counted lost
  // (0 = nothing new). An error ends the processor: its consumer has already moved past the
  // failed batch's records, so the owner stops it (`run` and `reprocess` do) and a new one
  // resumes from the store's offsets; its stages see no batch after the failed one.
  Result<size_t> RunOnce(int64_t wait_us = 0, std::stop_token stop = {});

  // True when the group has consumed every partition to its end offset.
  Result<bool> CaughtUp();

  // Leaves the group (its partitions go to the other members).
  Status Close();

  // The identity of the log this processor reads (Log::LogId; "" while it cannot tell).
  const std::string& log_id() const { return log_id_; }

 private:
  Result<std::optional<int64_t>> ResumeOffset(int32_t partition) override;
  void OnRecordsLost(const LostRange& range) override;
  void BeforeRevoke() override;
  // True when `c` repeats a record already applied (see the header comment); records it.
  bool IsDuplicate(const ConsumedRecord& c);
  // A batch mapped and ready for Store::Apply, with what its commit needs afterwards.
  struct Prepared {
    StoreBatch batch;
    std::vector<PartitionPosition> positions;
    std::vector<int64_t> timestamps;  // the records' fetch times (fetch -> queryable)
    std::vector<LostRange> lost;      // logged once the batch is durable
    uint64_t stored = 0, dead_lettered = 0, filtered = 0, lost_records = 0, duplicates = 0;
    size_t consumed = 0;  // log records (not the lost ones)
    // With stages: the rows the mapping kept and its letters, in record order, not yet in
    // `batch`: RunStages hands each row to the stages, then adds rows and letters to `batch` in
    // that order. Without stages the mapping adds them to `batch` itself.
    struct KeptRow {
      size_t record;  // index into the batch's records
      MapResult mapped;
      RowWrite row;
      std::optional<std::string> decoded;  // the value the mapping read, when decoded
    };
    std::vector<KeptRow> kept;
    std::vector<std::pair<size_t, DeadLetter>> letters;  // each after `first` rows of `kept`
    std::vector<ConsumedRecord> records;                 // with stages: what `kept` indexes
  };
  // Empties `batch` (keeping its buffers) for the next batch of config_.table and group.
  void StartBatch(StoreBatch* batch);
  // Polls up to one batch into `records` (and the ranges lost before them into `lost`), without
  // what a truncate barrier applied ahead of the consumer.
  Status PollBatch(int64_t wait_us, std::stop_token stop, std::vector<ConsumedRecord>* records,
                   std::vector<LostRange>* lost);
  // Maps `records` (offset order within each partition) and `lost` into `out`. With stages, the
  // kept rows wait in `out->kept` for RunStages, and `records` moves to `out->records` (the
  // caller gets an empty vector back).
  Status Prepare(std::vector<ConsumedRecord>& records, std::vector<LostRange> lost, Prepared* out);
  // The stages' part of `p`: OnRow for each kept row, then BeforeApply. Runs after the previous
  // batch's Finish, so a stage sees batches one after the other.
  Status RunStages(Prepared* p);
  // After `p`'s Apply succeeded: the stages' AfterApply, the lost ranges logged, the offsets
  // committed to the log's group, the probe. Returns records consumed plus lost.
  Result<size_t> Finish(Prepared& p, int64_t apply_us);
  // Maps, applies and commits `records` and `lost` as one StoreBatch, on this thread.
  Result<size_t> ApplyRecords(std::vector<ConsumedRecord>& records,
                              const std::vector<LostRange>& lost);
  // Applies current_ (prepared) on the applier's thread while polling and mapping the next
  // batch into ahead_; then commits current_. See "Overlap" above.
  Result<size_t> ApplyOverlapped(std::stop_token stop);
  bool HasTruncateMarker(const std::vector<ConsumedRecord>& records) const;
  // Applies `records` up to the first truncate barrier and starts it (barrier_).
  Result<size_t> Process(std::vector<ConsumedRecord> records, std::vector<LostRange> lost);
  // Reads the partitions that have not reached the barrier's marker; when all have, applies
  // the truncate and then the held records. Returns what it consumed.
  Result<size_t> ContinueBarrier(int64_t wait_us, std::stop_token stop);
  bool IsTruncateMarker(const ConsumedRecord& c) const;

  Log* log_;
  Store* store_;
  Mapper* mapper_;
  std::unique_ptr<RowValidator> validator_;  // process.schema; null = rows are not validated
  const ProcessConfig& config_;
  std::string topic_;
  std::string log_id_;  // set by Start
  size_t batch_records_;
  Clock* clock_;
  ProcessorProbe* probe_;
  WireDecoder* decoder_ = nullptr;
  std::unique_ptr<LogConsumer> consumer_;
  std::vector<ConsumedRecord> consumed_;
  std::vector<LostRange> lost_;  // reported by the current Poll
  struct PartitionCounts {
    uint64_t stored = 0, dead_lettered = 0, lost = 0, filtered = 0;
  };
  std::vector<BatchStage*> stages_;
  bool write_table_ = true;              // false: LeaveTableUnwritten
  std::vector<PartitionCounts> counts_;  // Prepare's, parallel to its positions
  std::map<std::pair<int32_t, std::string>, uint64_t> applied_seq_;  // (partition, origin)
  Prepared current_;  // the batch being applied (buffers kept from batch to batch)
  // Polled while current_ was applied (Overlap): mapped into ahead_ when `ahead_mapped_`, else
  // (it holds a truncate marker) left as records for Process().
  Prepared ahead_;
  bool ahead_mapped_ = false;
  std::vector<ConsumedRecord> ahead_records_;
  std::vector<LostRange> ahead_lost_;
  StoreApplier applier_{store_};  // after store_
  bool applying_ = false;         // current_ handed to applier_, not waited for
  // current_'s Apply status when BeforeRevoke waited for it (ApplyOverlapped takes it).
  std::optional<Status> applied_early_;
  int64_t applied_early_us_ = 0;
  struct Barrier {
    ConsumedRecord marker;               // the first copy met; key + value name the event
    std::map<int32_t, int64_t> reached;  // partition -> offset of its copy of the marker
    std::vector<ConsumedRecord> held;    // polled records after their partition's marker
  };
  std::optional<Barrier> barrier_;
  std::map<int32_t, int64_t> skip_below_;  // offsets a barrier applied ahead of the consumer
};

}  // namespace dataforge
