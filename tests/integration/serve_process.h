// `dataforge serve` (or `run --http-port`) as a child process, and curl as an independent HTTP
// client, for the tests of the REST API over real loopback HTTP.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "integration/subprocess.h"

namespace dataforge::testing {

// Starts `dataforge ARGS` and waits (30 s) for the ready line "serve: listening on
// SCHEME://HOST:PORT (DETAILS)"; a failure to start is an EXPECT failure with the output.
// The destructor kills the process (SIGKILL).
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args,
                        const std::vector<std::string>& env = {});
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  bool up() const { return port_ != 0; }
  int port() const { return port_; }
  const std::string& details() const { return details_; }  // "store ..., auth on, tls off"
  // "http://127.0.0.1:PORT" + path.
  std::string Url(const std::string& path) const;
  ChildProcess& process() { return *process_; }
  // SIGTERM, then waits (30 s) for the exit.
  ProcessResult Stop();

 private:
  std::optional<ChildProcess> process_;
  std::string scheme_;
  int port_ = 0;
  std::string details_;
};

// A test with its own data dir, serving it: ServeArgs() is `serve --http-port 0 --data-dir
// <dir>/data` plus `extra`, for ServeProcess.
class ServeTest : public ::testing::Test {
 protected:
  std::vector<std::string> ServeArgs(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args{"serve", "--http-port", "0", "--data-dir", dir_.Sub("data")};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  TempDir dir_;
};

// One request with /usr/bin/curl: its status code, body, response headers and stderr.
struct CurlResult {
  int status = 0;
  std::string body;
  std::string headers;
  std::string err;
};
CurlResult Curl(std::vector<std::string> args, const std::string& url);

}  // namespace dataforge::testing
