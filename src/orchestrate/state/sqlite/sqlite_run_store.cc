#include "orchestrate/state/sqlite/sqlite_run_store.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace dataforge {
namespace {

// The staging file's other tables are in staging/sqlite/sqlite_staging.cc; none shares a name.
constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS dags(
  dag_id TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  last_scheduled_start_us INTEGER);     -- NULL: no scheduled or backfill run yet
CREATE TABLE IF NOT EXISTS dag_runs(
  run_id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
  dag_id TEXT NOT NULL,
  run_type TEXT NOT NULL,               -- scheduled, manual, backfill
  logical_us INTEGER NOT NULL,          -- timestamps: microseconds since the epoch
  interval_start_us INTEGER NOT NULL,
  interval_end_us INTEGER NOT NULL,
  state TEXT NOT NULL,                  -- queued, running, success, failed
  conf_json TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  started_us INTEGER NOT NULL DEFAULT 0,
  ended_us INTEGER NOT NULL DEFAULT 0,
  UNIQUE(dag_id, logical_us));          -- one run per logical date, whoever creates it
CREATE INDEX IF NOT EXISTS dag_runs_active ON dag_runs(dag_id, logical_us)
  WHERE state IN ('queued','running');
CREATE TABLE IF NOT EXISTS task_instances(
  run_id INTEGER NOT NULL,
  task_id TEXT NOT NULL,
  state TEXT NOT NULL,
  try_number INTEGER NOT NULL DEFAULT 0,
  max_tries INTEGER NOT NULL DEFAULT 1,
  ready_us INTEGER NOT NULL DEFAULT 0,
  next_try_us INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_expires_us INTEGER NOT NULL DEFAULT 0,
  started_us INTEGER NOT NULL DEFAULT 0,
  ended_us INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  output TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(run_id, task_id));
CREATE INDEX IF NOT EXISTS task_instances_claimable ON task_instances(ready_us, run_id, task_id)
  WHERE state IN ('scheduled','up_for_retry');
CREATE INDEX IF NOT EXISTS task_instances_running ON task_instances(lease_owner)
  WHERE state = 'running';
)SQL";

constexpr const char* kSqliteRunColumns =
    "run_id,dag_id,run_type,logical_us,interval_start_us,interval_end_us,state,conf_json,"
    "created_us,started_us,ended_us";
constexpr const char* kSqliteTaskColumns =
    "run_id,task_id,state,try_number,max_tries,ready_us,next_try_us,lease_owner,"
    "lease_expires_us,started_us,ended_us,last_error,output";

Status ReadOnlyError() {
  return Status::InvalidArgument("the run store is open read-only");
}

Result<DagRun> ReadRun(const SqliteStatement& q) {
  DagRun r;
  r.run_id = q.ColumnInt(0);
  r.dag_id = q.ColumnText(1);
  std::string type = q.ColumnText(2), state = q.ColumnText(6);
  auto t = ParseRunType(type);
  auto s = ParseRunState(state);
  if (!t || !s) {
    return Status::Corruption(
        fmt::format("dag_runs row {} has run_type '{}', state '{}'", r.run_id, type, state));
  }
  r.type = *t;
  r.logical_us = q.ColumnInt(3);
  r.interval_start_us = q.ColumnInt(4);
  r.interval_end_us = q.ColumnInt(5);
  r.state = *s;
  r.conf_json = q.ColumnText(7);
  r.created_us = q.ColumnInt(8);
  r.started_us = q.ColumnInt(9);
  r.ended_us = q.ColumnInt(10);
  return r;
}

Result<TaskInstance> ReadTask(const SqliteStatement& q) {
  TaskInstance t;
  t.run_id = q.ColumnInt(0);
  t.task_id = q.ColumnText(1);
  std::string state = q.ColumnText(2);
  auto s = ParseTaskState(state);
  if (!s) {
    return Status::Corruption(
        fmt::format("task_instances row ({}, {}) has state '{}'", t.run_id, t.task_id, state));
  }
  t.state = *s;
  t.try_number = static_cast<int>(q.ColumnInt(3));
  t.max_tries = static_cast<int>(q.ColumnInt(4));
  t.ready_us = q.ColumnInt(5);
  t.next_try_us = q.ColumnInt(6);
  t.lease_owner = q.ColumnText(7);
  t.lease_expires_us = q.ColumnInt(8);
  t.started_us = q.ColumnInt(9);
  t.ended_us = q.ColumnInt(10);
  t.last_error = q.ColumnText(11);
  t.output = q.ColumnText(12);
  return t;
}

}  // namespace

