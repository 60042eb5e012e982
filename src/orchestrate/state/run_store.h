// Where the orchestrator keeps DAG, run and task-instance state: the staging database (SQLite
// file, or PostgreSQL schema `dataforge`), in its own tables. Every transition is one
// transaction, durable when the call returns.
//
// Several schedulers may share one PostgreSQL run store (and several processes one SQLite
// file); the operations below are what makes that safe:
//  - CreateRun is idempotent per (dag, logical date): a unique key, so a run is never created
//    twice for one logical date, whoever tries;
//  - StartQueuedRuns counts and starts under a per-DAG row lock, so max_active_runs holds
//    across schedulers;
//  - ClaimTasks hands each ready task attempt to exactly one scheduler (PostgreSQL: FOR UPDATE
//    SKIP LOCKED; SQLite: BEGIN IMMEDIATE), under a lease that the owner renews; an attempt
//    whose lease expired (its scheduler died) is ended by whoever calls ReapExpired, and
//    retried per its policy;
//  - FinishTask only lands while the caller still holds the attempt's lease (owner, try).
// Thread-safety: a RunStore may be used from several threads (calls are serialized inside).
// tests/conformance/run_store_conformance_test.cc checks this contract for every backend.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/open_mode.h"
#include "common/status.h"

namespace dataforge {

enum class RunState { kQueued, kRunning, kSuccess, kFailed };
enum class TaskState {
  kNone,        // waiting for its upstream tasks (and depends_on_past)
  kScheduled,   // ready; a scheduler may claim it
  kRunning,     // claimed by lease_owner until lease_expires_us
  kUpForRetry,  // failed, will be claimable again at next_try_us
  kSuccess,
  kFailed,          // failed with no tries left
  kUpstreamFailed,  // an upstream task failed: never runs
};
enum class RunType { kScheduled, kManual, kBackfill };

// "queued", "running", ...; and back (nullopt for unknown text).
const char* RunStateName(RunState s);
const char* TaskStateName(TaskState s);
const char* RunTypeName(RunType t);
std::optional<RunState> ParseRunState(std::string_view s);
std::optional<TaskState> ParseTaskState(std::string_view s);
std::optional<RunType> ParseRunType(std::string_view s);
bool IsTerminal(TaskState s);  // success, failed, upstream_failed

// `text` as valid UTF-8 without NUL bytes: each NUL and each byte that is not part of a valid
// UTF-8 sequence becomes U+FFFD. Both backends store task errors, output and run conf through
// it (PostgreSQL text rejects NUL and invalid UTF-8), so they hold the same text.
std::string SanitizeText(std::string_view text);

struct RunStateCount;
// Orders counts by dag_id, then state (as the enum: queued, running, success, failed).
void SortRunStateCounts(std::vector<RunStateCount>* counts);

struct DagRow {
  std::string dag_id;
  bool paused = false;
  // Newest interval start of a scheduled (or backfill) run; nullopt = none yet.
  std::optional<int64_t> last_scheduled_start_us;
};

struct DagRun {
  int64_t run_id = 0;  // assigned by CreateRun, > 0
  std::string dag_id;
  RunType type = RunType::kScheduled;
  int64_t logical_us = 0;  // interval start for scheduled/backfill runs, trigger time for manual
  int64_t interval_start_us = 0;
  int64_t interval_end_us = 0;
  RunState state = RunState::kQueued;
  std::string conf_json = "{}";
  int64_t created_us = 0;
  int64_t started_us = 0;  // 0 = not yet
  int64_t ended_us = 0;    // 0 = not yet
};

struct TaskInstance {
  int64_t run_id = 0;
  std::string task_id;
  TaskState state = TaskState::kNone;
  int try_number = 0;       // attempts started so far (the running one included)
  int max_tries = 1;        // retries + 1
  int64_t ready_us = 0;     // when it became claimable (scheduled / retry due), for latency
  int64_t next_try_us = 0;  // up_for_retry: not before this
  std::string lease_owner;  // running: the scheduler that holds it
  int64_t lease_expires_us = 0;
  int64_t started_us = 0;  // current/last attempt
  int64_t ended_us = 0;
  std::string last_error;  // one line, "" if none
  std::string output;      // captured output of the last attempt (tail, bounded)
};

// How many runs a DAG has in one state (RunStore::CountRunsByState).
struct RunStateCount {
  std::string dag_id;
  RunState state = RunState::kQueued;
  uint64_t runs = 0;
};

// A task attempt's outcome, written by FinishTask.
struct TaskOutcome {
  TaskState state = TaskState::kSuccess;  // kSuccess, kFailed or kUpForRetry
  int64_t next_try_us = 0;                // kUpForRetry
  int64_t ended_us = 0;
  std::string error;
  std::string output;
  // kUpForRetry only: the attempt does not count (the scheduler stopped while it ran, not the
  // task's fault): try_number goes back by one, so the next claim is this try again.
  bool give_back_try = false;
};

// Whether FinishTask takes `outcome`'s try back (give_back_try on an up_for_retry outcome).
inline bool GivesBackTry(const TaskOutcome& outcome) {
  return outcome.give_back_try && outcome.state == TaskState::kUpForRetry;
}

class RunStore {
 public:
  virtual ~RunStore() = default;

