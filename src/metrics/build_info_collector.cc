#include "metrics/build_info_collector.h"

#include <utility>

#include <fmt/format.h>

#include "metrics/family.h"

namespace dataforge::metrics {

std::string CompilerName() {
#if defined(__clang__)
  return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

BuildInfoCollector::BuildInfoCollector(std::string version, std::string compiler)
    : version_(std::move(version)), compiler_(std::move(compiler)) {}

std::vector<prometheus::MetricFamily> BuildInfoCollector::Collect() const {
  auto f = Family("dataforge_build_info", "The binary: its version and compiler (always 1).",
                  prometheus::MetricType::Gauge);
  f.metric.push_back(GaugeValue(1, {{"compiler", compiler_}, {"version", version_}}));
  return {std::move(f)};
}

}  // namespace dataforge::metrics
