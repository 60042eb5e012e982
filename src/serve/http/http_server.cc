#include "serve/http/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "auth/authenticator.h"
#include "common/escape.h"
#include "common/json_writer.h"
#include "metrics/server_metrics.h"
#include "serve/http/url_decode.h"

namespace dataforge::http {
namespace {

constexpr const char* kWwwAuthenticate = "Basic realm=\"dataforge\", Bearer";

std::string_view CodeFor(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthenticated";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict";
    case 411:
      return "length_required";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 415:
      return "unsupported_media_type";
    case 416:
      return "range_not_satisfiable";
    case 429:
      return "too_many_requests";
    case 503:
      return "unavailable";
    case 504:
      return "timeout";
    default:
      return status >= 500 ? "internal" : "bad_request";
  }
}

void Write(const ApiResponse& r, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_content(r.body, r.content_type);
}

// Writes `r` and closes the connection after it: used when the rest of the request was not
// read (a body over the limit, a request httplib could not parse), so the bytes left on the
// connection are never taken for a next request. The body goes out through a content provider
// that reports failure once it has written everything, which makes httplib close.
void WriteAndClose(const ApiResponse& r, httplib::Response& res) {
  res.status = r.status;
  for (const auto& [k, v] : r.headers) res.set_header(k, v);
  res.set_header("Connection", "close");
  auto body = std::make_shared<std::string>(r.body);
  res.set_content_provider(body->size(), r.content_type,
                           [body](size_t offset, size_t length, httplib::DataSink& sink) {
                             sink.write(body->data() + offset, length);
                             return false;
                           });
}

bool IsBodyMethod(const std::string& m) {
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE" || m == "PRI";
}

// "too many failed logins from ADDR; retry in 12s" -> "12"; "1" when no number is given.
std::string RetryAfterSeconds(const std::string& message) {
  size_t at = message.rfind("retry in ");
  if (at == std::string::npos) return "1";
  std::string digits;
  for (size_t i = at + 9;
       i < message.size() && std::isdigit(static_cast<unsigned char>(message[i])); ++i) {
    digits.push_back(message[i]);
  }
  return digits.empty() ? "1" : digits;
}

// The resource a route's access names: its path parameter, "*" for a kind with one resource.
// Tables, DAG and registry subject list endpoints (no name parameter) filter with
// ApiRequest::Allowed themselves.
bool ServerChecks(const RouteAccess& access) {
  if (!access.name_param.empty()) return true;
  return access.kind != auth::ResourceKind::kTables && access.kind != auth::ResourceKind::kDags &&
         access.kind != auth::ResourceKind::kSubjects;
}

}  // namespace

int DefaultWorkers() {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(16 * std::max(cores, 1), 32, 256);
}

// The worker pool: `workers` threads and a queue of at most `max_queued` accepted connections.
// enqueue() (the accept loop) waits while the queue is full, so the server stops accepting and
// the kernel's backlog holds further clients. shutdown() lets the queued connections be served
// (a stopping server answers each with "Connection: close"), then joins the workers.
class HttpServer::BoundedQueue final : public httplib::TaskQueue {
 public:
  BoundedQueue(int workers, int max_queued, std::atomic<uint64_t>* connections)
      : max_queued_(static_cast<size_t>(max_queued)), connections_(connections) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~BoundedQueue() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    connections_->fetch_add(1, std::memory_order_relaxed);
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return jobs_.size() < max_queued_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    work_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      if (shutdown_ && threads_.empty()) return;
      shutdown_ = true;
    }
    work_.notify_all();
    space_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        work_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shutting down, nothing left
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        space_.notify_one();
      }
      fn();
    }
  }

  const size_t max_queued_;
  std::atomic<uint64_t>* connections_;
  std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable space_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

HttpServer::HttpServer(HttpServerOptions options, const ApiRouter* router, HttpSecurity security)
    : options_(std::move(options)), router_(router), security_(std::move(security)) {}

HttpServer::~HttpServer() {
  Stop();
}

bool HttpServer::auth_on() const {
  return security_.authenticator != nullptr && security_.authenticator->Required();
}

ApiResponse HttpServer::Refusal(std::string_view target, int status, std::string_view code,
                                std::string_view message) const {
  std::string_view path = target.substr(0, target.find('?'));
  for (const auto& f : options_.error_formats) {
    if (path.substr(0, f.prefix.size()) == f.prefix &&
        (path.size() == f.prefix.size() || path[f.prefix.size()] == '/')) {
      return f.format(status, code, message);
    }
  }
  return ErrorResponse(status, code, message);
}

