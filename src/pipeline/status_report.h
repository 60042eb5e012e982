// The pipeline's status as `dataforge status` shows it: totals since the data dir was created,
// each stage's position and lag. Read from the stages of one data dir; used by the CLI
// (`status`, `status --json`) and by GET /v1/status (serve/rest/pipeline_api.h), which print
// the same JSON object (StatusJson).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "log/log.h"
#include "staging/staging.h"
#include "store/store.h"

namespace dataforge {

struct PartitionStatus {
  int32_t partition;
  int64_t start_offset, end_offset, committed;
  uint64_t lost;  // counted by this data dir's processor
  // Where the processor reads next: the processed position; the start offset when that was
  // deleted; the start too when the position is past the end (the log lost its tail, or a topic
  // made again that the log could not tell by its identity: log.h LostRange kOffsetsWentBack).
  int64_t next_read() const;
  // Log records from there to the end, and those below the start offset not yet processed:
  // deleted, counted lost once the processor reads on.
  uint64_t lag() const;
  uint64_t deleted_unread() const;
};

struct PipelineStatus {
  bool has_staging = false;  // false for a `run --role process` data dir
  bool has_store = false;    // false for a `run --role ingest` data dir
  StagingCounters staging;
  StoreCounters store;
  uint64_t rows = 0;
  std::vector<std::pair<std::string, std::string>> positions;
  std::vector<PartitionStatus> partitions;
  uint64_t log_lag = 0;
  uint64_t deleted_unread = 0;

  const char* role() const;  // "all", "ingest" or "process"
  uint64_t dead_lettered() const { return staging.dead_lettered + store.dead_lettered; }
  uint64_t staging_lag() const;
  uint64_t in_flight() const { return staging_lag() + log_lag; }
  bool balanced() const;  // stored + dead-lettered + lost + filtered == fetched
};

// Reads the status from a data dir's stages. `staging` is null for a process role's data dir,
// `store` null for an ingest role's (not both). Only reads; the stages are borrowed.
// `count_rows` false leaves `rows` 0: counting scans the table (metrics/status_collector.h
// counts less often).
Result<PipelineStatus> ReadPipelineStatus(Staging* staging, Log& log, Store* store,
                                          const PipelineConfig& config, bool count_rows = true);

// The one-line JSON object `dataforge status --json` prints (without the newline).
std::string PipelineStatusJson(const PipelineStatus& status);

}  // namespace dataforge
