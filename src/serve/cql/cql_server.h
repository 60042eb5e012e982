// The CQL endpoint's transport: a TCP server speaking the CQL native protocol v4 (docs/cql.md)
// over a CqlEngine (cql_engine.h), so that Cassandra drivers and tools work against the store.
//
// Per connection, one reader thread assembles frames and answers the handshake itself
// (OPTIONS, STARTUP, AUTH_RESPONSE, REGISTER); QUERY, PREPARE, EXECUTE and BATCH run on a shared
// pool of `worker_threads`, handed over in bursts (the requests of one read, up to 8 per
// task), so the requests a driver pipelines on one connection (by stream id) run concurrently.
// A connection has at most `max_in_flight_per_connection` requests in flight (until their
// response is queued): at the bound its reader stops reading the socket (backpressure).
// Writes are group-committed by the engine (cql_engine.h): a write is answered once durable.
// Responses carry their request's stream id, in completion order; the frames ready at once on
// a connection are written together in one write. Sockets are TCP_NODELAY.
//
// Protocol rules (what a driver sees):
//   - a frame whose version byte is not 4 gets ERROR Protocol_error "Invalid or unsupported
//     protocol version (N); ..." and the connection is closed: drivers that start with v5 or a
//     beta version downgrade to v4 and reconnect;
//   - a header that cannot be trusted (bad version, a body above `max_frame_bytes`) closes the
//     connection after the ERROR; a bad body (unknown opcode, compression flag, a body that
//     does not decode) gets an ERROR on its stream and the connection stays open;
//   - with an access control whose Required() is true at STARTUP, STARTUP is answered
//     AUTHENTICATE (PasswordAuthenticator, SASL PLAIN; the outcomes are in cql_access.h) and the
//     connection's statements are checked per table; requests before READY / AUTH_SUCCESS get
//     ERROR Protocol_error;
//   - after a RESULT of kind Schema_change, an EVENT SCHEMA_CHANGE (stream -1) goes to every
//     connection that REGISTERed for SCHEMA_CHANGE;
//   - beyond `max_connections`, a new connection gets ERROR Overloaded and is closed.
//
// Thread-safety: Listen(), Start() and Stop() are called by the owner, in that order, from one
// thread; port() and stats() from any thread. The engine must outlive the server (Stop() or
// the destructor). Start() sets SIGPIPE to ignored for the process (a peer that went away must
// fail a TLS write, not kill the process).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "serve/cql/cql_access.h"
#include "serve/cql/cql_engine.h"

namespace dataforge::metrics {
class CqlMetrics;
}

namespace dataforge::cql {

struct CqlServerOptions {
  std::string host = "127.0.0.1";
  int port = 9042;  // 0 = an ephemeral port (see port())
  // Authentication (PasswordAuthenticator) whenever access_control->Required(); none when
  // null. Not owned; must outlive the server. The engine's EngineOptions::access_control
  // should be the same object (it checks the statements).
  CqlAccessControl* access_control = nullptr;
  // TLS when both are set: PEM files.
  std::string tls_cert_file;
  std::string tls_key_file;
  // A frame announcing a longer body is refused (ERROR, then the connection is closed).
  uint32_t max_frame_bytes = 16u << 20;
  int worker_threads = 8;
  int max_in_flight_per_connection = 256;
  int max_connections = 1024;
  // Stop(): how long connections may take to finish their in-flight requests before their
  // sockets are shut down for writing too.
  int drain_timeout_ms = 10000;
  // Request metrics by opcode and result (metrics/server_metrics.h), observed before the
  // response is written; null: none. Not owned; must outlive the server.
  metrics::CqlMetrics* metrics = nullptr;
};

// Totals since Start(); read with relaxed atomics, any thread.
struct CqlServerStats {
  uint64_t connections = 0;  // accepted (including refused as overloaded)
  uint64_t requests = 0;     // frames received
  uint64_t errors = 0;       // ERROR responses sent
};

class CqlServer {
 public:
  explicit CqlServer(CqlServerOptions options);
  ~CqlServer();  // Stop()
  CqlServer(const CqlServer&) = delete;
  CqlServer& operator=(const CqlServer&) = delete;

  // Loads the TLS files and binds host:port. Unavailable when the port is taken, ConfigError
  // for a bad host or TLS file; the message names the address or file.
  Status Listen();
  // The bound port (after Listen()).
  int port() const;
  // Starts accepting connections and serving them with `engine`. Listen() must have succeeded.
  Status Start(CqlEngine* engine);
  // Closes the listener, stops reading requests, lets in-flight requests finish and send
  // their responses, then closes every connection. Idempotent.
  void Stop();

  CqlServerStats stats() const;
  bool tls() const;
  // Whether a connection made now would have to authenticate.
  bool auth() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dataforge::cql