ApiResponse HttpServer::Refusal(std::string_view target, const Status& status) const {
  ApiResponse r = ErrorFromStatus(status);
  if (options_.error_formats.empty()) return r;
  return Refusal(target, r.status, CodeFor(r.status),
                 status.ok() ? "internal error" : status.message());
}

Status HttpServer::Start() {
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return Status::ConfigError("TLS needs both --tls-cert and --tls-key (PEM files)");
  }
  if (security_.authenticator != nullptr && !security_.allows) {
    return Status::ConfigError("HTTP server: an authenticator without an access policy");
  }
  if (options_.metrics != nullptr) {
    route_ids_.clear();
    for (const auto& route : router_->routes()) {
      route_ids_.push_back(options_.metrics->RouteId(route.pattern));
    }
    health_id_ = options_.metrics->RouteId("/health");
    unmatched_id_ = options_.metrics->RouteId("unmatched");
  }
  if (options_.max_body_bytes == 0 || options_.read_timeout_ms <= 0 ||
      options_.write_timeout_ms <= 0 || options_.keep_alive_max_requests <= 0 ||
      options_.keep_alive_timeout_s <= 0 || options_.workers < 0) {
    return Status::ConfigError("HTTP server: limits and timeouts must be positive");
  }
  if (!options_.tls_cert_file.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(),
                                                    options_.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return Status::ConfigError(fmt::format(
          "TLS: cannot use certificate {} with key {} (each must be a readable PEM file, and "
          "the key must match the certificate)",
          options_.tls_cert_file, options_.tls_key_file));
    }
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  int workers = options_.workers > 0 ? options_.workers : DefaultWorkers();
  int queued = options_.max_queued_connections > 0 ? options_.max_queued_connections : 4 * workers;
  server_->new_task_queue = [this, workers, queued] {
    return new BoundedQueue(workers, queued, &connections_);
  };
  server_->set_keep_alive_max_count(static_cast<size_t>(options_.keep_alive_max_requests));
  server_->set_keep_alive_timeout(options_.keep_alive_timeout_s);
  server_->set_read_timeout(options_.read_timeout_ms / 1000,
                            (options_.read_timeout_ms % 1000) * 1000);
  server_->set_write_timeout(options_.write_timeout_ms / 1000,
                             (options_.write_timeout_ms % 1000) * 1000);
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_tcp_nodelay(true);

  // Requests httplib answers itself (an unreadable request line or header, a URI over 8 KiB, a
  // bad Range, a body that could not be read): the JSON envelope, and the connection closed.
  server_->set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.has_header("Content-Type")) {
          return httplib::Server::HandlerResponse::Unhandled;  // ours
        }
        std::string message =
            res.status == 414 ? "the request line is too long (at most 8 KiB)"
            : res.status == 400
                ? "malformed or incomplete request: the request line or a header "
                  "could not be read (each header line must be under 8 KiB, and "
                  "the request must arrive within the read timeout)"
                : fmt::format("the request could not be served (HTTP {})", res.status);
        Count(res.status, req, std::chrono::steady_clock::now());
        WriteAndClose(Refusal(req.target, res.status, CodeFor(res.status), message), res);
        return httplib::Server::HandlerResponse::Handled;
      }));

  // "Expect: 100-continue" with a body over the limit: 413 before the client sends it.
  server_->set_expect_100_continue_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        const std::string& text = req.get_header_value("Content-Length");
        char* end = nullptr;
        unsigned long long length = std::strtoull(text.c_str(), &end, 10);
        if (text.empty() || *end != '\0' || length <= options_.max_body_bytes) return 100;
        Count(413, req, std::chrono::steady_clock::now());
        ApiResponse r = Refusal(req.target, 413, "payload_too_large",
                                fmt::format("the request body is {} bytes; the limit is {} bytes",
                                            length, options_.max_body_bytes));
        r.headers.emplace_back("Connection", "close");
        // httplib sets no length on this path (it answers before routing).
        r.headers.emplace_back("Content-Length", std::to_string(r.body.size()));
        Write(r, res);
        return 413;
      });

  // Everything without a body is served here, before httplib would look at a body.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    const bool has_length = req.has_header("Content-Length");
    const bool chunked = req.has_header("Transfer-Encoding");
    uint64_t length = 0;
    if (has_length) {
      const std::string& text = req.get_header_value("Content-Length");
      bool digits =
          !text.empty() && text.size() <= 19 &&
          std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits) {
        Count(400, req, start);
        WriteAndClose(Refusal(req.target, 400, "bad_request",
                              "Content-Length must be a whole number of bytes"),
                      res);
        return httplib::Server::HandlerResponse::Handled;
      }
      length = std::stoull(text);
    }
    if (length > options_.max_body_bytes) {
      Count(413, req, start);
      WriteAndClose(Refusal(req.target, 413, "payload_too_large",
                            fmt::format("the request body is {} bytes; the limit is {} bytes",
                                        length, options_.max_body_bytes)),
                    res);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!IsBodyMethod(req.method)) {
      if (length > 0 || chunked) {
        Count(400, req, start);
        WriteAndClose(Refusal(req.target, 400, "bad_request",
                              fmt::format("a {} request has no body", req.method)),
                      res);
        return httplib::Server::HandlerResponse::Handled;
      }
      Serve(req, res, "");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.is_multipart_form_data()) {
      Count(415, req, start);
      WriteAndClose(Refusal(req.target, 415, "unsupported_media_type",
                            "multipart bodies are not accepted: send JSON"),
                    res);
      return httplib::Server::HandlerResponse::Handled;
    }
    if ((!has_length && !chunked) || (has_length && length == 0 && !chunked)) {
      Serve(req, res, "");  // no body
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;  // read the body: below
  });

  // Requests with a body: read it within the limit (also a chunked one, which carries no
  // length up front).
  auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
    const auto start = std::chrono::steady_clock::now();
    std::string body;
    bool too_big = false;
    bool read = reader([&](const char* data, size_t n) {
      if (body.size() + n > options_.max_body_bytes) {
        too_big = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    if (too_big) {
      Count(413, req, start);
      WriteAndClose(Refusal(req.target, 413, "payload_too_large",
                            fmt::format("the request body is over the limit of {} bytes",
                                        options_.max_body_bytes)),
                    res);
      return;
    }
    if (!read) {
      Count(400, req, start);
      WriteAndClose(Refusal(req.target, 400, "bad_request",
                            "the request body could not be read (cut short, badly "
                            "chunked, or too slow)"),
                    res);
      return;
    }
    Serve(req, res, std::move(body));
  };
  server_->Post(".*", with_body);
  server_->Put(".*", with_body);
  server_->Patch(".*", with_body);
  server_->Delete(".*", with_body);

  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
    if (port < 0) port = -1;
  } else if (!server_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    return Status::Unavailable(
        fmt::format("cannot listen on {}:{} (address in use, or not an address of this host)",
                    options_.host, options_.port));
  }
  port_ = port;
  listener_ = std::thread([server = server_.get(), done = listener_done_] {
    server->listen_after_bind();
    done->store(true);
  });
  return Status::OK();
}

