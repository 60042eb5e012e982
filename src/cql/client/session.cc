#include "cql/client/session.h"

#include "common/clock.h"

#include <arpa/inet.h>

#include <chrono>
#include <future>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cql/client/retry_policy.h"

namespace dataforge::cql::client {
namespace {

// Text of an inet value (4 or 16 address bytes); "" for anything else.
std::string InetText(const std::optional<std::string>& b) {
  if (!b) return "";
  char buf[INET6_ADDRSTRLEN] = {0};
  if (b->size() == 4) return inet_ntop(AF_INET, b->data(), buf, sizeof buf) ? buf : "";
  if (b->size() == 16) return inet_ntop(AF_INET6, b->data(), buf, sizeof buf) ? buf : "";
  return "";
}

// A query on one connection without retries (discovery runs before the pools exist).
Result<RowsResult> DirectQuery(Connection* c, const std::string& query, int64_t timeout_ms) {
  std::string body;
  EncodeQuery(QueryMessage{query, QueryParameters{}}, &body);
  DF_ASSIGN_OR_RETURN(Frame f, c->Call(Opcode::kQuery, std::move(body), timeout_ms));
  if (f.header.opcode != static_cast<uint8_t>(Opcode::kResult)) {
    return ResponseError(f, c->address(), query);
  }
  DF_ASSIGN_OR_RETURN(ResultMessage r, DecodeResult(f.body));
  if (r.kind != ResultKind::kRows) {
    return Status::Internal(
        fmt::format("cassandra {}: '{}' returned no rows result", c->address(), query));
  }
  return std::move(r.rows);
}

}  // namespace

struct Session::Request {
  bool execute = false;
  PreparedPtr statement;  // execute
  std::string query;      // query
  QueryParameters params;
  bool encoded = false;        // execute: `encoded_params` replaces `params`
  std::string encoded_params;  // EncodeQueryParameters' bytes
  const std::string& text() const { return statement ? statement->query : query; }
  ResultCallback done;
  int retries = 0;
  bool reprepared = false;
  const HostPool* avoid = nullptr;  // the host that just failed: tried last
};

Session::Session(SessionOptions options) : options_(std::move(options)) {}

Session::~Session() {
  {
    std::lock_guard<std::mutex> lock(timers_mu_);
    closing_ = true;
  }
  timers_cv_.notify_all();
  if (retry_thread_.joinable()) retry_thread_.join();
  for (auto& h : hosts_) h->CloseAll();
}

Result<std::unique_ptr<Session>> Session::Open(SessionOptions options) {
  if (options.contact_points.empty()) {
    return Status::ConfigError("cassandra: no contact point; name at least one host in the URL");
  }
  std::unique_ptr<Session> s(new Session(std::move(options)));
  std::string errors;
  for (const auto& [host, port] : s->options_.contact_points) {
    ConnectionOptions co = s->options_.connection;
    co.host = host;
    co.port = port;
    auto c = Connection::Open(co, &s->probe_);
    if (!c.ok()) {
      if (c.status().code() == StatusCode::kConfigError) return c.status();
      errors += (errors.empty() ? "" : "; ") + c.status().message();
      continue;
    }
    DF_RETURN_IF_ERROR(s->Discover(*c, host, port));
    s->retry_thread_ = std::thread([raw = s.get()] { raw->RetryLoop(); });
    return s;
  }
  return Status::Unavailable(fmt::format(
      "cassandra: no contact point reachable ({}); check the hosts in the store URL and that "
      "the nodes accept CQL connections",
      errors));
}

Status Session::Discover(std::shared_ptr<Connection> control, const std::string& contact_host,
                         int contact_port) {
  const int64_t t = options_.request_timeout_ms;
  DF_ASSIGN_OR_RETURN(RowsResult local,
                      DirectQuery(control.get(), "SELECT data_center FROM system.local", t));
  std::string local_dc =
      !local.rows.empty() && !local.rows[0].empty() && local.rows[0][0] ? *local.rows[0][0] : "";
  DF_ASSIGN_OR_RETURN(
      RowsResult peers,
      DirectQuery(control.get(), "SELECT peer, rpc_address, data_center FROM system.peers", t));

  struct Found {
    std::string host;
    std::string dc;
  };
  std::vector<Found> found{{contact_host, local_dc}};
  for (const auto& row : peers.rows) {
    if (row.size() < 3) continue;
    std::string addr = InetText(row[1]);
    if (addr.empty() || addr == "0.0.0.0" || addr == "::") addr = InetText(row[0]);
    if (addr.empty()) continue;
    found.push_back({addr, row[2] ? *row[2] : ""});
  }
  std::string seen;
  bool adopted = false;
  for (const auto& f : found) {
    seen += fmt::format("{}{} in '{}'", seen.empty() ? "" : ", ", f.host, f.dc);
    if (!options_.local_datacenter.empty() && f.dc != options_.local_datacenter) continue;
    HostPoolOptions po;
    po.connection = options_.connection;
    po.connection.host = f.host;
    po.connection.port = contact_port;
    po.connections = options_.connections_per_host;
    po.reconnect_base_ms = options_.reconnect_base_ms;
    po.reconnect_max_ms = options_.reconnect_max_ms;
    hosts_.push_back(std::make_unique<HostPool>(std::move(po), f.dc, &probe_));
    if (&f == &found[0]) {
      hosts_.back()->Adopt(control);
      adopted = true;
    }
  }
  if (!adopted) control->Close();  // the contact point is in another data center
  if (hosts_.empty()) {
    return Status::ConfigError(fmt::format(
        "cassandra: no host in local_dc '{}' (found {}); set local_dc to one of those data "
        "centers",
        options_.local_datacenter, seen));
  }
  return Status::OK();
}

Result<PreparedPtr> Session::Prepare(const std::string& query) {
  {
    std::lock_guard<std::mutex> lock(prepared_mu_);
    auto it = prepared_.find(query);
    if (it != prepared_.end()) return it->second;
  }
  std::string body;
  EncodePrepare(PrepareMessage{query}, &body);
  int retries = 0;
  const HostPool* avoid = nullptr;
  for (;;) {
    Status why;
    auto picked = Pick(avoid);
    if (picked.ok()) {
      auto [host, conn] = *picked;
      auto frame = conn->Call(Opcode::kPrepare, body, options_.request_timeout_ms);
      if (frame.ok() && frame->header.opcode == static_cast<uint8_t>(Opcode::kResult)) {
        DF_ASSIGN_OR_RETURN(ResultMessage r, DecodeResult(frame->body));
        if (r.kind != ResultKind::kPrepared) {
          return Status::Internal(
              fmt::format("cassandra {}: PREPARE of '{}' returned no id", conn->address(), query));
        }
        host->SetPreparedId(query, r.prepared.id);
        auto p = std::make_shared<PreparedStatement>();
        p->query = query;
        p->bind_columns = std::move(r.prepared.bind_columns);
        p->result_metadata = std::move(r.prepared.result_metadata);
        std::lock_guard<std::mutex> lock(prepared_mu_);
        return prepared_.emplace(query, std::move(p)).first->second;
      }
      why = frame.ok() ? ResponseError(*frame, conn->address(), query) : frame.status();
      avoid = host;
    } else {
      why = picked.status();
    }
    if (ClassifyTransportStatus(why) != RetryDecision::kRetry || retries >= options_.max_retries) {
      return why;
    }
    ++retries;
    probe_.Retried();
    std::this_thread::sleep_for(std::chrono::milliseconds(
        BackoffMs(retries, options_.retry_base_ms, options_.retry_max_ms)));
  }
}

void Session::ExecuteAsync(PreparedPtr statement, QueryParameters params, ResultCallback done) {
  auto r = std::make_shared<Request>();
  r->execute = true;
  r->statement = std::move(statement);
  r->params = std::move(params);
  r->done = std::move(done);
  Start(std::move(r));
}

void Session::ExecuteEncodedAsync(PreparedPtr statement, std::string_view encoded,
                                  ResultCallback done) {
  auto r = std::make_shared<Request>();
  r->execute = true;
  r->statement = std::move(statement);
  r->encoded = true;
  r->encoded_params.assign(encoded);
  r->done = std::move(done);
  Start(std::move(r));
}

void Session::QueryAsync(std::string query, QueryParameters params, ResultCallback done) {
  auto r = std::make_shared<Request>();
  r->query = std::move(query);
  r->params = std::move(params);
  r->done = std::move(done);
  Start(std::move(r));
}

Result<ResultMessage> Session::Execute(PreparedPtr statement, QueryParameters params) {
  std::promise<Result<ResultMessage>> p;
  auto f = p.get_future();
  ExecuteAsync(std::move(statement), std::move(params),
               [&p](Result<ResultMessage> r) { p.set_value(std::move(r)); });
  SendBatch::FlushCurrent();  // a deferred request would never be answered
  return f.get();
}

Result<ResultMessage> Session::Query(std::string query, QueryParameters params) {
  std::promise<Result<ResultMessage>> p;
  auto f = p.get_future();
  QueryAsync(std::move(query), std::move(params),
             [&p](Result<ResultMessage> r) { p.set_value(std::move(r)); });
  SendBatch::FlushCurrent();  // a deferred request would never be answered
  return f.get();
}

namespace {
template <typename Run>
Status Pages(QueryParameters params, const Session::PageFn& fn, const std::string& what, Run run) {
  if (!params.page_size) params.page_size = 1000;
  for (;;) {
    DF_ASSIGN_OR_RETURN(ResultMessage r, run(params));
    if (r.kind != ResultKind::kRows) {
      return Status::Internal(fmt::format("cassandra: '{}' returned no rows result", what));
    }
    if (!fn(r.rows)) return Status::OK();
    if (!r.rows.metadata.paging_state) return Status::OK();
    params.paging_state = std::move(r.rows.metadata.paging_state);
  }
}
}  // namespace

Status Session::QueryPages(std::string query, QueryParameters params, const PageFn& fn) {
  return Pages(std::move(params), fn, query,
               [&](const QueryParameters& p) { return Query(query, p); });
}

Status Session::ExecutePages(PreparedPtr statement, QueryParameters params, const PageFn& fn) {
  return Pages(std::move(params), fn, statement->query,
               [&](const QueryParameters& p) { return Execute(statement, p); });
}

std::vector<HostInfo> Session::hosts() const {
  std::vector<HostInfo> out;
  for (const auto& h : hosts_) out.push_back({h->address(), h->datacenter(), !h->down()});
  return out;
}

void Session::Start(std::shared_ptr<Request> r) {
  probe_.RequestStarted();
  Attempt(r);
}

Result<std::pair<HostPool*, std::shared_ptr<Connection>>> Session::Pick(const HostPool* avoid) {
  size_t n = hosts_.size();
  size_t start = round_robin_.fetch_add(1, std::memory_order_relaxed);
  Status last;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      HostPool* h = hosts_[(start + i) % n].get();
      // Pass 0: every host but the one that just failed; pass 1: that host.
      if ((h == avoid) != (pass == 1)) continue;
      auto c = h->Get();
      if (c.ok()) return std::make_pair(h, *c);
      if (c.status().code() == StatusCode::kConfigError) return c.status();
      last = c.status();
    }
  }
  return Status::Unavailable(fmt::format("cassandra: no host available; last error: {}",
                                         last.ok() ? "none" : last.message()));
}

