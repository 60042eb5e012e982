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

// Queues a manual run of `dag` at `now_us` with `conf_json` (a minified JSON object). Returns
// the run; nullopt when a run of the DAG exists at that instant already.
Result<std::optional<DagRun>> QueueManualRun(RunStore& store, const DagSpec& dag,
                                             const std::string& conf_json, int64_t now_us);

}  // namespace dataforge
