// The connections of a Session to one node: connections_per_host slots filled lazily, a broken
// connection replaced on the next use, and reconnection with exponential backoff while the
// node is down (a failed connect blocks the next attempt for 100 ms, 200 ms, ... up to
// reconnect_max_ms). Also the node's prepared statement ids (query text -> id), since a node
// only knows the statements prepared on it.
//
// Thread-safety: safe for concurrent use. Get() may block for one connect (at most the connect
// timeout) in the thread that finds the slot empty; other threads use other slots meanwhile or
// get Unavailable for this host. Never called on a connection's reader thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "cql/client/client_probe.h"
#include "cql/client/connection.h"

namespace dataforge::cql::client {

struct HostPoolOptions {
  ConnectionOptions connection;  // host and port of this node
  int connections = 2;
  int64_t reconnect_base_ms = 100;
  int64_t reconnect_max_ms = 2000;  // a restarted node is found within this
};

class HostPool {
 public:
  HostPool(HostPoolOptions options, std::string datacenter, ClientProbe* probe);
  ~HostPool();

  // A healthy connection, round-robin over the slots; connects one when needed and the backoff
  // allows. Unavailable when the node is down (with the last connect error), ConfigError when
  // it refused our credentials or TLS files.
  Result<std::shared_ptr<Connection>> Get();
  // Puts an already open connection in the first slot (the session's first connection).
  void Adopt(std::shared_ptr<Connection> c);
  // True while connects fail (the node is considered down).
  bool down() const;
  void CloseAll();

  std::optional<std::string> PreparedId(const std::string& query) const;
  void SetPreparedId(const std::string& query, std::string id);
  void ForgetPrepared(const std::string& query);

  const std::string& address() const { return address_; }  // "host:port"
  const std::string& datacenter() const { return datacenter_; }

 private:
  const HostPoolOptions options_;
  const std::string address_;
  const std::string datacenter_;
  ClientProbe* probe_;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Connection>> slots_;  // GUARDED_BY(mu_)
  size_t next_ = 0;                                 // GUARDED_BY(mu_)
  bool connecting_ = false;                         // GUARDED_BY(mu_)
  int failures_ = 0;                                // GUARDED_BY(mu_)
  int64_t next_attempt_ms_ = 0;                     // GUARDED_BY(mu_)
  bool ever_connected_ = false;                     // GUARDED_BY(mu_)
  Status last_error_;                               // GUARDED_BY(mu_)
  std::map<std::string, std::string> prepared_;     // GUARDED_BY(mu_)
};

}  // namespace dataforge::cql::client
