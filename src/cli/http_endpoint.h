// The HTTP endpoint as the CLI hosts it: the REST API's router over one Store, the server and
// its authentication, started from command-line flags. Used by `dataforge serve` and
// `dataforge run --http-port`. Every route the product serves is registered in one place,
// HttpEndpoint::Start (tables, pipeline and DAGs, /openapi.json, /metrics, the schema registry
// under /registry).
//
// Thread-safety: Start(), Stop() and the destructor from the owning thread; Summary() from any.
// The Store must outlive the endpoint.
#pragma once

#include <memory>
#include <string>

#include "cli/auth_setup.h"
#include "cli/cli_context.h"
#include "cli/served_pipeline.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "metrics/metrics_exporter.h"
#include "metrics/server_metrics.h"
#include "registry/schema_registry.h"
#include "serve/http/api.h"
#include "serve/http/http_server.h"
#include "store/store.h"

namespace dataforge {

struct HttpEndpointFlags {
  std::string host = "127.0.0.1";
  std::string host_flag = "--host";  // how errors name `host`'s flag
  int port = 8080;
  std::string tls_cert;
  std::string tls_key;
  bool insecure_no_auth = false;
  size_t max_body_bytes = size_t{1} << 20;
  int workers = 0;  // 0: http::DefaultWorkers()
  int read_timeout_ms = 5000;
  int request_deadline_ms = 30000;
  // dataforge_pipeline_info's role label: "serve", or the role of `run --http-port`.
  std::string role = "serve";
};

class HttpEndpoint {
 public:
  // Opens the data dir's authentication (auth_setup.h), applies the off-loopback rule
  // (`what`: how the ready line and errors name the endpoint, "serve" or "run --http-port"),
  // registers the routes and binds. ConfigError for bad flags, Unavailable when the port is
  // taken. GET /metrics serves `exporter` (borrowed; must outlive the endpoint), or one of the
  // endpoint's own when null; either way Start adds the data dir's status, DAG run, process
  // and build collectors to it (metrics/), and the caller may add more (the probes of a `run`,
  // pushed metrics in registry()) at any time.
  static Result<std::unique_ptr<HttpEndpoint>> Start(const CliContext& ctx,
                                                     const PipelineConfig& config, Store* store,
                                                     const HttpEndpointFlags& flags,
                                                     metrics::MetricsExporter* exporter = nullptr);
  ~HttpEndpoint();  // Stop()

  // "http://127.0.0.1:8080 (store <store_description>, auth on|off, tls on|off)": the ready line.
  std::string Describe(const std::string& store_description) const;
  int port() const { return server_->port(); }
  void Stop();
  // "N connections, M requests (K client errors, L server errors)"
  std::string Summary() const;
  // What GET /metrics serves.
  metrics::MetricsExporter& metrics() { return *metrics_; }

 private:
  HttpEndpoint() = default;
  Status AddMetrics(const CliContext& ctx, const PipelineConfig& config, Store* store,
                    const HttpEndpointFlags& flags, metrics::MetricsExporter* exporter);
  std::string host_;
  std::unique_ptr<ServerAuth> auth_;
  std::unique_ptr<ServedPipeline> pipeline_;  // the pipeline endpoints' stages
  // The schema registry under /registry (serve/registry/), read-write on the staging database.
  std::unique_ptr<registry::SchemaRegistry> registry_;
  std::unique_ptr<metrics::MetricsExporter> own_metrics_;  // when Start got none
  metrics::MetricsExporter* metrics_ = nullptr;
  // The server's request metrics, in metrics_->registry(); outlives the server.
  std::unique_ptr<metrics::HttpMetrics> http_metrics_;
  http::ApiRouter router_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace dataforge
