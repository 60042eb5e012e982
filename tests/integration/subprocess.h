// Runs the dataforge binary (or any program) as a child process for integration tests.
// stdout and stderr go to files, so a chatty child never blocks on a full pipe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace dataforge::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

class ChildProcess {
 public:
  // Starts `argv` (argv[0] is the path) with extra environment `env` ("K=V").
  static ChildProcess Start(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env = {});
  ChildProcess(ChildProcess&& o) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits up to `timeout_ms`; on time-out kills the child with SIGKILL and fails the test.
  ProcessResult Wait(int timeout_ms = 120000);
  // The output written so far.
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  std::string dir_;
};

// Runs `dataforge ARGS...` to completion.
ProcessResult RunDataforge(const std::vector<std::string>& args, int timeout_ms = 120000,
                           const std::vector<std::string>& env = {});
ChildProcess StartDataforge(const std::vector<std::string>& args,
                            const std::vector<std::string>& env = {});

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `pred` every 100 ms for up to `seconds`; true as soon as it holds.
template <typename Pred>
bool WaitFor(Pred pred, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& text);
std::vector<std::string> SplitLines(const std::string& text);

}  // namespace dataforge::testing
