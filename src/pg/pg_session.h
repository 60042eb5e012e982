// A PostgreSQL connection that survives the server: runs a unit of work, and when it fails with
// kUnavailable (connection lost, server restarting, serialization failure, deadlock, statement
// timeout) reconnects and runs it again with exponential backoff (100 ms doubling to 5 s), saying
// every 5 s on the log what it is waiting for, until `max_wait_us` has passed or Interrupt().
// Any other error is returned at once.
//
// Counted in ClientCounters (common/client_counters.h, backend postgresql): every failed attempt
// of Run() (connecting or the unit of work; not a cancellation) is an error; every connection
// made after the session's first one is a reconnect.
//
// The unit of work must be safe to run again: it is told which attempt this is, so a
// transaction whose COMMIT outcome was lost can check whether it landed before redoing it.
//
// Thread-safety: Run() is serialised by an internal mutex; Interrupt() may be called from any
// thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "pg/pg_connection.h"

namespace dataforge {

class PgSession {
 public:
  // `setup` runs on every new connection (session settings, prepared statements).
  PgSession(std::string url, std::string what, Clock* clock, int64_t max_wait_us,
            std::function<Status(PgConnection&)> setup = nullptr);

  // Connects now; a first connection that fails is an error at once (bad configuration must
  // not look like a hang), except while the server is starting up.
  Status Connect();

  // Runs `work(connection, attempt)` (attempt 0, 1, ...) as described above. `doing` names it
  // in messages ("committing a batch").
  Status Run(std::string_view doing, const std::function<Status(PgConnection&, int)>& work);

  void Interrupt() { interrupted_ = true; }

 private:
  Status EnsureConnectedLocked();

  std::string url_;
  std::string what_;
  Clock* clock_;
  int64_t max_wait_us_;
  std::function<Status(PgConnection&)> setup_;
  std::atomic<bool> interrupted_{false};
  std::mutex mu_;
  std::unique_ptr<PgConnection> conn_;  // guarded by mu_
  bool connected_before_ = false;       // guarded by mu_
};

}  // namespace dataforge
