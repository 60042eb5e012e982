// The product's one HTTP server (docs/serving.md, "The server"): the REST API today, the
// console and the schema registry later. cpp-httplib (Debian 0.11.4) underneath, OpenSSL TLS.
//
// Each connection is served by one worker of a bounded pool for as long as it is kept alive
// (at most keep_alive_max_requests requests, closed after keep_alive_timeout_s idle); accepted
// connections wait in a bounded queue for a free worker, and once the queue is full the server
// stops accepting (the kernel's listen backlog holds the rest).
//
// Every request: limits first (body size 413, header lines 400, URI 414, unreadable request
// 400; each closes the connection, since the rest of the request was not read), then the route
// (404; 405 with Allow), then the query (400 naming a badly percent-encoded parameter), then
// authentication for non-public routes (401 with WWW-Authenticate; 429 with Retry-After when
// the authenticator refuses a client for too many failed logins), then authorization (403 with
// the policy's message), then the handler (a handler that throws gets a plain 500; the
// exception's text goes to the log, never to the client). Audited routes are written to the
// audit log with their result, 401 and 403 included. Errors are the JSON envelope of api.h, or
// the one HttpServerOptions::error_formats names for the path's prefix.
// GET /health is public: 200 {"status":"ok"}.
//
// The Authorization header is never logged or echoed.
//
// Metrics (HttpServerOptions::metrics): every answered request, those refused before the
// handler (400, 401, 403, 413, 429, ...) included, is counted once by route pattern (the
// router's; "/health"; "unmatched" when no route has the path and method), method and status,
// with its handling time.
//
// Thread-safety: Start(), Stop() and the destructor from one owning thread; stats() from any.
// The router, the security hooks' targets and what the handlers use must outlive the server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/access.h"
#include "auth/audit_log.h"
#include "auth/principal.h"
#include "common/status.h"
#include "serve/http/api.h"

namespace httplib {
class Server;
class Request;
class Response;
}  // namespace httplib

namespace dataforge::auth {
class Authenticator;
}
namespace dataforge::metrics {
class HttpMetrics;
}

namespace dataforge::http {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (port() names it)
  // Workers serving connections; 0: DefaultWorkers().
  int workers = 0;
  // Accepted connections waiting for a worker before the server stops accepting; 0: 4 x workers.
  int max_queued_connections = 0;
  int keep_alive_max_requests = 1000;
  int keep_alive_timeout_s = 5;  // idle time before a kept-alive connection is closed
  size_t max_body_bytes = size_t{1} << 20;
  // Waiting for a client's next bytes (request line, headers, body) or for it to take ours.
  int read_timeout_ms = 5000;
  int write_timeout_ms = 5000;
  // Handlers see it as ApiRequest::deadline (paging and aggregates stop there: 504).
  int request_deadline_ms = 30000;
  // Stop() waits this long for in-flight requests.
  int stop_timeout_ms = 10000;
  std::string tls_cert_file;  // both or neither: TLS (PEM)
  std::string tls_key_file;
  // Request metrics (metrics/server_metrics.h); null: none. Not owned; must outlive the server.
  metrics::HttpMetrics* metrics = nullptr;
  // The body of the server's own refusals (every error answered before or instead of a handler:
  // 400, 401, 403, 404, 405, 413, 415, 429, a handler's exception 500) for paths under `prefix`
  // (the path itself or below it); api.h's envelope elsewhere. Headers the server adds (Allow,
  // WWW-Authenticate, Retry-After, Connection) are kept. The schema registry's Confluent envelope
  // under /registry (serve/registry/; issue 17).
  struct ErrorFormat {
    std::string prefix;
    std::function<ApiResponse(int status, std::string_view code, std::string_view message)> format;
  };
  std::vector<ErrorFormat> error_formats;
};

// 16 workers per core, at least 32 and at most 256: a worker is held by a kept-alive connection
// while it waits for the next request, so the pool is sized for connections, not cores (a
// connection beyond the pool waits for one to close; measured in docs/benchmarks.md).
int DefaultWorkers();