Result<std::string> Session::PreparedIdOn(HostPool* host, Connection* c, const std::string& query) {
  if (auto id = host->PreparedId(query)) return *id;
  std::string body;
  EncodePrepare(PrepareMessage{query}, &body);
  DF_ASSIGN_OR_RETURN(Frame f,
                      c->Call(Opcode::kPrepare, std::move(body), options_.request_timeout_ms));
  if (f.header.opcode != static_cast<uint8_t>(Opcode::kResult)) {
    return ResponseError(f, c->address(), query);
  }
  DF_ASSIGN_OR_RETURN(ResultMessage r, DecodeResult(f.body));
  if (r.kind != ResultKind::kPrepared) {
    return Status::Internal(
        fmt::format("cassandra {}: PREPARE of '{}' returned no id", c->address(), query));
  }
  host->SetPreparedId(query, r.prepared.id);
  return r.prepared.id;
}

void Session::Attempt(const std::shared_ptr<Request>& r) {
  auto picked = Pick(r->avoid);
  if (!picked.ok()) {
    if (ClassifyTransportStatus(picked.status()) == RetryDecision::kRetry) {
      RetryLater(r, nullptr, picked.status(), true);
    } else {
      Finish(r, picked.status());
    }
    return;
  }
  auto [host, conn] = *picked;
  std::string body;
  Opcode op = Opcode::kQuery;
  if (r->execute) {
    auto id = PreparedIdOn(host, conn.get(), r->text());
    if (!id.ok()) {
      if (ClassifyTransportStatus(id.status()) == RetryDecision::kRetry) {
        RetryLater(r, host, id.status(), true);
      } else {
        Finish(r, id.status());
      }
      return;
    }
    if (r->encoded) {
      body.reserve(2 + id->size() + r->encoded_params.size());
      WireWriter(&body).ShortBytes(*id);
      body.append(r->encoded_params);
    } else {
      WireWriter w(&body);  // EncodeExecute without copying the parameters
      w.ShortBytes(*id);
      EncodeQueryParameters(r->params, &w);
    }
    op = Opcode::kExecute;
  } else {
    EncodeQuery(QueryMessage{r->query, r->params}, &body);
  }
  conn->Send(op, std::move(body), options_.request_timeout_ms,
             [this, r, host](Result<Frame> f) { OnResponse(r, host, std::move(f)); });
}

