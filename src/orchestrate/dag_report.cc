#include "orchestrate/dag_report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "common/redact.h"
#include "orchestrate/scheduler.h"
#include "schedule/schedule.h"

namespace dataforge {

const DagSpec* FindDag(const PipelineConfig& c, const std::string& id) {
  for (const auto& d : c.dags) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

std::string UnknownDagMessage(const PipelineConfig& c, const std::string& id) {
  std::vector<std::string> ids;
  for (const auto& d : c.dags) ids.push_back(d.id);
  return fmt::format("unknown DAG '{}'; the pipeline file declares: {}", id,
                     ids.empty() ? "none" : fmt::format("{}", fmt::join(ids, ", ")));
}

Status RefuseIfPaused(RunStore& store, const std::string& dag_id) {
  DF_ASSIGN_OR_RETURN(auto rows, store.ListDags());
  for (const auto& row : rows) {
    if (row.dag_id == dag_id && row.paused) {
      return Status::FailedPrecondition(
          fmt::format("DAG {} is paused: its runs do not start; unpause it first (dataforge "
                      "dags unpause {})",
                      dag_id, dag_id));
    }
  }
  return Status::OK();
}

std::optional<int64_t> NextRunDue(const DagSpec& d, const std::optional<DagRow>& row,
                                  int64_t now_us) {
  std::optional<int64_t> last = row ? row->last_scheduled_start_us : std::nullopt;
  auto schedule = Schedule::Parse(d.schedule, d.time_zone);
  if (!schedule.ok()) return std::nullopt;
  if (!last && !d.catchup) {
    // The newest complete interval runs first.
    auto due = DueIntervals(*schedule, d.start_us, std::nullopt, now_us, false, 1);
    return due.empty() ? NextDueAt(*schedule, d.start_us, std::nullopt)
                       : std::optional<int64_t>(due.back().end_us);
  }
  return NextDueAt(*schedule, d.start_us, last);
}

std::string DagJson(const DagSpec& d, const std::optional<DagRow>& row,
                    const std::string& last_run_state, int64_t now_us) {
  bool paused = row ? row->paused : d.paused_on_create;
  std::optional<int64_t> next = NextRunDue(d, row, now_us);
  return JsonObjectWriter()
      .String("dag_id", d.id)
      .String("schedule", d.schedule)
      .String("timezone", d.time_zone)
      .Bool("paused", paused)
      .Bool("catchup", d.catchup)
      .String("next_run_due", next ? FormatIso8601(*next, d.time_zone) : "")
      .String("last_run_state", last_run_state)
      .Int("tasks", static_cast<int64_t>(d.tasks.size()))
      .Finish();
}

std::string RunTime(int64_t us) {
  return us == 0 ? "-" : FormatIso8601(us, "UTC");
}

std::string RunJson(const DagRun& r) {
  return JsonObjectWriter()
      .Int("run_id", r.run_id)
      .String("dag_id", r.dag_id)
      .String("type", RunTypeName(r.type))
      .String("state", RunStateName(r.state))
      .String("logical_date", RunTime(r.logical_us))
      .String("data_interval_start", RunTime(r.interval_start_us))
      .String("data_interval_end", RunTime(r.interval_end_us))
      .Raw("conf", r.conf_json.empty() ? "{}" : r.conf_json)
      .Int("created_us", r.created_us)
      .Int("started_us", r.started_us)
      .Int("ended_us", r.ended_us)
      .Finish();
}

std::string TaskJson(const TaskInstance& t) {
  return JsonObjectWriter()
      .String("task_id", t.task_id)
      .String("state", TaskStateName(t.state))
      .Int("try_number", t.try_number)
      .Int("max_tries", t.max_tries)
      .Int("started_us", t.started_us)
      .Int("ended_us", t.ended_us)
      .String("last_error", t.last_error)
      .String("output", t.output)
      .Finish();
}

std::string RunWithTasksJson(const DagRun& run, const std::vector<TaskInstance>& tasks) {
  std::string list = "[";
  for (size_t i = 0; i < tasks.size(); ++i) list += (i ? "," : "") + TaskJson(tasks[i]);
  list += "]";
  std::string r = RunJson(run);
  r.pop_back();
  return fmt::format("{},\"tasks\":{}}}", r, Redact(list));
}

void SortTasksInDagOrder(const PipelineConfig& c, const std::string& dag_id,
                         std::vector<TaskInstance>* tasks) {
  const DagSpec* d = FindDag(c, dag_id);
  if (!d) return;
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < d->tasks.size(); ++i) order[d->tasks[i].id] = i;
  auto rank = [&](const std::string& id) {
    auto it = order.find(id);
    return it == order.end() ? order.size() : it->second;
  };
  std::stable_sort(tasks->begin(), tasks->end(),
                   [&](const auto& a, const auto& b) { return rank(a.task_id) < rank(b.task_id); });
}

Status SetDagPaused(RunStore& store, const PipelineConfig& c, const std::string& dag_id,
                    bool paused) {
  if (!FindDag(c, dag_id)) return Status::NotFound(UnknownDagMessage(c, dag_id));
  std::vector<std::pair<std::string, bool>> ids;
  for (const auto& d : c.dags) ids.emplace_back(d.id, d.paused_on_create);
  DF_RETURN_IF_ERROR(store.RegisterDags(ids));
  return store.SetPaused(dag_id, paused);
}

Result<std::vector<std::string>> ClearTask(RunStore& store, const DagSpec& d, int64_t run_id,
                                           const std::string& task_id, bool downstream) {
  bool known = false;
  std::vector<std::string> all;
  for (const auto& t : d.tasks) {
    known |= t.id == task_id;
    all.push_back(t.id);
  }
  if (!known) {
    return Status::NotFound(
        fmt::format("DAG {} has no task '{}'; its tasks: {}", d.id, task_id, fmt::join(all, ", ")));
  }
  std::vector<std::string> wanted =
      downstream ? TaskAndDownstream(d, task_id) : std::vector<std::string>{task_id};
  // A running attempt is left alone (its scheduler holds it): not cleared.
  DF_ASSIGN_OR_RETURN(auto instances, store.ListTasks(run_id));
  std::vector<std::string> ids;
  std::vector<int> retries;
  for (const auto& id : wanted) {
    bool running = false;
    for (const auto& ti : instances) running |= ti.task_id == id && ti.state == TaskState::kRunning;
    if (running) continue;
    for (const auto& t : d.tasks) {
      if (t.id == id) retries.push_back(t.retries);
    }
    ids.push_back(id);
  }
  DF_RETURN_IF_ERROR(store.ClearTasks(run_id, ids, retries).status());
  return ids;
}

Result<std::optional<DagRun>> QueueManualRun(RunStore& store, const DagSpec& d,
                                             const std::string& conf_json, int64_t now_us) {
  DF_ASSIGN_OR_RETURN(auto schedule, Schedule::Parse(d.schedule, d.time_zone));
  DataInterval iv = LatestCompleteInterval(schedule, d.start_us, now_us);
  DagRun run;
  run.dag_id = d.id;
  run.type = RunType::kManual;
  run.logical_us = now_us;
  run.interval_start_us = iv.start_us;
  run.interval_end_us = iv.end_us;
  run.conf_json = conf_json;
  run.created_us = now_us;
  std::vector<std::pair<std::string, int>> tries;
  for (const auto& t : d.tasks) tries.emplace_back(t.id, t.retries + 1);
  DF_ASSIGN_OR_RETURN(auto id, store.CreateRun(run, tries));
  if (!id) return std::optional<DagRun>();
  run.run_id = *id;
  return std::optional<DagRun>(std::move(run));
}

}  // namespace dataforge
