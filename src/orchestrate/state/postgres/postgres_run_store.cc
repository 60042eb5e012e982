#include "orchestrate/state/postgres/postgres_run_store.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "staging/postgres/postgres_schema.h"

namespace dataforge {
namespace {

using Params = std::vector<std::optional<std::string>>;

constexpr const char* kRunColumns =
    "run_id, dag_id, run_type, logical_us, interval_start_us, interval_end_us, state, "
    "conf_json, created_us, started_us, ended_us";
constexpr const char* kTaskColumns =
    "run_id, task_id, state, try_number, max_tries, ready_us, next_try_us, lease_owner, "
    "lease_expires_us, started_us, ended_us, last_error, output";

std::string Int(int64_t v) {
  return std::to_string(v);
}

// A PostgreSQL array literal of text elements: {"a","b\"c"}.
std::string TextArray(const std::vector<std::string>& v) {
  std::string out = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

template <typename T>
std::string IntArray(const std::vector<T>& v) {
  return fmt::format("{{{}}}", fmt::join(v, ","));
}

// Rolls back whatever transaction is open; the connection may already be gone.
void Rollback(PgConnection& c) {
  if (!c.Broken()) (void)c.Exec("ROLLBACK");
}

// BEGIN, body, COMMIT; ROLLBACK when anything fails.
Status InTransaction(PgConnection& c, const std::function<Status()>& body) {
  DF_RETURN_IF_ERROR(c.Exec("BEGIN"));
  Status s = body();
  if (s.ok()) s = c.Exec("COMMIT");
  if (!s.ok()) Rollback(c);
  return s;
}

int64_t Affected(const PgResult& r) {
  const char* n = PQcmdTuples(r.get());
  return n && *n ? std::stoll(n) : 0;
}

Result<DagRun> ReadRun(const PgResult& r, int row) {
  DagRun d;
  d.run_id = r.Int(row, 0);
  d.dag_id = r.Text(row, 1);
  auto type = ParseRunType(r.Text(row, 2));
  auto state = ParseRunState(r.Text(row, 6));
  if (!type || !state) {
    return Status::Corruption(fmt::format("dataforge.dag_runs row {} has run_type '{}', state '{}'",
                                          d.run_id, r.Text(row, 2), r.Text(row, 6)));
  }
  d.type = *type;
  d.logical_us = r.Int(row, 3);
  d.interval_start_us = r.Int(row, 4);
  d.interval_end_us = r.Int(row, 5);
  d.state = *state;
  d.conf_json = r.Text(row, 7);
  d.created_us = r.Int(row, 8);
  d.started_us = r.Int(row, 9);
  d.ended_us = r.Int(row, 10);
  return d;
}

Result<std::vector<DagRun>> ReadRuns(const PgResult& r) {
  std::vector<DagRun> out;
  for (int i = 0; i < r.rows(); ++i) {
    DF_ASSIGN_OR_RETURN(auto d, ReadRun(r, i));
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<TaskInstance>> ReadTasks(const PgResult& r) {
  std::vector<TaskInstance> out;
  for (int i = 0; i < r.rows(); ++i) {
    TaskInstance t;
    t.run_id = r.Int(i, 0);
    t.task_id = r.Text(i, 1);
    auto state = ParseTaskState(r.Text(i, 2));
    if (!state) {
      return Status::Corruption(fmt::format("dataforge.task_instances row ({}, {}) has state '{}'",
                                            t.run_id, t.task_id, r.Text(i, 2)));
    }
    t.state = *state;
    t.try_number = static_cast<int>(r.Int(i, 3));
    t.max_tries = static_cast<int>(r.Int(i, 4));
    t.ready_us = r.Int(i, 5);
    t.next_try_us = r.Int(i, 6);
    t.lease_owner = r.Text(i, 7);
    t.lease_expires_us = r.Int(i, 8);
    t.started_us = r.Int(i, 9);
    t.ended_us = r.Int(i, 10);
    t.last_error = r.Text(i, 11);
    t.output = r.Text(i, 12);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<RunStore>> PostgresRunStore::Open(const std::string& url, OpenMode mode,
                                                         Clock* clock) {
  // Every transition is durable when the call returns, whatever the server's default.
  auto setup = [](PgConnection& c) { return c.Exec("SET synchronous_commit = on"); };
  auto session = std::make_unique<PgSession>(url, "PostgreSQL run store", clock, kMaxWaitUs, setup);
  DF_RETURN_IF_ERROR(session->Connect());
  bool read_only = mode == OpenMode::kReadOnly;
  DF_RETURN_IF_ERROR(
      session->Run(read_only ? "checking the staging schema" : "migrating the staging schema",
                   [&](PgConnection& c, int) {
                     return read_only ? CheckStagingSchema(c) : MigrateStagingSchema(c);
                   }));
  return std::unique_ptr<RunStore>(new PostgresRunStore(std::move(session), read_only));
}

Status PostgresRunStore::Run(bool writes, std::string_view doing,
                             const std::function<Status(PgConnection&, int)>& work) {
  if (writes && read_only_) return Status::InvalidArgument("the run store is open read-only");
  Status s = session_->Run(doing, work);
  return s.ok() ? s : s.WithContext(doing);
}

Status PostgresRunStore::RegisterDags(const std::vector<std::pair<std::string, bool>>& dags) {
  if (dags.empty()) return Status::OK();
  std::vector<std::string> ids;
  std::string paused = "{";
  for (const auto& [id, p] : dags) {
    ids.push_back(id);
    if (paused.size() > 1) paused += ',';
    paused += p ? 't' : 'f';
  }
  paused += '}';
  return Run(true, "registering DAGs", [&](PgConnection& c, int) {
    return c
        .Query(
            "INSERT INTO dataforge.dags(dag_id, paused) SELECT * FROM unnest($1::text[], "
            "$2::boolean[]) ON CONFLICT (dag_id) DO NOTHING",
            {TextArray(ids), paused})
        .status();
  });
}

Result<std::vector<DagRow>> PostgresRunStore::ListDags() {
  std::vector<DagRow> out;
  DF_RETURN_IF_ERROR(Run(false, "listing DAGs", [&](PgConnection& c, int) {
    out.clear();
    DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT dag_id, paused, last_scheduled_start_us FROM "
                                        "dataforge.dags ORDER BY dag_id"));
    for (int i = 0; i < r.rows(); ++i) {
      DagRow d;
      d.dag_id = r.Text(i, 0);
      d.paused = r.Text(i, 1) == "t";
      if (!r.IsNull(i, 2)) d.last_scheduled_start_us = r.Int(i, 2);
      out.push_back(std::move(d));
    }
    return Status::OK();
  }));
  return out;
}

Status PostgresRunStore::SetPaused(const std::string& dag_id, bool paused) {
  return Run(true, fmt::format("pausing DAG {}", dag_id), [&](PgConnection& c, int) -> Status {
    DF_ASSIGN_OR_RETURN(auto r, c.Query("UPDATE dataforge.dags SET paused=$2 WHERE dag_id=$1 "
                                        "RETURNING 1",
                                        {dag_id, paused ? "true" : "false"}));
    if (r.rows() == 0) return Status::NotFound(fmt::format("no DAG '{}' is registered", dag_id));
    return Status::OK();
  });
}

Result<std::optional<int64_t>> PostgresRunStore::CreateRun(
    const DagRun& run, const std::vector<std::pair<std::string, int>>& tasks_max_tries) {
  if (run.dag_id.empty()) return Status::InvalidArgument("CreateRun: empty dag_id");
  std::vector<std::string> task_ids;
  std::vector<int> max_tries;
  for (const auto& [task, tries] : tasks_max_tries) {
    if (tries < 1) {
      return Status::InvalidArgument(
          fmt::format("CreateRun: task {} has max_tries {} (must be >= 1)", task, tries));
    }
    task_ids.push_back(task);
    max_tries.push_back(tries);
  }
  const std::string conf = SanitizeText(run.conf_json);
  const std::string type = RunTypeName(run.type);
  std::optional<int64_t> created;
  auto work = [&](PgConnection& c, int attempt) -> Status {
    created.reset();
    if (attempt > 0) {
      // Did the last attempt's COMMIT land before the connection broke? Then the run is ours.
      DF_ASSIGN_OR_RETURN(
          auto mine, c.Query("SELECT run_id FROM dataforge.dag_runs WHERE "
                             "dag_id=$1 AND logical_us=$2 AND created_us=$3 AND "
                             "run_type=$4 AND conf_json=$5",
                             {run.dag_id, Int(run.logical_us), Int(run.created_us), type, conf}));
      if (mine.rows() > 0) {
        created = mine.Int(0, 0);
        return Status::OK();
      }
    }
    return InTransaction(c, [&]() -> Status {
      DF_RETURN_IF_ERROR(c.Query("INSERT INTO dataforge.dags(dag_id) VALUES($1) "
                                 "ON CONFLICT (dag_id) DO NOTHING",
                                 {run.dag_id})
                             .status());
      // The DAG's row lock first (as StartQueuedRuns), then its runs.
      DF_RETURN_IF_ERROR(
          c.Query("SELECT 1 FROM dataforge.dags WHERE dag_id=$1 FOR UPDATE", {run.dag_id})
              .status());
      DF_ASSIGN_OR_RETURN(
          auto ins, c.Query("INSERT INTO dataforge.dag_runs(dag_id, run_type, logical_us, "
                            "interval_start_us, interval_end_us, state, conf_json, created_us) "
                            "VALUES($1, $2, $3, $4, $5, 'queued', $6, $7) "
                            "ON CONFLICT (dag_id, logical_us) DO NOTHING RETURNING run_id",
                            {run.dag_id, type, Int(run.logical_us), Int(run.interval_start_us),
                             Int(run.interval_end_us), conf, Int(run.created_us)}));
      if (ins.rows() == 0) return Status::OK();  // it exists: nothing changed
      int64_t run_id = ins.Int(0, 0);
      if (!task_ids.empty()) {
        DF_RETURN_IF_ERROR(
            c.Query("INSERT INTO dataforge.task_instances(run_id, task_id, state, max_tries) "
                    "SELECT $1, t, 'none', m FROM unnest($2::text[], $3::int[]) AS u(t, m)",
                    {Int(run_id), TextArray(task_ids), IntArray(max_tries)})
                .status());
      }
      if (run.type != RunType::kManual) {
        DF_RETURN_IF_ERROR(c.Query("UPDATE dataforge.dags SET last_scheduled_start_us = "
                                   "GREATEST(last_scheduled_start_us, $2::bigint) "
                                   "WHERE dag_id=$1",
                                   {run.dag_id, Int(run.interval_start_us)})
                               .status());
      }
      created = run_id;
      return Status::OK();
    });
  };
  DF_RETURN_IF_ERROR(
      Run(true, fmt::format("creating a run of DAG {} at {}", run.dag_id, run.logical_us), work));
  return created;
}

Result<std::vector<int64_t>> PostgresRunStore::StartQueuedRuns(const std::string& dag_id,
                                                               int max_active_runs,
                                                               int64_t now_us) {
  if (max_active_runs < 1) {
    return Status::InvalidArgument(
        fmt::format("DAG {}: max_active_runs is {} (must be >= 1)", dag_id, max_active_runs));
  }
  std::vector<int64_t> started;
  auto work = [&](PgConnection& c, int attempt) -> Status {
    started.clear();
    return InTransaction(c, [&]() -> Status {
      DF_ASSIGN_OR_RETURN(
          auto dag, c.Query("SELECT 1 FROM dataforge.dags WHERE dag_id=$1 FOR UPDATE", {dag_id}));
      if (dag.rows() == 0) return Status::OK();  // never registered: it has no runs
      if (attempt > 0) {
        // What a lost COMMIT of the last attempt started.
        DF_ASSIGN_OR_RETURN(auto mine, c.Query("SELECT run_id FROM dataforge.dag_runs WHERE "
                                               "dag_id=$1 AND state='running' AND started_us=$2",
                                               {dag_id, Int(now_us)}));
        for (int i = 0; i < mine.rows(); ++i) started.push_back(mine.Int(i, 0));
      }
      DF_ASSIGN_OR_RETURN(auto running, c.Query("SELECT count(*) FROM dataforge.dag_runs WHERE "
                                                "dag_id=$1 AND state='running'",
                                                {dag_id}));
      int64_t room = max_active_runs - running.Int(0, 0);
      if (room <= 0) return Status::OK();
      DF_ASSIGN_OR_RETURN(
          auto up, c.Query("UPDATE dataforge.dag_runs SET state='running', started_us=$2 "
                           "WHERE run_id IN (SELECT run_id FROM dataforge.dag_runs WHERE "
                           "dag_id=$1 AND state='queued' ORDER BY logical_us, run_id LIMIT $3) "
                           "RETURNING run_id",
                           {dag_id, Int(now_us), Int(room)}));
      for (int i = 0; i < up.rows(); ++i) started.push_back(up.Int(i, 0));
      return Status::OK();
    });
  };
  DF_RETURN_IF_ERROR(Run(true, fmt::format("starting queued runs of DAG {}", dag_id), work));
  std::sort(started.begin(), started.end());
  started.erase(std::unique(started.begin(), started.end()), started.end());
  return started;
}

Result<std::vector<DagRun>> PostgresRunStore::ActiveRuns() {
  std::vector<DagRun> out;
  DF_RETURN_IF_ERROR(Run(false, "listing active runs", [&](PgConnection& c, int) -> Status {
    DF_ASSIGN_OR_RETURN(auto r, c.Query(fmt::format("SELECT {} FROM dataforge.dag_runs WHERE "
                                                    "state IN ('queued','running') ORDER BY "
                                                    "logical_us, run_id",
                                                    kRunColumns)));
    DF_ASSIGN_OR_RETURN(out, ReadRuns(r));
    return Status::OK();
  }));
  return out;
}

Result<DagRun> PostgresRunStore::GetRun(int64_t run_id) {
  std::vector<DagRun> out;
  DF_RETURN_IF_ERROR(
      Run(false, fmt::format("reading run {}", run_id), [&](PgConnection& c, int) -> Status {
        DF_ASSIGN_OR_RETURN(
            auto r,
            c.Query(fmt::format("SELECT {} FROM dataforge.dag_runs WHERE run_id=$1", kRunColumns),
                    {Int(run_id)}));
        DF_ASSIGN_OR_RETURN(out, ReadRuns(r));
        return Status::OK();
      }));
  if (out.empty()) return Status::NotFound(fmt::format("no DAG run {}", run_id));
  return std::move(out[0]);
}

Result<std::vector<DagRun>> PostgresRunStore::ListRuns(const std::string& dag_id, size_t limit) {
  std::vector<DagRun> out;
  int64_t n = static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX));
  DF_RETURN_IF_ERROR(Run(false, "listing runs", [&](PgConnection& c, int) -> Status {
    Result<PgResult> r =
        dag_id.empty()
            ? c.Query(fmt::format("SELECT {} FROM dataforge.dag_runs ORDER BY logical_us DESC, "
                                  "run_id DESC LIMIT $1",
                                  kRunColumns),
                      {Int(n)})
            : c.Query(fmt::format("SELECT {} FROM dataforge.dag_runs WHERE dag_id=$2 ORDER BY "
                                  "logical_us DESC, run_id DESC LIMIT $1",
                                  kRunColumns),
                      {Int(n), dag_id});
    if (!r.ok()) return r.status();
    DF_ASSIGN_OR_RETURN(out, ReadRuns(*r));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<RunStateCount>> PostgresRunStore::CountRunsByState() {
  std::vector<RunStateCount> out;
  DF_RETURN_IF_ERROR(Run(false, "counting runs", [&](PgConnection& c, int) -> Status {
    out.clear();
    DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT dag_id, state, COUNT(*) FROM dataforge.dag_runs "
                                        "GROUP BY dag_id, state"));
    for (int i = 0; i < r.rows(); ++i) {
      std::string state(r.Text(i, 1));
      auto s = ParseRunState(state);
      if (!s) return Status::Internal(fmt::format("dag_runs has a run in state '{}'", state));
      out.push_back({std::string(r.Text(i, 0)), *s, static_cast<uint64_t>(r.Int(i, 2))});
    }
    return Status::OK();
  }));
  SortRunStateCounts(&out);
  return out;
}

Result<std::vector<TaskInstance>> PostgresRunStore::ListTasks(int64_t run_id) {
  return ListTasksOfRuns({run_id});
}

Result<std::vector<TaskInstance>> PostgresRunStore::ListTasksOfRuns(
    const std::vector<int64_t>& run_ids) {
  std::vector<TaskInstance> out;
  if (run_ids.empty()) return out;
  DF_RETURN_IF_ERROR(Run(false, "listing task instances", [&](PgConnection& c, int) -> Status {
    DF_ASSIGN_OR_RETURN(auto r, c.Query(fmt::format("SELECT {} FROM dataforge.task_instances "
                                                    "WHERE run_id = ANY($1::bigint[]) "
                                                    "ORDER BY run_id, task_id",
                                                    kTaskColumns),
                                        {IntArray(run_ids)}));
    DF_ASSIGN_OR_RETURN(out, ReadTasks(r));
    return Status::OK();
  }));
  return out;
}

Result<std::optional<TaskState>> PostgresRunStore::PreviousTaskState(const std::string& dag_id,
                                                                     const std::string& task_id,
                                                                     int64_t logical_us) {
  std::optional<TaskState> out;
  DF_RETURN_IF_ERROR(
      Run(false, fmt::format("reading the previous state of {}.{}", dag_id, task_id),
          [&](PgConnection& c, int) -> Status {
            out.reset();
            // The newest earlier run, and the task's state in it (NULL if that run has no such
            // task).
            DF_ASSIGN_OR_RETURN(
                auto r, c.Query("SELECT (SELECT state FROM dataforge.task_instances t WHERE "
                                "t.run_id = r.run_id AND t.task_id = $3) FROM dataforge.dag_runs r "
                                "WHERE r.dag_id = $1 AND r.logical_us < $2 "
                                "ORDER BY r.logical_us DESC LIMIT 1",
                                {dag_id, Int(logical_us), task_id}));
            if (r.rows() == 0 || r.IsNull(0, 0)) return Status::OK();
            out = ParseTaskState(r.Text(0, 0));
            if (!out) {
              return Status::Corruption(
                  fmt::format("a task_instances row of {} has state '{}'", task_id, r.Text(0, 0)));
            }
            return Status::OK();
          }));
  return out;
}

Status PostgresRunStore::PromoteTasks(int64_t run_id, const std::vector<std::string>& ready,
                                      const std::vector<std::string>& blocked, int64_t now_us) {
  if (ready.empty() && blocked.empty()) return Status::OK();
  return Run(true, fmt::format("promoting tasks of run {}", run_id), [&](PgConnection& c, int) {
    // A task in both lists is ready (as on SQLite, where the ready ones go first).
    return c
        .Query(
            "UPDATE dataforge.task_instances SET "
            "state = CASE WHEN task_id = ANY($2::text[]) THEN 'scheduled' "
            "ELSE 'upstream_failed' END, "
            "ready_us = CASE WHEN task_id = ANY($2::text[]) THEN $4::bigint ELSE 0 END, "
            "ended_us = CASE WHEN task_id = ANY($2::text[]) THEN 0 ELSE $4::bigint END "
            "WHERE run_id = $1 AND state = 'none' "
            "AND (task_id = ANY($2::text[]) OR task_id = ANY($3::text[]))",
            {Int(run_id), TextArray(ready), TextArray(blocked), Int(now_us)})
        .status();
  });
}

Result<std::vector<TaskInstance>> PostgresRunStore::ClaimTasks(const std::string& owner,
                                                               int64_t now_us, int64_t lease_us,
                                                               size_t limit) {
  if (owner.empty()) return Status::InvalidArgument("ClaimTasks: empty owner");
  std::vector<TaskInstance> claimed;
  if (limit == 0) return claimed;
  const Params params = {owner, Int(now_us), Int(lease_us),
                         Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))};
  auto work = [&](PgConnection& c, int attempt) -> Status {
    if (attempt > 0) {
      // A lost COMMIT: the attempts the last try claimed are ours (running, lease from now).
      DF_ASSIGN_OR_RETURN(
          auto mine, c.Query(fmt::format("SELECT {} FROM dataforge.task_instances WHERE "
                                         "state='running' AND lease_owner=$1 AND started_us=$2 "
                                         "AND lease_expires_us=$2::bigint+$3::bigint "
                                         "LIMIT $4",
                                         kTaskColumns),
                             params));
      if (mine.rows() > 0) {
        DF_ASSIGN_OR_RETURN(claimed, ReadTasks(mine));
        return Status::OK();
      }
    }
    // The candidates are locked (others' locked candidates skipped) in a materialized CTE, so
    // the LIMIT applies once, then updated in the same statement.
    DF_ASSIGN_OR_RETURN(
        auto r,
        c.Query(fmt::format("WITH c AS MATERIALIZED (SELECT run_id, task_id FROM "
                            "dataforge.task_instances WHERE state IN ('scheduled','up_for_retry') "
                            "AND (state = 'scheduled' OR next_try_us <= $2::bigint) "
                            "AND NOT EXISTS (SELECT 1 FROM dataforge.dag_runs r JOIN "
                            "dataforge.dags d ON d.dag_id = r.dag_id WHERE r.run_id = "
                            "task_instances.run_id AND d.paused) "
                            "ORDER BY ready_us, run_id, task_id LIMIT $4 FOR UPDATE SKIP LOCKED) "
                            "UPDATE dataforge.task_instances t SET state='running', "
                            "try_number=t.try_number+1, lease_owner=$1, "
                            "lease_expires_us=$2::bigint+$3::bigint, started_us=$2, ended_us=0 "
                            "FROM c WHERE t.run_id=c.run_id AND t.task_id=c.task_id "
                            "RETURNING {}",
                            "t.run_id, t.task_id, t.state, t.try_number, t.max_tries, "
                            "t.ready_us, t.next_try_us, t.lease_owner, t.lease_expires_us, "
                            "t.started_us, t.ended_us, t.last_error, t.output"),
                params));
    DF_ASSIGN_OR_RETURN(claimed, ReadTasks(r));
    return Status::OK();
  };
  DF_RETURN_IF_ERROR(Run(true, "claiming tasks", work));
  std::sort(claimed.begin(), claimed.end(), [](const TaskInstance& a, const TaskInstance& b) {
    return std::tie(a.ready_us, a.run_id, a.task_id) < std::tie(b.ready_us, b.run_id, b.task_id);
  });
  return claimed;
}

Result<size_t> PostgresRunStore::RenewLeases(const std::string& owner, int64_t now_us,
                                             int64_t lease_us) {
  int64_t held = 0;
  DF_RETURN_IF_ERROR(Run(true, "renewing leases", [&](PgConnection& c, int) -> Status {
    DF_ASSIGN_OR_RETURN(auto r, c.Query("UPDATE dataforge.task_instances SET lease_expires_us=$2 "
                                        "WHERE state='running' AND lease_owner=$1",
                                        {owner, Int(now_us + lease_us)}));
    held = Affected(r);
    return Status::OK();
  }));
  return static_cast<size_t>(held);
}

Result<bool> PostgresRunStore::FinishTask(int64_t run_id, const std::string& task_id,
                                          int try_number, const std::string& owner,
                                          const TaskOutcome& outcome) {
  if (outcome.state != TaskState::kSuccess && outcome.state != TaskState::kFailed &&
      outcome.state != TaskState::kUpForRetry) {
    return Status::InvalidArgument(fmt::format("FinishTask: outcome state {} is not an outcome",
                                               TaskStateName(outcome.state)));
  }
  const std::string state = TaskStateName(outcome.state);
  const int64_t next_try = outcome.state == TaskState::kUpForRetry ? outcome.next_try_us : 0;
  const Params params = {Int(run_id),
                         task_id,
                         Int(try_number),
                         owner,
                         state,
                         Int(next_try),
                         Int(outcome.ended_us),
                         SanitizeText(outcome.error),
                         SanitizeText(outcome.output),
                         Int(GivesBackTry(outcome) ? 1 : 0)};
  // The try_number the row has once this lands.
  const int after = try_number - (GivesBackTry(outcome) ? 1 : 0);
  bool landed = false;
  auto work = [&](PgConnection& c, int attempt) -> Status {
    DF_ASSIGN_OR_RETURN(
        auto r, c.Query("UPDATE dataforge.task_instances SET state=$5, next_try_us=$6, "
                        "ready_us = CASE WHEN $5 = 'up_for_retry' THEN $6::bigint "
                        "ELSE ready_us END, "
                        "ended_us=$7, last_error=$8, output=$9, lease_expires_us=0, "
                        "try_number = try_number - $10::int "
                        "WHERE run_id=$1 AND task_id=$2 AND try_number=$3 AND lease_owner=$4 "
                        "AND state='running' RETURNING 1",
                        params));
    landed = r.rows() > 0;
    if (!landed && attempt > 0) {
      // Did the last attempt land before the connection broke?
      DF_ASSIGN_OR_RETURN(auto mine, c.Query("SELECT 1 FROM dataforge.task_instances WHERE "
                                             "run_id=$1 AND task_id=$2 AND try_number=$3 AND "
                                             "lease_owner=$4 AND state=$5 AND ended_us=$6",
                                             {Int(run_id), task_id, Int(after), owner, state,
                                              Int(outcome.ended_us)}));
      landed = mine.rows() > 0;
    }
    return Status::OK();
  };
  DF_RETURN_IF_ERROR(
      Run(true, fmt::format("finishing task {} of run {} (try {})", task_id, run_id, try_number),
          work));
  return landed;
}

Result<std::vector<TaskInstance>> PostgresRunStore::ExpiredAttempts(
    int64_t now_us, const std::string& owner_prefix) {
  std::vector<TaskInstance> out;
  DF_RETURN_IF_ERROR(Run(false, "listing expired attempts", [&](PgConnection& c, int) -> Status {
    DF_ASSIGN_OR_RETURN(
        auto r, c.Query(fmt::format("SELECT {} FROM dataforge.task_instances WHERE "
                                    "state='running' AND (lease_expires_us < $1 OR "
                                    "($2::text <> '' AND left(lease_owner, length($2::text)) = "
                                    "$2::text)) ORDER BY run_id, task_id",
                                    kTaskColumns),
                        {Int(now_us), owner_prefix}));
    DF_ASSIGN_OR_RETURN(out, ReadTasks(r));
    return Status::OK();
  }));
  return out;
}

Result<bool> PostgresRunStore::FinishRun(int64_t run_id, RunState state, int64_t now_us) {
  if (state != RunState::kSuccess && state != RunState::kFailed) {
    return Status::InvalidArgument(
        fmt::format("FinishRun: {} is not an end state", RunStateName(state)));
  }
  const Params params = {Int(run_id), RunStateName(state), Int(now_us)};
  bool ended = false;
  auto work = [&](PgConnection& c, int attempt) -> Status {
    DF_ASSIGN_OR_RETURN(auto r, c.Query("UPDATE dataforge.dag_runs SET state=$2, ended_us=$3 "
                                        "WHERE run_id=$1 AND state='running' RETURNING 1",
                                        params));
    ended = r.rows() > 0;
    if (!ended && attempt > 0) {
      DF_ASSIGN_OR_RETURN(auto mine, c.Query("SELECT 1 FROM dataforge.dag_runs WHERE run_id=$1 "
                                             "AND state=$2 AND ended_us=$3",
                                             params));
      ended = mine.rows() > 0;
    }
    return Status::OK();
  };
  DF_RETURN_IF_ERROR(Run(true, fmt::format("finishing run {}", run_id), work));
  return ended;
}

Result<size_t> PostgresRunStore::ClearTasks(int64_t run_id,
                                            const std::vector<std::string>& task_ids,
                                            const std::vector<int>& retries) {
  if (task_ids.size() != retries.size()) {
    return Status::InvalidArgument(
        fmt::format("ClearTasks: {} tasks but {} retry counts", task_ids.size(), retries.size()));
  }
  std::vector<std::string> ids;
  std::vector<int> extra;
  std::set<std::string> seen;
  for (size_t i = 0; i < task_ids.size(); ++i) {
    if (!seen.insert(task_ids[i]).second) continue;
    ids.push_back(task_ids[i]);
    extra.push_back(std::max(retries[i], 0));
  }
  int64_t reset = 0;
  auto work = [&](PgConnection& c, int) -> Status {
    reset = 0;
    return InTransaction(c, [&]() -> Status {
      DF_ASSIGN_OR_RETURN(auto run, c.Query("SELECT state FROM dataforge.dag_runs WHERE "
                                            "run_id=$1 FOR UPDATE",
                                            {Int(run_id)}));
      if (run.rows() == 0) return Status::NotFound(fmt::format("no DAG run {}", run_id));
      // A queued run has not started: it stays queued (and within max_active_runs).
      DF_RETURN_IF_ERROR(c.Query("UPDATE dataforge.dag_runs SET state='running', ended_us=0 "
                                 "WHERE run_id=$1 AND state<>'queued'",
                                 {Int(run_id)})
                             .status());
      // A running attempt is left alone (its scheduler still holds it).
      DF_ASSIGN_OR_RETURN(
          auto r, c.Query("UPDATE dataforge.task_instances t SET state='none', "
                          "max_tries = t.try_number + v.retries + 1, next_try_us=0, ready_us=0, "
                          "lease_expires_us=0 "
                          "FROM unnest($2::text[], $3::int[]) AS v(task_id, retries) "
                          "WHERE t.run_id=$1 AND t.task_id=v.task_id AND t.state<>'running'",
                          {Int(run_id), TextArray(ids), IntArray(extra)}));
      reset = Affected(r);
      return Status::OK();
    });
  };
  DF_RETURN_IF_ERROR(Run(true, fmt::format("clearing tasks of run {}", run_id), work));
  return static_cast<size_t>(reset);
}

}  // namespace dataforge