void Session::OnResponse(const std::shared_ptr<Request>& r, HostPool* host, Result<Frame> frame) {
  if (!frame.ok()) {
    if (ClassifyTransportStatus(frame.status()) == RetryDecision::kRetry) {
      RetryLater(r, host, frame.status(), true);
    } else {
      Finish(r, frame.status());
    }
    return;
  }
  const std::string& node = host->address();
  if (frame->header.opcode == static_cast<uint8_t>(Opcode::kResult)) {
    Finish(r, DecodeResult(frame->body));
    return;
  }
  if (frame->header.opcode != static_cast<uint8_t>(Opcode::kError)) {
    Finish(r, ResponseError(*frame, node, r->text()));
    return;
  }
  auto e = DecodeError(frame->body);
  if (!e.ok()) {
    Finish(r, ResponseError(*frame, node, r->text()));
    return;
  }
  probe_.ServerError(e->code);
  Status why = ErrorToStatus(*e, node, r->text());
  switch (ClassifyError(e->code)) {
    case RetryDecision::kRetry:
      RetryLater(r, host, why, true);
      return;
    case RetryDecision::kReprepare:
      if (r->execute && !r->reprepared) {
        r->reprepared = true;
        host->ForgetPrepared(r->text());
        RetryLater(r, nullptr, why, false);
        return;
      }
      Finish(r, why);
      return;
    case RetryDecision::kFail:
      Finish(r, why);
      return;
  }
}

