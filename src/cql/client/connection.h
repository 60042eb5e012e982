// One CQL native protocol v4 connection to one node: TCP (optionally TLS), the STARTUP
// handshake with PasswordAuthenticator support, and asynchronous requests multiplexed by stream
// id (docs/cql.md; native_protocol_v4.spec sections 2 and 4).
//
// Requests: Send() takes a free stream id (0 .. max_in_flight-1) and writes the frame; a caller
// beyond max_in_flight outstanding requests waits for a free id, so memory stays bounded. One
// reader thread per connection reads responses and completes each request's callback exactly
// once: with the response frame, DeadlineExceeded after the request's timeout, or Unavailable
// when the connection breaks (every outstanding request then fails at once). A timed-out
// request's stream id stays reserved until its late response arrives (so it can never be taken
// for another request's); when more than half the ids are reserved that way the connection
// declares itself broken. A broken connection stays broken: the Session opens a new one.
//
// Writes: a request's frame goes to the connection's output buffer, written by whichever thread
// finds no write in progress (one write for everything buffered). While a SendBatch is alive
// on the calling thread, Send() leaves the frame in the buffer (up to kMaxDeferredBytes per
// connection) until the batch is flushed, or until the thread would wait for a free stream id,
// so a burst of requests costs one write per connection.
//
// Thread-safety: Send/Call/Close/broken are safe from any thread. Callbacks run on the reader
// thread (or on the caller's thread when the connection is already broken); they must not
// block, and in particular must not Send on this connection. The destructor closes and joins
// the reader; it must not run on the reader thread (the Session keeps connections alive in its
// pool and never captures them in callbacks).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "cql/client/client_probe.h"
#include "cql/client/transport.h"
#include "cql/frame.h"
#include "cql/messages.h"

namespace dataforge::cql::client {

struct ConnectionOptions {
  std::string host;
  int port = 9042;
  TlsOptions tls;
  std::string username, password;     // empty username = no authentication offered
  int64_t connect_timeout_ms = 5000;  // TCP connect + TLS + STARTUP/authentication
  int max_in_flight = 128;            // clamped to 1 .. 32768
};

using ResponseCallback = std::function<void(Result<Frame>)>;

class Connection;

// Defers the writes of requests sent by this thread while it is alive (see Connection); the
// destructor flushes. Flush it before waiting for the requests' responses. One per thread at a
// time (an inner batch defers to the outer one); lives on one thread's stack.
class SendBatch {
 public:
  SendBatch();
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;
  void Flush();
  // Flushes the batch active on this thread, if any.
  static void FlushCurrent();

 private:
  friend class Connection;
  static SendBatch* Current();
  void Add(std::shared_ptr<Connection> c);
  bool outermost_;
  std::vector<std::shared_ptr<Connection>> pending_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Connects and completes the handshake: OPTIONS, STARTUP {CQL_VERSION: 3.0.0}, then READY, or
  // AUTHENTICATE -> AUTH_RESPONSE (PlainAuthToken) -> AUTH_SUCCESS. Bad credentials (or a node
  // that requires authentication when no user is configured) are ConfigError:
  //   "cassandra 10.0.0.1:9042: bad credentials for user 'x': <the node's text>".
  // Unreachable nodes and handshake timeouts are Unavailable. `probe` may be null; it must
  // outlive the connection.
  static Result<std::shared_ptr<Connection>> Open(const ConnectionOptions& options,
                                                  ClientProbe* probe);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one request; `done` is called exactly once (see the file comment). Waits while
  // max_in_flight requests are outstanding.
  void Send(Opcode opcode, std::string body, int64_t timeout_ms, ResponseCallback done);
  // Send and wait for the outcome (written at once, even inside a SendBatch).
  Result<Frame> Call(Opcode opcode, std::string body, int64_t timeout_ms);
  // Writes what is buffered unless another thread is writing (it writes ours too).
  void Flush();
  static constexpr size_t kMaxDeferredBytes = 64 << 10;

  // Fails every outstanding request with Unavailable and stops the reader. Idempotent.
  void Close();
  bool broken() const;
  const std::string& address() const { return address_; }  // "host:port"
  int outstanding() const;

 private:
  struct Slot {
    bool used = false;
    bool orphaned = false;  // timed out; reserved until its response arrives
    int64_t deadline_ms = 0;
    std::string opcode_name;
    ResponseCallback done;
  };

  Connection(std::unique_ptr<Transport> transport, int max_in_flight, ClientProbe* probe);
  void Enqueue(Opcode opcode, std::string body, int64_t timeout_ms, ResponseCallback done,
               bool may_defer);
  Status Handshake(const ConnectionOptions& options);
  void ReaderLoop();
  void Dispatch(Frame frame);
  void ExpireOverdue();
  // Marks the connection broken with `why` and fails every outstanding request.
  void Break(const Status& why);

  std::unique_ptr<Transport> transport_;
  const std::string address_;
  ClientProbe* probe_;
  std::thread reader_;

  mutable std::mutex mu_;
  std::condition_variable slot_freed_;
  std::vector<Slot> slots_;    // GUARDED_BY(mu_), index = stream id
  std::vector<int16_t> free_;  // GUARDED_BY(mu_)
  int orphaned_ = 0;           // GUARDED_BY(mu_)
  bool broken_ = false;        // GUARDED_BY(mu_)
  Status broken_reason_;       // GUARDED_BY(mu_)

  std::string out_;               // GUARDED_BY(mu_): frames not yet written
  int64_t write_timeout_ms_ = 0;  // GUARDED_BY(mu_): the latest request's timeout
  bool writing_ = false;          // GUARDED_BY(mu_): a thread is writing (it empties out_)
};

// The Status of an ERROR frame (via ErrorToStatus), or of an unexpected opcode, for `statement`.
Status ResponseError(const Frame& frame, std::string_view node, std::string_view statement);

}  // namespace dataforge::cql::client
