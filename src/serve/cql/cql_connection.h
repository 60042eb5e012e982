// One client connection of the CQL endpoint: frames, handshake, dispatch of requests to the
// worker pool, responses. Private to serve/cql/ (the public contract is cql_server.h).
//
// Threads: Run() is the connection's reader thread; requests run on the server's workers;
// SendFrame() and RequestStop() are safe from any thread. A Connection is shared (shared_ptr)
// by its reader thread, its in-flight requests and event broadcasts; its channel lives as long
// as the Connection.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "cql/frame.h"
#include "cql/messages.h"
#include "serve/cql/cql_channel.h"
#include "serve/cql/cql_engine.h"
#include "serve/cql/cql_server.h"

namespace dataforge::cql {

// What a connection needs from its server. Thread-safe.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  virtual const CqlServerOptions& options() const = 0;
  virtual CqlEngine* engine() const = 0;
  // Runs `task` on a worker thread.
  virtual void Submit(std::function<void()> task) = 0;
  // Pushes an EVENT SCHEMA_CHANGE to every registered connection.
  virtual void SchemaChanged(const SchemaChange& change) = 0;
  // Stop() was called: a draining connection gives up after drain_timeout_ms.
  virtual bool stopping() const = 0;
  virtual void CountRequest() = 0;
  virtual void CountError() = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ConnectionHost* host, std::unique_ptr<Channel> channel);
  ~Connection();

  // Reader thread body: handshake, then reads and answers frames until the peer closes, a
  // header cannot be trusted, or RequestStop(); then waits for in-flight requests.
  void Run();
  // Stops reading (in-flight requests still send their responses). Any thread.
  void RequestStop();
  // Writes one whole frame (header + body) under the write lock; a failed write shuts the
  // socket down, which ends Run(). Any thread.
  void SendFrame(int16_t stream, Opcode opcode, std::string_view body);
  bool registered_for_schema_changes() const { return registered_schema_; }
  const std::string& peer() const { return channel_->peer(); }

 private:
  enum class State { kNeedStartup, kNeedAuth, kReady };

  // Splits buffered bytes into frames and handles them; false when the connection must close.
  // The reader frames the stream itself rather than with cql::FrameAssembler because it must
  // judge each header (version, body length) as soon as its 9 bytes arrive: a v5 driver or
  // garbage announcing a small body would otherwise wait for a body that never comes.
  bool ProcessBuffered();
  // Judges a header before its body arrives; false (after an ERROR) when it cannot be trusted.
  bool CheckHeader(const FrameHeader& h);
  // Handles one whole frame on the reader thread; false when the connection must close.
  bool HandleFrame(const FrameHeader& h, std::string body);
  void HandleStartup(int16_t stream, std::string_view body);
  void HandleAuthResponse(int16_t stream, std::string_view body);
  void HandleRegister(int16_t stream, std::string_view body);
  // Runs QUERY/PREPARE/EXECUTE/BATCH on a worker; blocks while at the in-flight bound.
  void Dispatch(const FrameHeader& h, std::string body);
  // Worker thread: decodes and executes one request, sends its response.
  void Execute(const FrameHeader& h, const std::string& body);
  void SendError(int16_t stream, ErrorCode code, std::string message);
  void SendResult(int16_t stream, const ResultMessage& result);
  // Waits for in-flight requests (bounded by drain_timeout_ms while the server stops).
  void Drain();

  ConnectionHost* const host_;
  const std::unique_ptr<Channel> channel_;

  // Reader thread only.
  State state_ = State::kNeedStartup;
  std::string buf_;
  size_t start_ = 0;

  std::mutex write_mu_;  // serialises whole frames on the channel

  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;     // GUARDED_BY(mu_)
  bool stop_ = false;     // GUARDED_BY(mu_)
  SessionState session_;  // GUARDED_BY(mu_): each request runs on a copy; USE writes back
  std::atomic<bool> registered_schema_{false};
};

}  // namespace dataforge::cql