Result<std::unique_ptr<RunStore>> SqliteRunStore::Open(const std::string& path, OpenMode mode) {
  bool read_only = mode == OpenMode::kReadOnly;
  DF_ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, read_only));
  if (read_only) {
    DF_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT count(*) FROM sqlite_master WHERE type='table' "
                                            "AND name IN ('dags','dag_runs','task_instances')"));
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row || q.ColumnInt(0) != 3) {
      return Status::NotFound(fmt::format(
          "staging database {} has no orchestrator state yet (run the scheduler first)", path));
    }
  } else {
    DF_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
    // Every transition is durable when the call returns.
    DF_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=FULL"));
    DF_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
    Status s = db->Exec(kSchema);
    if (s.ok()) s = db->Exec("COMMIT");
    if (!s.ok()) {
      (void)db->Exec("ROLLBACK");
      return s.WithContext("creating the run store tables");
    }
  }
  return std::unique_ptr<RunStore>(new SqliteRunStore(std::move(db), read_only));
}

Status SqliteRunStore::WriteLocked(std::string_view doing, const std::function<Status()>& body) {
  if (read_only_) return ReadOnlyError();
  DF_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE").WithContext(doing));
  Status s = body();
  if (s.ok()) s = db_->Exec("COMMIT");
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK");
    return s.WithContext(doing);
  }
  return Status::OK();
}

Result<std::vector<TaskInstance>> SqliteRunStore::TasksLocked(SqliteStatement& q) {
  std::vector<TaskInstance> out;
  while (true) {
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    DF_ASSIGN_OR_RETURN(auto t, ReadTask(q));
    out.push_back(std::move(t));
  }
  q.Reset();
  return out;
}

Result<std::vector<DagRun>> SqliteRunStore::RunsLocked(SqliteStatement& q) {
  std::vector<DagRun> out;
  while (true) {
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    DF_ASSIGN_OR_RETURN(auto r, ReadRun(q));
    out.push_back(std::move(r));
  }
  q.Reset();
  return out;
}

Result<int64_t> SqliteRunStore::ChangesLocked() {
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT changes()"));
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.ColumnInt(0) : 0;
}

Status SqliteRunStore::RegisterDags(const std::vector<std::pair<std::string, bool>>& dags) {
  std::lock_guard lock(mu_);
  return WriteLocked("registering DAGs", [&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("INSERT INTO dags(dag_id, paused) VALUES(?,?) "
                                             "ON CONFLICT(dag_id) DO NOTHING"));
    for (const auto& [id, paused] : dags) {
      q.BindText(1, id);
      q.BindInt(2, paused ? 1 : 0);
      DF_RETURN_IF_ERROR(q.Run());
    }
    return Status::OK();
  });
}

Result<std::vector<DagRow>> SqliteRunStore::ListDags() {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT dag_id, paused, last_scheduled_start_us, "
                                           "last_scheduled_start_us IS NULL FROM dags "
                                           "ORDER BY dag_id"));
  std::vector<DagRow> out;
  while (true) {
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    DagRow d;
    d.dag_id = q.ColumnText(0);
    d.paused = q.ColumnInt(1) != 0;
    if (q.ColumnInt(3) == 0) d.last_scheduled_start_us = q.ColumnInt(2);
    out.push_back(std::move(d));
  }
  return out;
}

Status SqliteRunStore::SetPaused(const std::string& dag_id, bool paused) {
  std::lock_guard lock(mu_);
  return WriteLocked(fmt::format("pausing DAG {}", dag_id), [&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("UPDATE dags SET paused=? WHERE dag_id=?"));
    q.BindInt(1, paused ? 1 : 0);
    q.BindText(2, dag_id);
    DF_RETURN_IF_ERROR(q.Run());
    DF_ASSIGN_OR_RETURN(int64_t changed, ChangesLocked());
    if (changed == 0) return Status::NotFound(fmt::format("no DAG '{}' is registered", dag_id));
    return Status::OK();
  });
}

