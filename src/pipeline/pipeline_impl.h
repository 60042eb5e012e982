// The pipeline of pipeline.h, wired: its backends, stages and threads. Internal to
// src/pipeline; the definitions are split by what they run:
//   pipeline.cc       opening the backends and stages, Run, totals, stopping
//   source_stage.cc   the source stage (df-fetch, df-source), ingest tasks, acknowledgements
//   stream_stages.cc  the relay (df-relay) and processor (df-process) threads
// Thread-safety: Pipeline's (pipeline.h); the members say which thread owns or guards them.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <utility>

#include "log/log.h"
#include "pipeline/batch_handoff.h"
#include "pipeline/data_dir.h"
#include "pipeline/notifier.h"
#include "pipeline/pipeline.h"
#include "process/aggregate/aggregate_stage.h"
#include "process/mapper.h"
#include "process/outputs/outputs_stage.h"
#include "process/processor.h"
#include "process/wire_decoder.h"
#include "registry/schema_registry.h"
#include "relay/outbox_relay.h"
#include "source/mockapi/mock_api_server.h"
#include "source/source.h"
#include "staging/staging.h"
#include "store/store.h"

namespace dataforge {

class PipelineImpl final : public Pipeline {
 public:
  PipelineImpl(const PipelineConfig& config, const RunOptions& options, Clock* clock)
      : config_(config), options_(options), clock_(clock) {}
  ~PipelineImpl() override;

  bool ingests() const { return options_.role != PipelineRole::kProcess; }
  bool processes() const { return options_.role != PipelineRole::kIngest; }

  Status Open();
  Result<RunSummary> Run() override;
  void RequestStop() override;
  Result<IngestOutcome> Ingest(const IngestRequest& request, std::stop_token stop) override;
  Result<std::string> Compact(bool log, bool store) override;
  void RequestAbort() override;
  const StageProbes& probes() const override { return probes_; }
  Store* store() override { return store_.get(); }

 private:
  static constexpr int64_t kIdleWaitUs = 100'000;
  // Role all, once the relay is done: the processor polls without waiting first (every record
  // is in the log by then), then in steps this short while a log makes appended records
  // readable later (Kafka), instead of kIdleWaitUs after its last record.
  static constexpr int64_t kDrainWaitUs = 5'000;
  static constexpr int64_t kRetentionEveryUs = 10'000'000;
  static constexpr int64_t kDrainReportEveryUs = 10'000'000;
  static constexpr int64_t kAssignmentWaitUs = 30'000'000;

  static uint64_t Lag(uint64_t ahead, uint64_t behind) {
    return ahead > behind ? ahead - behind : 0;
  }

  // pipeline.cc
  // log.format confluent-*: the schema registry in the staging database (pipeline/log_format.h).
  Status OpenRegistry(const ResolvedUrls& urls);
  // The staging, the main source (its committed position) and the relay (recovered).
  Status OpenIngest(const ResolvedUrls& urls, size_t batch);
  // The mapper, the store and the processor (started: the table is made, the group joined).
  Status OpenProcess(const ResolvedUrls& urls, size_t batch);
  // The registry in the staging database, read-write (process.schema auto_register, output
  // topics' schemas). OpenRegistry opened it read-only in a process role: opened again, once.
  Status OpenWritableRegistry(const ResolvedUrls& urls);
  // process.aggregates: their tables, then the stage (before Start: the consumer's resume
  // calls reach it). A result row merges one state per partition of the topic.
  Status AddAggregates();
  // process.outputs (process/outputs/outputs_stage.h): derived tables made (EnsureTable with
  // their schema), output topics created, confluent topics' schemas resolved as log.format's,
  // then the stage joins the processor's batch.
  Status OpenOutputs(const ResolvedUrls& urls);
  // The staging's and the store's counters (the store's: this log's records only).
  Result<RunTotals> Totals();
  // Staged records not yet in the log, plus (where this process stores) log records past the
  // processed position of each partition, counted from its start offset: what is below the
  // start can never be read and is counted lost once the processor reaches it.
  Result<uint64_t> InFlight();
  // Where the group has processed each partition of `info` up to (the next offset), in the
  // order of info.partitions: the store's committed offset, or over a shared log the group's
  // commit when that is further (another member owns the partition and writes its own store).
  // The group's commits are asked for in one call (Log::GroupOffsets: one request to Kafka);
  // when that fails, the store's offsets alone. Any thread.
  Result<std::vector<int64_t>> ProcessedPositions(const TopicInfo& info, const std::string& log_id);

  // Keeps the first error (Run returns it) and stops every stage. Any thread.
  void Fail(Status s);

