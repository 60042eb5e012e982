// The backend clients' process-wide counters (common/client_counters.h) as metric families,
// built at each scrape (docs/metrics.md):
//   dataforge_source_http_requests_total{code}   codes seen, and always "200" and "error"
//   dataforge_source_http_retries_total
//   dataforge_client_errors_total{backend}       always every backend (kafka, postgresql,
//   dataforge_client_reconnects_total{backend}   cassandra), 0 until counted
//
// Thread-safety: Collect() from any thread, concurrently with the counting.
#pragma once

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "common/client_counters.h"

namespace dataforge::metrics {

class ClientCollector : public prometheus::Collectable {
 public:
  // `counters`: not owned; ClientCounters::Get() by default.
  explicit ClientCollector(const ClientCounters* counters = &ClientCounters::Get())
      : counters_(counters) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const ClientCounters* counters_;
};

}  // namespace dataforge::metrics
