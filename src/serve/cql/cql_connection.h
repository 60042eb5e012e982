// One client connection of the CQL endpoint: frames, handshake, dispatch of requests to the
// worker pool, responses. Private to serve/cql/ (the public contract is cql_server.h).
//
// Threads: Run() is the connection's reader thread; it hands the requests of each read to the
// server's workers as one burst (up to kMaxBurst frames per task); a worker runs a burst's
// requests through the engine's async calls, then commits the burst's writes (CqlEngine::
// CommitWrites), so the writes of many requests share one Store::Apply. Responses are sent
// when ready: at once for reads, once durable for writes. SendFrame() and RequestStop() are
// safe from any thread. A Connection is shared (shared_ptr) by its reader thread, its
// in-flight requests and event broadcasts; its channel lives as long as the Connection.
//
// Output: frames are appended to the connection's output buffer and written by whichever
// thread finds no write in progress (one write for everything buffered); while an
// OutputBatch is alive on a thread, that thread's frames wait in the buffer until the batch is
// flushed, so the responses a worker produces for a burst (or a group commit) leave in one
// write per connection.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cql/frame.h"
#include "cql/messages.h"
#include "serve/cql/cql_channel.h"
#include "serve/cql/cql_engine.h"
#include "serve/cql/cql_server.h"

namespace dataforge::cql {

class Connection;

// Defers the socket writes of frames sent by this thread while it is alive: Flush() (and the
// destructor) writes each connection's buffered frames at once. One per thread at a time
// (an inner batch defers to the outer one). Not movable; lives on one thread's stack.
class OutputBatch {
 public:
  OutputBatch();
  ~OutputBatch();
  OutputBatch(const OutputBatch&) = delete;
  OutputBatch& operator=(const OutputBatch&) = delete;
  void Flush();
  // The batch active on this thread, or null.
  static OutputBatch* Current();

 private:
  friend class Connection;
  void Add(std::shared_ptr<Connection> c);
  bool outermost_;
  std::vector<std::shared_ptr<Connection>> pending_;
};

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
  // Queues one whole frame (header + body) for writing: written before this returns unless an
  // OutputBatch is active on this thread or another thread is writing (it then writes this
  // frame too). A failed write shuts the socket down, which ends Run(). Any thread.
  void SendFrame(int16_t stream, Opcode opcode, std::string_view body);
  // Writes what is buffered unless another thread is writing. Any thread.
  void Flush();
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
  // Whether this connection must (still) authenticate before it is ready.
  bool AuthenticationExpected() const;
  void HandleStartup(int16_t stream, std::string_view body);
  void HandleAuthResponse(int16_t stream, std::string_view body);
  void HandleRegister(int16_t stream, std::string_view body);
  struct Request {
    FrameHeader header;
    std::string body;
    std::chrono::steady_clock::time_point start;  // when the frame was read
  };
  // Adds QUERY/PREPARE/EXECUTE/BATCH to the burst; blocks while at the in-flight bound.
  void Dispatch(const FrameHeader& h, std::string body);
  // Hands the burst to a worker (RunBurst).
  void SubmitBurst();
  // Worker thread: runs a burst's requests, commits their writes, writes the responses.
  void RunBurst(const std::vector<Request>& burst);
  // Worker thread: decodes one request and starts it in the engine; Respond() answers it.
  void Execute(const Request& r);
  void Respond(int16_t stream, uint8_t opcode, std::chrono::steady_clock::time_point start,
               Response response);
  // Counts one answered request in the server's metrics (when on).
  void Observe(uint8_t opcode, bool ok, std::chrono::steady_clock::time_point start);
  // A request was answered: one fewer in flight.
  void Finished();
  void SendError(int16_t stream, ErrorCode code, std::string message);
  void SendResult(int16_t stream, const ResultMessage& result);
  // Waits for in-flight requests and their responses' writes (bounded by drain_timeout_ms
  // while the server stops).
  void Drain();

  ConnectionHost* const host_;
  const std::unique_ptr<Channel> channel_;

  static constexpr size_t kMaxBurst = 8;

  // Reader thread only.
  State state_ = State::kNeedStartup;
  std::string buf_;
  size_t start_ = 0;
  std::vector<Request> burst_;

  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;          // GUARDED_BY(mu_)
  bool stop_ = false;          // GUARDED_BY(mu_)
  std::string out_;            // GUARDED_BY(mu_): frames not yet written
  bool writing_ = false;       // GUARDED_BY(mu_): a thread is writing (it empties out_)
  bool write_failed_ = false;  // GUARDED_BY(mu_): the socket is shut; out_ is dropped
  // GUARDED_BY(mu_): each request runs on a copy; USE writes the keyspace back, AUTH_SUCCESS
  // the user.
  SessionState session_;
  std::atomic<bool> registered_schema_{false};
};

}  // namespace dataforge::cql
