// Metrics of one CQL client Session, kept apart from the logic (one probe per component).
// Counters are atomics, safe to read from any thread while the session runs.
// Errors (a time-out, a lost connection, an ERROR response) and reconnects are also counted in
// the process-wide ClientCounters (common/client_counters.h, backend cassandra).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>

#include "common/client_counters.h"

namespace dataforge::cql::client {

class ClientProbe {
 public:
  void RequestStarted() {
    requests_.fetch_add(1, std::memory_order_relaxed);
    in_flight_.fetch_add(1, std::memory_order_relaxed);
  }
  void RequestEnded() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  void Retried() { retries_.fetch_add(1, std::memory_order_relaxed); }
  void Reconnected() {
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    ClientCounters::Get().Reconnect(ClientBackend::kCassandra);
  }
  void TimedOut() {
    timeouts_.fetch_add(1, std::memory_order_relaxed);
    ClientCounters::Get().Error(ClientBackend::kCassandra);
  }
  void ConnectionLost() {
    connection_losses_.fetch_add(1, std::memory_order_relaxed);
    ClientCounters::Get().Error(ClientBackend::kCassandra);
  }
  // One ERROR response from a node, by its protocol error code.
  void ServerError(int32_t code) {
    ClientCounters::Get().Error(ClientBackend::kCassandra);
    std::lock_guard<std::mutex> lock(mu_);
    ++errors_by_code_[code];
  }

  int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }
  uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }
  uint64_t timeouts() const { return timeouts_.load(std::memory_order_relaxed); }
  uint64_t connection_losses() const { return connection_losses_.load(std::memory_order_relaxed); }
  std::map<int32_t, uint64_t> errors_by_code() const {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_by_code_;
  }

 private:
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> requests_{0}, retries_{0}, reconnects_{0}, timeouts_{0},
      connection_losses_{0};
  mutable std::mutex mu_;
  std::map<int32_t, uint64_t> errors_by_code_;  // GUARDED_BY(mu_)
};

}  // namespace dataforge::cql::client
