// A stage inside the processor's batch (process.outputs, process.aggregates): it sees every
// record the mapping kept, in offset order within each partition, and adds its own writes to the
// same StoreBatch, so they become durable together with the mapped rows and the consumed
// offsets (exactly once into the store, store.h).
//
// Call order per batch: OnRow for each kept record, then OnPartitionsHeld and BeforeApply once,
// then Store::Apply, then AfterApply once when (and only when) Apply succeeded. An error from
// any of them fails the batch (RunOnce returns it; nothing of the batch is committed to the log's
// group), and the processor is not run again (processor.h RunOnce): what a stage kept of the failed
// batch is dropped with it. Batches come to a stage one at a time: a batch's first OnRow comes
// after the previous batch's AfterApply, although the processor polls and maps the next batch's
// records while the store applies this one (processor.h "Overlap"). OnResume may come between a
// batch's BeforeApply and its AfterApply (a rebalance during that Apply); the batch is then durable
// already (the processor waits for it before partitions are revoked), or holds no record of the
// partition. Thread-compatible: the processor's thread calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/status.h"
#include "log/log.h"
#include "process/mapper.h"
#include "store/store.h"

namespace dataforge {

class BatchStage {
 public:
  virtual ~BatchStage() = default;

  // `mapped` is ok and not filtered; `row` is the RowWrite the processor added for it to
  // `batch` (process.table). `record`'s value is the JSON the mapping read: in a confluent
  // log.format, the value decoded from Confluent's wire format. A record this stage cannot take (a
  // late record of an aggregate) may get a letter in batch->dead_letters (stage "process", with a
  // reason naming the stage): the record itself stays counted as stored (its row was written), so
  // the letter is not in the `dead_lettered` counter; the stage counts it in its own probe.
  virtual Status OnRow(const ConsumedRecord& record, const MapResult& mapped, const RowWrite& row,
                       StoreBatch* batch) = 0;
  // The partitions the processor's consumer holds (Consumer::Assignment) as the batch is
  // completed: called once per batch, after its last OnRow and before BeforeApply. A partition
  // leaves this list only once every batch with its records is durable (the processor waits for
  // the batch it applies before a partition is revoked).
  virtual void OnPartitionsHeld(const std::vector<int32_t>& partitions) { (void)partitions; }
  // Adds what the stage kept for the batch as a whole (e.g. one upsert per touched window).
  virtual Status BeforeApply(StoreBatch* batch) {
    (void)batch;
    return Status::OK();
  }
  // The batch is durable in the store (e.g. publish to a topic, evict closed windows).
  virtual Status AfterApply(const StoreBatch& batch) {
    (void)batch;
    return Status::OK();
  }
  // The processor is about to read `partition` from `next_offset` (nullopt = from the log's
  // start): the stage drops what it cached of the partition and reloads on demand.
  virtual void OnResume(int32_t partition, std::optional<int64_t> next_offset) {
    (void)partition;
    (void)next_offset;
  }
};

}  // namespace dataforge
