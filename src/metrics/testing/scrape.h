// Test helper: one sample's value from a Prometheus text exposition.
#pragma once

#include <sstream>
#include <string>

namespace dataforge::metrics::testing {

// The value of the line `series value` (series with its labels exactly as serialised), or -1
// when the exposition has no such line.
inline double SampleValue(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

}  // namespace dataforge::metrics::testing
