// The CQL endpoint as the CLI hosts it: an engine and a server over one Store, started from
// command-line flags. Used by `dataforge cql-serve` and `dataforge run --cql-port`.
//
// Thread-safety: Start(), Stop() and the destructor from the owning thread; stats() from any.
// The Store must outlive the endpoint.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "metrics/metrics_exporter.h"
#include "metrics/server_metrics.h"
#include "serve/cql/cql_access.h"
#include "serve/cql/cql_engine.h"
#include "serve/cql/cql_server.h"
#include "store/store.h"

namespace dataforge {

struct CqlEndpointFlags {
  std::string host = "127.0.0.1";
  int port = 9042;
  std::string username;
  std::string password;  // or env DATAFORGE_CQL_PASSWORD
  std::string tls_cert;
  std::string tls_key;
  uint32_t max_frame_bytes = 16u << 20;
};

// ConfigError (exit 2) when the flags do not fit together: a username without a password (in
// neither --password nor DATAFORGE_CQL_PASSWORD), a password without a username, one TLS file
// without the other. Fills `flags->password` from the environment when empty.
Status ResolveCqlEndpointFlags(CqlEndpointFlags* flags);

class CqlEndpoint {
 public:
  // Binds host:port, then serves `store` (Unavailable when the port is taken) to the users of
  // `data_dir`'s credential store under `config.auth` and the --username user, if any
  // (cli/cql_access_control.h). With `exporter` (borrowed; must outlive the endpoint) the
  // requests are counted in its registry (dataforge_cql_*, metrics/server_metrics.h).
  static Result<std::unique_ptr<CqlEndpoint>> Start(Store* store, const CqlEndpointFlags& flags,
                                                    const PipelineConfig& config,
                                                    const std::string& data_dir,
                                                    metrics::MetricsExporter* exporter = nullptr);
  ~CqlEndpoint();  // Stop()

  // "127.0.0.1:9042 (store <store_description>, auth on|off, tls on|off)": the ready line.
  std::string Describe(const std::string& store_description) const;
  int port() const { return server_->port(); }
  void Stop();
  // "N connections, M requests, K errors"
  std::string Summary() const;

 private:
  CqlEndpoint() = default;
  std::string host_;
  std::unique_ptr<cql::CqlAccessControl> access_;  // outlives the server and the engine
  std::unique_ptr<metrics::CqlMetrics> metrics_;   // outlives the server
  std::unique_ptr<cql::CqlServer> server_;
  std::unique_ptr<cql::CqlEngine> engine_;
};

}  // namespace dataforge
