#include "metrics/client_collector.h"

#include <gtest/gtest.h>

#include <memory>

#include "metrics/metrics_exporter.h"
#include "metrics/server_metrics.h"
#include "metrics/testing/scrape.h"

namespace dataforge::metrics {
namespace {

using testing::SampleValue;

TEST(ClientCollectorTest, ExportsEveryBackendAndTheCodesSeen) {
  ClientCounters counters;
  MetricsExporter exporter;
  exporter.Add(std::make_shared<ClientCollector>(&counters));
  std::string text = exporter.Scrape();
  // Before anything is counted: every backend at 0, code 200 and error at 0.
  for (const char* b : {"kafka", "postgresql", "cassandra"}) {
    EXPECT_EQ(
        SampleValue(text, std::string("dataforge_client_errors_total{backend=\"") + b + "\"}"), 0)
        << text;
    EXPECT_EQ(
        SampleValue(text, std::string("dataforge_client_reconnects_total{backend=\"") + b + "\"}"),
        0);
  }
  EXPECT_EQ(SampleValue(text, "dataforge_source_http_requests_total{code=\"200\"}"), 0);
  EXPECT_EQ(SampleValue(text, "dataforge_source_http_requests_total{code=\"error\"}"), 0);
  EXPECT_EQ(SampleValue(text, "dataforge_source_http_requests_total{code=\"500\"}"), -1);
  EXPECT_EQ(SampleValue(text, "dataforge_source_http_retries_total"), 0);

  counters.SourceHttpResponse(500);
  counters.SourceHttpResponse(200);
  counters.SourceHttpResponse(200);
  counters.SourceHttpResponse(700);
  counters.SourceHttpNoResponse();
  counters.SourceHttpRetry();
  counters.SourceHttpRetry();
  counters.Error(ClientBackend::kKafka);
  counters.Error(ClientBackend::kKafka);
  counters.Error(ClientBackend::kPostgresql);
  counters.Reconnect(ClientBackend::kCassandra);
  text = exporter.Scrape();
  EXPECT_EQ(SampleValue(text, "dataforge_source_http_requests_total{code=\"200\"}"), 2) << text;
  EXPECT_EQ(SampleValue(text, "dataforge_source_http_requests_total{code=\"500\"}"), 1);
  EXPECT_EQ(SampleValue(text, "dataforge_source_http_requests_total{code=\"other\"}"), 1);
  EXPECT_EQ(SampleValue(text, "dataforge_source_http_requests_total{code=\"error\"}"), 1);
  EXPECT_EQ(SampleValue(text, "dataforge_source_http_retries_total"), 2);
  EXPECT_EQ(SampleValue(text, "dataforge_client_errors_total{backend=\"kafka\"}"), 2);
  EXPECT_EQ(SampleValue(text, "dataforge_client_errors_total{backend=\"postgresql\"}"), 1);
  EXPECT_EQ(SampleValue(text, "dataforge_client_errors_total{backend=\"cassandra\"}"), 0);
  EXPECT_EQ(SampleValue(text, "dataforge_client_reconnects_total{backend=\"cassandra\"}"), 1);
  EXPECT_EQ(SampleValue(text, "dataforge_client_reconnects_total{backend=\"kafka\"}"), 0);
  EXPECT_NE(text.find("# TYPE dataforge_client_errors_total counter"), std::string::npos);
}

TEST(ServerMetricsTest, HttpSeriesAreCachedAndExact) {
  MetricsExporter exporter;
  HttpMetrics http(exporter.registry());
  uint32_t rows = http.RouteId("/v1/tables/{table}/rows");
  EXPECT_EQ(http.RouteId("/v1/tables/{table}/rows"), rows);
  uint32_t unmatched = http.RouteId("unmatched");
  EXPECT_NE(rows, unmatched);
  for (int i = 0; i < 1000; ++i) http.Observe(rows, "GET", 200, 0.002);
  http.Observe(rows, "POST", 201, 0.3);
  http.Observe(rows, "BREW", 405, 0.0001);
  http.Observe(unmatched, "GET", 404, 0.0001);
  std::string text = exporter.Scrape();
  const std::string r = "route=\"/v1/tables/{table}/rows\"";
  EXPECT_EQ(
      SampleValue(text, "dataforge_http_requests_total{code=\"200\",method=\"GET\"," + r + "}"),
      1000)
      << text;
  EXPECT_EQ(
      SampleValue(text, "dataforge_http_requests_total{code=\"201\",method=\"POST\"," + r + "}"),
      1);
  EXPECT_EQ(
      SampleValue(text, "dataforge_http_requests_total{code=\"405\",method=\"other\"," + r + "}"),
      1);
  EXPECT_EQ(SampleValue(text,
                        "dataforge_http_requests_total{code=\"404\",method=\"GET\","
                        "route=\"unmatched\"}"),
            1);
  EXPECT_EQ(SampleValue(text, "dataforge_http_request_duration_seconds_count{" + r + "}"), 1002);
  EXPECT_EQ(
      SampleValue(text, "dataforge_http_request_duration_seconds_bucket{" + r + ",le=\"0.0025\"}"),
      1001);
  EXPECT_EQ(
      SampleValue(text, "dataforge_http_request_duration_seconds_bucket{" + r + ",le=\"0.5\"}"),
      1002);
}

TEST(ServerMetricsTest, CqlSeriesByOpcodeAndResult) {
  MetricsExporter exporter;
  CqlMetrics cql(exporter.registry());
  cql.Observe(0x07, true, 0.001);   // QUERY
  cql.Observe(0x07, false, 0.001);  // QUERY, ERROR
  cql.Observe(0x0A, true, 0.001);   // EXECUTE
  cql.Observe(0x08, true, 0.001);   // RESULT: not a request, not counted
  cql.Observe(0xFF, true, 0.001);
  std::string text = exporter.Scrape();
  EXPECT_EQ(SampleValue(text, "dataforge_cql_requests_total{opcode=\"QUERY\",result=\"ok\"}"), 1)
      << text;
  EXPECT_EQ(SampleValue(text, "dataforge_cql_requests_total{opcode=\"QUERY\",result=\"error\"}"),
            1);
  EXPECT_EQ(SampleValue(text, "dataforge_cql_requests_total{opcode=\"EXECUTE\",result=\"ok\"}"), 1);
  EXPECT_EQ(SampleValue(text, "dataforge_cql_requests_total{opcode=\"BATCH\",result=\"ok\"}"), 0);
  EXPECT_EQ(SampleValue(text, "dataforge_cql_request_duration_seconds_count{opcode=\"QUERY\"}"), 2);
  EXPECT_EQ(text.find("RESULT"), std::string::npos);
}

}  // namespace
}  // namespace dataforge::metrics
