// A LatencyHistogram (common/latency_histogram.h, microseconds) as a Prometheus histogram in
// seconds, with the bucket bounds of docs/metrics.md. The probes keep LatencyHistograms (a
// lock-free Record() per batch); the collectors convert them at scrape time.
//
// How exact: _count and +Inf are the samples of one pass over the buckets, _sum is the exact sum
// of the samples (read separately, so a sample recorded during the scrape may be in one and not
// the other). A bucket `le` counts the samples whose LatencyHistogram bucket lies wholly at or
// below the bound: samples in the one bucket that straddles a bound (at most 1/16 of the bound
// wide: 496..511 us for le=0.0005) count under the next bound instead. So a bucket's count is
// never above the true count of samples <= le, and at most that bucket's samples below it.
#pragma once

#include <vector>

#include <prometheus/client_metric.h>

#include "common/latency_histogram.h"
#include "metrics/family.h"

namespace dataforge::metrics {

// docs/metrics.md's bounds, seconds, ascending (+Inf implied).
const std::vector<double>& HistogramBoundsSeconds();

// The histogram metric of `h`, with `labels`.
prometheus::ClientMetric HistogramMetric(const LatencyHistogram& h, Labels labels = {});

}  // namespace dataforge::metrics
