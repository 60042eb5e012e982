// Runs one attempt of one task: renders its templates, dispatches on its type, enforces its
// timeout, and captures its output. Thread-safety: RunTask may be called from several threads.
#pragma once

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "config/dag_config.h"
#include "orchestrate/state/run_store.h"
#include "orchestrate/task_environment.h"

namespace dataforge {

struct TaskAttempt {
  const DagSpec* dag = nullptr;
  const TaskSpec* task = nullptr;
  DagRun run;
  int try_number = 1;
};

struct TaskResult {
  Status status;       // OK, or the one-line reason it failed (DeadlineExceeded at timeout)
  std::string output;  // what it printed / did, the tail if long
};

// The value of template variable `name` for this attempt (see IsTaskTemplateVariable), or
// nullopt for an unknown name or a conf key the run does not have.
std::optional<std::string> TaskVariable(const TaskAttempt& attempt, std::string_view name);

// `deadline_us` is monotonic (Clock::MonotonicMicros); `stop` cancels the attempt.
TaskResult RunTask(const TaskAttempt& attempt, TaskEnvironment& env, size_t max_output_bytes,
                   int64_t deadline_us, int64_t now_us, std::stop_token stop);

}  // namespace dataforge