Result<std::optional<int64_t>> SqliteRunStore::CreateRun(
    const DagRun& run, const std::vector<std::pair<std::string, int>>& tasks_max_tries) {
  if (run.dag_id.empty()) return Status::InvalidArgument("CreateRun: empty dag_id");
  for (const auto& [task, max_tries] : tasks_max_tries) {
    if (max_tries < 1) {
      return Status::InvalidArgument(
          fmt::format("CreateRun: task {} has max_tries {} (must be >= 1)", task, max_tries));
    }
  }
  std::lock_guard lock(mu_);
  std::optional<int64_t> created;
  const std::string conf = SanitizeText(run.conf_json);
  Status s = WriteLocked(
      fmt::format("creating a run of DAG {} at {}", run.dag_id, run.logical_us), [&]() -> Status {
        DF_ASSIGN_OR_RETURN(auto dag, db_->Prepare("INSERT INTO dags(dag_id) VALUES(?) "
                                                   "ON CONFLICT(dag_id) DO NOTHING"));
        dag.BindText(1, run.dag_id);
        DF_RETURN_IF_ERROR(dag.Run());
        DF_ASSIGN_OR_RETURN(
            auto ins,
            db_->Prepare("INSERT INTO dag_runs(dag_id,run_type,logical_us,interval_start_us,"
                         "interval_end_us,state,conf_json,created_us) VALUES(?,?,?,?,?,'queued',"
                         "?,?) ON CONFLICT(dag_id, logical_us) DO NOTHING RETURNING run_id"));
        ins.BindText(1, run.dag_id);
        ins.BindText(2, RunTypeName(run.type));
        ins.BindInt(3, run.logical_us);
        ins.BindInt(4, run.interval_start_us);
        ins.BindInt(5, run.interval_end_us);
        ins.BindText(6, conf);
        ins.BindInt(7, run.created_us);
        DF_ASSIGN_OR_RETURN(bool row, ins.Step());
        if (!row) return Status::OK();  // the run exists: nothing changed
        int64_t run_id = ins.ColumnInt(0);
        DF_RETURN_IF_ERROR(ins.Run());  // steps to the end of the statement, then resets
        DF_ASSIGN_OR_RETURN(auto task, db_->Prepare("INSERT INTO task_instances(run_id,task_id,"
                                                    "state,max_tries) VALUES(?,?,'none',?)"));
        for (const auto& [task_id, max_tries] : tasks_max_tries) {
          task.BindInt(1, run_id);
          task.BindText(2, task_id);
          task.BindInt(3, max_tries);
          DF_RETURN_IF_ERROR(task.Run());
        }
        if (run.type != RunType::kManual) {
          DF_ASSIGN_OR_RETURN(auto last,
                              db_->Prepare("UPDATE dags SET last_scheduled_start_us="
                                           "max(coalesce(last_scheduled_start_us, ?1), ?1) "
                                           "WHERE dag_id=?2"));
          last.BindInt(1, run.interval_start_us);
          last.BindText(2, run.dag_id);
          DF_RETURN_IF_ERROR(last.Run());
        }
        created = run_id;
        return Status::OK();
      });
  if (!s.ok()) return s;
  return created;
}

Result<std::vector<int64_t>> SqliteRunStore::StartQueuedRuns(const std::string& dag_id,
                                                             int max_active_runs, int64_t now_us) {
  if (max_active_runs < 1) {
    return Status::InvalidArgument(
        fmt::format("DAG {}: max_active_runs is {} (must be >= 1)", dag_id, max_active_runs));
  }
  std::lock_guard lock(mu_);
  std::vector<int64_t> started;
  DF_RETURN_IF_ERROR(WriteLocked(fmt::format("starting queued runs of DAG {}", dag_id), [&]() {
    started.clear();
    DF_ASSIGN_OR_RETURN(auto count, db_->Prepare("SELECT count(*) FROM dag_runs WHERE dag_id=? "
                                                 "AND state='running'"));
    count.BindText(1, dag_id);
    DF_ASSIGN_OR_RETURN(bool row, count.Step());
    int64_t running = row ? count.ColumnInt(0) : 0;
    if (running >= max_active_runs) return Status::OK();
    DF_ASSIGN_OR_RETURN(auto start,
                        db_->Prepare("UPDATE dag_runs SET state='running', started_us=?1 "
                                     "WHERE run_id IN (SELECT run_id FROM dag_runs WHERE "
                                     "dag_id=?2 AND state='queued' ORDER BY logical_us, run_id "
                                     "LIMIT ?3) RETURNING run_id"));
    start.BindInt(1, now_us);
    start.BindText(2, dag_id);
    start.BindInt(3, max_active_runs - running);
    while (true) {
      DF_ASSIGN_OR_RETURN(bool r, start.Step());
      if (!r) break;
      started.push_back(start.ColumnInt(0));
    }
    return Status::OK();
  }));
  std::sort(started.begin(), started.end());
  return started;
}

