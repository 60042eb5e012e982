#include "metrics/server_metrics.h"

namespace dataforge::metrics {
namespace {

constexpr std::string_view kMethods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                         "PATCH", "DELETE", "OPTIONS", "other"};
constexpr int kOtherMethod = 7;

int MethodIndex(std::string_view method) {
  for (int i = 0; i < kOtherMethod; ++i) {
    if (kMethods[i] == method) return i;
  }
  return kOtherMethod;
}

// Histogram slots have this in place of a code.
constexpr int kHistogramCode = 0xFFFF;

uint64_t Key(uint32_t route_id, int method, int code) {
  return (static_cast<uint64_t>(route_id) + 1) << 32 | static_cast<uint64_t>(method) << 16 |
         static_cast<uint64_t>(code & 0xFFFF);
}

size_t Hash(uint64_t key, size_t slots) {
  return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 40) & (slots - 1);
}

}  // namespace

const prometheus::Histogram::BucketBoundaries& RequestBuckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return buckets;
}

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("dataforge_http_requests_total")
                    .Help("HTTP requests served, by route pattern (unmatched: no route), method "
                          "and status code.")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("dataforge_http_request_duration_seconds")
                    .Help("HTTP request handling time, by route pattern.")
                    .Register(registry)) {}

uint32_t HttpMetrics::RouteId(std::string_view route) {
  std::lock_guard lock(mu_);
  auto [it, added] = ids_.emplace(std::string(route), static_cast<uint32_t>(routes_.size()));
  if (added) routes_.emplace_back(route);
  return it->second;
}

void* HttpMetrics::Lookup(uint64_t key) const {
  size_t i = Hash(key, kSlots);
  for (size_t n = 0; n < kSlots; ++n, i = (i + 1) & (kSlots - 1)) {
    uint64_t k = slots_[i].key.load(std::memory_order_acquire);
    if (k == key) return slots_[i].value.load(std::memory_order_relaxed);
    if (k == 0) return nullptr;
  }
  return nullptr;
}

void* HttpMetrics::Insert(uint64_t key, uint32_t route_id, int method, int code) {
  std::lock_guard lock(mu_);
  std::string route = route_id < routes_.size() ? routes_[route_id] : "unmatched";
  void* made;
  if (code == kHistogramCode) {
    made = &duration_.Add({{"route", route}}, RequestBuckets());
  } else {
    made = &requests_.Add({{"route", route},
                           {"method", std::string(kMethods[method])},
                           {"code", std::to_string(code)}});
  }
  // Only inserts under mu_: a key found here was inserted by another thread meanwhile.
  size_t i = Hash(key, kSlots);
  for (size_t n = 0; n < kSlots; ++n, i = (i + 1) & (kSlots - 1)) {
    uint64_t k = slots_[i].key.load(std::memory_order_relaxed);
    if (k == key) return made;  // Family::Add returned the same series
    if (k == 0) {
      slots_[i].value.store(made, std::memory_order_relaxed);
      slots_[i].key.store(key, std::memory_order_release);
      return made;
    }
  }
  return made;  // table full: Family::Add per request from now on (still correct)
}

void HttpMetrics::Observe(uint32_t route_id, std::string_view method, int code, double seconds) {
  int m = MethodIndex(method);
  uint64_t counter_key = Key(route_id, m, code);
  void* c = Lookup(counter_key);
  if (c == nullptr) c = Insert(counter_key, route_id, m, code);
  static_cast<prometheus::Counter*>(c)->Increment();
  uint64_t histogram_key = Key(route_id, 0, kHistogramCode);
  void* h = Lookup(histogram_key);
  if (h == nullptr) h = Insert(histogram_key, route_id, 0, kHistogramCode);
  static_cast<prometheus::Histogram*>(h)->Observe(seconds);
}

CqlMetrics::CqlMetrics(prometheus::Registry& registry) {
  // Request opcodes of the native protocol v4.
  constexpr std::pair<uint8_t, const char*> kRequests[] = {
      {0x01, "STARTUP"}, {0x05, "OPTIONS"},  {0x07, "QUERY"}, {0x09, "PREPARE"},
      {0x0A, "EXECUTE"}, {0x0B, "REGISTER"}, {0x0D, "BATCH"}, {0x0F, "AUTH_RESPONSE"}};
  auto& requests = prometheus::BuildCounter()
                       .Name("dataforge_cql_requests_total")
                       .Help(
                           "CQL endpoint requests, by opcode and result (error: answered "
                           "ERROR).")
                       .Register(registry);
  auto& duration = prometheus::BuildHistogram()
                       .Name("dataforge_cql_request_duration_seconds")
                       .Help("CQL request handling time, by opcode.")
                       .Register(registry);
  for (const auto& [op, name] : kRequests) {
    ok_[op] = &requests.Add({{"opcode", name}, {"result", "ok"}});
    error_[op] = &requests.Add({{"opcode", name}, {"result", "error"}});
    duration_[op] = &duration.Add({{"opcode", name}}, RequestBuckets());
  }
}

void CqlMetrics::Observe(uint8_t opcode, bool ok, double seconds) {
  if (opcode >= kOpcodes || duration_[opcode] == nullptr) return;
  (ok ? ok_[opcode] : error_[opcode])->Increment();
  duration_[opcode]->Observe(seconds);
}

}  // namespace dataforge::metrics
