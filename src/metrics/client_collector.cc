#include "metrics/client_collector.h"

#include <string>

namespace dataforge::metrics {
namespace {

prometheus::ClientMetric CounterSample(double value, std::string label = "",
                                       std::string label_value = "") {
  prometheus::ClientMetric m;
  if (!label.empty()) m.label.push_back({std::move(label), std::move(label_value)});
  m.counter.value = value;
  return m;
}

prometheus::MetricFamily CounterFamily(std::string name, std::string help) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Counter;
  return f;
}

}  // namespace

std::vector<prometheus::MetricFamily> ClientCollector::Collect() const {
  const ClientCounters& c = *counters_;
  std::vector<prometheus::MetricFamily> out;

  auto requests = CounterFamily("dataforge_source_http_requests_total",
                                "Requests the HTTP source sent, by response status code "
                                "(error: no response).");
  for (int code = ClientCounters::kMinCode; code <= ClientCounters::kMaxCode; ++code) {
    uint64_t n = c.source_http_responses(code);
    if (n > 0 || code == 200) {
      requests.metric.push_back(
          CounterSample(static_cast<double>(n), "code", std::to_string(code)));
    }
  }
  if (uint64_t other = c.source_http_other(); other > 0) {
    requests.metric.push_back(CounterSample(static_cast<double>(other), "code", "other"));
  }
  requests.metric.push_back(
      CounterSample(static_cast<double>(c.source_http_no_response()), "code", "error"));
  out.push_back(std::move(requests));

  auto retries = CounterFamily("dataforge_source_http_retries_total",
                               "Requests the HTTP source sent again after a failed one.");
  retries.metric.push_back(CounterSample(static_cast<double>(c.source_http_retries())));
  out.push_back(std::move(retries));

  auto errors = CounterFamily("dataforge_client_errors_total",
                              "Errors a backend client saw (a failed call, a broker or node "
                              "error).");
  auto reconnects = CounterFamily("dataforge_client_reconnects_total",
                                  "Connections a backend client made again after one was lost.");
  for (int i = 0; i < kClientBackendCount; ++i) {
    auto b = static_cast<ClientBackend>(i);
    std::string name(ClientBackendName(b));
    errors.metric.push_back(CounterSample(static_cast<double>(c.errors(b)), "backend", name));
    reconnects.metric.push_back(
        CounterSample(static_cast<double>(c.reconnects(b)), "backend", name));
  }
  out.push_back(std::move(errors));
  out.push_back(std::move(reconnects));
  return out;
}

}  // namespace dataforge::metrics
