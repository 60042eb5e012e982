// The routes that act on DAGs and show their runs as a grid (docs/serving.md "Pipeline
// endpoints"):
//   POST /v1/dags/{dag}/pause, /unpause                 dags pause (audited): `dags pause|unpause`
//   POST /v1/runs/{run_id}/tasks/{task_id}/clear?downstream=
//                                                       dags clear (audited): `tasks clear`
//   GET  /v1/dags/{dag}/grid?limit=                     dags read: runs x tasks, newest first
//   GET  /v1/runs/{run_id}/tasks/{task_id}              dags read: one task instance
// The pause and clear go through the same functions as the CLI (orchestrate/dag_report.h).
#include <fmt/format.h>

#include "auth/access_policy.h"
#include "common/json_writer.h"
#include "common/redact.h"
#include "orchestrate/dag_report.h"
#include "serve/rest/dag_api.h"
#include "serve/rest/query_params.h"

namespace dataforge::rest {
namespace {

using auth::Action;
using auth::ResourceKind;
using http::ApiRequest;
using http::ApiResponse;
using http::JsonResponse;
using http::ResponseOrError;

constexpr size_t kGridDefaultRuns = 25;
constexpr size_t kGridMaxRuns = 100;

Result<const DagSpec*> DagOfPath(const PipelineApiBackends& b, const ApiRequest& req) {
  const std::string& dag_id = req.path_params.at("dag");
  const DagSpec* d = FindDag(*b.config, dag_id);
  if (!d) return Status::NotFound(UnknownDagMessage(*b.config, dag_id));
  return d;
}

// The run of the path's run_id, after checking `action` on its DAG.
Result<DagRun> RunOfPath(const PipelineApiBackends& b, const ApiRequest& req, Action action) {
  const std::string& text = req.path_params.at("run_id");
  DF_ASSIGN_OR_RETURN(int64_t id,
                      ParseIntParam(fmt::format("run id '{}' in the path", text), text, 1));
  if (!b.runs) return Status::NotFound(fmt::format("run {} not found: nothing has run here", id));
  auto run = b.runs->GetRun(id);
  if (!run.ok() && run.status().code() == StatusCode::kNotFound) {
    return Status::NotFound(fmt::format("run {} not found; see GET /v1/runs", id));
  }
  DF_RETURN_IF_ERROR(run.status());
  if (!req.Allowed(ResourceKind::kDags, run->dag_id, action)) {
    return Status::PermissionDenied(
        auth::AccessPolicy::DeniedMessage(req.principal, ResourceKind::kDags, run->dag_id, action));
  }
  return std::move(run).value();
}

Result<ApiResponse> SetPaused(const PipelineApiBackends& b, const ApiRequest& req, bool paused) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {}));
  DF_ASSIGN_OR_RETURN(const DagSpec* d, DagOfPath(b, req));
  if (!b.runs) {
    return Status::Unavailable("this server has no run store to keep the DAG's pause state in");
  }
  DF_RETURN_IF_ERROR(SetDagPaused(*b.runs, *b.config, d->id, paused));
  DF_ASSIGN_OR_RETURN(std::string dag, DagObjectJson(b, *d));
  return JsonResponse(dag);
}

Result<ApiResponse> ClearTaskRoute(const PipelineApiBackends& b, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {"downstream"}));
  bool downstream = true;
  if (const std::string* text = req.Query("downstream")) {
    if (*text != "true" && *text != "false") {
      return Status::InvalidArgument(
          fmt::format("downstream={}: expected true (the task and every task downstream of it, "
                      "the default) or false (the task alone)",
                      *text));
    }
    downstream = *text == "true";
  }
  if (!b.runs) return Status::Unavailable("this server has no run store: nothing has run here");
  DF_ASSIGN_OR_RETURN(DagRun run, RunOfPath(b, req, Action::kClear));
  const DagSpec* d = FindDag(*b.config, run.dag_id);
  if (!d) return Status::NotFound(UnknownDagMessage(*b.config, run.dag_id));
  DF_ASSIGN_OR_RETURN(
      auto cleared, ClearTask(*b.runs, *d, run.run_id, req.path_params.at("task_id"), downstream));
  DF_ASSIGN_OR_RETURN(DagRun after, b.runs->GetRun(run.run_id));
  DF_ASSIGN_OR_RETURN(auto tasks, b.runs->ListTasks(run.run_id));
  SortTasksInDagOrder(*b.config, run.dag_id, &tasks);
  std::string ids = "[";
  for (const auto& id : cleared) {
    if (ids.size() > 1) ids += ',';
    ids += JsonString(id);
  }
  ids += ']';
  return JsonResponse(
      JsonObjectWriter().Raw("cleared", ids).Raw("run", RunWithTasksJson(after, tasks)).Finish());
}

