#include "pipeline/pipeline.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/redact.h"
#include "log/log.h"
#include "pipeline/batch_handoff.h"
#include "pipeline/data_dir.h"
#include "pipeline/log_format.h"
#include "pipeline/notifier.h"
#include "process/aggregate/aggregate_stage.h"
#include "process/mapper.h"
#include "process/outputs/outputs_stage.h"
#include "process/processor.h"
#include "process/row_schema.h"
#include "process/wire_decoder.h"
#include "registry/registry_error.h"
#include "registry/schema_registry.h"
#include "relay/outbox_relay.h"
#include "source/mockapi/mock_api_server.h"
#include "source/source_factory.h"
#include "staging/staging.h"
#include "store/store.h"

namespace dataforge {
namespace {

constexpr int64_t kIdleWaitUs = 100'000;
constexpr int64_t kRetentionEveryUs = 10'000'000;
constexpr int64_t kDrainReportEveryUs = 10'000'000;
constexpr int64_t kAssignmentWaitUs = 30'000'000;

uint64_t Lag(uint64_t ahead, uint64_t behind) {
  return ahead > behind ? ahead - behind : 0;
}

// Names this staging in the records it relays: host, absolute data dir and the data dir's id
// (a data dir made again at the same path starts its outbox sequence again, so it must not
// pass for the old one).
Result<std::string> Origin(const std::string& data_dir) {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  DF_ASSIGN_OR_RETURN(std::string id, DataDirId(data_dir));
  return fmt::format("{}:{}#{}", host,
                     std::filesystem::absolute(data_dir).lexically_normal().string(), id);
}

class PipelineImpl final : public Pipeline {
 public:
  PipelineImpl(const PipelineConfig& config, const RunOptions& options, Clock* clock)
      : config_(config), options_(options), clock_(clock) {}

  ~PipelineImpl() override {
    if (processor_) (void)processor_->Close();
    source_.reset();  // closes the keep-alive connection before the server waits for it
    if (mock_) mock_->Stop();
  }

  bool ingests() const { return options_.role != PipelineRole::kProcess; }
  bool processes() const { return options_.role != PipelineRole::kIngest; }

  Status Open() {
    DF_RETURN_IF_ERROR(PrepareDataDir(options_.data_dir, /*create=*/true));
    if (!options_.data_dir_locked) {
      DF_ASSIGN_OR_RETURN(lock_, DataDirLock::Acquire(options_.data_dir));
      // A scheduler's bounded pipelines (data_dir_locked) run on the backends it checked.
      // Other backends than recorded (a Kafka cluster moved, a topic made again elsewhere):
      // warned, and recorded once they opened.
      if (Status other = CheckRecordedBackends(options_.data_dir, config_); !other.ok()) {
        spdlog::warn("{}; recording this run's backends", other.message());
      }
    }
    ResolvedUrls urls = ResolveUrls(config_, options_.data_dir);
    log_url_ = urls.log;
    DF_ASSIGN_OR_RETURN(log_, OpenLog(urls.log, OpenMode::kReadWrite, LogOptionsFor(config_.log)));
    if (options_.role != PipelineRole::kAll && !log_->Shared()) {
      return Status::ConfigError(fmt::format(
          "--role {} needs a log that several processes share, and {} belongs to this one: set "
          "log.url (or --log) to kafka://host:port, or run without --role",
          RoleName(options_.role), urls.log));
    }
    if (options_.role == PipelineRole::kProcess && options_.max_records != 0) {
      return Status::ConfigError(
          "--max-records counts fetched records: use it with --role ingest or without --role");
    }
    DF_RETURN_IF_ERROR(log_->CreateTopic(config_.log.topic, config_.log.partitions));
    auto batch = static_cast<size_t>(config_.tuning.batch_records);
    DF_RETURN_IF_ERROR(OpenRegistry(urls));
    if (ingests()) DF_RETURN_IF_ERROR(OpenIngest(urls, batch));
    if (processes()) DF_RETURN_IF_ERROR(OpenProcess(urls, batch));
    if (!options_.data_dir_locked) DF_RETURN_IF_ERROR(RecordBackends(options_.data_dir, config_));
    return Status::OK();
  }

  // log.format confluent-*: the schema registry in the staging database (pipeline/log_format.h).
  Status OpenRegistry(const ResolvedUrls& urls) {
    if (config_.log.format == LogConfig::Format::kJson) return Status::OK();
    if (!ingests() && urls.staging.starts_with("sqlite:")) {
      return Status::ConfigError(fmt::format(
          "log.format {} with --role process reads the schemas from the registry in the "
          "staging database, and {} is this data dir's own: set staging.url (or --staging) to "
          "the ingest's PostgreSQL",
          LogFormatName(config_.log.format), urls.staging));
    }
    DF_ASSIGN_OR_RETURN(registry_,
                        registry::SchemaRegistry::Open(
                            urls.staging, ingests() ? OpenMode::kReadWrite : OpenMode::kReadOnly));
    registry_writable_ = ingests();
    if (processes()) {
      decoder_ = std::make_unique<WireDecoder>(registry_.get(), LogSchemaType(config_.log.format));
    }
    return Status::OK();
  }