// Authentication, authorization and audit, as the server calls them. The hooks are functions
// so that the server links without the auth library's code (PolicySecurity wires the real
// ones); tests put their own in.
struct HttpSecurity {
  // Null, or Required() false: authentication is off, every request is
  // Principal{"anonymous", "admin", "none"} and nothing is refused.
  auth::Authenticator* authenticator = nullptr;
  // Handed to handlers (ApiRequest::policy) while authentication is on.
  const auth::AccessPolicy* policy = nullptr;
  // Must be set when `authenticator` is.
  std::function<bool(const auth::Principal&, auth::ResourceKind, std::string_view, auth::Action)>
      allows;
  std::function<std::string(const auth::Principal&, auth::ResourceKind, std::string_view,
                            auth::Action)>
      denied_message;
  // Null: no audit log.
  std::function<void(const auth::AuditEntry&)> audit;
};

// The hooks over auth::AccessPolicy and auth::AuditLog (either may be null). In its own file
// (policy_security.cc): calling it links the auth library's code.
HttpSecurity PolicySecurity(auth::Authenticator* authenticator, const auth::AccessPolicy* policy,
                            auth::AuditLog* audit_log);

struct HttpServerStats {
  uint64_t connections = 0;
  uint64_t requests = 0;
  uint64_t client_errors = 0;    // 4xx
  uint64_t server_errors = 0;    // 5xx
  uint64_t unauthenticated = 0;  // 401
  uint64_t forbidden = 0;        // 403
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, const ApiRouter* router, HttpSecurity security);
  ~HttpServer();  // Stop()

  // Binds and starts serving. ConfigError for unusable TLS files or options; Unavailable when
  // the address cannot be bound (naming it).
  Status Start();
  int port() const { return port_; }
  bool tls() const { return !options_.tls_cert_file.empty(); }
  // Whether requests must authenticate now.
  bool auth_on() const;
  // Stops accepting, lets in-flight requests finish (kept-alive connections are closed after
  // their current request), and returns when they have or after stop_timeout_ms (then the
  // remaining workers are abandoned: the caller is about to exit).
  void Stop();
  HttpServerStats stats() const;

 private:
  class BoundedQueue;
  // The whole request after the limits: route, auth, handler. `body` was read within limits.
  void Serve(const httplib::Request& req, httplib::Response& res, std::string body);
  ApiResponse Route(const httplib::Request& req, std::string body, const ApiRouter::Route** route,
                    auth::Principal* who);
  using TimePoint = std::chrono::steady_clock::time_point;
  // Counts one answered request (stats, and the metrics when on). `route`: the matched route,
  // or null (then looked up from the request line).
  void Count(int status, const httplib::Request& req, TimePoint start,
             const ApiRouter::Route* route = nullptr);
  uint32_t RouteId(const httplib::Request& req, const ApiRouter::Route* route) const;
  // An error the server answers itself, in the envelope of the path's prefix
  // (HttpServerOptions::error_formats). `target`: the request target, query included.
  ApiResponse Refusal(std::string_view target, int status, std::string_view code,
                      std::string_view message) const;
  ApiResponse Refusal(std::string_view target, const Status& status) const;

  HttpServerOptions options_;
  const ApiRouter* router_;
  HttpSecurity security_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;
  bool stopped_ = false;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<std::atomic<bool>> listener_done_ = std::make_shared<std::atomic<bool>>(false);

  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> client_errors_{0};
  std::atomic<uint64_t> server_errors_{0};
  std::atomic<uint64_t> unauthenticated_{0};
  std::atomic<uint64_t> forbidden_{0};

  // Metric route ids (options_.metrics on): by index in router_->routes(), then /health and
  // unmatched.
  std::vector<uint32_t> route_ids_;
  uint32_t health_id_ = 0;
  uint32_t unmatched_id_ = 0;
};

}  // namespace dataforge::http
