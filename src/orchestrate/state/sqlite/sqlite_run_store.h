// The run store in the SQLite staging file: tables dags, dag_runs and task_instances beside the
// staging tables, on a connection of its own (WAL, synchronous=FULL, 10 s busy timeout).
//
// Every write is one BEGIN IMMEDIATE transaction, so several processes on one file serialize on
// SQLite's write lock: a claim, a run start or a run creation is decided by one writer at a time
// (that is what makes ClaimTasks exactly-once and max_active_runs hold across processes).
// Reads are single statements (or a deferred transaction when they take several).
//
// Thread-safety: calls are serialized by mu_.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "orchestrate/state/run_store.h"
#include "staging/sqlite/sqlite_db.h"

namespace dataforge {

class SqliteRunStore final : public RunStore {
 public:
  // kReadWrite creates the file and the tables if missing; kReadOnly opens read-only and fails
  // (NotFound) when the file or the tables do not exist.
  static Result<std::unique_ptr<RunStore>> Open(const std::string& path, OpenMode mode);

  Status RegisterDags(const std::vector<std::pair<std::string, bool>>& dags) override;
  Result<std::vector<DagRow>> ListDags() override;
  Status SetPaused(const std::string& dag_id, bool paused) override;
  Result<std::optional<int64_t>> CreateRun(
      const DagRun& run, const std::vector<std::pair<std::string, int>>& tasks_max_tries) override;
  Result<std::vector<int64_t>> StartQueuedRuns(const std::string& dag_id, int max_active_runs,
                                               int64_t now_us) override;
  Result<std::vector<DagRun>> ActiveRuns() override;
  Result<DagRun> GetRun(int64_t run_id) override;
  Result<std::vector<DagRun>> ListRuns(const std::string& dag_id, size_t limit) override;
  Result<std::vector<RunStateCount>> CountRunsByState() override;
  Result<std::vector<TaskInstance>> ListTasks(int64_t run_id) override;
  Result<std::vector<TaskInstance>> ListTasksOfRuns(const std::vector<int64_t>& run_ids) override;
  Result<std::optional<TaskState>> PreviousTaskState(const std::string& dag_id,
                                                     const std::string& task_id,
                                                     int64_t logical_us) override;
  Status PromoteTasks(int64_t run_id, const std::vector<std::string>& ready,
                      const std::vector<std::string>& blocked, int64_t now_us) override;
  Result<std::vector<TaskInstance>> ClaimTasks(const std::string& owner, int64_t now_us,
                                               int64_t lease_us, size_t limit) override;
  Result<size_t> RenewLeases(const std::string& owner, int64_t now_us, int64_t lease_us) override;
  Result<bool> FinishTask(int64_t run_id, const std::string& task_id, int try_number,
                          const std::string& owner, const TaskOutcome& outcome) override;
  Result<std::vector<TaskInstance>> ExpiredAttempts(int64_t now_us,
                                                    const std::string& owner_prefix) override;
  Result<bool> FinishRun(int64_t run_id, RunState state, int64_t now_us) override;
  Result<size_t> ClearTasks(int64_t run_id, const std::vector<std::string>& task_ids,
                            const std::vector<int>& retries) override;

 private:
  explicit SqliteRunStore(std::unique_ptr<SqliteDb> db, bool read_only)
      : db_(std::move(db)), read_only_(read_only) {}

  // Runs `body` in a BEGIN IMMEDIATE transaction: COMMIT if it succeeds, ROLLBACK otherwise.
  // REQUIRES: mu_ is held.
  Status WriteLocked(std::string_view doing, const std::function<Status()>& body);
  // The rows of a query that selects kTaskColumns / kRunColumns. REQUIRES: mu_ is held.
  Result<std::vector<TaskInstance>> TasksLocked(SqliteStatement& q);
  Result<std::vector<DagRun>> RunsLocked(SqliteStatement& q);
  Result<int64_t> ChangesLocked();  // rows changed by the last statement

  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mu_
  const bool read_only_;
};

}  // namespace dataforge
