// The two TaskEnvironments the orchestrator runs tasks in (orchestrate/task_environment.h):
//  - LiveTaskEnvironment: inside `dataforge run`, beside the streaming stages: ingest tasks
//    pull into the running pipeline, compact tasks act on its open log and store;
//  - StandaloneTaskEnvironment: `dataforge run --role scheduler` (and `dags backfill`/`trigger
//    --wait`): an ingest task runs a bounded pipeline in this process (the caller holds the
//    data dir lock), one at a time; compact opens the log and store itself.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "config/pipeline_config.h"
#include "orchestrate/task_environment.h"
#include "pipeline/pipeline.h"

namespace dataforge {

class LiveTaskEnvironment final : public TaskEnvironment {
 public:
  // `pipeline` is borrowed and must outlive this; its Run() must be running while tasks run.
  LiveTaskEnvironment(Pipeline* pipeline, const PipelineConfig& config,
                      const std::string& data_dir);
  Result<IngestOutcome> Ingest(const IngestRequest& request, std::stop_token stop) override;
  Result<std::string> Compact(bool log, bool store, std::stop_token stop) override;
  std::string staging_url() const override;
  Result<std::unique_ptr<Store>> OpenStoreForReading() override;

 private:
  Pipeline* pipeline_;
  PipelineConfig config_;
  std::string data_dir_;
};

class StandaloneTaskEnvironment final : public TaskEnvironment {
 public:
  // The caller holds the data dir lock for the lifetime of this object.
  StandaloneTaskEnvironment(const PipelineConfig& config, const std::string& data_dir,
                            Clock* clock);
  Result<IngestOutcome> Ingest(const IngestRequest& request, std::stop_token stop) override;
  Result<std::string> Compact(bool log, bool store, std::stop_token stop) override;
  std::string staging_url() const override;
  Result<std::unique_ptr<Store>> OpenStoreForReading() override;

 private:
  PipelineConfig config_;
  std::string data_dir_;
  Clock* clock_;
  std::mutex mu_;  // one bounded pipeline (or compaction) at a time: they share the data dir
};

}  // namespace dataforge
