// DAGs and runs as JSON, and a manual run requested now: shared by the CLI (`dags list --json`,
// `dags trigger`, `runs list --json`, `runs show --json`) and the REST API
// (serve/rest/pipeline_api.h), so both print the same objects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "orchestrate/state/run_store.h"

namespace dataforge {

// The pipeline file's DAG `id`, or nullptr.
const DagSpec* FindDag(const PipelineConfig& config, const std::string& id);
// "unknown DAG 'x'; the pipeline file declares: a, b" (or "none").
std::string UnknownDagMessage(const PipelineConfig& config, const std::string& id);

// FailedPrecondition when the run store has `dag_id` paused: its runs do not start.
Status RefuseIfPaused(RunStore& store, const std::string& dag_id);

// When the DAG's next scheduled run is due after `now_us`; nullopt: never (or a bad schedule).
std::optional<int64_t> NextRunDue(const DagSpec& dag, const std::optional<DagRow>& row,
                                  int64_t now_us);

// One DAG as `dags list --json` prints it: its schedule, pause state (`row`, or the file's
// paused_on_create when the run store has no row), next run due after `now_us`, the state of
// its newest run ("" if none) and its task count.
std::string DagJson(const DagSpec& dag, const std::optional<DagRow>& row,
                    const std::string& last_run_state, int64_t now_us);

// "-" for 0, else ISO 8601 in UTC.
std::string RunTime(int64_t us);
std::string RunJson(const DagRun& run);
std::string TaskJson(const TaskInstance& task);
// RunJson with "tasks": [TaskJson...] (errors and output redacted), what `runs show --json`
// prints.
std::string RunWithTasksJson(const DagRun& run, const std::vector<TaskInstance>& tasks);
// `tasks` in the order the DAG lists them (the file's), when the file declares the DAG.
void SortTasksInDagOrder(const PipelineConfig& config, const std::string& dag_id,
                         std::vector<TaskInstance>* tasks);

// Pauses or unpauses `dag_id` in the run store (registering the pipeline file's DAGs first, so a
// DAG no scheduler has seen yet gets its row): what `dags pause|unpause` and
// POST /v1/dags/{dag}/pause|unpause do. NotFound "unknown DAG ..." when the file does not declare
// it.
Status SetDagPaused(RunStore& store, const PipelineConfig& config, const std::string& dag_id,
                    bool paused);

// Resets `task_id` of run `run_id` of `dag` and, with `downstream`, every task downstream of it
// (scheduler.h TaskAndDownstream) so that the scheduler runs them again (RunStore::ClearTasks:
// each gets retries + 1 more tries; the run goes back to running): what `tasks clear` and
// POST /v1/runs/{run_id}/tasks/{task_id}/clear do. Returns the task ids cleared, in DAG order: a
// task whose attempt is running is left to its scheduler and not among them.
// NotFound "DAG d has no task 't'; its tasks: a, b" for a task the DAG does not declare, and
// NotFound for an unknown run (the run store's).
Result<std::vector<std::string>> ClearTask(RunStore& store, const DagSpec& dag, int64_t run_id,
                                           const std::string& task_id, bool downstream);

// Queues a manual run of `dag` at `now_us` with `conf_json` (a minified JSON object). Returns
// the run; nullopt when a run of the DAG exists at that instant already.
Result<std::optional<DagRun>> QueueManualRun(RunStore& store, const DagSpec& dag,
                                             const std::string& conf_json, int64_t now_us);

}  // namespace dataforge