  // DAGs: makes a row for each id not yet known (paused = `paused_on_create`); existing rows
  // keep their pause state.
  virtual Status RegisterDags(const std::vector<std::pair<std::string, bool>>& dags) = 0;
  virtual Result<std::vector<DagRow>> ListDags() = 0;
  // NotFound if the DAG was never registered.
  virtual Status SetPaused(const std::string& dag_id, bool paused) = 0;

  // Creates the run (state queued) and its task instances (state none; max_tries each) in one
  // transaction, unless a run for (dag_id, logical_us) exists: then returns nullopt and
  // changes nothing. On success returns the new run_id. Scheduled and backfill runs move the
  // DAG's last_scheduled_start_us forward (never back).
  virtual Result<std::optional<int64_t>> CreateRun(
      const DagRun& run, const std::vector<std::pair<std::string, int>>& tasks_max_tries) = 0;

  // Under the DAG's row lock: moves the oldest queued runs of `dag_id` to running while fewer
  // than `max_active_runs` run. Returns the runs it started.
  virtual Result<std::vector<int64_t>> StartQueuedRuns(const std::string& dag_id,
                                                       int max_active_runs, int64_t now_us) = 0;

  // Runs in state queued or running (any DAG), oldest first.
  virtual Result<std::vector<DagRun>> ActiveRuns() = 0;
  virtual Result<DagRun> GetRun(int64_t run_id) = 0;  // NotFound
  // Newest first; dag_id "" = every DAG.
  virtual Result<std::vector<DagRun>> ListRuns(const std::string& dag_id, size_t limit) = 0;
  // Runs of every DAG by state, one query (a consistent snapshot): only states a DAG has runs
  // in, ordered by dag_id and then state (queued, running, success, failed). For metrics.
  virtual Result<std::vector<RunStateCount>> CountRunsByState() = 0;
  virtual Result<std::vector<TaskInstance>> ListTasks(int64_t run_id) = 0;
  // Task instances of several runs at once (the scheduler's pass).
  virtual Result<std::vector<TaskInstance>> ListTasksOfRuns(
      const std::vector<int64_t>& run_ids) = 0;

  // The state of `task_id` in the DAG's newest run with logical date < logical_us
  // (depends_on_past); nullopt if there is no earlier run.
  virtual Result<std::optional<TaskState>> PreviousTaskState(const std::string& dag_id,
                                                             const std::string& task_id,
                                                             int64_t logical_us) = 0;

  // none -> scheduled (ready_us = now) for `ready`, none -> upstream_failed for `blocked`.
  // Only rows still in state none change (idempotent across schedulers).
  virtual Status PromoteTasks(int64_t run_id, const std::vector<std::string>& ready,
                              const std::vector<std::string>& blocked, int64_t now_us) = 0;

  // Claims up to `limit` claimable attempts (scheduled, or up_for_retry with next_try_us <=
  // now) of DAGs that are not paused, oldest ready first, for `owner`: state running,
  // try_number + 1, started_us = now, lease until now + lease_us. Each attempt goes to exactly
  // one caller.
  virtual Result<std::vector<TaskInstance>> ClaimTasks(const std::string& owner, int64_t now_us,
                                                       int64_t lease_us, size_t limit) = 0;
  // Extends every running lease `owner` holds to now + lease_us. Returns how many it holds.
  virtual Result<size_t> RenewLeases(const std::string& owner, int64_t now_us,
                                     int64_t lease_us) = 0;
  // Ends the attempt (run_id, task_id, try_number) if `owner` still holds it; false if the
  // lease was lost (reaped and maybe re-claimed by another scheduler): nothing changes then.
  virtual Result<bool> FinishTask(int64_t run_id, const std::string& task_id, int try_number,
                                  const std::string& owner, const TaskOutcome& outcome) = 0;
  // Running attempts whose lease expired before now_us (their scheduler is gone), or, when
  // `owner_prefix` is not empty, held by an owner starting with it (a previous life of this
  // scheduler). The caller decides retry or failure and ends each with FinishTask using the
  // returned lease_owner.
  virtual Result<std::vector<TaskInstance>> ExpiredAttempts(int64_t now_us,
                                                            const std::string& owner_prefix) = 0;

  // Ends the run (running -> success/failed) once; false if it was not running.
  virtual Result<bool> FinishRun(int64_t run_id, RunState state, int64_t now_us) = 0;

  // Resets the given task instances of the run to none (try counts kept; each gets
  // max_tries = try_number + retries + 1 so it may run again) and the run to running.
  // Returns the tasks it reset.
  virtual Result<size_t> ClearTasks(int64_t run_id, const std::vector<std::string>& task_ids,
                                    const std::vector<int>& retries) = 0;
};

// Opens the run store in the staging database named by `staging_url` (sqlite:///path or
// postgresql://...), creating its tables. kReadOnly never writes (CLI inspection).
Result<std::unique_ptr<RunStore>> OpenRunStore(const std::string& staging_url, OpenMode mode);

}  // namespace dataforge
