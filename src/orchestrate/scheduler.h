// The scheduler: creates DAG runs when their data intervals end, starts them within
// max_active_runs, promotes tasks whose upstream tasks succeeded, claims ready task attempts
// from the run store and runs them on a pool of `parallelism` threads, retries failures with
// exponential backoff, and takes over attempts whose scheduler died (expired leases).
//
// Every decision is a transition in the RunStore, so several schedulers (processes, machines)
// may share one store: runs are unique per logical date, attempts are claimed by exactly one
// scheduler (see orchestrate/state/run_store.h). A scheduler's own state is a cache.
// Thread-safety: Run() (or Tick()) from one thread; RequestWake() and probe() from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/latency_histogram.h"
#include "common/status.h"
#include "config/dag_config.h"
#include "orchestrate/state/run_store.h"
#include "orchestrate/task_environment.h"
#include "schedule/schedule.h"

namespace dataforge {

struct SchedulerProbe {
  std::atomic<uint64_t> runs_created{0};
  std::atomic<uint64_t> attempts_started{0};
  std::atomic<uint64_t> succeeded{0};
  std::atomic<uint64_t> failed{0};  // attempts that failed (retried or not)
  std::atomic<uint64_t> reaped{0};  // attempts taken over from a dead scheduler
  std::atomic<uint64_t> passes{0};
  std::atomic<int> running{0};
  LatencyHistogram start_latency_us;  // ready (or due) -> running, per attempt
  LatencyHistogram task_duration_us;  // an attempt's run time, per finished attempt
  LatencyHistogram run_duration_us;   // a run's start -> end, per run this scheduler finished
};

// The delay before retry number `try_number` (1 = the first retry): retry_delay, doubled per
// earlier retry when exponential, at most max_retry_delay.
int64_t RetryDelayUs(const TaskSpec& task, int try_number);

// The task and everything downstream of it, in DAG order.
std::vector<std::string> TaskAndDownstream(const DagSpec& dag, const std::string& task_id);

class Scheduler {
 public:
  // `owner`: this scheduler's unique name in the store (host:pid:random). Attempts held by an
  // owner starting with `previous_owner_prefix` belong to earlier lives of this scheduler (same
  // data dir) and are taken over at once instead of after their lease ("" = none).
  Scheduler(std::vector<DagSpec> dags, SchedulerConfig config, RunStore* store,
            TaskEnvironment* env, Clock* clock, std::string owner,
            std::string previous_owner_prefix);
  ~Scheduler();

  // Registers the DAGs (RegisterDags) and starts the task threads.
  Status Start();
  // Ticks until `stop`, sleeping between ticks until the next run is due, a poll interval
  // passes, or a task ends. Then cancels running attempts (they end up_for_retry, to run again
  // at once on the next start) and returns. A failing store is retried, never fatal.
  Status Run(std::stop_token stop);
  // One pass: create due runs, start queued ones, promote ready tasks, finish done runs, take
  // over expired attempts, claim and dispatch ready attempts. `full` also reloads DAG state
  // (pause) and looks at every active run; otherwise only runs touched by ended tasks.
  Status Tick(bool full);
  // Blocks until no attempt runs or is queued here (tests, backfill).
  void WaitIdle();
  // Wakes Run() for a pass now.
  void RequestWake();
  // Cancels running attempts and joins the task threads. Idempotent.
  void Shutdown();

  // false: do not create scheduled runs, only run what is queued (backfill, trigger --wait).
  void set_create_scheduled_runs(bool on) { create_scheduled_runs_ = on; }

  const SchedulerProbe& probe() const { return probe_; }
  // The earliest time a scheduled run becomes due (INT64_MAX if none).
  int64_t NextDueUs() const;

 private:
  struct DagState {
    DagSpec spec;
    std::optional<Schedule> schedule;
    bool paused = false;
    std::optional<int64_t> last_start_us;
    int64_t next_due_us = INT64_MAX;
  };
  struct Running {
    TaskInstance ti;
    std::stop_source cancel;
  };

  Status RefreshDags();
  Result<size_t> CreateDueRuns(int64_t now_us);  // returns how many it created
  Status AdvanceRuns(bool full, int64_t now_us, bool* finished_any);
  // Promotes what is ready; ends the run when every task has ended (true then).
  Result<bool> AdvanceRun(const DagRun& run, const std::vector<TaskInstance>& tis, int64_t now_us);
  Status ReapExpired(int64_t now_us);
  Status ClaimAndDispatch(int64_t now_us);
  void Worker(std::stop_token stop);
  void Execute(Running* r);
  const DagSpec* FindDag(const std::string& id) const;

  std::map<std::string, DagState> dags_;
  SchedulerConfig config_;
  RunStore* store_;
  TaskEnvironment* env_;
  Clock* clock_;
  std::string owner_;
  std::string previous_owner_prefix_;
  SchedulerProbe probe_;
  int64_t next_heartbeat_us_ = 0;  // monotonic
  bool create_scheduled_runs_ = true;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // task threads wait for queue_
  std::condition_variable wake_cv_;  // Run() waits for wake_ / dirty runs
  std::condition_variable idle_cv_;
  std::deque<std::unique_ptr<Running>> queue_;                   // guarded by mu_
  std::map<std::pair<int64_t, std::string>, Running*> running_;  // guarded by mu_
  std::set<int64_t> dirty_runs_;                                 // guarded by mu_
  int inflight_ = 0;                                             // queued + running; guarded by mu_
  bool wake_ = false;                                            // guarded by mu_
  bool shutting_down_ = false;                                   // guarded by mu_
  std::vector<std::jthread> workers_;
};

}  // namespace dataforge
