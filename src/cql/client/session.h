// A CQL client session over a cluster (Cassandra, ScyllaDB, or `dataforge cql-serve`):
// contact points, host discovery, connection pools, prepared statements and retries
// (docs/cassandra.md).
//
// Open() connects to the first reachable contact point and reads system.local and system.peers
// (rpc_address, data_center). With local_datacenter set, only that data center's hosts receive
// requests. The host list is fixed at Open (a node added later is not used until the session
// is reopened). Each host gets connections_per_host connections, opened lazily; requests go
// round-robin over the hosts that are up.
//
// Prepared statements: Prepare() prepares on one host and caches the statement by query text;
// Execute* prepares it lazily on each host it is sent to. An Unprepared answer (a restarted
// node) prepares again and retries once. Failures follow retry_policy.h: retryable ones go to
// the next host after an exponential backoff (retry_base_ms doubling up to retry_max_ms), up to
// max_retries; the others fail at once with the node's message.
//
// Thread-safety: safe for concurrent use. Callbacks of the *Async calls run on a connection's
// reader thread, the session's retry thread, or inline in the caller when the request fails at
// once; they must not block (hand the result off; Completion does). Destroying the session
// fails requests still waiting for a retry with Cancelled and closes every connection; callers
// wait for their requests first.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "cql/client/client_probe.h"
#include "cql/client/connection.h"
#include "cql/client/host_pool.h"
#include "cql/messages.h"

namespace dataforge::cql::client {

struct SessionOptions {
  std::vector<std::pair<std::string, int>> contact_points;  // (host, port)
  ConnectionOptions connection;  // TLS, credentials, timeouts; host/port are ignored
  int connections_per_host = 2;
  std::string local_datacenter;  // "" = every host is local
  int max_retries = 10;
  int64_t request_timeout_ms = 12000;
  int64_t retry_base_ms = 100;
  int64_t retry_max_ms = 5000;
  int64_t reconnect_base_ms = 100;
  int64_t reconnect_max_ms = 2000;  // a restarted node is found within this
};

// A statement prepared once per session (and lazily on each host).
struct PreparedStatement {
  std::string query;
  std::vector<ColumnSpec> bind_columns;
  RowsMetadata result_metadata;
};
using PreparedPtr = std::shared_ptr<const PreparedStatement>;

struct HostInfo {
  std::string address;  // "host:port"
  std::string datacenter;
  bool up = true;
};

using ResultCallback = std::function<void(Result<ResultMessage>)>;

class Session {
 public:
  // Unavailable when no contact point answers; ConfigError for bad credentials, TLS files, or a
  // local_datacenter no host is in.
  static Result<std::unique_ptr<Session>> Open(SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Prepares `query` (cached by its text: a second call returns the same statement).
  Result<PreparedPtr> Prepare(const std::string& query);

  // Sends the statement; `done` gets the RESULT (void, rows, schema change ...) or the error
  // after retries. Waits while the chosen connection has max_in_flight requests outstanding.
  void ExecuteAsync(PreparedPtr statement, QueryParameters params, ResultCallback done);
  void QueryAsync(std::string query, QueryParameters params, ResultCallback done);
  // ExecuteAsync with the query parameters already encoded: `encoded` holds what
  // EncodeQueryParameters writes (a caller encodes many statements into one buffer it reuses,
  // with no QueryParameters per statement). The bytes are copied; retries send them again.
  void ExecuteEncodedAsync(PreparedPtr statement, std::string_view encoded, ResultCallback done);

  Result<ResultMessage> Execute(PreparedPtr statement, QueryParameters params);
  Result<ResultMessage> Query(std::string query, QueryParameters params);

  // Runs a SELECT page by page (params.page_size, default 1000; paging state followed) and
  // calls `fn` with each page's rows; `fn` returns false to stop.
  using PageFn = std::function<bool(const RowsResult&)>;
  Status QueryPages(std::string query, QueryParameters params, const PageFn& fn);
  Status ExecutePages(PreparedPtr statement, QueryParameters params, const PageFn& fn);

  std::vector<HostInfo> hosts() const;
  ClientProbe& probe() { return probe_; }

 private:
  struct Request;
  struct Timer {
    int64_t due_ms;
    uint64_t seq;
    std::shared_ptr<Request> request;
    bool operator>(const Timer& o) const {
      return due_ms != o.due_ms ? due_ms > o.due_ms : seq > o.seq;
    }
  };

  explicit Session(SessionOptions options);
  Status Discover(std::shared_ptr<Connection> control, const std::string& contact_host,
                  int contact_port);
  void Start(std::shared_ptr<Request> r);
  void Attempt(const std::shared_ptr<Request>& r);
  void OnResponse(const std::shared_ptr<Request>& r, HostPool* host, Result<Frame> frame);
  // Schedules another attempt on the retry thread, avoiding `host` first; `counted` retries
  // back off and count against max_retries (a re-prepare does not).
  void RetryLater(const std::shared_ptr<Request>& r, HostPool* host, const Status& why,
                  bool counted);
  void Finish(const std::shared_ptr<Request>& r, Result<ResultMessage> result);
  Result<std::pair<HostPool*, std::shared_ptr<Connection>>> Pick(const HostPool* avoid);
  Result<std::string> PreparedIdOn(HostPool* host, Connection* c, const std::string& query);
  void RetryLoop();

  const SessionOptions options_;
  ClientProbe probe_;
  std::vector<std::unique_ptr<HostPool>> hosts_;  // fixed after Open
  std::atomic<size_t> round_robin_{0};

  mutable std::mutex prepared_mu_;
  std::map<std::string, PreparedPtr> prepared_;  // GUARDED_BY(prepared_mu_)

  std::mutex timers_mu_;
  std::condition_variable timers_cv_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;  // GUARDED_BY
  uint64_t timer_seq_ = 0;  // GUARDED_BY(timers_mu_)
  bool closing_ = false;    // GUARDED_BY(timers_mu_)
  std::thread retry_thread_;
  std::atomic<int64_t> last_retry_warning_ms_{0};  // rate limit of the retry warning
};

}  // namespace dataforge::cql::client
