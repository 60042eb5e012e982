// The built-in randomuser.me-compatible API over HTTP/1.1 (cpp-httplib, keep-alive).
//
//   GET /api/  /api  /api/1.4/   ?results=N&seed=S&page=P&nat=us,gb&gender=female&inc=…&exc=…
//
// Thread-safety: Start/Stop from one owner thread; requests are served on the server's own
// pool; SetFaults() and requests_served() may be called from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace httplib {
class Server;
}

namespace dataforge {

// Faults for tests of HTTP clients: each counter is consumed by the next requests.
struct MockApiFaults {
  int fail_500 = 0;  // answer 500 with a text body
  int fail_429 = 0;  // answer 429 with Retry-After: retry_after_s
  int retry_after_s = 1;
  int delay_ms = 0;   // delay every response by this much
  int malformed = 0;  // answer 200 with a body that is not JSON
};

class MockApiServer {
 public:
  MockApiServer();
  ~MockApiServer();

  // Listens on host:port (0 = a free port) and serves in background threads.
  Status Start(const std::string& host, int port);
  int port() const { return port_; }
  void Stop();

  void SetFaults(const MockApiFaults& faults);
  uint64_t requests_served() const { return served_.load(); }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex faults_mu_;
  MockApiFaults faults_;  // guarded by faults_mu_
  std::atomic<uint64_t> served_{0};
};

}  // namespace dataforge
