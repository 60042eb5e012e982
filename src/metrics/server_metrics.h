// Request metrics of the servers, pushed into a prometheus::Registry (usually
// MetricsExporter::registry()) by the servers per request (docs/metrics.md):
//   HttpMetrics: dataforge_http_requests_total{route,method,code},
//                dataforge_http_request_duration_seconds{route}
//   CqlMetrics:  dataforge_cql_requests_total{opcode,result},
//                dataforge_cql_request_duration_seconds{opcode}
// Buckets: kRequestBuckets (seconds), as docs/metrics.md lists them.
//
// Per-request cost: HttpMetrics finds a series' Counter* in a fixed open-addressing table
// without a lock (atomics; prometheus-cpp's Family::Add, a map lookup under a mutex, runs once
// per new (route, method, code)); CqlMetrics makes every series up front (a fixed array).
//
// Thread-safety: RouteId() and Observe() from any thread. The registry must outlive the object.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace dataforge::metrics {

// 0.0005 s ... 60 s (docs/metrics.md); +Inf is implied.
const prometheus::Histogram::BucketBoundaries& RequestBuckets();

class HttpMetrics {
 public:
  explicit HttpMetrics(prometheus::Registry& registry);
  HttpMetrics(const HttpMetrics&) = delete;
  HttpMetrics& operator=(const HttpMetrics&) = delete;

  // A small number for a route label (a route pattern such as "/v1/tables/{table}/rows",
  // "/health", or "unmatched"): the same label always gets the same id. Call it once per route
  // (when the server starts), not per request.
  uint32_t RouteId(std::string_view route);

  // One request answered: its route (an id from RouteId), method (as the client sent it; one
  // outside GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS is counted as "other"), status code and
  // handling time.
  void Observe(uint32_t route_id, std::string_view method, int code, double seconds);

 private:
  struct Slot {
    std::atomic<uint64_t> key{0};  // 0: empty; written last (release)
    std::atomic<void*> value{nullptr};
  };
  static constexpr size_t kSlots = 4096;  // bounded labels: routes x methods x codes

  void* Lookup(uint64_t key) const;
  void* Insert(uint64_t key, uint32_t route_id, int method, int code);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  std::array<Slot, kSlots> slots_;
  std::mutex mu_;
  std::unordered_map<std::string, uint32_t> ids_;  // GUARDED_BY(mu_)
  std::vector<std::string> routes_;                // GUARDED_BY(mu_); by id
};

class CqlMetrics {
 public:
  explicit CqlMetrics(prometheus::Registry& registry);
  CqlMetrics(const CqlMetrics&) = delete;
  CqlMetrics& operator=(const CqlMetrics&) = delete;

  // One request answered: `opcode` is the request frame's opcode byte (STARTUP, OPTIONS,
  // QUERY, PREPARE, EXECUTE, REGISTER, BATCH, AUTH_RESPONSE; other bytes are not requests and
  // are not counted), `ok` false when the answer was an ERROR.
  void Observe(uint8_t opcode, bool ok, double seconds);

 private:
  static constexpr size_t kOpcodes = 16;
  std::array<prometheus::Counter*, kOpcodes> ok_{};
  std::array<prometheus::Counter*, kOpcodes> error_{};
  std::array<prometheus::Histogram*, kOpcodes> duration_{};
};

}  // namespace dataforge::metrics