void Session::RetryLater(const std::shared_ptr<Request>& r, HostPool* host, const Status& why,
                         bool counted) {
  int64_t delay = 0;
  if (counted) {
    if (r->retries >= options_.max_retries) {
      Finish(r, Status(why.code(),
                       fmt::format("{} (gave up after {} retries)", why.message(), r->retries)));
      return;
    }
    ++r->retries;
    probe_.Retried();
    // A stalled or restarting cluster says so, at most every 5 s (requests retry in crowds).
    int64_t now = RealMonotonicMillis();
    int64_t last = last_retry_warning_ms_.load(std::memory_order_relaxed);
    if (now - last >= 5000 &&
        last_retry_warning_ms_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      spdlog::warn("{}; retrying with backoff (retry {} of at most {})", why.message(), r->retries,
                   options_.max_retries);
    }
    delay = BackoffMs(r->retries, options_.retry_base_ms, options_.retry_max_ms);
  }
  r->avoid = host;
  {
    std::lock_guard<std::mutex> lock(timers_mu_);
    if (!closing_) {
      timers_.push(Timer{RealMonotonicMillis() + delay, timer_seq_++, r});
      timers_cv_.notify_one();
      return;
    }
  }
  Finish(r, Status::Cancelled("cassandra: session closed before the request could be retried: " +
                              why.message()));
}

void Session::Finish(const std::shared_ptr<Request>& r, Result<ResultMessage> result) {
  probe_.RequestEnded();
  ResultCallback done = std::move(r->done);
  if (done) done(std::move(result));
}

void Session::RetryLoop() {
  std::unique_lock<std::mutex> lock(timers_mu_);
  for (;;) {
    if (closing_) break;
    if (timers_.empty()) {
      timers_cv_.wait(lock);
      continue;
    }
    int64_t wait = timers_.top().due_ms - RealMonotonicMillis();
    if (wait > 0) {
      timers_cv_.wait_for(lock, std::chrono::milliseconds(wait));
      continue;
    }
    auto r = timers_.top().request;
    timers_.pop();
    lock.unlock();
    Attempt(r);
    lock.lock();
  }
  std::vector<std::shared_ptr<Request>> pending;
  while (!timers_.empty()) {
    pending.push_back(timers_.top().request);
    timers_.pop();
  }
  lock.unlock();
  for (auto& r : pending) Finish(r, Status::Cancelled("cassandra: session closed"));
}

}  // namespace dataforge::cql::client
