// The whole pipeline in one process: source -> staging -> relay -> log -> processor -> store,
// one thread per stage, handing off through the durable stages with bounded lag.
//
// Backpressure: the source waits while staged-but-not-relayed rows exceed
// tuning.max_staging_lag; the relay waits while appended-but-not-processed records exceed
// tuning.max_log_lag. Memory stays bounded by a few batches per stage.
// Stopping: RequestStop() (SIGINT/SIGTERM) stops the source at once; the relay and the
// processor drain what was staged, then Run() returns. RequestAbort() (a second signal) stops
// every stage after its current batch; the next run resumes from the durable positions.
// Thread-safety: Run() is called once, from one thread; RequestStop/RequestAbort and Probes()
// may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "pipeline/stage_probes.h"

namespace dataforge {

struct RunOptions {
  std::string data_dir = "./dataforge-data";
  uint64_t max_records = 0;  // fetch this many records in this run, drain, return; 0 = no limit
  std::string source_url_override;  // --source-url
};

// Counters of one run (deltas) and of the data dir (totals).
struct RunTotals {
  uint64_t fetched = 0, staged = 0, streamed = 0, stored = 0, dead_lettered = 0;
};

struct RunSummary {
  RunTotals run;    // this run
  RunTotals total;  // since the data dir was created
  double seconds = 0;
  int64_t latency_p50_us = 0, latency_p99_us = 0;
  std::string source;    // what was read
  bool drained = false;  // everything fetched is stored or dead-lettered
};

class Pipeline {
 public:
  // Opens every stage (creating the data dir); errors name the stage and path.
  static Result<std::unique_ptr<Pipeline>> Open(const PipelineConfig& config,
                                                const RunOptions& options, Clock* clock);
  virtual ~Pipeline() = default;

  // Runs until the source is exhausted, max_records is reached, or a stop is requested, then
  // drains. Returns the summary, or the first stage error (the others are stopped).
  virtual Result<RunSummary> Run() = 0;

  virtual void RequestStop() = 0;
  virtual void RequestAbort() = 0;
  virtual const StageProbes& probes() const = 0;
};

}  // namespace dataforge