  Status OpenIngest(const ResolvedUrls& urls, size_t batch) {
    DF_ASSIGN_OR_RETURN(std::string instance, DataDirId(options_.data_dir));
    DF_ASSIGN_OR_RETURN(staging_, OpenStaging(urls.staging, OpenMode::kReadWrite,
                                              config_.staging.synchronous_full, instance));
    std::string url =
        options_.source_url_override.empty() ? config_.source.url : options_.source_url_override;
    source_key_ = SourceKey(
        options_.source_key_override.empty() ? config_.source.name : options_.source_key_override,
        url);
    if (url.empty() && config_.source.type == "http") {
      DF_ASSIGN_OR_RETURN(url, BuiltInApiUrl());
    }
    DF_ASSIGN_OR_RETURN(source_, MakeSource(config_.source, url, clock_));
    DF_ASSIGN_OR_RETURN(std::string position, staging_->SourcePosition(source_key_));
    DF_RETURN_IF_ERROR(source_->Open(position));
    std::string origin;
    if (log_->Shared()) {
      DF_ASSIGN_OR_RETURN(origin, Origin(options_.data_dir));
    }
    relay_ = std::make_unique<OutboxRelay>(staging_.get(), log_.get(), config_.log.topic,
                                           config_.log.partitions, batch, &probes_.relay, clock_,
                                           200'000, origin);
    if (registry_) {
      DF_ASSIGN_OR_RETURN(LogSchema schema, ResolveLogSchema(config_.log, registry_.get()));
      spdlog::info("log.format {}: records go to {} with schema id {} (subject '{}' version {})",
                   LogFormatName(config_.log.format), config_.log.topic, schema.id,
                   config_.log.subject, schema.version);
      relay_->SetEncoding({schema.id, config_.log.subject, schema.schema->NewCodec()});
    }
    DF_RETURN_IF_ERROR(relay_->Recover());
    DF_ASSIGN_OR_RETURN(auto counters, staging_->Counters());
    last_staged_seq_ = counters.last_seq;
    return Status::OK();
  }

  Status OpenProcess(const ResolvedUrls& urls, size_t batch) {
    DF_ASSIGN_OR_RETURN(auto mapper, Mapper::Create(config_.process));
    mapper_ = std::make_unique<Mapper>(std::move(mapper));
    DF_ASSIGN_OR_RETURN(
        store_, OpenStore(urls.store, OpenMode::kReadWrite, StoreOptionsFor(config_.store)));
    processor_ =
        std::make_unique<Processor>(log_.get(), store_.get(), mapper_.get(), config_.process,
                                    config_.log.topic, batch, clock_, &probes_.processor);
    processor_->SetWireDecoder(decoder_.get());
    DF_RETURN_IF_ERROR(AddAggregates());
    // The table first (a conflict refuses the run before anything is registered), then
    // process.schema (auto_register: an output topic may publish in that subject), then
    // process.outputs.
    DF_RETURN_IF_ERROR(processor_->Start());
    if (!config_.process.schema.subject.empty()) {
      DF_RETURN_IF_ERROR(OpenWritableRegistry(urls));
      DF_ASSIGN_OR_RETURN(auto schema,
                          BindRowSchema(registry_.get(), config_.process, config_.path));
      spdlog::info("processor: validating rows with {}", schema->Name());
      processor_->ValidateWith(std::move(schema));
    }
    return OpenOutputs(urls);
  }

  // The registry in the staging database, read-write (process.schema auto_register, output
  // topics' schemas). OpenRegistry opened it read-only in a process role: opened again, once.
  Status OpenWritableRegistry(const ResolvedUrls& urls) {
    if (registry_ && registry_writable_) return Status::OK();
    DF_ASSIGN_OR_RETURN(registry_,
                        registry::SchemaRegistry::Open(urls.staging, OpenMode::kReadWrite));
    registry_writable_ = true;
    if (decoder_) {
      decoder_ = std::make_unique<WireDecoder>(registry_.get(), LogSchemaType(config_.log.format));
      processor_->SetWireDecoder(decoder_.get());
    }
    return Status::OK();
  }

  // process.aggregates: their tables, then the stage (before Start: the consumer's resume
  // calls reach it). A result row merges one state per partition of the topic.
  Status AddAggregates() {
    if (config_.process.aggregates.empty()) return Status::OK();
    int32_t partitions = config_.log.partitions;
    if (auto info = log_->DescribeTopic(config_.log.topic); info.ok()) {
      partitions = std::max(partitions, static_cast<int32_t>(info->partitions.size()));
    }
    DF_ASSIGN_OR_RETURN(aggregates_,
                        AggregateStage::Create(config_.process, store_.get(), clock_,
                                               config_.log.topic, partitions, &probes_.aggregates));
    DF_RETURN_IF_ERROR(aggregates_->EnsureTables());
    processor_->AddStage(aggregates_.get());
    return Status::OK();
  }

  // process.outputs (process/outputs/outputs_stage.h): derived tables made (EnsureTable with
  // their schema), output topics created, confluent topics' schemas resolved as log.format's,
  // then the stage joins the processor's batch.
  Status OpenOutputs(const ResolvedUrls& urls) {
    if (config_.process.outputs.empty()) return Status::OK();
    DF_RETURN_IF_ERROR(CheckOutputs(config_));
    Log* log = log_.get();
    bool topics = std::any_of(config_.process.outputs.begin(), config_.process.outputs.end(),
                              [](const OutputSpec& o) { return !o.topic.empty(); });
    if (topics && log_->Shared()) {
      DF_ASSIGN_OR_RETURN(outputs_log_,
                          OpenLog(urls.log, OpenMode::kReadWrite, LogOptionsFor(config_.log)));
      log = outputs_log_.get();
    }
    DF_ASSIGN_OR_RETURN(
        outputs_, OutputsStage::Create(config_.process, log, config_.log.partitions, config_.path,
                                       config_.log.topic, clock_, &probes_.outputs));
    for (const TableSchema& schema : outputs_->TableSchemas()) {
      DF_RETURN_IF_ERROR(store_->EnsureTable(schema));
    }
    DF_RETURN_IF_ERROR(outputs_->CreateTopics());
    for (const OutputSpec& o : config_.process.outputs) {
      if (o.topic.empty() || o.format == LogConfig::Format::kJson) continue;
      DF_RETURN_IF_ERROR(OpenWritableRegistry(urls));
      if (o.format == LogConfig::Format::kConfluentAvro &&
          registry::RegistryErrorOf(registry_->Version(o.subject, std::nullopt, false).status())
                  .error_code == registry::kSubjectNotFound) {
        return Status::ConfigError(fmt::format(
            "{}:{}: output topic '{}' is confluent-avro with subject '{}', which has no schema "
            "in the registry: let process.schema register the mapping's own ({{subject: {}, "
            "type: avro, auto_register: true}}), or register one first (POST "
            "/registry/subjects/{}/versions on `dataforge serve`)",
            config_.path, o.line, o.topic, o.subject, o.subject, o.subject));
      }
      LogConfig as_log;
      as_log.format = o.format;
      as_log.subject = o.subject;
      DF_ASSIGN_OR_RETURN(LogSchema schema, ResolveLogSchema(as_log, registry_.get()));
      spdlog::info("output topic {}: {} with schema id {} (subject '{}' version {})", o.topic,
                   LogFormatName(o.format), schema.id, o.subject, schema.version);
      outputs_->SetEncoding(o.topic, schema.id, schema.schema->NewCodec());
    }
    processor_->AddStage(outputs_.get());
    return Status::OK();
  }

  Result<RunSummary> Run() override {
    DF_ASSIGN_OR_RETURN(RunTotals before, Totals());
    int64_t start = clock_->MonotonicMicros();
    if (!ingests()) {
      source_done_ = true;
      relay_done_ = true;
    }
    {
      std::optional<std::jthread> source, relay, processor;
      if (ingests()) {
        source.emplace([this] {
          pthread_setname_np(pthread_self(), "df-source");
          SourceLoop();
        });
        relay.emplace([this] {
          pthread_setname_np(pthread_self(), "df-relay");
          RelayLoop();
        });
      }
      if (processes()) {
        processor.emplace([this] {
          pthread_setname_np(pthread_self(), "df-process");
          ProcessorLoop();
        });
      }
    }
    {
      // Leave the consumer group (committing what was processed); after a failure the error
      // already said what went wrong, and the store's offsets are what a restart uses.
      Status closed = processor_ ? processor_->Close() : Status::OK();
      std::lock_guard lock(error_mu_);
      if (!first_error_.ok()) return first_error_;
      if (!closed.ok()) spdlog::warn("leaving the consumer group: {}", closed.message());
    }
    RunSummary summary;
    summary.role = options_.role;
    summary.log = log_url_;
    summary.seconds = static_cast<double>(clock_->MonotonicMicros() - start) / 1e6;
    DF_ASSIGN_OR_RETURN(summary.total, Totals());
    summary.run.fetched = summary.total.fetched - before.fetched;
    summary.run.staged = summary.total.staged - before.staged;
    summary.run.streamed = summary.total.streamed - before.streamed;
    summary.run.stored = summary.total.stored - before.stored;
    summary.run.dead_lettered = summary.total.dead_lettered - before.dead_lettered;
    summary.run.lost = summary.total.lost - before.lost;
    summary.run.filtered = summary.total.filtered - before.filtered;
    summary.process.filtered = probes_.processor.filtered;
    summary.process.lost = probes_.processor.lost;
    summary.bounded = source_ended_.load();
    summary.process.consumed = probes_.processor.consumed;
    summary.process.stored = probes_.processor.stored;
    summary.process.dead_lettered = probes_.processor.dead_lettered;
    summary.process.partitions = probes_.processor.partitions;
    summary.process.duplicates = probes_.processor.duplicates;
    summary.latency_p50_us = probes_.processor.fetch_to_queryable_us.Percentile(50);
    summary.latency_p99_us = probes_.processor.fetch_to_queryable_us.Percentile(99);
    summary.source = source_ ? source_->Describe() : log_url_;
    bool drained = true;
    if (staging_) {
      DF_ASSIGN_OR_RETURN(auto counters, staging_->Counters());
      drained = counters.relay_cursor >= counters.last_seq;
    }
    if (options_.role == PipelineRole::kAll) drained = drained && processor_caught_up_;
    if (options_.role == PipelineRole::kProcess) drained = false;
    summary.drained = drained;
    if (options_.role != PipelineRole::kProcess) {
      DF_ASSIGN_OR_RETURN(summary.in_flight, InFlight());
    }
    return summary;
  }

  void RequestStop() override {
    {
      std::lock_guard lock(commit_mu_);
      stopping_ = true;
    }
    stop_.request_stop();
  }

  Result<IngestOutcome> Ingest(const IngestRequest& request, std::stop_token stop) override {
    if (!ingests()) {
      return Status::FailedPrecondition(
          "this process runs --role process: it has no staging to ingest into; run the "
          "scheduler with an ingesting role");
    }
    SourceConfig sc = config_.source;
    DF_RETURN_IF_ERROR(CheckIngestSource(sc));
    if (!request.seed.empty()) sc.seed = request.seed;
    if (request.results_per_page > 0) sc.results_per_page = request.results_per_page;
    std::string url = !request.url.empty()                    ? request.url
                      : !options_.source_url_override.empty() ? options_.source_url_override
                                                              : config_.source.url;
    std::string key = SourceKey(request.name, url);
    if (url.empty() && sc.type == "http") {
      DF_ASSIGN_OR_RETURN(url, BuiltInApiUrl());
    }
    DF_ASSIGN_OR_RETURN(auto source, MakeSource(sc, url, clock_));
    DF_ASSIGN_OR_RETURN(std::string position, staging_->SourcePosition(key));
    DF_RETURN_IF_ERROR(source->Open(position));
    {
      std::lock_guard lock(commit_mu_);
      if (stopping_) return Status::Cancelled("the pipeline is stopping");
      ingests_active_ += 1;
    }
    IngestOutcome out;
    uint64_t lost_before = probes_.processor.lost.load();
    Status s = PumpExtraSource(*source, key, request, stop, &out);
    {
      std::lock_guard lock(commit_mu_);
      ingests_active_ -= 1;
    }
    staged_.Notify();
    DF_RETURN_IF_ERROR(s);
    if (uint64_t lost = probes_.processor.lost.load() - lost_before; lost > 0) {
      return Status::FailedPrecondition(fmt::format(
          "{} log records were lost while this ingest ran: the log deleted them before they "
          "were processed (see the errors logged for each range)",
          lost));
    }
    out.summary = fmt::format(
        "ingested from {}: {} fetched, {} staged, {} dead-lettered; {}", source->Describe(),
        out.fetched, out.staged, out.dead_lettered,
        out.delivered ? (processes() ? "all stored" : "all in the log") : "not yet delivered");
    return out;
  }

  Result<std::string> Compact(bool log, bool store) override {
    std::string out;
    if (log) {
      DF_RETURN_IF_ERROR(log_->ApplyRetention());
      out = "log retention applied";
    }
    if (store && store_) {
      DF_ASSIGN_OR_RETURN(std::string s, store_->Compact());
      out += (out.empty() ? "" : "; ") + s;
    } else if (store) {
      out += (out.empty() ? "" : "; ") + std::string("no store in this process (--role ingest)");
    }
    return out;
  }
  void RequestAbort() override {
    stop_.request_stop();
    abort_.request_stop();
    if (log_) log_->Interrupt();
    if (staging_) staging_->Interrupt();
  }
  const StageProbes& probes() const override { return probes_; }
  Store* store() override { return store_.get(); }

 private:
  Result<RunTotals> Totals() {
    RunTotals t;
    if (staging_) {
      DF_ASSIGN_OR_RETURN(auto s, staging_->Counters());
      t.fetched = s.fetched;
      t.staged = s.staged;
      t.streamed = s.streamed;
      t.dead_lettered = s.dead_lettered;
    }
    if (store_) {
      // This log's records only: a shared store also holds other logs' (store.h LogCounters).
      DF_ASSIGN_OR_RETURN(auto p, store_->LogCounters(config_.process.group, config_.log.topic,
                                                      processor_->log_id()));
      t.stored = p.stored;
      t.dead_lettered += p.dead_lettered;
      t.lost = p.lost;
      t.filtered = p.filtered;
    }
    return t;
  }

  // Staged records not yet in the log, plus (where this process stores) log records past the
  // processed position of each partition, counted from its start offset: what is below the
  // start can never be read and is counted lost once the processor reaches it.
  Result<uint64_t> InFlight() {
    uint64_t n = 0;
    if (staging_) {
      DF_ASSIGN_OR_RETURN(auto c, staging_->Counters());
      n += Lag(c.last_seq, c.relay_cursor);
    }
    if (!store_) return n;
    DF_ASSIGN_OR_RETURN(TopicInfo info, log_->DescribeTopic(config_.log.topic));
    for (const auto& p : info.partitions) {
      DF_ASSIGN_OR_RETURN(
          auto done, store_->CommittedOffset(config_.process.group, config_.log.topic, p.partition,
                                             processor_->log_id()));
      int64_t at = done.value_or(0);
      if (log_->Shared()) {  // the group's other members commit there
        auto group = log_->GroupOffset(config_.process.group, config_.log.topic, p.partition);
        if (group.ok() && *group) at = std::max(at, **group);
      }
      // Past the end (the log lost its tail, or a topic made again that the log could not tell
      // by its identity), the processor reads on from the start (log.h kOffsetsWentBack).
      if (at > p.end_offset) at = p.start_offset;
      at = std::max(at, p.start_offset);
      n += static_cast<uint64_t>(p.end_offset - at);
    }
    return n;
  }

  // Log records this process's processor has read or counted lost.
  uint64_t ProcessedOrLost() const {
    return probes_.processor.consumed.load() + probes_.processor.lost.load();
  }

  // Records this run staged that the store has not taken yet: staged but not relayed (nor
  // dead-lettered by the relay), then appended but not processed. Rows of an earlier run relayed
  // or processed now only make it smaller (each difference stops at 0).
  uint64_t InFlightThisRun() const {
    return Lag(probes_.source.staged.load(),
               probes_.relay.relayed.load() + probes_.relay.dead_lettered.load()) +
           Lag(probes_.relay.streamed.load(), ProcessedOrLost());
  }

  void Fail(Status s) {
    {
      std::lock_guard lock(error_mu_);
      if (first_error_.ok()) first_error_ = std::move(s);
    }
    RequestAbort();
  }

  static std::string SourceKey(const std::string& name, const std::string& url) {
    return url.empty() ? name : name + " " + Redact(url);
  }

  // The built-in randomuser-compatible API, started on first use.
  Result<std::string> BuiltInApiUrl() {
    std::lock_guard lock(mock_mu_);
    if (!mock_) {
      auto mock = std::make_unique<MockApiServer>();
      DF_RETURN_IF_ERROR(mock->Start("127.0.0.1", 0).WithContext("starting the built-in API"));
      mock_ = std::move(mock);
    }
    return fmt::format("http://127.0.0.1:{}/api/", mock_->port());
  }

  // Commits a batch of any source of this process and moves last_staged_seq_. Then hands the
  // committed records to the relay in memory (their strings moved out of `batch`; its sizes
  // stay), when their seqs are known: every record got one, right after the last staged seq
  // (a staging that rejected some of them, PostgreSQL's, left gaps the relay reads instead).
  Result<uint64_t> CommitBatch(const std::string& key, SourceBatch& batch) {
    std::lock_guard lock(commit_mu_);
    uint64_t before = last_staged_seq_;
    DF_ASSIGN_OR_RETURN(uint64_t seq, staging_->Commit(key, batch));
    if (batch.records.empty()) return seq;
    last_staged_seq_ = std::max<uint64_t>(last_staged_seq_, seq);
    if (relay_ && seq > before && seq - before == batch.records.size()) {
      std::vector<OutboxRow> rows;
      rows.reserve(batch.records.size());
      uint64_t next = before + 1;
      for (auto& r : batch.records) {
        rows.push_back({next++, std::move(r.key), std::move(r.raw), r.fetched_at_us});
      }
      relay_->Offer(std::move(rows));
    }
    return seq;
  }

  Status PumpExtraSource(Source& source, const std::string& key, const IngestRequest& req,
                         std::stop_token stop, IngestOutcome* out) {
    auto abort = abort_.get_token();
    int64_t deadline = req.duration_us > 0 ? clock_->MonotonicMicros() + req.duration_us : 0;
    uint64_t batches = 0;
    uint64_t my_last_seq = 0;
    std::deque<std::pair<uint64_t, std::string>> unacked;
    auto acknowledge = [&] {
      std::string latest;
      while (!unacked.empty() && unacked.front().first <= probes_.relay.cursor.load()) {
        latest = std::move(unacked.front().second);
        unacked.pop_front();
      }
      if (!latest.empty()) source.Acknowledged(latest);
    };
    while (!stop.stop_requested() && !abort.stop_requested()) {
      if (req.max_records != 0 && out->fetched >= req.max_records) break;
      if (req.max_pages != 0 && batches >= req.max_pages) break;
      if (deadline != 0 && clock_->MonotonicMicros() >= deadline) break;
      acknowledge();
      size_t want = static_cast<size_t>(config_.tuning.batch_records);
      if (req.max_records != 0) {
        want = static_cast<size_t>(std::min<uint64_t>(want, req.max_records - out->fetched));
      }
      auto batch = source.Next(want, stop);
      if (!batch.ok()) {
        if (batch.status().code() == StatusCode::kNotFound) break;  // input exhausted
        if (batch.status().code() == StatusCode::kCancelled) break;
        return batch.status().WithContext("source");
      }
      if (batch->fetched() == 0 && batch->position.empty()) continue;
      DF_ASSIGN_OR_RETURN(uint64_t seq, CommitBatch(key, *batch));
      if (!batch->records.empty()) my_last_seq = seq;
      if (!batch->position.empty()) unacked.emplace_back(my_last_seq, batch->position);
      out->fetched += batch->fetched();
      out->staged += batch->records.size();
      out->dead_lettered += batch->dead_letters.size();
      if (batch->fetched() > 0) batches += 1;
      probes_.source.fetched += batch->fetched();
      probes_.source.staged += batch->records.size();
      probes_.source.dead_lettered += batch->dead_letters.size();
      staged_.Notify();
    }
    if (stop.stop_requested()) return Status::Cancelled("interrupted while pulling");
    // Delivered: in the log (relay cursor), then through this process's processor.
    while (probes_.relay.cursor.load() < my_last_seq) {
      if (stop.stop_requested() || abort.stop_requested()) {
        return Status::Cancelled("interrupted while the relay streamed what was pulled");
      }
      streamed_.WaitPast(streamed_.generation(), kIdleWaitUs, stop);
    }
    acknowledge();
    if (processes()) {
      uint64_t target = probes_.relay.streamed.load();
      while (ProcessedOrLost() < target) {
        if (stop.stop_requested() || abort.stop_requested()) {
          return Status::Cancelled("interrupted while the processor stored what was pulled");
        }
        processed_.WaitPast(processed_.generation(), kIdleWaitUs, stop);
      }
    }
    out->delivered = true;
    return Status::OK();
  }

  // The source stage on two threads: this one commits batches to staging in order; df-fetch
  // (FetchLoop) calls the source, so the next batch's fetch and parse overlap this batch's
  // commit. At most one fetched batch waits between them (BatchHandoff); a batch not committed
  // when the run stops is fetched again from the committed position.
  void SourceLoop() {
    auto stop = stop_.get_token();
    if (options_.role == PipelineRole::kAll && log_->Shared()) WaitForAssignment(stop);
    BatchHandoff handoff;
    std::jthread fetch([&] {
      pthread_setname_np(pthread_self(), "df-fetch");
      FetchLoop(stop, &handoff);
      handoff.Finish();
    });
    uint64_t my_last_seq = last_staged_seq_.load();
    while (auto batch = handoff.Take(stop)) {
      int64_t t1 = clock_->MonotonicMicros();
      auto seq = CommitBatch(source_key_, *batch);
      int64_t commit_us = clock_->MonotonicMicros() - t1;
      probes_.source.commit_us += static_cast<uint64_t>(commit_us);
      probes_.source.commit_duration_us.Record(commit_us);
      if (!seq.ok()) {
        Fail(seq.status());
        break;
      }
      if (!batch->records.empty()) my_last_seq = *seq;
      if (!batch->position.empty()) {
        std::lock_guard lock(unacknowledged_mu_);
        unacknowledged_.emplace_back(my_last_seq, batch->position);
      }
      probes_.source.fetched += batch->fetched();
      probes_.source.staged += batch->records.size();
      probes_.source.dead_lettered += batch->dead_letters.size();
      probes_.source.batches += 1;
      staged_.Notify();
    }
    handoff.Close();
    fetch.join();
    probes_.source.done = true;
    source_done_ = true;
    staged_.Notify();
  }

  // df-fetch: calls the source until it ends, a limit is reached, or the run stops, and hands
  // each batch to SourceLoop. A source error fails the run.
  void FetchLoop(std::stop_token stop, BatchHandoff* handoff) {
    uint64_t fetched = 0;
    const uint64_t max = options_.max_records;
    int64_t deadline =
        options_.max_duration_us > 0 ? clock_->MonotonicMicros() + options_.max_duration_us : 0;
    uint64_t batches = 0;
    // Over a shared log the processor may own none of the partitions the source feeds.
    const uint64_t in_flight_bound =
        options_.role == PipelineRole::kAll && processes() && !log_->Shared()
            ? static_cast<uint64_t>(config_.tuning.max_in_flight_batches) *
                  static_cast<uint64_t>(config_.tuning.batch_records)
            : 0;
    while (!stop.stop_requested()) {
      if ((max != 0 && fetched >= max) ||
          (options_.max_batches != 0 && batches >= options_.max_batches) ||
          (deadline != 0 && clock_->MonotonicMicros() >= deadline)) {
        source_ended_ = true;
        return;
      }
      AcknowledgeToSource();
      // Backpressure: do not run further ahead of the relay than max_staging_lag.
      while (!stop.stop_requested() && Lag(last_staged_seq_.load(), probes_.relay.cursor.load()) >
                                           config_.tuning.max_staging_lag) {
        streamed_.WaitPast(streamed_.generation(), kIdleWaitUs, stop);
      }
      // Latency: fetch only while few batches are on their way to the store, so that at full
      // speed records wait in no queue longer than that (each stage still overlaps the next).
      while (in_flight_bound > 0 && !stop.stop_requested() && InFlightThisRun() > in_flight_bound) {
        processed_.WaitPast(processed_.generation(), kIdleWaitUs, stop);
      }
      size_t want = static_cast<size_t>(config_.tuning.batch_records);
      if (max != 0) want = static_cast<size_t>(std::min<uint64_t>(want, max - fetched));
      int64_t t0 = clock_->MonotonicMicros();
      auto batch = source_->Next(want, stop);
      probes_.source.fetch_us += static_cast<uint64_t>(clock_->MonotonicMicros() - t0);
      if (!batch.ok()) {
        if (batch.status().code() == StatusCode::kNotFound) {  // input exhausted
          source_ended_ = true;
          return;
        }
        if (batch.status().code() != StatusCode::kCancelled) {
          Fail(batch.status().WithContext("source"));
        }
        return;
      }
      if (batch->fetched() == 0 && batch->position.empty()) continue;
      if (batch->fetched() > 0) batches += 1;
      fetched += batch->fetched();
      if (!handoff->Put(std::move(*batch), stop)) return;
    }
  }

  // Tells the source which of its batches the log now holds (the relay's acknowledged cursor).
  void AcknowledgeToSource() {
    uint64_t cursor = probes_.relay.cursor.load();
    std::string latest;
    std::unique_lock lock(unacknowledged_mu_);
    while (!unacknowledged_.empty() && unacknowledged_.front().first <= cursor) {
      latest = std::move(unacknowledged_.front().second);
      unacknowledged_.pop_front();
    }
    lock.unlock();
    if (!latest.empty()) source_->Acknowledged(latest);
  }

  // Over a shared log the whole pipeline starts pulling once its own consumer owns partitions
  // (joining a Kafka group takes seconds), so that fetch->queryable latency is not a queue
  // waiting for the group. Bounded: another member may own every partition.
  void WaitForAssignment(std::stop_token stop) {
    int64_t deadline = clock_->MonotonicMicros() + kAssignmentWaitUs;
    bool said = false;
    while (!stop.stop_requested() && probes_.processor.partitions.load() == 0 &&
           clock_->MonotonicMicros() < deadline) {
      if (!said) {
        spdlog::info("waiting for consumer group '{}' to assign partitions before fetching",
                     config_.process.group);
        said = true;
      }
      processed_.WaitPast(processed_.generation(), 20'000, stop);
    }
  }

  void RelayLoop() {
    auto abort = abort_.get_token();
    int64_t next_retention = clock_->MonotonicMicros() + kRetentionEveryUs;
    while (!abort.stop_requested()) {
      uint64_t gen = staged_.generation();
      bool source_was_done = source_done_.load();
      while (processes() && !abort.stop_requested() &&
             Lag(probes_.relay.streamed.load(), ProcessedOrLost()) > config_.tuning.max_log_lag) {
        processed_.WaitPast(processed_.generation(), kIdleWaitUs, abort);
      }
      int64_t t0 = clock_->MonotonicMicros();
      auto moved = relay_->RunOnce();
      probes_.relay.busy_us += static_cast<uint64_t>(clock_->MonotonicMicros() - t0);
      if (!moved.ok()) {
        if (!abort.stop_requested()) Fail(moved.status());
        break;
      }
      if (*moved > 0) {
        streamed_.Notify();
        continue;
      }
      if (source_was_done && ingests_active_.load() == 0)
        break;  // FlushCursor() waits for the rest
      if (Status s = relay_->CommitProgress(); !s.ok()) {
        if (!abort.stop_requested()) Fail(s);
        break;
      }
      if (clock_->MonotonicMicros() > next_retention) {
        if (Status s = log_->ApplyRetention(); !s.ok())
          spdlog::warn("log retention: {}", s.ToString());
        next_retention = clock_->MonotonicMicros() + kRetentionEveryUs;
      }
      staged_.WaitPast(gen, kIdleWaitUs, abort);
    }
    if (!abort.stop_requested()) {
      if (Status s = relay_->FlushCursor(); !s.ok()) Fail(s);
    }
    relay_done_ = true;
    streamed_.Notify();
  }

  void ProcessorLoop() {
    auto abort = abort_.get_token();
    // A member of a shared log stops on the first signal; the whole pipeline drains.
    auto stop = options_.role == PipelineRole::kProcess ? stop_.get_token() : abort;
    int64_t next_report = 0;
    while (!stop.stop_requested()) {
      bool relay_was_done = relay_done_.load();
      int64_t t0 = clock_->MonotonicMicros();
      auto consumed = processor_->RunOnce(kIdleWaitUs, stop);
      probes_.processor.busy_us += static_cast<uint64_t>(clock_->MonotonicMicros() - t0);
      if (!consumed.ok()) {
        Fail(consumed.status());
        break;
      }
      if (*consumed > 0) {
        processed_.Notify();
        continue;
      }
      if (options_.role != PipelineRole::kAll || !relay_was_done) continue;
      auto caught_up = processor_->CaughtUp();
      if (!caught_up.ok()) {
        Fail(caught_up.status());
        break;
      }
      if (*caught_up) {
        processor_caught_up_ = true;
        break;
      }
      int64_t now = clock_->MonotonicMicros();
      if (next_report == 0) next_report = now + kDrainReportEveryUs;
      if (now >= next_report) {
        spdlog::info("draining: waiting for consumer group '{}' to reach the end of '{}'",
                     config_.process.group, config_.log.topic);
        next_report = now + kDrainReportEveryUs;
      }
    }
    processed_.Notify();
  }

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
  std::atomic<uint64_t> last_staged_seq_{0};  // highest seq staged by any source
  // (last outbox seq, source position) of committed batches the log has not acknowledged yet.
  // (seq, position) of committed batches the relay has not acknowledged yet: SourceLoop appends,
  // FetchLoop (AcknowledgeToSource) consumes.
  std::mutex unacknowledged_mu_;
  std::deque<std::pair<uint64_t, std::string>> unacknowledged_;  // guarded by unacknowledged_mu_

  std::mutex error_mu_;
  Status first_error_;  // guarded by error_mu_
};

}  // namespace

std::string BalanceLine(const RunTotals& t, uint64_t in_flight) {
  // `filtered` (process.where) joins the sum when there is any, so a pipeline without a filter
  // keeps the line it always had.
  const char* head = t.filtered > 0 ? "stored + dead-lettered + lost + filtered == fetched: "
                                    : "stored + dead-lettered + lost == fetched: ";
  uint64_t accounted = t.stored + t.dead_lettered + t.lost + t.filtered;
  if (accounted == t.fetched) return std::string(head) + "yes";
  std::string sums = t.filtered > 0 ? fmt::format("{} + {} + {} + {} != {}", t.stored,
                                                  t.dead_lettered, t.lost, t.filtered, t.fetched)
                                    : fmt::format("{} + {} + {} != {}", t.stored, t.dead_lettered,
                                                  t.lost, t.fetched);
  if (accounted > t.fetched) return fmt::format("{}no ({})", head, sums);
  uint64_t missing = t.fetched - accounted;
  if (in_flight >= missing)
    return fmt::format("{}no ({}; {} still in flight)", head, sums, missing);
  if (in_flight > 0) {
    return fmt::format("{}no ({}; {} still in flight, {} unaccounted for)", head, sums, in_flight,
                       missing - in_flight);
  }
  return fmt::format("{}no ({}; nothing is in flight: {} records are unaccounted for)", head, sums,
                     missing);
}

std::string BoundedRunProblem(const RunSummary& s) {
  if (s.role != PipelineRole::kAll || !s.bounded) return "";
  if (s.run.lost > 0) {
    return fmt::format(
        "{} records were lost: the log deleted them before they were processed (see the error "
        "for each range above)",
        s.run.lost);
  }
  const RunTotals& t = s.total;
  uint64_t accounted = t.stored + t.dead_lettered + t.lost + t.filtered;
  if (accounted < t.fetched && s.in_flight == 0) {
    return fmt::format(
        "{} fetched records are neither stored, dead-lettered nor counted lost, and nothing is "
        "in flight: the log lost them where the processor could not see it (e.g. a topic "
        "deleted and made again after the processor had read past its new end)",
        t.fetched - accounted);
  }
  return "";
}

Status CheckIngestSource(const SourceConfig& source) {
  if (source.type == "http") return Status::OK();
  return Status::FailedPrecondition(fmt::format(
      "an ingest task pulls pages from an http source; this pipeline's source is {}, which "
      "`dataforge run` streams continuously (use a sql, check or shell task instead)",
      source.type));
}

LogOptions LogOptionsFor(const LogConfig& log) {
  LogOptions options;
  options.fsync_per_batch = log.fsync_per_batch;
  options.segment_bytes = log.segment_bytes;
  options.retention_bytes = log.retention_bytes;
  options.retention_ms = log.retention_ms;
  options.retention_force = log.retention_force;
  options.replication_factor = log.replication_factor;
  options.properties = log.properties;
  return options;
}

const char* RoleName(PipelineRole role) {
  switch (role) {
    case PipelineRole::kAll:
      return "all";
    case PipelineRole::kIngest:
      return "ingest";
    case PipelineRole::kProcess:
      return "process";
  }
  return "?";
}

Result<std::unique_ptr<Pipeline>> Pipeline::Open(const PipelineConfig& config,
                                                 const RunOptions& options, Clock* clock) {
  auto p = std::make_unique<PipelineImpl>(config, options, clock);
  DF_RETURN_IF_ERROR(p->Open());
  return std::unique_ptr<Pipeline>(std::move(p));
}

}  // namespace dataforge
