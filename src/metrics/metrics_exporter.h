// What GET /metrics serves: every metric of this process in the Prometheus text format
// (version 0.0.4), serialised by prometheus-cpp (core). Metric names and labels are listed in
// docs/metrics.md; that page is the contract the Grafana dashboard and the alert rules
// (deploy/) are checked against.
//
// Two kinds of metrics meet here:
//  - pulled: a prometheus::Collectable added with Add() builds its families at scrape time from
//    the probes a stage already keeps (atomics updated per batch, never per record), so the hot
//    path pays nothing for metrics;
//  - pushed: counters and histograms of prometheus-cpp in registry(), updated by their owner
//    (the HTTP and CQL servers per request).
//
// Thread-safety: Add() and registry() from the owning thread before serving; Scrape() from any
// thread, concurrently with itself and with the owners' updates. Collectables must outlive the
// exporter (or be owned by it through the shared_ptr).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

namespace dataforge::metrics {

class MetricsExporter {
 public:
  MetricsExporter();
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;

  // For pushed metrics: families made here are serialised with the pulled ones.
  prometheus::Registry& registry() { return *registry_; }

  // Adds a pulled source of families. A family name must come from one source only.
  void Add(std::shared_ptr<prometheus::Collectable> collectable);

  // The whole exposition, families sorted by name.
  std::string Scrape() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;  // GUARDED_BY(mu_)
};

// The Content-Type of Scrape()'s text.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace dataforge::metrics
