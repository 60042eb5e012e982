// `dataforge cql-serve` in a child process: a CQL endpoint (the Cassandra store's stand-in in
// integration tests) over the embedded store of a data dir, on a free port.
#pragma once

#include <signal.h>

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include <fmt/format.h>

#include "integration/subprocess.h"

namespace dataforge::testing {

// `dataforge cql-serve` over the embedded store of `data_dir`, in a child process.
class CqlEndpoint {
 public:
  explicit CqlEndpoint(std::string data_dir, int port = 0) : data_dir_(std::move(data_dir)) {
    Start(port);
  }
  ~CqlEndpoint() {
    if (process_) {
      process_->Signal(SIGKILL);
      process_->Wait(10000);
    }
  }
  int port() const { return port_; }
  std::string url() const { return fmt::format("cassandra://127.0.0.1:{}", port_); }
  ChildProcess& process() { return *process_; }

  void Kill() {
    process_->Signal(SIGKILL);
    ASSERT_EQ(process_->Wait(10000).signal, SIGKILL);
    process_.reset();
  }
  // Starts again on the same data dir and port.
  void Restart() { Start(port_); }
  ProcessResult Stop() {
    process_->Signal(SIGTERM);
    auto r = process_->Wait(30000);
    process_.reset();
    return r;
  }

 private:
  void Start(int port) {
    process_.emplace(
        StartDataforge({"cql-serve", "--port", std::to_string(port), "--data-dir", data_dir_}));
    std::string marker = "listening on 127.0.0.1:";
    ASSERT_TRUE(WaitFor(
        [&] {
          return process_->Stdout().find(marker) != std::string::npos ||
                 process_->Stderr().find(marker) != std::string::npos;
        },
        30))
        << process_->Stdout() << process_->Stderr();
    std::string all = process_->Stdout() + process_->Stderr();
    port_ = std::stoi(all.substr(all.find(marker) + marker.size()));
  }

  std::string data_dir_;
  std::optional<ChildProcess> process_;
  int port_ = 0;
};

}  // namespace dataforge::testing