Result<std::vector<DagRun>> SqliteRunStore::ActiveRuns() {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM dag_runs WHERE state IN "
                                                       "('queued','running') ORDER BY "
                                                       "logical_us, run_id",
                                                       kSqliteRunColumns)));
  return RunsLocked(q);
}

Result<DagRun> SqliteRunStore::GetRun(int64_t run_id) {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM dag_runs WHERE run_id=?",
                                                       kSqliteRunColumns)));
  q.BindInt(1, run_id);
  DF_ASSIGN_OR_RETURN(auto runs, RunsLocked(q));
  if (runs.empty()) return Status::NotFound(fmt::format("no DAG run {}", run_id));
  return std::move(runs[0]);
}

Result<std::vector<DagRun>> SqliteRunStore::ListRuns(const std::string& dag_id, size_t limit) {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM dag_runs WHERE ?1='' OR "
                                                       "dag_id=?1 ORDER BY logical_us DESC, "
                                                       "run_id DESC LIMIT ?2",
                                                       kSqliteRunColumns)));
  q.BindText(1, dag_id);
  q.BindInt(2, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  return RunsLocked(q);
}

Result<std::vector<RunStateCount>> SqliteRunStore::CountRunsByState() {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT dag_id, state, COUNT(*) FROM dag_runs GROUP "
                                           "BY dag_id, state"));
  std::vector<RunStateCount> out;
  while (true) {
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::string state = q.ColumnText(1);
    auto s = ParseRunState(state);
    if (!s) return Status::Internal(fmt::format("dag_runs has a run in state '{}'", state));
    out.push_back({q.ColumnText(0), *s, static_cast<uint64_t>(q.ColumnInt(2))});
  }
  SortRunStateCounts(&out);
  return out;
}

Result<std::vector<TaskInstance>> SqliteRunStore::ListTasks(int64_t run_id) {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(auto q,
                      db_->Prepare(fmt::format("SELECT {} FROM task_instances WHERE run_id=? "
                                               "ORDER BY task_id",
                                               kSqliteTaskColumns)));
  q.BindInt(1, run_id);
  return TasksLocked(q);
}

Result<std::vector<TaskInstance>> SqliteRunStore::ListTasksOfRuns(
    const std::vector<int64_t>& run_ids) {
  if (run_ids.empty()) return std::vector<TaskInstance>();
  std::lock_guard lock(mu_);
  // One statement (one snapshot): the ids as a JSON array.
  std::string ids = fmt::format("[{}]", fmt::join(run_ids, ","));
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format("SELECT {} FROM task_instances WHERE "
                                                       "run_id IN (SELECT value FROM "
                                                       "json_each(?)) ORDER BY run_id, task_id",
                                                       kSqliteTaskColumns)));
  q.BindText(1, ids);
  return TasksLocked(q);
}

Result<std::optional<TaskState>> SqliteRunStore::PreviousTaskState(const std::string& dag_id,
                                                                   const std::string& task_id,
                                                                   int64_t logical_us) {
  std::lock_guard lock(mu_);
  // The newest earlier run, and the task's state in it (NULL if that run has no such task).
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT (SELECT state FROM task_instances t WHERE "
                                           "t.run_id=r.run_id AND t.task_id=?3) FROM dag_runs r "
                                           "WHERE r.dag_id=?1 AND r.logical_us<?2 ORDER BY "
                                           "r.logical_us DESC LIMIT 1"));
  q.BindText(1, dag_id);
  q.BindInt(2, logical_us);
  q.BindText(3, task_id);
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<TaskState>();
  std::string state = q.ColumnText(0);
  if (state.empty()) return std::optional<TaskState>();
  auto s = ParseTaskState(state);
  if (!s) {
    return Status::Corruption(
        fmt::format("task_instances row of {} (DAG {}) has state '{}'", task_id, dag_id, state));
  }
  return std::optional<TaskState>(*s);
}

Status SqliteRunStore::PromoteTasks(int64_t run_id, const std::vector<std::string>& ready,
                                    const std::vector<std::string>& blocked, int64_t now_us) {
  if (ready.empty() && blocked.empty()) return Status::OK();
  std::lock_guard lock(mu_);
  return WriteLocked(fmt::format("promoting tasks of run {}", run_id), [&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("UPDATE task_instances SET state=?1, ready_us=?2, "
                                             "ended_us=?3 WHERE run_id=?4 AND task_id=?5 AND "
                                             "state='none'"));
    for (const auto* list : {&ready, &blocked}) {
      bool is_ready = list == &ready;
      for (const auto& task_id : *list) {
        q.BindText(1, is_ready ? "scheduled" : "upstream_failed");
        q.BindInt(2, is_ready ? now_us : 0);
        q.BindInt(3, is_ready ? 0 : now_us);
        q.BindInt(4, run_id);
        q.BindText(5, task_id);
        DF_RETURN_IF_ERROR(q.Run());
      }
    }
    return Status::OK();
  });
}

