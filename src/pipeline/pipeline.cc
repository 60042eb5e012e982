#include "pipeline/pipeline.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "pipeline/log_format.h"
#include "pipeline/pipeline_impl.h"
#include "process/row_schema.h"
#include "registry/registry_error.h"
#include "source/source_factory.h"

namespace dataforge {
namespace {

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

}  // namespace

PipelineImpl::~PipelineImpl() {
  if (processor_) (void)processor_->Close();
  source_.reset();  // closes the keep-alive connection before the server waits for it
  if (mock_) mock_->Stop();
}

Status PipelineImpl::Open() {
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

Status PipelineImpl::OpenRegistry(const ResolvedUrls& urls) {
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

Status PipelineImpl::OpenIngest(const ResolvedUrls& urls, size_t batch) {
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
  probes_.source.last_seq = counters.last_seq;
  return Status::OK();
}

Status PipelineImpl::OpenProcess(const ResolvedUrls& urls, size_t batch) {
  DF_ASSIGN_OR_RETURN(auto mapper, Mapper::Create(config_.process));
  mapper_ = std::make_unique<Mapper>(std::move(mapper));
  DF_ASSIGN_OR_RETURN(store_,
                      OpenStore(urls.store, OpenMode::kReadWrite, StoreOptionsFor(config_.store)));
  processor_ = std::make_unique<Processor>(log_.get(), store_.get(), mapper_.get(), config_.process,
                                           config_.log.topic, batch, clock_, &probes_.processor);
  processor_->SetWireDecoder(decoder_.get());
  DF_RETURN_IF_ERROR(AddAggregates());
  // The table first (a conflict refuses the run before anything is registered), then
  // process.schema (auto_register: an output topic may publish in that subject), then
  // process.outputs.
  DF_RETURN_IF_ERROR(processor_->Start());
  if (!config_.process.schema.subject.empty()) {
    DF_RETURN_IF_ERROR(OpenWritableRegistry(urls));
    DF_ASSIGN_OR_RETURN(auto schema, BindRowSchema(registry_.get(), config_.process, config_.path));
    spdlog::info("processor: validating rows with {}", schema->Name());
    processor_->ValidateWith(std::move(schema));
  }
  return OpenOutputs(urls);
}

Status PipelineImpl::OpenWritableRegistry(const ResolvedUrls& urls) {
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

Status PipelineImpl::AddAggregates() {
  if (config_.process.aggregates.empty()) return Status::OK();
  int32_t partitions = config_.log.partitions;
  if (auto info = log_->DescribeTopic(config_.log.topic); info.ok()) {
    partitions = std::max(partitions, static_cast<int32_t>(info->partitions.size()));
  }
  DF_ASSIGN_OR_RETURN(
      aggregates_, AggregateStage::Create(config_.process, store_.get(), clock_, config_.log.topic,
                                          partitions, &probes_.aggregates));
  DF_RETURN_IF_ERROR(aggregates_->EnsureTables());
  processor_->AddStage(aggregates_.get());
  return Status::OK();
}

Status PipelineImpl::OpenOutputs(const ResolvedUrls& urls) {
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

Result<RunSummary> PipelineImpl::Run() {
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

void PipelineImpl::RequestStop() {
  {
    std::lock_guard lock(commit_mu_);
    stopping_ = true;
  }
  stop_.request_stop();
}

Result<std::string> PipelineImpl::Compact(bool log, bool store) {
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

void PipelineImpl::RequestAbort() {
  stop_.request_stop();
  abort_.request_stop();
  if (log_) log_->Interrupt();
  if (staging_) staging_->Interrupt();
}

Result<RunTotals> PipelineImpl::Totals() {
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

Result<uint64_t> PipelineImpl::InFlight() {
  uint64_t n = 0;
  if (staging_) {
    DF_ASSIGN_OR_RETURN(auto c, staging_->Counters());
    n += Lag(c.last_seq, c.relay_cursor);
  }
  if (!store_) return n;
  DF_ASSIGN_OR_RETURN(TopicInfo info, log_->DescribeTopic(config_.log.topic));
  DF_ASSIGN_OR_RETURN(std::vector<int64_t> processed,
                      ProcessedPositions(info, processor_->log_id()));
  for (size_t i = 0; i < info.partitions.size(); ++i) {
    const PartitionInfo& p = info.partitions[i];
    int64_t at = processed[i];
    // Past the end (the log lost its tail, or a topic made again that the log could not tell
    // by its identity), the processor reads on from the start (log.h kOffsetsWentBack).
    if (at > p.end_offset) at = p.start_offset;
    at = std::max(at, p.start_offset);
    n += static_cast<uint64_t>(p.end_offset - at);
  }
  return n;
}

Result<std::vector<int64_t>> PipelineImpl::ProcessedPositions(const TopicInfo& info,
                                                              const std::string& log_id) {
  std::vector<int64_t> at;
  at.reserve(info.partitions.size());
  int32_t partitions = 0;
  for (const PartitionInfo& p : info.partitions) {
    DF_ASSIGN_OR_RETURN(auto done, store_->CommittedOffset(config_.process.group, config_.log.topic,
                                                           p.partition, log_id));
    at.push_back(done.value_or(0));
    partitions = std::max(partitions, p.partition + 1);
  }
  if (log_->Shared() && partitions > 0) {  // the group's other members commit there
    auto group = log_->GroupOffsets(config_.process.group, config_.log.topic, partitions);
    if (group.ok()) {
      for (size_t i = 0; i < info.partitions.size(); ++i) {
        const int32_t p = info.partitions[i].partition;
        if (p >= 0 && static_cast<size_t>(p) < group->size() && (*group)[p]) {
          at[i] = std::max(at[i], *(*group)[p]);
        }
      }
    }
  }
  return at;
}

void PipelineImpl::Fail(Status s) {
  {
    std::lock_guard lock(error_mu_);
    if (first_error_.ok()) first_error_ = std::move(s);
  }
  RequestAbort();
}

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
