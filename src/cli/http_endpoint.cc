#include "cli/http_endpoint.h"

#include <fmt/format.h>

#include "serve/console/console.h"
#include "serve/rest/openapi.h"
#include "serve/rest/pipeline_api.h"
#include "serve/rest/tables_api.h"
#include "serve/rest/whoami_api.h"

namespace dataforge {

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const CliContext& ctx,
                                                          const PipelineConfig& config,
                                                          Store* store,
                                                          const HttpEndpointFlags& flags) {
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
  rest::RegisterTablesApi(&e->router_, store);
  DF_ASSIGN_OR_RETURN(e->pipeline_, ServedPipeline::Open(ctx, config, store));
  rest::RegisterPipelineApi(&e->router_, e->pipeline_->backends());
  rest::RegisterOpenApi(&e->router_);
  rest::RegisterWhoAmI(&e->router_, e->pipeline_->backends().config);
  // The web console (not part of the REST API, so not in openapi.json).
  console::RegisterConsole(&e->router_);

  http::HttpServerOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.tls_cert_file = flags.tls_cert;
  options.tls_key_file = flags.tls_key;
  options.max_body_bytes = flags.max_body_bytes;
  options.workers = flags.workers;
  options.read_timeout_ms = flags.read_timeout_ms;
  options.request_deadline_ms = flags.request_deadline_ms;
  e->server_ = std::make_unique<http::HttpServer>(options, &e->router_, e->auth_->security);
  DF_RETURN_IF_ERROR(e->server_->Start());
  return e;
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
