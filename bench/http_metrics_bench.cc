// The HTTP server's per-request metrics cost (metrics/server_metrics.h): HttpMetrics::Observe
// (the cached Counter* and the route's histogram) against what a server would pay calling
// prometheus-cpp's Family::Add per request, over 40 routes, on 1 and 2 threads.
//   build/bench/http_metrics_bench [REQUESTS_PER_THREAD]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "metrics/server_metrics.h"

using dataforge::metrics::HttpMetrics;
using dataforge::metrics::RequestBuckets;

namespace {

// Wall time per request on each thread, in ns.
template <typename Fn>
double PerRequestNs(int threads, int n, Fn fn) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < n; ++i) fn(i);
    });
  }
  for (auto& t : ts) t.join();
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
         n;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 5'000'000;
  constexpr int kRoutes = 40;
  prometheus::Registry registry;
  HttpMetrics metrics(registry);
  std::vector<std::string> routes;
  std::vector<uint32_t> ids;
  for (int i = 0; i < kRoutes; ++i) {
    routes.push_back("/v1/route" + std::to_string(i) + "/{name}");
    ids.push_back(metrics.RouteId(routes.back()));
  }
  for (int threads : {1, 2}) {
    double ns = PerRequestNs(threads, n, [&](int i) {
      metrics.Observe(ids[i % kRoutes], "GET", i % 7 ? 200 : 404, 0.0003);
    });
    std::printf("HttpMetrics::Observe       threads=%d  %7.1f ns/request\n", threads, ns);
  }
  auto& counters = prometheus::BuildCounter().Name("family_add_total").Register(registry);
  auto& histograms = prometheus::BuildHistogram().Name("family_add_seconds").Register(registry);
  for (int threads : {1, 2}) {
    double ns = PerRequestNs(threads, n, [&](int i) {
      counters
          .Add({{"route", routes[i % kRoutes]}, {"method", "GET"}, {"code", i % 7 ? "200" : "404"}})
          .Increment();
      histograms.Add({{"route", routes[i % kRoutes]}}, RequestBuckets()).Observe(0.0003);
    });
    std::printf("Family::Add per request    threads=%d  %7.1f ns/request\n", threads, ns);
  }
  return 0;
}