void HttpServer::Stop() {
  if (!server_ || stopped_) return;
  stopped_ = true;
  stopping_ = true;
  server_->stop();
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.stop_timeout_ms);
  while (!listener_done_->load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (listener_done_->load()) {
    listener_.join();
    return;
  }
  spdlog::warn("HTTP server: requests still in flight after {} ms; stopping without them",
               options_.stop_timeout_ms);
  listener_.detach();
  (void)server_.release();  // its workers still run; the process is about to exit
}

HttpServerStats HttpServer::stats() const {
  HttpServerStats s;
  s.connections = connections_.load();
  s.requests = requests_.load();
  s.client_errors = client_errors_.load();
  s.server_errors = server_errors_.load();
  s.unauthenticated = unauthenticated_.load();
  s.forbidden = forbidden_.load();
  return s;
}

uint32_t HttpServer::RouteId(const httplib::Request& req, const ApiRouter::Route* route) const {
  if (route != nullptr) {
    auto i = static_cast<size_t>(route - router_->routes().data());
    return i < route_ids_.size() ? route_ids_[i] : unmatched_id_;
  }
  std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
  if (path == "/health") return health_id_;
  auto found = router_->Find(req.method == "HEAD" ? "GET" : req.method, path);
  if (found.ok() && found->route != nullptr) return RouteId(req, found->route);
  return unmatched_id_;
}

void HttpServer::Count(int status, const httplib::Request& req, TimePoint start,
                       const ApiRouter::Route* route) {
  if (options_.metrics != nullptr) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    options_.metrics->Observe(RouteId(req, route), req.method, status, took.count());
  }
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (status >= 500) server_errors_.fetch_add(1, std::memory_order_relaxed);
  if (status >= 400 && status < 500) client_errors_.fetch_add(1, std::memory_order_relaxed);
  if (status == 401) unauthenticated_.fetch_add(1, std::memory_order_relaxed);
  if (status == 403) forbidden_.fetch_add(1, std::memory_order_relaxed);
}

