// Runs the orchestrator for one data dir: opens the run store in the staging database, names
// this scheduler in it, and runs a Scheduler on a thread until stopped. Used by `run` (beside
// the pipeline or alone) and by `dags backfill` / `dags trigger --wait`.
#pragma once

#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "common/clock.h"
#include "config/pipeline_config.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/state/run_store.h"

namespace dataforge {

class SchedulerHost {
 public:
  // `env` is borrowed and must outlive the host.
  static Result<std::unique_ptr<SchedulerHost>> Open(const PipelineConfig& config,
                                                     const std::string& data_dir,
                                                     TaskEnvironment* env, Clock* clock);
  ~SchedulerHost();

  // Starts the scheduler thread.
  Status Start();
  // Stops it: running attempts are cancelled and end up_for_retry. Joins. Idempotent.
  void Stop();
  // The scheduler thread's error, if it ended with one.
  Status result() const { return result_; }

  RunStore& store() { return *store_; }
  Scheduler& scheduler() { return *scheduler_; }

 private:
  SchedulerHost() = default;
  std::unique_ptr<RunStore> store_;
  std::unique_ptr<Scheduler> scheduler_;
  std::mutex stop_mu_;  // Stop() may be called from the signal thread and the main thread
  std::jthread thread_;
  Status result_;
};

// "host:dataDirId:" - the prefix every scheduler of this data dir uses in the run store.
Result<std::string> SchedulerOwnerPrefix(const std::string& data_dir);

}  // namespace dataforge
