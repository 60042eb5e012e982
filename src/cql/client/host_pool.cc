#include "cql/client/host_pool.h"

#include "common/clock.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "cql/client/retry_policy.h"

namespace dataforge::cql::client {
namespace {

std::string Address(const ConnectionOptions& c) {
  return c.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", c.host, c.port)
                                               : fmt::format("{}:{}", c.host, c.port);
}

}  // namespace

HostPool::HostPool(HostPoolOptions options, std::string datacenter, ClientProbe* probe)
    : options_(std::move(options)),
      address_(Address(options_.connection)),
      datacenter_(std::move(datacenter)),
      probe_(probe),
      slots_(static_cast<size_t>(std::max(1, options_.connections))) {}

HostPool::~HostPool() {
  CloseAll();
}

void HostPool::Adopt(std::shared_ptr<Connection> c) {
  std::lock_guard<std::mutex> lock(mu_);
  slots_[0] = std::move(c);
  ever_connected_ = true;
}

Result<std::shared_ptr<Connection>> HostPool::Get() {
  std::vector<std::shared_ptr<Connection>> retired;  // destroyed outside the lock
  std::unique_lock<std::mutex> lock(mu_);
  size_t n = slots_.size();
  size_t first = next_++ % n;
  size_t empty = n;
  for (size_t i = 0; i < n; ++i) {
    size_t k = (first + i) % n;
    auto& c = slots_[k];
    if (c && !c->broken()) return c;
    if (c) retired.push_back(std::move(c));
    if (empty == n) empty = k;
  }
  int64_t now = RealMonotonicMillis();
  if (connecting_ || now < next_attempt_ms_) {
    Status why =
        last_error_.ok()
            ? Status::Unavailable(fmt::format("cassandra {}: no open connection yet", address_))
            : last_error_;
    lock.unlock();
    retired.clear();
    return why;
  }
  connecting_ = true;
  bool reconnect = ever_connected_;
  lock.unlock();
  retired.clear();
  auto opened = Connection::Open(options_.connection, probe_);
  lock.lock();
  connecting_ = false;
  if (!opened.ok()) {
    ++failures_;
    next_attempt_ms_ = RealMonotonicMillis() +
                       BackoffMs(failures_, options_.reconnect_base_ms, options_.reconnect_max_ms);
    last_error_ = opened.status();
    return opened.status();
  }
  failures_ = 0;
  next_attempt_ms_ = 0;
  last_error_ = Status::OK();
  ever_connected_ = true;
  if (reconnect && probe_) probe_->Reconnected();
  // A new connection may be to a restarted node that forgot its prepared statements; ids are
  // kept anyway: an Unprepared answer makes the session prepare again.
  slots_[empty] = *opened;
  return *opened;
}

bool HostPool::down() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_ > 0;
}

void HostPool::CloseAll() {
  std::vector<std::shared_ptr<Connection>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(slots_);
    slots_.resize(all.size());
  }
  for (auto& c : all) {
    if (c) c->Close();
  }
}

std::optional<std::string> HostPool::PreparedId(const std::string& query) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = prepared_.find(query);
  if (it == prepared_.end()) return std::nullopt;
  return it->second;
}

void HostPool::SetPreparedId(const std::string& query, std::string id) {
  std::lock_guard<std::mutex> lock(mu_);
  prepared_[query] = std::move(id);
}

void HostPool::ForgetPrepared(const std::string& query) {
  std::lock_guard<std::mutex> lock(mu_);
  prepared_.erase(query);
}

}  // namespace dataforge::cql::client