Result<std::vector<TaskInstance>> SqliteRunStore::ClaimTasks(const std::string& owner,
                                                             int64_t now_us, int64_t lease_us,
                                                             size_t limit) {
  if (owner.empty()) return Status::InvalidArgument("ClaimTasks: empty owner");
  if (limit == 0) return std::vector<TaskInstance>();
  std::lock_guard lock(mu_);
  std::vector<TaskInstance> claimed;
  DF_RETURN_IF_ERROR(WriteLocked("claiming tasks", [&]() -> Status {
    DF_ASSIGN_OR_RETURN(
        auto q, db_->Prepare(fmt::format(
                    "UPDATE task_instances SET state='running', try_number=try_number+1, "
                    "lease_owner=?1, lease_expires_us=?2+?3, started_us=?2, ended_us=0 "
                    "WHERE rowid IN (SELECT rowid FROM task_instances WHERE state IN "
                    "('scheduled','up_for_retry') AND (state='scheduled' OR next_try_us<=?2) "
                    "AND run_id NOT IN (SELECT r.run_id FROM dag_runs r JOIN dags d ON "
                    "d.dag_id=r.dag_id WHERE d.paused) "
                    "ORDER BY ready_us, run_id, task_id LIMIT ?4) RETURNING {}",
                    kSqliteTaskColumns)));
    q.BindText(1, owner);
    q.BindInt(2, now_us);
    q.BindInt(3, lease_us);
    q.BindInt(4, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    DF_ASSIGN_OR_RETURN(claimed, TasksLocked(q));
    return Status::OK();
  }));
  std::sort(claimed.begin(), claimed.end(), [](const TaskInstance& a, const TaskInstance& b) {
    return std::tie(a.ready_us, a.run_id, a.task_id) < std::tie(b.ready_us, b.run_id, b.task_id);
  });
  return claimed;
}

Result<size_t> SqliteRunStore::RenewLeases(const std::string& owner, int64_t now_us,
                                           int64_t lease_us) {
  std::lock_guard lock(mu_);
  int64_t held = 0;
  DF_RETURN_IF_ERROR(WriteLocked("renewing leases", [&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("UPDATE task_instances SET lease_expires_us=?1 "
                                             "WHERE state='running' AND lease_owner=?2"));
    q.BindInt(1, now_us + lease_us);
    q.BindText(2, owner);
    DF_RETURN_IF_ERROR(q.Run());
    DF_ASSIGN_OR_RETURN(held, ChangesLocked());
    return Status::OK();
  }));
  return static_cast<size_t>(held);
}

Result<bool> SqliteRunStore::FinishTask(int64_t run_id, const std::string& task_id, int try_number,
                                        const std::string& owner, const TaskOutcome& outcome) {
  if (outcome.state != TaskState::kSuccess && outcome.state != TaskState::kFailed &&
      outcome.state != TaskState::kUpForRetry) {
    return Status::InvalidArgument(fmt::format("FinishTask: outcome state {} is not an outcome",
                                               TaskStateName(outcome.state)));
  }
  std::lock_guard lock(mu_);
  const std::string error = SanitizeText(outcome.error);
  const std::string output = SanitizeText(outcome.output);
  int64_t changed = 0;
  DF_RETURN_IF_ERROR(WriteLocked(
      fmt::format("finishing task {} of run {} (try {})", task_id, run_id, try_number),
      [&]() -> Status {
        DF_ASSIGN_OR_RETURN(
            auto q,
            db_->Prepare("UPDATE task_instances SET state=?1, next_try_us=?2, "
                         "ready_us=CASE WHEN ?1='up_for_retry' THEN ?2 ELSE ready_us END, "
                         "ended_us=?3, last_error=?4, output=?5, lease_expires_us=0, "
                         "try_number=try_number-?10 "
                         "WHERE run_id=?6 AND task_id=?7 AND try_number=?8 AND lease_owner=?9 "
                         "AND state='running'"));
        q.BindText(1, TaskStateName(outcome.state));
        q.BindInt(2, outcome.state == TaskState::kUpForRetry ? outcome.next_try_us : 0);
        q.BindInt(3, outcome.ended_us);
        q.BindText(4, error);
        q.BindText(5, output);
        q.BindInt(6, run_id);
        q.BindText(7, task_id);
        q.BindInt(8, try_number);
        q.BindText(9, owner);
        q.BindInt(10, GivesBackTry(outcome) ? 1 : 0);
        DF_RETURN_IF_ERROR(q.Run());
        DF_ASSIGN_OR_RETURN(changed, ChangesLocked());
        return Status::OK();
      }));
  return changed > 0;
}

