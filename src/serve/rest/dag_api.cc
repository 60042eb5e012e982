#include "serve/rest/dag_api.h"

#include <simdjson.h>

#include <map>
#include <tuple>

#include <fmt/format.h>

#include "auth/access_policy.h"
#include "common/json_writer.h"
#include "orchestrate/dag_report.h"
#include "serve/rest/query_params.h"

namespace dataforge::rest {
namespace {

using auth::Action;
using auth::ResourceKind;
using http::ApiRequest;
using http::ApiResponse;
using http::JsonResponse;
using http::ResponseOrError;

Result<ApiResponse> ListDags(const PipelineApiBackends& b, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {}));
  std::map<std::string, DagRow> rows;
  if (b.runs) {
    DF_ASSIGN_OR_RETURN(auto list, b.runs->ListDags());
    for (auto& r : list) rows[r.dag_id] = r;
  }
  int64_t now = b.clock->NowMicros();
  std::string dags = "[";
  for (const auto& d : b.config->dags) {
    if (!req.Allowed(ResourceKind::kDags, d.id, Action::kRead)) continue;
    std::optional<DagRow> row;
    if (auto it = rows.find(d.id); it != rows.end()) row = it->second;
    std::string last_state;
    if (b.runs) {
      DF_ASSIGN_OR_RETURN(auto runs, b.runs->ListRuns(d.id, 1));
      if (!runs.empty()) last_state = RunStateName(runs[0].state);
    }
    if (dags.size() > 1) dags += ',';
    dags += DagJson(d, row, last_state, now);
  }
  dags += ']';
  return JsonResponse(JsonObjectWriter().Raw("dags", dags).Finish());
}

// The conf of a trigger's body: {} for an empty body, else the object's "conf" (minified).
Result<std::string> TriggerConf(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return std::string("{}");
  static constexpr std::string_view kShape =
      "; send {\"conf\": {\"key\": \"value\"}} or no body at all";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::object obj;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS || doc.get_object().get(obj)) {
    return Status::InvalidArgument(fmt::format("request body: not a JSON object{}", kShape));
  }
  std::string conf = "{}";
  for (auto field : obj) {
    if (field.key != "conf") {
      return Status::InvalidArgument(
          fmt::format("request body: unknown field '{}'{}", field.key, kShape));
    }
    if (!field.value.is_object()) {
      return Status::InvalidArgument(fmt::format("request body: conf is not an object{}", kShape));
    }
    conf = simdjson::minify(field.value);
  }
  return conf;
}

Result<ApiResponse> TriggerRun(const PipelineApiBackends& b, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {}));
  const std::string& dag_id = req.path_params.at("dag");
  const DagSpec* d = FindDag(*b.config, dag_id);
  if (!d) return Status::NotFound(UnknownDagMessage(*b.config, dag_id));
  DF_ASSIGN_OR_RETURN(std::string conf, TriggerConf(req.body));
  if (!b.runs) {
    return Status::Unavailable("this server has no run store to queue runs in");
  }
  std::vector<std::pair<std::string, bool>> ids;
  for (const auto& dag : b.config->dags) ids.emplace_back(dag.id, dag.paused_on_create);
  DF_RETURN_IF_ERROR(b.runs->RegisterDags(ids));
  DF_RETURN_IF_ERROR(RefuseIfPaused(*b.runs, d->id));
  DF_ASSIGN_OR_RETURN(auto run, QueueManualRun(*b.runs, *d, conf, b.clock->NowMicros()));
  if (!run) {
    return Status::FailedPrecondition(
        fmt::format("a run of DAG {} exists at this instant already; trigger again", d->id));
  }
  ApiResponse r = JsonResponse(RunJson(*run), 201);
  r.headers.emplace_back("Location", fmt::format("/v1/runs/{}", run->run_id));
  return r;
}

