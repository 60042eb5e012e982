#include "metrics/histogram_metric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <prometheus/text_serializer.h>

namespace dataforge::metrics {
namespace {

TEST(HistogramMetricTest, BoundsAreDocsMetricsMd) {
  EXPECT_EQ(HistogramBoundsSeconds(),
            (std::vector<double>{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                 2.5, 5, 10, 30, 60}));
}

TEST(HistogramMetricTest, EmptyHistogram) {
  LatencyHistogram h;
  auto m = HistogramMetric(h);
  EXPECT_EQ(m.histogram.sample_count, 0u);
  EXPECT_EQ(m.histogram.sample_sum, 0.0);
  ASSERT_EQ(m.histogram.bucket.size(), 17u);
  for (const auto& b : m.histogram.bucket) EXPECT_EQ(b.cumulative_count, 0u);
  EXPECT_TRUE(std::isinf(m.histogram.bucket.back().upper_bound));
}

TEST(HistogramMetricTest, CountsSamplesWhoseBucketIsBelowTheBound) {
  LatencyHistogram h;
  // 3 us is exact; 400 (bucket 400..415) and 495 (480..495) lie wholly under 500 us; 496 and 500
  // share the bucket 496..511, which straddles 500 us: they count from le=0.001 on. 1500 us
  // (1472..1535) under 2.5 ms, 2 s (1966080..2031615 us) under 2.5 s, 100 s only under +Inf.
  for (int64_t us : {3, 400, 495, 496, 500, 1500, 2'000'000, 100'000'000}) h.Record(us);
  auto m = HistogramMetric(h, {{"stage", "store"}});
  ASSERT_EQ(m.label.size(), 1u);
  EXPECT_EQ(m.label[0].value, "store");
  EXPECT_EQ(m.histogram.sample_count, 8u);
  EXPECT_DOUBLE_EQ(m.histogram.sample_sum, 102.003394);
  std::vector<uint64_t> got;
  for (const auto& b : m.histogram.bucket) got.push_back(b.cumulative_count);
  EXPECT_EQ(got, (std::vector<uint64_t>{3, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 8}));
  EXPECT_DOUBLE_EQ(m.histogram.bucket[0].upper_bound, 0.0005);
  EXPECT_DOUBLE_EQ(m.histogram.bucket[15].upper_bound, 60);
}

TEST(HistogramMetricTest, NegativeSamplesCountAsZero) {
  LatencyHistogram h;
  h.Record(-5);
  auto m = HistogramMetric(h);
  EXPECT_EQ(m.histogram.bucket[0].cumulative_count, 1u);
  EXPECT_EQ(m.histogram.sample_sum, 0.0);
}

TEST(HistogramMetricTest, SerializesOneInfBucket) {
  LatencyHistogram h;
  h.Record(700);
  prometheus::MetricFamily f;
  f.name = "x_seconds";
  f.help = "x";
  f.type = prometheus::MetricType::Histogram;
  f.metric.push_back(HistogramMetric(h));
  std::string text = prometheus::TextSerializer().Serialize({f});
  EXPECT_NE(text.find("x_seconds_bucket{le=\"0.0005\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("le=\"+Inf\""), text.rfind("le=\"+Inf\"")) << text;
  EXPECT_NE(text.find("x_seconds_sum 0.0007\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_count 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace dataforge::metrics