Result<std::vector<TaskInstance>> SqliteRunStore::ExpiredAttempts(int64_t now_us,
                                                                  const std::string& owner_prefix) {
  std::lock_guard lock(mu_);
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(fmt::format(
                                  "SELECT {} FROM task_instances WHERE state='running' AND "
                                  "(lease_expires_us<?1 OR (?2<>'' AND "
                                  "substr(lease_owner,1,length(?2))=?2)) ORDER BY run_id, task_id",
                                  kSqliteTaskColumns)));
  q.BindInt(1, now_us);
  q.BindText(2, owner_prefix);
  return TasksLocked(q);
}

Result<bool> SqliteRunStore::FinishRun(int64_t run_id, RunState state, int64_t now_us) {
  if (state != RunState::kSuccess && state != RunState::kFailed) {
    return Status::InvalidArgument(
        fmt::format("FinishRun: {} is not an end state", RunStateName(state)));
  }
  std::lock_guard lock(mu_);
  int64_t changed = 0;
  DF_RETURN_IF_ERROR(WriteLocked(fmt::format("finishing run {}", run_id), [&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("UPDATE dag_runs SET state=?, ended_us=? WHERE "
                                             "run_id=? AND state='running'"));
    q.BindText(1, RunStateName(state));
    q.BindInt(2, now_us);
    q.BindInt(3, run_id);
    DF_RETURN_IF_ERROR(q.Run());
    DF_ASSIGN_OR_RETURN(changed, ChangesLocked());
    return Status::OK();
  }));
  return changed > 0;
}

Result<size_t> SqliteRunStore::ClearTasks(int64_t run_id, const std::vector<std::string>& task_ids,
                                          const std::vector<int>& retries) {
  if (task_ids.size() != retries.size()) {
    return Status::InvalidArgument(
        fmt::format("ClearTasks: {} tasks but {} retry counts", task_ids.size(), retries.size()));
  }
  std::lock_guard lock(mu_);
  int64_t reset = 0;
  DF_RETURN_IF_ERROR(WriteLocked(fmt::format("clearing tasks of run {}", run_id), [&]() -> Status {
    reset = 0;
    DF_ASSIGN_OR_RETURN(auto run, db_->Prepare("UPDATE dag_runs SET state='running', ended_us=0 "
                                               "WHERE run_id=? AND state<>'queued' RETURNING 1"));
    run.BindInt(1, run_id);
    DF_ASSIGN_OR_RETURN(bool found, run.Step());
    if (found) {
      DF_RETURN_IF_ERROR(run.Run());
    } else {
      run.Reset();
    }
    if (!found) {
      DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT 1 FROM dag_runs WHERE run_id=?"));
      q.BindInt(1, run_id);
      DF_ASSIGN_OR_RETURN(bool exists, q.Step());
      if (!exists) return Status::NotFound(fmt::format("no DAG run {}", run_id));
    }
    // A running attempt is left alone (its scheduler still holds it).
    DF_ASSIGN_OR_RETURN(
        auto q, db_->Prepare("UPDATE task_instances SET state='none', max_tries=try_number+?1+1, "
                             "next_try_us=0, ready_us=0, lease_expires_us=0 "
                             "WHERE run_id=?2 AND task_id=?3 AND state<>'running'"));
    std::set<std::string> seen;
    for (size_t i = 0; i < task_ids.size(); ++i) {
      if (!seen.insert(task_ids[i]).second) continue;
      q.BindInt(1, std::max(retries[i], 0));
      q.BindInt(2, run_id);
      q.BindText(3, task_ids[i]);
      DF_RETURN_IF_ERROR(q.Run());
      DF_ASSIGN_OR_RETURN(int64_t n, ChangesLocked());
      reset += n;
    }
    return Status::OK();
  }));
  return static_cast<size_t>(reset);
}

}  // namespace dataforge
