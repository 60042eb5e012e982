// The byte stream under one CQL connection: a TCP socket, plaintext or TLS (OpenSSL).
// Private to serve/cql/ (the transport, cql_server.h).
//
// Threads: one reader thread calls Read(); any thread may call WriteAll() (the caller
// serialises writes: the connection's write lock) and Shutdown(). A TLS channel guards its SSL
// object with its own mutex (OpenSSL forbids concurrent use of one SSL*), never held while the
// reader waits for bytes. The channel owns its file descriptor and closes it when destroyed.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace dataforge::cql {

// A server certificate and key loaded from PEM files. Thread-safe after Load().
class TlsContext {
 public:
  // ConfigError naming the file and OpenSSL's reason when a file cannot be read or the key
  // does not match the certificate.
  static Result<std::unique_ptr<TlsContext>> Load(const std::string& cert_file,
                                                  const std::string& key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* ctx() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

class Channel {
 public:
  virtual ~Channel() = default;
  // Reader thread, once, before Read(): the TLS handshake (no-op in plaintext). IOError naming
  // the peer and OpenSSL's reason; Shutdown() interrupts it.
  virtual Status Handshake() = 0;
  // Reader thread. Up to `n` bytes into `buf`: the count, 0 at the end of the stream (the peer
  // closed, or Shutdown() was called), or an IOError.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Writes all of `data` or fails (IOError; the peer is gone or Shutdown() was called).
  virtual Status WriteAll(std::string_view data) = 0;
  // Wakes a blocked Read() (it returns 0). `how` is SHUT_RD (stop reading; writes still work)
  // or SHUT_RDWR (writes fail too). Any thread, any number of times.
  virtual void Shutdown(int how) = 0;
  // Reader thread, before closing a connection because of a protocol error: sends FIN after
  // what was written, then reads and discards what the peer still sends until it closes
  // (at most `timeout_ms`, 1 MB), so that closing does not reset the connection and destroy
  // the ERROR frame before the peer read it.
  void Linger(int timeout_ms);
  // "127.0.0.1:51234"
  const std::string& peer() const { return peer_; }

 protected:
  Channel(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}
  const int fd_;
  const std::string peer_;
};

// Takes ownership of the accepted socket `fd`; TLS (server side) when `tls` is set, which must
// outlive the channel.
std::unique_ptr<Channel> OpenChannel(int fd, std::string peer, const TlsContext* tls);

}  // namespace dataforge::cql
