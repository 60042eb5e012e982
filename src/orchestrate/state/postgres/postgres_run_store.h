// The run store in PostgreSQL: tables dataforge.dags, dataforge.dag_runs and
// dataforge.task_instances (staging schema migration 2, staging/postgres/postgres_schema.cc),
// shared by every scheduler on the database.
//
// Exactly-once across schedulers: ClaimTasks is one UPDATE over rows picked FOR UPDATE SKIP
// LOCKED (each ready attempt goes to one caller; concurrent claimers skip each other's rows),
// StartQueuedRuns counts and starts under the DAG row's FOR UPDATE lock, CreateRun relies on the
// unique (dag_id, logical_us) key, FinishTask is conditional on (try_number, lease_owner,
// state running). Locks are always taken in the order dags -> dag_runs -> task_instances.
//
// Faults: every call runs in a PgSession (reconnect and retry while the server is unreachable,
// up to kMaxWaitUs). A unit of work is one statement or one transaction redone whole; when a
// retry follows a lost COMMIT, the calls whose result depends on it (ClaimTasks, CreateRun,
// StartQueuedRuns, FinishTask, FinishRun) first look for what the lost attempt did.
//
// Thread-safety: one connection; calls are serialized by the session's mutex.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "orchestrate/state/run_store.h"
#include "pg/pg_session.h"

namespace dataforge {

class PostgresRunStore final : public RunStore {
 public:
  // How long a call keeps retrying an unreachable server before it fails.
  static constexpr int64_t kMaxWaitUs = 300'000'000;

  // kReadWrite migrates the staging schema to the latest version (creating the tables);
  // kReadOnly only checks that it is there and current.
  static Result<std::unique_ptr<RunStore>> Open(const std::string& url, OpenMode mode,
                                                Clock* clock = Clock::Real());

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
  PostgresRunStore(std::unique_ptr<PgSession> session, bool read_only)
      : session_(std::move(session)), read_only_(read_only) {}

  // session_->Run, with `doing` as the error's context; InvalidArgument for a write when
  // read-only.
  Status Run(bool writes, std::string_view doing,
             const std::function<Status(PgConnection&, int)>& work);

  std::unique_ptr<PgSession> session_;
  const bool read_only_;
};

}  // namespace dataforge
