// Live progress on a terminal: one line per stage, redrawn in place every 500 ms, with
// records/s over the last interval. Owns one background thread between Start() and Stop().
#pragma once

#include <cstdio>
#include <thread>

#include "pipeline/stage_probes.h"

namespace dataforge {

class ProgressDisplay {
 public:
  // `out` must be a terminal; the caller checks isatty. `probes` must outlive Stop().
  ProgressDisplay(const StageProbes* probes, std::FILE* out) : probes_(probes), out_(out) {}
  ~ProgressDisplay() { Stop(); }
  void Start();
  void Stop();

 private:
  void Draw(double seconds_since_last, bool first);

  const StageProbes* probes_;
  std::FILE* out_;
  std::jthread thread_;
  uint64_t last_[4] = {0, 0, 0, 0};
};

}  // namespace dataforge
