#include "common/latency_histogram.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(99), 0);
  EXPECT_EQ(h.Count(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int i = 1; i <= 10; ++i) h.Record(i);
  EXPECT_EQ(h.Percentile(50), 5);
  EXPECT_EQ(h.Percentile(100), 10);
  EXPECT_EQ(h.Count(), 10u);
}

TEST(LatencyHistogramTest, LargeValuesWithinSixPercent) {
  LatencyHistogram h;
  for (int i = 1; i <= 100000; ++i) h.Record(i);
  int64_t p50 = h.Percentile(50);
  int64_t p99 = h.Percentile(99);
  EXPECT_GE(p50, 50000);
  EXPECT_LE(p50, 53000);
  EXPECT_GE(p99, 99000);
  EXPECT_LE(p99, 100000);  // capped by the max seen
  EXPECT_EQ(h.Max(), 100000);
}

}  // namespace
}  // namespace dataforge
