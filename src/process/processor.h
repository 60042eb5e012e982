// The processing stage: consumes the log, maps each record with the pipeline's column specs
// and writes rows to the store.
//
// Exactly-once into the store: the consumed offsets are written in the same atomic StoreBatch
// as the rows and dead letters, so after a crash the processor resumes at the first record
// whose effects are not in the store — nothing is skipped or applied twice.
// Thread-compatible: one thread drives a processor.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/latency_histogram.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "log/log.h"
#include "process/mapper.h"
#include "store/store.h"

namespace dataforge {

struct ProcessorProbe {
  std::atomic<uint64_t> consumed{0};
  std::atomic<uint64_t> stored{0};
  std::atomic<uint64_t> dead_lettered{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> busy_us{0};        // time in RunOnce (written by the pipeline)
  LatencyHistogram fetch_to_queryable_us;  // record fetched -> row committed in the store
};

class Processor {
 public:
  // Borrows everything; all must outlive the processor.
  Processor(Log* log, Store* store, Mapper* mapper, const ProcessConfig& config, std::string topic,
            int32_t partitions, size_t batch_records, Clock* clock, ProcessorProbe* probe);

  // Loads the committed offsets from the store (or the partition start). Call once first.
  Status Recover();

  // Consumes at most one batch from each partition and applies it as one StoreBatch.
  // Returns the number of log records consumed (0 = nothing new).
  Result<size_t> RunOnce();

  // True when every partition's next offset has reached its end offset.
  Result<bool> CaughtUp();

 private:
  Log* log_;
  Store* store_;
  Mapper* mapper_;
  const ProcessConfig& config_;
  std::string topic_;
  int32_t partitions_;
  size_t batch_records_;
  Clock* clock_;
  ProcessorProbe* probe_;
  std::vector<int64_t> next_offset_;
  std::vector<ConsumedRecord> consumed_;
  std::vector<int64_t> timestamps_;
  StoreBatch batch_;
};

}  // namespace dataforge
