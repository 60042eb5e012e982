// dataforge_build_info{version, compiler} 1: the binary (docs/metrics.md).
// Thread-safety: immutable after construction.
#pragma once

#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace dataforge::metrics {

// The compiler this file was built with, e.g. "gcc 12.2.0".
std::string CompilerName();

class BuildInfoCollector : public prometheus::Collectable {
 public:
  explicit BuildInfoCollector(std::string version, std::string compiler = CompilerName());
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string version_;
  std::string compiler_;
};

}  // namespace dataforge::metrics
