// Runs a command as a child process for a `shell` task: output captured, a deadline enforced,
// cancellable. The child runs in its own process group; at the deadline or on cancellation the
// whole group gets SIGTERM, then SIGKILL after a grace period, so a hanging command (and
// whatever it started) never outlives its task.
// Thread-safety: RunSubprocess may be called from several threads at once.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dataforge {

struct SubprocessSpec {
  std::string command;  // run as /bin/sh -c command
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) ours
  std::string cwd;                                       // "" = ours
  int64_t timeout_us = 0;                                // 0 = none
  int64_t kill_grace_us = 5'000'000;                     // SIGTERM -> SIGKILL
  size_t max_output_bytes = 64 << 10;  // keep the last this many bytes of stdout+stderr
};

struct SubprocessResult {
  int exit_code = -1;      // -1 when ended by a signal
  int signal = 0;          // the signal that ended it, 0 if none
  bool timed_out = false;  // we killed it at its timeout
  bool cancelled = false;  // we killed it because `stop` was requested
  std::string output;      // stdout and stderr interleaved as written; the tail if longer
  bool truncated = false;  // output lost its head to max_output_bytes
  int64_t duration_us = 0;
};

// Starts the command and waits for it (and the end of its output). An error Status only when it
// could not be started at all (fork/pipe failure); a non-zero exit is a result, not an error.
Result<SubprocessResult> RunSubprocess(const SubprocessSpec& spec, std::stop_token stop);

}  // namespace dataforge
