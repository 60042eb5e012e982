#include "serve/rest/whoami_api.h"

#include <string>

#include "common/json_writer.h"
#include "common/redact.h"

namespace dataforge::rest {
namespace {

using auth::Action;
using auth::ResourceKind;

std::string Backends(const PipelineConfig& config) {
  JsonObjectWriter b;
  b.String("source", config.source.url.empty() ? "built-in randomuser API (loopback)"
                                               : Redact(config.source.url));
  b.String("staging", Redact(config.staging.url));
  b.String("log", Redact(config.log.url));
  b.String("store", Redact(config.store.url));
  b.String("topic", config.log.topic);
  b.String("group", config.process.group);
  return b.Finish();
}

http::ApiResponse WhoAmI(const http::ApiRequest& req, const PipelineConfig& config) {
  bool any_trigger = false, any_clear = false, any_pause = false;
  JsonObjectWriter dags;
  for (const auto& dag : config.dags) {
    bool read = req.Allowed(ResourceKind::kDags, dag.id, Action::kRead);
    bool trigger = req.Allowed(ResourceKind::kDags, dag.id, Action::kTrigger);
    bool clear = req.Allowed(ResourceKind::kDags, dag.id, Action::kClear);
    bool pause = req.Allowed(ResourceKind::kDags, dag.id, Action::kPause);
    any_trigger |= trigger;
    any_clear |= clear;
    any_pause |= pause;
    JsonObjectWriter d;
    d.Bool("read", read).Bool("trigger", trigger).Bool("clear", clear).Bool("pause", pause);
    dags.Raw(dag.id, d.Finish());
  }
  bool read_pipeline = req.Allowed(ResourceKind::kPipeline, "*", Action::kRead);
  JsonObjectWriter can;
  can.Bool("read_pipeline", read_pipeline)
      .Bool("read_tables", req.Allowed(ResourceKind::kTables, "*", Action::kRead))
      .Bool("replay", req.Allowed(ResourceKind::kDeadLetters, "*", Action::kReplay))
      .Bool("trigger", any_trigger)
      .Bool("clear", any_clear)
      .Bool("pause", any_pause)
      .Bool("admin", req.Allowed(ResourceKind::kAdmin, "*", Action::kAdmin));
  JsonObjectWriter out;
  out.String("user", req.principal.name)
      .String("role", req.principal.role)
      .String("method", req.principal.method)
      .Bool("auth", req.policy != nullptr)
      .Raw("can", can.Finish())
      .Raw("dags", dags.Finish());
  if (read_pipeline) {
    out.Raw("backends", Backends(config));
  } else {
    out.Null("backends");
  }
  return http::JsonResponse(out.Finish());
}

}  // namespace

void RegisterWhoAmI(http::ApiRouter* router, const PipelineConfig* config) {
  // kTables with no name parameter: the server authenticates but leaves authorization to the
  // handler (as for the table list), so a role that grants nothing still learns that.
  router->Add("GET", "/v1/whoami",
              http::RouteAccess{ResourceKind::kTables, Action::kRead, "", false},
              [config](const http::ApiRequest& req) { return WhoAmI(req, *config); });
}

}  // namespace dataforge::rest
