#include "metrics/histogram_metric.h"

#include <cmath>
#include <limits>
#include <utility>

namespace dataforge::metrics {
namespace {

std::vector<int64_t> BoundsMicros() {
  std::vector<int64_t> out;
  for (double s : HistogramBoundsSeconds()) out.push_back(std::llround(s * 1e6));
  return out;
}

}  // namespace

const std::vector<double>& HistogramBoundsSeconds() {
  static const std::vector<double> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return kBounds;
}

prometheus::ClientMetric HistogramMetric(const LatencyHistogram& h, Labels labels) {
  static const std::vector<int64_t> kMicros = BoundsMicros();
  const std::vector<double>& seconds = HistogramBoundsSeconds();
  std::vector<uint64_t> counts = h.CumulativeCounts(kMicros);
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.histogram.sample_count = counts.back();
  m.histogram.sample_sum = static_cast<double>(h.Sum()) / 1e6;
  for (size_t i = 0; i < seconds.size(); ++i) {
    m.histogram.bucket.push_back({counts[i], seconds[i]});
  }
  m.histogram.bucket.push_back({counts.back(), std::numeric_limits<double>::infinity()});
  return m;
}

}  // namespace dataforge::metrics
