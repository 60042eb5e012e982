#include "cli/http_endpoint.h"

#include <fmt/format.h>

#include "metrics/build_info_collector.h"
#include "metrics/client_collector.h"
#include "metrics/dag_runs_collector.h"
#include "metrics/process_collector.h"
#include "metrics/status_collector.h"
#include "pipeline/data_dir.h"
#include "serve/console/console.h"
#include "serve/registry/registry_api.h"
#include "serve/registry/registry_json.h"
#include "serve/rest/metrics_api.h"
#include "serve/rest/openapi.h"
#include "serve/rest/pipeline_api.h"
#include "serve/rest/tables_api.h"
#include "serve/rest/whoami_api.h"

namespace dataforge {

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const CliContext& ctx,
                                                          const PipelineConfig& config,
                                                          Store* store,
                                                          const HttpEndpointFlags& flags,
                                                          metrics::MetricsExporter* exporter) {
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return Status::ConfigError("TLS needs both --tls-cert and --tls-key (PEM files)");
  }
  std::unique_ptr<HttpEndpoint> e(new HttpEndpoint());
  e->host_ = flags.host;
  DF_ASSIGN_OR_RETURN(bool auth_on, AuthIsOn(ctx, config));
  DF_RETURN_IF_ERROR(CheckListenAddress(fmt::format("{} {}", flags.host_flag, flags.host),
                                        flags.host, auth_on, flags.insecure_no_auth));
  // Off loopback (and not insisted on), authentication stays on for the server's life: removing
  // the last user must not open the server to anonymous callers.
  PipelineConfig served = config;
  if (!IsLoopbackHost(flags.host) && !flags.insecure_no_auth) served.auth.required = true;
  DF_ASSIGN_OR_RETURN(e->auth_, OpenServerAuth(ctx, served));
  // Every route of the product's HTTP API.
  if (store != nullptr) rest::RegisterTablesApi(&e->router_, store);  // null: an ingest role
  DF_ASSIGN_OR_RETURN(e->pipeline_, ServedPipeline::Open(ctx, config, store));
  rest::RegisterPipelineApi(&e->router_, e->pipeline_->backends());
  rest::RegisterOpenApi(&e->router_);
  DF_RETURN_IF_ERROR(e->AddMetrics(ctx, config, store, flags, exporter));
  rest::RegisterWhoAmI(&e->router_, e->pipeline_->backends().config);
  // The web console (not part of the REST API, so not in openapi.json).
  console::RegisterConsole(&e->router_);
  // The schema registry (Confluent's REST API, docs/schema-registry.md; not in openapi.json:
  // Confluent documents it). Read-write for `serve` too: serve only reads the pipeline's stages,
  // but registering a schema is a write clients make through it. In the staging database, so a
  // `run` on the same data dir (SQLite WAL) or servers on one PostgreSQL share ids. A schema over
  // half the body limit is refused with 42209, a body over the limit with 413.
  const std::string staging_url = ResolveUrls(config, ctx.data_dir).staging;
  if (staging_url.rfind("sqlite://", 0) == 0) {
    DF_RETURN_IF_ERROR(PrepareDataDir(ctx.data_dir, /*create=*/true));
  }
  registry::RegistryOptions registry_options;
  registry_options.max_schema_bytes = flags.max_body_bytes / 2;
  DF_ASSIGN_OR_RETURN(e->registry_, registry::SchemaRegistry::Open(
                                        staging_url, OpenMode::kReadWrite, registry_options));
  serve_registry::RegisterRegistryApi(&e->router_, e->registry_.get());

  http::HttpServerOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.tls_cert_file = flags.tls_cert;
  options.tls_key_file = flags.tls_key;
  options.max_body_bytes = flags.max_body_bytes;
  options.workers = flags.workers;
  options.read_timeout_ms = flags.read_timeout_ms;
  options.request_deadline_ms = flags.request_deadline_ms;
  options.metrics = e->http_metrics_.get();
  options.error_formats.push_back(
      {std::string(serve_registry::kPathPrefix), serve_registry::RegistryServerError});
  e->server_ = std::make_unique<http::HttpServer>(options, &e->router_, e->auth_->security);
  DF_RETURN_IF_ERROR(e->server_->Start());
  return e;
}

Status HttpEndpoint::AddMetrics(const CliContext& ctx, const PipelineConfig& config, Store* store,
                                const HttpEndpointFlags& flags,
                                metrics::MetricsExporter* exporter) {
  if (exporter == nullptr) {
    own_metrics_ = std::make_unique<metrics::MetricsExporter>();
    exporter = own_metrics_.get();
  }
  metrics_ = exporter;
  // The collector's own stages: a read-only Staging or Log is not safe to share with the
  // pipeline endpoints' (which serialize their calls under a mutex of their own).
  DF_ASSIGN_OR_RETURN(std::unique_ptr<ServedPipeline> opened,
                      ServedPipeline::Open(ctx, config, store));
  std::shared_ptr<const ServedPipeline> stages = std::move(opened);
  const rest::PipelineApiBackends& b = stages->backends();
  metrics::StatusSources sources;
  sources.config = b.config;
  sources.staging = b.staging;
  sources.log = b.log;
  sources.store = b.store;
  sources.data_dir = ctx.data_dir;
  sources.role = flags.role;
  sources.keep_alive = stages;
  exporter->Add(std::make_shared<metrics::PipelineStatusCollector>(std::move(sources)));
  if (b.runs != nullptr) {
    std::vector<std::string> dags;
    for (const auto& d : config.dags) dags.push_back(d.id);
    exporter->Add(std::make_shared<metrics::DagRunsCollector>(b.runs, std::move(dags), stages));
  }
  exporter->Add(std::make_shared<metrics::ProcessCollector>());
  exporter->Add(std::make_shared<metrics::BuildInfoCollector>(DATAFORGE_VERSION));
  // The backend clients' counters (source HTTP, kafka, postgresql, cassandra) and this server's
  // requests.
  exporter->Add(std::make_shared<metrics::ClientCollector>());
  http_metrics_ = std::make_unique<metrics::HttpMetrics>(exporter->registry());
  // Open on a loopback-only server (a local Prometheus needs no secret), else pipeline read.
  rest::RegisterMetricsApi(&router_, exporter, IsLoopbackHost(flags.host));
  return Status::OK();
}

HttpEndpoint::~HttpEndpoint() {
  Stop();
}

void HttpEndpoint::Stop() {
  if (server_) server_->Stop();
}

std::string HttpEndpoint::Describe(const std::string& store_description) const {
  bool v6 = host_.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{} (store {}, auth {}, tls {})",
                     server_->tls() ? "https" : "http", v6 ? "[" : "", host_, v6 ? "]" : "",
                     server_->port(), store_description, server_->auth_on() ? "on" : "off",
                     server_->tls() ? "on" : "off");
}

std::string HttpEndpoint::Summary() const {
  http::HttpServerStats s = server_->stats();
  return fmt::format("{} connections, {} requests ({} client errors, {} server errors)",
                     s.connections, s.requests, s.client_errors, s.server_errors);
}

}  // namespace dataforge
