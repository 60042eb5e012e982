#include "cli/cql_endpoint.h"

#include <cstdlib>

#include <fmt/format.h>

#include "cli/cql_access_control.h"
#include "common/redact.h"

namespace dataforge {

Status ResolveCqlEndpointFlags(CqlEndpointFlags* flags) {
  if (flags->password.empty()) {
    if (const char* env = std::getenv("DATAFORGE_CQL_PASSWORD"); env != nullptr) {
      flags->password = env;
    }
  }
  RegisterSecret(flags->password);  // stays masked wherever it might show
  if (!flags->username.empty() && flags->password.empty()) {
    return Status::ConfigError("--username " + flags->username +
                               " needs a password: give --password or set DATAFORGE_CQL_PASSWORD");
  }
  if (flags->username.empty() && !flags->password.empty()) {
    return Status::ConfigError(
        "a password (--password or DATAFORGE_CQL_PASSWORD) needs --username too");
  }
  if (flags->tls_cert.empty() != flags->tls_key.empty()) {
    return Status::ConfigError("TLS needs both --tls-cert and --tls-key (PEM files)");
  }
  if (flags->max_frame_bytes < 1024) {
    return Status::ConfigError(fmt::format("--max-frame-bytes {} is too small: give at least 1024",
                                           flags->max_frame_bytes));
  }
  return Status::OK();
}

Result<std::unique_ptr<CqlEndpoint>> CqlEndpoint::Start(Store* store, const CqlEndpointFlags& flags,
                                                        const PipelineConfig& config,
                                                        const std::string& data_dir,
                                                        metrics::MetricsExporter* exporter) {
  std::unique_ptr<CqlEndpoint> e(new CqlEndpoint());
  if (exporter != nullptr)
    e->metrics_ = std::make_unique<metrics::CqlMetrics>(exporter->registry());
  DF_ASSIGN_OR_RETURN(e->access_, OpenCqlAccessControl(flags, config, data_dir));
  cql::CqlServerOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.access_control = e->access_.get();
  options.tls_cert_file = flags.tls_cert;
  options.tls_key_file = flags.tls_key;
  options.max_frame_bytes = flags.max_frame_bytes;
  options.metrics = e->metrics_.get();
  e->host_ = flags.host;
  e->server_ = std::make_unique<cql::CqlServer>(options);
  DF_RETURN_IF_ERROR(e->server_->Listen());
  cql::EngineOptions engine_options;
  // system.local names the address drivers should use; a wildcard is no such address.
  engine_options.listen_address =
      flags.host == "0.0.0.0" || flags.host == "::" || flags.host == "localhost" ? "127.0.0.1"
                                                                                 : flags.host;
  engine_options.port = e->server_->port();
  engine_options.access_control = e->access_.get();
  e->engine_ = std::make_unique<cql::CqlEngine>(store, engine_options);
  DF_RETURN_IF_ERROR(e->server_->Start(e->engine_.get()));
  return e;
}

CqlEndpoint::~CqlEndpoint() {
  Stop();
}

void CqlEndpoint::Stop() {
  if (server_) server_->Stop();
}

std::string CqlEndpoint::Describe(const std::string& store_description) const {
  bool v6 = host_.find(':') != std::string::npos;
  return fmt::format("{}{}{}:{} (store {}, auth {}, tls {})", v6 ? "[" : "", host_, v6 ? "]" : "",
                     server_->port(), store_description, server_->auth() ? "on" : "off",
                     server_->tls() ? "on" : "off");
}

std::string CqlEndpoint::Summary() const {
  cql::CqlServerStats s = server_->stats();
  return fmt::format("{} connections, {} requests, {} errors", s.connections, s.requests, s.errors);
}

}  // namespace dataforge