void HttpServer::Serve(const httplib::Request& req, httplib::Response& res, std::string body) {
  const auto start = std::chrono::steady_clock::now();
  const ApiRouter::Route* route = nullptr;
  auth::Principal who{"anonymous", "admin", "none", ""};
  ApiResponse r = Route(req, std::move(body), &route, &who);
  Count(r.status, req, start, route);
  if (route != nullptr && route->access && security_.audit && route->access->audited) {
    std::string path = req.target.substr(0, req.target.find('?'));
    security_.audit(
        auth::AuditEntry{who, req.remote_addr, req.method + " " + path, std::to_string(r.status)});
  }
  if (stopping_) r.headers.emplace_back("Connection", "close");
  Write(r, res);
}

ApiResponse HttpServer::Route(const httplib::Request& req, std::string body,
                              const ApiRouter::Route** matched, auth::Principal* who) {
  const std::string& target = req.target;
  size_t q = target.find('?');
  std::string_view raw_path = std::string_view(target).substr(0, q);
  std::string_view raw_query =
      q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
  const std::string method = req.method == "HEAD" ? "GET" : req.method;

  auto query = ParseQuery(raw_query);
  if (!query.ok()) return Refusal(target, query.status());
  if (raw_path == "/health") {
    if (method != "GET") {
      ApiResponse r =
          Refusal(target, 405, "method_not_allowed",
                  fmt::format("{} is not allowed on /health; allowed: GET", req.method));
      r.headers.emplace_back("Allow", "GET");
      return r;
    }
    return JsonResponse(R"({"status":"ok"})");
  }
  auto found = router_->Find(method, raw_path);
  if (!found.ok()) return Refusal(target, found.status());
  ApiRouter::Match& match = *found;
  if (match.route == nullptr) {
    std::string shown = EscapeControlChars(raw_path.substr(0, 200));
    if (match.path_known) {
      std::string allow;
      for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      ApiResponse r =
          Refusal(target, 405, "method_not_allowed",
                  fmt::format("{} is not allowed on {}; allowed: {}", req.method, shown, allow));
      r.headers.emplace_back("Allow", allow);
      return r;
    }
    return Refusal(target, 404, "not_found",
                   fmt::format("no such endpoint: {} {}", req.method, shown));
  }
  *matched = match.route;

  ApiRequest api;
  api.method = method;
  PercentDecode(raw_path, false, &api.path);  // checked by Find
  api.path_params = std::move(match.params);
  api.query = std::move(query).value();
  api.body = std::move(body);
  api.client_address = req.remote_addr;
  api.if_none_match = req.get_header_value("If-None-Match");
  api.content_type = req.get_header_value("Content-Type");
  api.deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.request_deadline_ms);

  const RouteAccess* access = match.route->access ? &*match.route->access : nullptr;
  if (access != nullptr && auth_on()) {
    auto principal = security_.authenticator->AuthenticateHttp(
        req.get_header_value("Authorization"), req.remote_addr);
    if (!principal.ok()) {
      const Status& s = principal.status();
      who->name = "";
      who->role = "";
      who->method = "";
      if (s.code() == StatusCode::kResourceExhausted) {
        ApiResponse r = Refusal(target, 429, "too_many_requests", s.message());
        r.headers.emplace_back("Retry-After", RetryAfterSeconds(s.message()));
        return r;
      }
      if (s.code() == StatusCode::kUnauthenticated) {
        ApiResponse r = Refusal(target, 401, "unauthenticated", s.message());
        r.headers.emplace_back("WWW-Authenticate", kWwwAuthenticate);
        return r;
      }
      return Refusal(target, s);  // the credential store unreachable: 503
    }
    *who = std::move(principal).value();
    api.policy = security_.policy;
    if (ServerChecks(*access)) {
      std::string name = "*";
      if (!access->name_param.empty()) {
        auto it = api.path_params.find(access->name_param);
        if (it != api.path_params.end()) name = it->second;
      }
      if (!security_.allows(*who, access->kind, name, access->action)) {
        std::string message =
            security_.denied_message
                ? security_.denied_message(*who, access->kind, name, access->action)
                : "forbidden";
        return Refusal(target, 403, "forbidden", message);
      }
    }
  }
  api.principal = *who;
  try {
    return match.route->handler(api);
  } catch (const std::exception& e) {
    spdlog::error("HTTP {} {}: the handler failed: {}", req.method, api.path, e.what());
  } catch (...) {
    spdlog::error("HTTP {} {}: the handler failed (unknown exception)", req.method, api.path);
  }
  return Refusal(target, 500, "internal",
                 "internal error: the request failed on the server (details in its log)");
}

}  // namespace dataforge::http
