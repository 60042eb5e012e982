// One byte stream to a CQL node: TCP, optionally wrapped in TLS (OpenSSL). Used by Connection
// (connection.h); knows nothing about frames.
//
// The socket is non-blocking after connect; every read and write goes through poll() with a
// bound, so a dead peer never hangs a caller longer than its timeout. Reads and writes may come
// from two threads at once (the connection's reader thread and its senders): the TLS object is
// used under one internal mutex, never concurrently (OpenSSL requires that).
// Shutdown() may be called from any thread; it wakes a reader blocked in Read().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dataforge::cql::client {

struct TlsOptions {
  bool enabled = false;
  std::string ca_file;    // "" = the system's default CA paths
  std::string cert_file;  // client certificate (PEM), "" = none
  std::string key_file;   // its private key (PEM)
  bool verify_hostname = true;
};

class Transport {
 public:
  // Resolves `host`, connects within `connect_timeout_ms` and, with TLS, completes the handshake
  // (verifying the server's chain against `ca_file` and, when asked, its name against `host`).
  // Unavailable for an unreachable host, ConfigError for unusable TLS files.
  static Result<std::unique_ptr<Transport>> Connect(const std::string& host, int port,
                                                    const TlsOptions& tls,
                                                    int64_t connect_timeout_ms);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Writes all of `bytes` within `timeout_ms`. Unavailable on a broken connection or timeout.
  Status WriteAll(std::string_view bytes, int64_t timeout_ms);
  // Reads up to `n` bytes, waiting at most `timeout_ms` (-1 = until data or Shutdown). Returns
  // the count, 0 when nothing arrived in time; Unavailable at end of stream or on error.
  Result<size_t> Read(char* buf, size_t n, int64_t timeout_ms);
  // Ends the stream both ways; later reads and writes fail. Idempotent.
  void Shutdown();

  const std::string& peer() const { return peer_; }  // "host:port"

 private:
  struct Tls;
  Transport(int fd, std::string peer);
  Status StartTls(const std::string& host, const TlsOptions& tls, int64_t timeout_ms);

  int fd_;
  std::string peer_;
  std::mutex tls_mu_;  // serializes every SSL_* call on tls_
  std::unique_ptr<Tls> tls_;
};

}  // namespace dataforge::cql::client
