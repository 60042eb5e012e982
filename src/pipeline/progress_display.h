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
  // `first_line`/`lines` choose the stages shown (0 source, 1 staging, 2 relay, 3 process):
  // a role shows only its own.
  ProgressDisplay(const StageProbes* probes, std::FILE* out, int first_line = 0, int lines = 4)
      : probes_(probes), out_(out), first_line_(first_line), lines_(lines) {}
  ~ProgressDisplay() { Stop(); }
  void Start();
  void Stop();

 private:
  void Draw(double seconds_since_last, bool first);

  const StageProbes* probes_;
  std::FILE* out_;
  int first_line_;
  int lines_;
  std::jthread thread_;
  uint64_t last_[4] = {0, 0, 0, 0};
};

}  // namespace dataforge
