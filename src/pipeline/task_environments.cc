#include "pipeline/task_environments.h"

#include <fmt/format.h>

#include "log/log.h"
#include "pipeline/data_dir.h"
#include "store/store.h"

namespace dataforge {
namespace {

Result<std::unique_ptr<Store>> OpenStoreReading(const PipelineConfig& config,
                                                const std::string& data_dir) {
  return OpenStore(ResolveUrls(config, data_dir).store, OpenMode::kReadOnly,
                   StoreOptionsFor(config.store));
}

}  // namespace

LiveTaskEnvironment::LiveTaskEnvironment(Pipeline* pipeline, const PipelineConfig& config,
                                         const std::string& data_dir)
    : pipeline_(pipeline), config_(config), data_dir_(data_dir) {}

Result<IngestOutcome> LiveTaskEnvironment::Ingest(const IngestRequest& request,
                                                  std::stop_token stop) {
  return pipeline_->Ingest(request, stop);
}

Result<std::string> LiveTaskEnvironment::Compact(bool log, bool store, std::stop_token) {
  return pipeline_->Compact(log, store);
}

std::string LiveTaskEnvironment::staging_url() const {
  return ResolveUrls(config_, data_dir_).staging;
}

Result<std::unique_ptr<Store>> LiveTaskEnvironment::OpenStoreForReading() {
  return OpenStoreReading(config_, data_dir_);
}

StandaloneTaskEnvironment::StandaloneTaskEnvironment(const PipelineConfig& config,
                                                     const std::string& data_dir, Clock* clock)
    : config_(config), data_dir_(data_dir), clock_(clock) {}

Result<IngestOutcome> StandaloneTaskEnvironment::Ingest(const IngestRequest& request,
                                                        std::stop_token stop) {
  std::lock_guard lock(mu_);
  DF_RETURN_IF_ERROR(CheckIngestSource(config_.source));
  PipelineConfig config = config_;
  if (!request.seed.empty()) config.source.seed = request.seed;
  if (request.results_per_page > 0) config.source.results_per_page = request.results_per_page;
  RunOptions options;
  options.data_dir = data_dir_;
  options.data_dir_locked = true;
  options.max_records = request.max_records;
  options.max_batches = request.max_pages;
  options.max_duration_us = request.duration_us;
  options.source_url_override = request.url;
  options.source_key_override = request.name;
  bool shared_log = ResolveUrls(config, data_dir_).log.rfind("kafka://", 0) == 0;
  options.role = shared_log ? PipelineRole::kIngest : PipelineRole::kAll;
  DF_ASSIGN_OR_RETURN(auto pipeline, Pipeline::Open(config, options, clock_));
  Pipeline* p = pipeline.get();
  std::stop_callback on_stop(stop, [p] { p->RequestAbort(); });
  DF_ASSIGN_OR_RETURN(RunSummary s, pipeline->Run());
  if (stop.stop_requested()) return Status::Cancelled("interrupted while ingesting");
  if (std::string problem = BoundedRunProblem(s); !problem.empty()) {
    return Status::FailedPrecondition("ingest: " + problem);
  }
  IngestOutcome out;
  out.fetched = s.run.fetched;
  out.staged = s.run.staged;
  out.dead_lettered = s.run.dead_lettered;
  out.delivered = s.drained;
  out.summary = fmt::format(
      "ingested from {}: {} fetched, {} staged, {} streamed, {} stored, {} dead-lettered; {}",
      s.source, s.run.fetched, s.run.staged, s.run.streamed, s.run.stored, s.run.dead_lettered,
      s.drained ? (shared_log ? "all in the log" : "all stored") : "not drained");
  return out;
}

Result<std::string> StandaloneTaskEnvironment::Compact(bool log, bool store, std::stop_token) {
  std::lock_guard lock(mu_);
  ResolvedUrls urls = ResolveUrls(config_, data_dir_);
  std::string out;
  if (log) {
    DF_ASSIGN_OR_RETURN(auto l,
                        OpenLog(urls.log, OpenMode::kReadWrite, LogOptionsFor(config_.log)));
    DF_RETURN_IF_ERROR(l->ApplyRetention());
    out = "log retention applied";
  }
  if (store) {
    DF_ASSIGN_OR_RETURN(
        auto s, OpenStore(urls.store, OpenMode::kReadWrite, StoreOptionsFor(config_.store)));
    DF_ASSIGN_OR_RETURN(std::string summary, s->Compact());
    out += (out.empty() ? "" : "; ") + summary;
  }
  return out;
}

std::string StandaloneTaskEnvironment::staging_url() const {
  return ResolveUrls(config_, data_dir_).staging;
}

Result<std::unique_ptr<Store>> StandaloneTaskEnvironment::OpenStoreForReading() {
  return OpenStoreReading(config_, data_dir_);
}

}  // namespace dataforge