// {"dag","tasks":[ids in DAG order],"runs":[{"run_id","logical_date","state","run_type",
// "tasks":{id:{"state","try_number"}}}]}, newest run first.
Result<ApiResponse> GetGrid(const PipelineApiBackends& b, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {"limit"}));
  DF_ASSIGN_OR_RETURN(const DagSpec* d, DagOfPath(b, req));
  DF_ASSIGN_OR_RETURN(size_t limit, LimitParam(req, kGridDefaultRuns, kGridMaxRuns));
  std::vector<DagRun> runs;
  std::vector<TaskInstance> instances;
  if (b.runs) {
    DF_ASSIGN_OR_RETURN(runs, b.runs->ListRuns(d->id, limit));
    std::vector<int64_t> ids;
    for (const auto& r : runs) ids.push_back(r.run_id);
    if (!ids.empty()) {
      DF_ASSIGN_OR_RETURN(instances, b.runs->ListTasksOfRuns(ids));
    }
  }
  SortTasksInDagOrder(*b.config, d->id, &instances);
  std::string task_ids = "[";
  for (const auto& t : d->tasks) {
    if (task_ids.size() > 1) task_ids += ',';
    task_ids += JsonString(t.id);
  }
  task_ids += ']';
  std::string rows = "[";
  for (const auto& r : runs) {
    JsonObjectWriter cells;
    for (const auto& ti : instances) {
      if (ti.run_id != r.run_id) continue;
      cells.Raw(ti.task_id, JsonObjectWriter()
                                .String("state", TaskStateName(ti.state))
                                .Int("try_number", ti.try_number)
                                .Finish());
    }
    if (rows.size() > 1) rows += ',';
    rows += JsonObjectWriter()
                .Int("run_id", r.run_id)
                .String("logical_date", RunTime(r.logical_us))
                .String("state", RunStateName(r.state))
                .String("run_type", RunTypeName(r.type))
                .Raw("tasks", cells.Finish())
                .Finish();
  }
  rows += ']';
  return JsonResponse(
      JsonObjectWriter().String("dag", d->id).Raw("tasks", task_ids).Raw("runs", rows).Finish());
}

// One task instance as GET /v1/runs/{run_id} lists it, with its whole stored output.
Result<ApiResponse> GetTask(const PipelineApiBackends& b, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {}));
  DF_ASSIGN_OR_RETURN(DagRun run, RunOfPath(b, req, Action::kRead));
  const std::string& task_id = req.path_params.at("task_id");
  DF_ASSIGN_OR_RETURN(auto tasks, b.runs->ListTasks(run.run_id));
  SortTasksInDagOrder(*b.config, run.dag_id, &tasks);
  std::vector<std::string> ids;
  for (const auto& t : tasks) {
    if (t.task_id == task_id) return JsonResponse(Redact(TaskJson(t)));
    ids.push_back(t.task_id);
  }
  return Status::NotFound(fmt::format("run {} of DAG {} has no task '{}'; its tasks: {}",
                                      run.run_id, run.dag_id, task_id, fmt::join(ids, ", ")));
}

}  // namespace

void RegisterDagControlRoutes(http::ApiRouter* router, const PipelineApiBackends& b) {
  http::RouteAccess pause{ResourceKind::kDags, Action::kPause, "dag", true};
  router->Add("POST", "/v1/dags/{dag}/pause", pause, [b](const ApiRequest& req) {
    return ResponseOrError([&] { return SetPaused(b, req, true); });
  });
  router->Add("POST", "/v1/dags/{dag}/unpause", pause, [b](const ApiRequest& req) {
    return ResponseOrError([&] { return SetPaused(b, req, false); });
  });
  // The resource is the run's DAG: the handler checks it (RunOfPath).
  router->Add("POST", "/v1/runs/{run_id}/tasks/{task_id}/clear",
              http::RouteAccess{ResourceKind::kDags, Action::kClear, "", true},
              [b](const ApiRequest& req) {
                return ResponseOrError([&] { return ClearTaskRoute(b, req); });
              });
  router->Add(
      "GET", "/v1/dags/{dag}/grid",
      http::RouteAccess{ResourceKind::kDags, Action::kRead, "dag", false},
      [b](const ApiRequest& req) { return ResponseOrError([&] { return GetGrid(b, req); }); });
  router->Add(
      "GET", "/v1/runs/{run_id}/tasks/{task_id}",
      http::RouteAccess{ResourceKind::kDags, Action::kRead, "", false},
      [b](const ApiRequest& req) { return ResponseOrError([&] { return GetTask(b, req); }); });
}

}  // namespace dataforge::rest
