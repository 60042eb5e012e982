// The pipeline: source -> staging -> relay -> log -> processor -> store, one thread per stage
// (two for the source: df-fetch calls it, df-source commits its batches to staging, so the next
// fetch overlaps this commit), handing off through the durable stages with bounded lag. It runs
// whole in one process (PipelineRole::kAll) or, over a log several processes share (Kafka), as one
// role of several: kIngest (source, staging, relay into the log) or kProcess (a consumer-group
// member: log -> processor -> store). Each process has its own data dir.
//
// Backpressure: the source waits while staged-but-not-relayed rows exceed
// tuning.max_staging_lag; in kAll the relay waits while appended-but-not-processed records
// exceed tuning.max_log_lag (split into roles, Kafka's retention is the buffer); in kAll over the
// embedded log the source also fetches only while at most tuning.max_in_flight_batches batches
// are between its staging commit and the store, which bounds fetch -> queryable latency at full
// speed. Memory stays bounded by a few batches per stage.
// Stopping: RequestStop() (SIGINT/SIGTERM) stops the source at once; the relay and the
// processor drain what was staged, then Run() returns. A kProcess member has no end to drain
// to: it finishes its batch, commits and leaves the group. RequestAbort() (a second signal) stops
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
#include "log/log.h"
#include "orchestrate/task_environment.h"
#include "pipeline/stage_probes.h"
#include "store/store.h"

namespace dataforge {

enum class PipelineRole { kAll, kIngest, kProcess };

// "all", "ingest", "process".
const char* RoleName(PipelineRole role);

// The log options the pipeline file's `log:` section asks for.
LogOptions LogOptionsFor(const LogConfig& log);

// OK when ingest tasks can pull from `source`: an http source (pages, one pull at a time).
Status CheckIngestSource(const SourceConfig& source);

struct RunOptions {
  std::string data_dir = "./dataforge-data";
  PipelineRole role = PipelineRole::kAll;
  uint64_t max_records = 0;  // fetch this many records in this run, drain, return; 0 = no limit
  std::string source_url_override;  // --source-url
  bool data_dir_locked = false;     // the caller holds the data dir lock (a scheduler)
  // Stop after this long (0 = no limit) or this many source batches (0 = no limit).
  int64_t max_duration_us = 0;
  uint64_t max_batches = 0;
  // Keep the source position under this name instead of the source's own ("" = its own).
  std::string source_key_override;
};

// Counters of one run (deltas) and of the data dir (totals).
struct RunTotals {
  uint64_t fetched = 0, staged = 0, streamed = 0, stored = 0, dead_lettered = 0;
  uint64_t lost = 0;      // log records deleted before the processor read them
  uint64_t filtered = 0;  // records process.where dropped (docs/expressions.md)
};

// What the processor of this process did in this run.
struct ProcessTotals {
  uint64_t consumed = 0, stored = 0, dead_lettered = 0;
  uint64_t duplicates = 0;  // log records skipped as copies of applied ones
  uint64_t lost = 0;        // log records counted lost
  uint64_t filtered = 0;    // log records process.where dropped
  int partitions = 0;       // partitions owned at the end
};

struct RunSummary {
  PipelineRole role = PipelineRole::kAll;
  RunTotals run;    // this run
  RunTotals total;  // since the data dir was created
  double seconds = 0;
  int64_t latency_p50_us = 0, latency_p99_us = 0;
  ProcessTotals process;  // this run's processor (kAll, kProcess)
  std::string source;     // what was read
  std::string log;        // the log url
  bool drained = false;   // everything fetched is stored or dead-lettered
  // The run ended by itself (--max-records reached, a file:// source or an ingest's pages read
  // to the end), not by a signal.
  bool bounded = false;
  // Records on their way at the end (roles all and ingest): staged but not yet in the log, plus
  // log records past the processed position (from the partition's start offset on).
  uint64_t in_flight = 0;
};

// "stored + dead-lettered + lost == fetched: yes", or "no (…)" saying what is still in flight
// or how many records are unaccounted for (totals of a whole pipeline's data dir).
std::string BalanceLine(const RunTotals& total, uint64_t in_flight);
// Why a bounded run that ended like this failed (records lost in this run, or fetched records
// unaccounted for with nothing in flight), or "" when it did not.
std::string BoundedRunProblem(const RunSummary& summary);

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

  // While Run() runs: pulls from a second instance of the source (with the request's
  // overrides, its position kept under request.name) into the running pipeline, beside the
  // main source, and returns once what it pulled is delivered (stored or dead-lettered when
  // this process stores, in the log otherwise). Any thread; FailedPrecondition in a
  // process-only role or once the pipeline is draining.
  virtual Result<IngestOutcome> Ingest(const IngestRequest& request, std::stop_token stop) = 0;
  // Applies the log's retention and/or compacts the store, while Run() runs. Any thread.
  virtual Result<std::string> Compact(bool log, bool store) = 0;
  virtual const StageProbes& probes() const = 0;
  // The store this process writes (roles all and process; null for ingest), e.g. for
  // `run --cql-port`. Safe for concurrent use (store.h); valid until the Pipeline is destroyed.
  virtual Store* store() = 0;
};

}  // namespace dataforge