  // source_stage.cc
  // The staging's key of a source's committed position: its name, and its URL (redacted).
  static std::string SourceKey(const std::string& name, const std::string& url);
  // The built-in randomuser-compatible API, started on first use.
  Result<std::string> BuiltInApiUrl();
  // Commits a batch of any source of this process and moves probes_.source.last_seq. Then hands the
  // committed records to the relay in memory (their strings moved out of `batch`; its sizes
  // stay), when their seqs are known: every record got one, right after the last staged seq
  // (a staging that rejected some of them, PostgreSQL's, left gaps the relay reads instead).
  Result<uint64_t> CommitBatch(const std::string& key, SourceBatch& batch);
  // An ingest task's source (Ingest): pulls until its limits, committing beside the main
  // source, then waits until what it pulled is in the log (and, in role all, stored).
  Status PumpExtraSource(Source& source, const std::string& key, const IngestRequest& req,
                         std::stop_token stop, IngestOutcome* out);
  // True when every partition of `ends` (the log's end offsets at some moment) is processed up
  // to its end offset (ProcessedPositions). Any thread.
  Result<bool> ProcessedThrough(const TopicInfo& ends, const std::string& log_id);
  // The source stage on two threads: this one commits batches to staging in order; df-fetch
  // (FetchLoop) calls the source, so the next batch's fetch and parse overlap this batch's
  // commit. At most one fetched batch waits between them (BatchHandoff); a batch not committed
  // when the run stops is fetched again from the committed position.
  void SourceLoop();
  // df-fetch: calls the source until it ends, a limit is reached, or the run stops, and hands
  // each batch to SourceLoop. A source error fails the run.
  void FetchLoop(std::stop_token stop, BatchHandoff* handoff);
  // Tells the source which of its batches the log now holds (the relay's acknowledged cursor).
  void AcknowledgeToSource();
  // Over a shared log the whole pipeline starts pulling once its own consumer owns partitions
  // (joining a Kafka group takes seconds), so that fetch->queryable latency is not a queue
  // waiting for the group. Bounded: another member may own every partition.
  void WaitForAssignment(std::stop_token stop);

  // stream_stages.cc
  // df-relay: staged records to the log, behind the processor by at most max_log_lag; ends
  // once the source is done and everything staged is in the log (its cursor flushed).
  void RelayLoop();
  // df-process: the processor's batches until stopped, or (role all) until the relay is done
  // and the group has consumed every partition to its end.
  void ProcessorLoop();

  PipelineConfig config_;
  RunOptions options_;
  Clock* clock_;
  std::unique_ptr<DataDirLock> lock_;
  std::string log_url_;
  std::unique_ptr<MockApiServer> mock_;
  std::unique_ptr<Mapper> mapper_;
  std::unique_ptr<AggregateStage> aggregates_;  // process.aggregates; outlives processor_
  // log.format confluent-* and process.schema; before the relay and the processor that borrow
  // them.
  std::unique_ptr<registry::SchemaRegistry> registry_;
  bool registry_writable_ = false;  // opened read-write (OpenWritableRegistry)
  std::unique_ptr<WireDecoder> decoder_;
  std::unique_ptr<Staging> staging_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Source> source_;
  std::unique_ptr<OutboxRelay> relay_;
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<OutputsStage> outputs_;  // process.outputs; null without any
  // A shared log (Kafka) appends from one thread at a time, and the relay's thread appends to
  // log_: output topics get their own producer. The embedded log is safe for both (log_).
  std::unique_ptr<Log> outputs_log_;
  std::string source_key_;

  StageProbes probes_;
  std::stop_source stop_;   // stops the source (and a kProcess member); the rest drains
  std::stop_source abort_;  // stops every stage
  Notifier staged_, streamed_, processed_;
  std::atomic<bool> source_done_{false};
  std::atomic<bool> relay_done_{false};
  std::atomic<bool> source_ended_{false};  // the main source ended by itself (bounded run)
  bool processor_caught_up_ = false;       // processor thread, read after join
  std::mutex mock_mu_;                     // guards mock_'s creation
  std::mutex commit_mu_;                   // serializes staging commits of every source
  bool stopping_ = false;                  // guarded by commit_mu_: no new ingest
  std::atomic<int> ingests_active_{0};
  // (seq, position) of committed batches the relay has not acknowledged yet: SourceLoop appends,
  // FetchLoop (AcknowledgeToSource) consumes.
  std::mutex unacknowledged_mu_;
  std::deque<std::pair<uint64_t, std::string>> unacknowledged_;  // guarded by unacknowledged_mu_

  std::mutex error_mu_;
  Status first_error_;  // guarded by error_mu_
};

}  // namespace dataforge
