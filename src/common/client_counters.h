// Process-wide counters of the backend clients (docs/metrics.md: dataforge_source_http_*,
// dataforge_client_*), kept here so that the stage libraries count without a dependency on
// prometheus: metrics/client_collector.h turns them into metric families at scrape time.
//
// What each counts (the contract is docs/metrics.md):
//  - source HTTP: one count per response of the HTTP source's fetcher by status code (100-599;
//    other values under "other"), or "error" when no response came (connection refused,
//    time-out, reset); a retry is a request sent again after a failed one;
//  - per backend (kafka, postgresql, cassandra): errors (a failed call or an error the client
//    library reported) and reconnects (a connection made again after one was lost).
//
// Thread-safety: every member is a relaxed atomic; count and read from any thread. Counters only
// grow (tests compare deltas).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace dataforge {

enum class ClientBackend { kKafka = 0, kPostgresql = 1, kCassandra = 2 };
inline constexpr int kClientBackendCount = 3;
// "kafka", "postgresql", "cassandra" (the metric's label values).
std::string_view ClientBackendName(ClientBackend backend);

class ClientCounters {
 public:
  // The process's counters.
  static ClientCounters& Get();

  // Codes of responses counted one by one; others go to the "other" slot.
  static constexpr int kMinCode = 100;
  static constexpr int kMaxCode = 599;

  // One response of the HTTP source with status `code`.
  void SourceHttpResponse(int code) {
    size_t i =
        code >= kMinCode && code <= kMaxCode ? static_cast<size_t>(code - kMinCode) : kOtherSlot;
    http_codes_[i].fetch_add(1, std::memory_order_relaxed);
  }
  // One request of the HTTP source that got no response.
  void SourceHttpNoResponse() { http_codes_[kErrorSlot].fetch_add(1, std::memory_order_relaxed); }
  void SourceHttpRetry() { http_retries_.fetch_add(1, std::memory_order_relaxed); }

  void Error(ClientBackend b) {
    errors_[static_cast<size_t>(b)].fetch_add(1, std::memory_order_relaxed);
  }
  void Reconnect(ClientBackend b) {
    reconnects_[static_cast<size_t>(b)].fetch_add(1, std::memory_order_relaxed);
  }

  // Reads. `code`: 100-599.
  uint64_t source_http_responses(int code) const {
    if (code < kMinCode || code > kMaxCode) return 0;
    return http_codes_[static_cast<size_t>(code - kMinCode)].load(std::memory_order_relaxed);
  }
  uint64_t source_http_other() const {
    return http_codes_[kOtherSlot].load(std::memory_order_relaxed);
  }
  uint64_t source_http_no_response() const {
    return http_codes_[kErrorSlot].load(std::memory_order_relaxed);
  }
  uint64_t source_http_retries() const { return http_retries_.load(std::memory_order_relaxed); }
  uint64_t errors(ClientBackend b) const {
    return errors_[static_cast<size_t>(b)].load(std::memory_order_relaxed);
  }
  uint64_t reconnects(ClientBackend b) const {
    return reconnects_[static_cast<size_t>(b)].load(std::memory_order_relaxed);
  }

 private:
  static constexpr size_t kCodeSlots = kMaxCode - kMinCode + 1;
  static constexpr size_t kOtherSlot = kCodeSlots;
  static constexpr size_t kErrorSlot = kCodeSlots + 1;

  std::array<std::atomic<uint64_t>, kCodeSlots + 2> http_codes_{};
  std::atomic<uint64_t> http_retries_{0};
  std::array<std::atomic<uint64_t>, kClientBackendCount> errors_{};
  std::array<std::atomic<uint64_t>, kClientBackendCount> reconnects_{};
};

}  // namespace dataforge