// Runs newest first (logical date, then run id, descending); the cursor is the last one shown.
Result<ApiResponse> ListRuns(const PipelineApiBackends& b, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {"dag", "limit", "cursor"}));
  std::string dag;
  if (const std::string* text = req.Query("dag")) {
    dag = *text;
    if (!FindDag(*b.config, dag)) {
      return Status::NotFound(UnknownDagMessage(*b.config, dag));
    }
  }
  DF_ASSIGN_OR_RETURN(size_t limit, LimitParam(req));
  std::optional<std::tuple<int64_t, int64_t>> after;
  if (const std::string* cursor = req.Query("cursor")) {
    DF_ASSIGN_OR_RETURN(auto f, DecodeCursor("runs", *cursor, 2));
    after = std::make_tuple(f[0], f[1]);
  }
  std::vector<DagRun> all;
  // The run store lists from the newest; a page after the cursor reads up to it.
  if (b.runs) {
    DF_ASSIGN_OR_RETURN(all, b.runs->ListRuns(dag, SIZE_MAX));
  }
  std::string runs = "[";
  size_t shown = 0;
  bool more = false;
  std::tuple<int64_t, int64_t> last{0, 0};
  for (const auto& r : all) {
    auto pos = std::make_tuple(r.logical_us, r.run_id);
    if (after && pos >= *after) continue;
    if (!req.Allowed(ResourceKind::kDags, r.dag_id, Action::kRead)) continue;
    if (shown == limit) {
      more = true;
      break;
    }
    if (shown++) runs += ',';
    runs += RunJson(r);
    last = pos;
  }
  runs += ']';
  JsonObjectWriter w;
  w.Raw("runs", runs);
  if (more) {
    w.String("next_cursor", EncodeCursor("runs", {std::get<0>(last), std::get<1>(last)}));
  } else {
    w.Null("next_cursor");
  }
  return JsonResponse(w.Finish());
}

Result<ApiResponse> GetRun(const PipelineApiBackends& b, const ApiRequest& req) {
  DF_RETURN_IF_ERROR(CheckKnownParams(req, {}));
  const std::string& text = req.path_params.at("run_id");
  DF_ASSIGN_OR_RETURN(int64_t id,
                      ParseIntParam(fmt::format("run id '{}' in the path", text), text, 1));
  if (!b.runs) return Status::NotFound(fmt::format("run {} not found: nothing has run here", id));
  auto run = b.runs->GetRun(id);
  if (!run.ok() && run.status().code() == StatusCode::kNotFound) {
    return Status::NotFound(fmt::format("run {} not found; see GET /v1/runs", id));
  }
  DF_RETURN_IF_ERROR(run.status());
  if (!req.Allowed(ResourceKind::kDags, run->dag_id, Action::kRead)) {
    return Status::PermissionDenied(auth::AccessPolicy::DeniedMessage(
        req.principal, ResourceKind::kDags, run->dag_id, Action::kRead));
  }
  DF_ASSIGN_OR_RETURN(auto tasks, b.runs->ListTasks(id));
  SortTasksInDagOrder(*b.config, run->dag_id, &tasks);
  return JsonResponse(RunWithTasksJson(*run, tasks));
}

}  // namespace

Result<std::string> DagObjectJson(const PipelineApiBackends& b, const DagSpec& d) {
  std::optional<DagRow> row;
  std::string last_state;
  if (b.runs) {
    DF_ASSIGN_OR_RETURN(auto list, b.runs->ListDags());
    for (auto& r : list) {
      if (r.dag_id == d.id) row = r;
    }
    DF_ASSIGN_OR_RETURN(auto runs, b.runs->ListRuns(d.id, 1));
    if (!runs.empty()) last_state = RunStateName(runs[0].state);
  }
  return DagJson(d, row, last_state, b.clock->NowMicros());
}

void RegisterDagRoutes(http::ApiRouter* router, const PipelineApiBackends& b) {
  http::RouteAccess dags_read{ResourceKind::kDags, Action::kRead, "", false};
  router->Add("GET", "/v1/dags", dags_read, [b](const ApiRequest& req) {
    return ResponseOrError([&] { return ListDags(b, req); });
  });
  router->Add(
      "POST", "/v1/dags/{dag}/runs",
      http::RouteAccess{ResourceKind::kDags, Action::kTrigger, "dag", true},
      [b](const ApiRequest& req) { return ResponseOrError([&] { return TriggerRun(b, req); }); });
  router->Add("GET", "/v1/runs", dags_read, [b](const ApiRequest& req) {
    return ResponseOrError([&] { return ListRuns(b, req); });
  });
  router->Add("GET", "/v1/runs/{run_id}", dags_read, [b](const ApiRequest& req) {
    return ResponseOrError([&] { return GetRun(b, req); });
  });
  RegisterDagControlRoutes(router, b);
}

}  // namespace dataforge::rest
