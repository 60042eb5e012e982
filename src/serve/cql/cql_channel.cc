#include "serve/cql/cql_channel.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

namespace dataforge::cql {
namespace {

// OpenSSL's queued errors as one line (the calling thread's queue), or `fallback`.
std::string OpenSslErrors(std::string_view fallback) {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string(fallback) : out;
}

class PlainChannel final : public Channel {
 public:
  PlainChannel(int fd, std::string peer) : Channel(fd, std::move(peer)) {}
  ~PlainChannel() override { ::close(fd_); }

  Status Handshake() override { return Status::OK(); }

  Result<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t r = ::recv(fd_, buf, n, 0);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) return size_t{0};
      return Status::IOError(fmt::format("reading from {}: {}", peer_, strerror(errno)));
    }
  }

  Status WriteAll(std::string_view data) override {
    while (!data.empty()) {
      ssize_t r = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Status::IOError(fmt::format("writing to {}: {}", peer_, strerror(errno)));
      data.remove_prefix(static_cast<size_t>(r));
    }
    return Status::OK();
  }

  void Shutdown(int how) override { ::shutdown(fd_, how); }
};

// Non-blocking socket; every SSL call under mu_, waits for the socket outside it.
class TlsChannel final : public Channel {
 public:
  TlsChannel(int fd, std::string peer, SSL_CTX* ctx)
      : Channel(fd, std::move(peer)), ssl_(SSL_new(ctx)) {
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    if (ssl_ != nullptr) {
      SSL_set_fd(ssl_, fd_);
      SSL_set_mode(ssl_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
  }
  ~TlsChannel() override {
    if (ssl_ != nullptr) {
      if (handshaken_) SSL_shutdown(ssl_);  // best effort close_notify; never waits
      SSL_free(ssl_);
    }
    ::close(fd_);
  }

  Status Handshake() override {
    if (ssl_ == nullptr) return Status::IOError("TLS: SSL_new failed for " + peer_);
    while (true) {
      int err = 0;
      {
        std::lock_guard lock(mu_);
        ERR_clear_error();
        int r = SSL_accept(ssl_);
        if (r == 1) {
          handshaken_ = true;
          return Status::OK();
        }
        err = SSL_get_error(ssl_, r);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          return Status::IOError(fmt::format("TLS handshake with {} failed: {}", peer_,
                                             OpenSslErrors("the peer closed the connection")));
        }
      }
      if (!Wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, read_shut_)) {
        return Status::IOError("TLS handshake with " + peer_ + " interrupted: shutting down");
      }
    }
  }

  Result<size_t> Read(char* buf, size_t n) override {
    while (true) {
      if (read_shut_) return size_t{0};
      int err = 0;
      {
        std::lock_guard lock(mu_);
        ERR_clear_error();
        size_t got = 0;
        if (SSL_read_ex(ssl_, buf, n, &got) == 1) return got;
        err = SSL_get_error(ssl_, 0);
        if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
        if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return size_t{0};  // EOF
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          if (read_shut_) return size_t{0};
          return Status::IOError(
              fmt::format("TLS read from {}: {}", peer_, OpenSslErrors("connection reset")));
        }
      }
      if (!Wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, read_shut_)) return size_t{0};
    }
  }

  Status WriteAll(std::string_view data) override {
    while (!data.empty()) {
      if (write_shut_) return Status::IOError("TLS write to " + peer_ + ": connection shut down");
      int err = 0;
      {
        std::lock_guard lock(mu_);
        ERR_clear_error();
        size_t written = 0;
        if (SSL_write_ex(ssl_, data.data(), data.size(), &written) == 1) {
          data.remove_prefix(written);
          continue;
        }
        err = SSL_get_error(ssl_, 0);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
          return Status::IOError(
              fmt::format("TLS write to {}: {}", peer_, OpenSslErrors("connection reset")));
        }
      }
      if (!Wait(err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, write_shut_)) {
        return Status::IOError("TLS write to " + peer_ + ": connection shut down");
      }
    }
    return Status::OK();
  }

  void Shutdown(int how) override {
    read_shut_ = true;
    if (how == SHUT_RDWR) write_shut_ = true;
    ::shutdown(fd_, how);
  }

 private:
  // Waits until the socket is ready for `events`; false once `shut` is set. shutdown() on the
  // socket makes poll() return, so no timeout is needed.
  bool Wait(short events, const std::atomic<bool>& shut) {
    while (!shut) {
      pollfd p{fd_, events, 0};
      int r = ::poll(&p, 1, -1);
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
    return false;
  }

  std::mutex mu_;  // guards every use of ssl_
  SSL* ssl_;
  bool handshaken_ = false;  // GUARDED_BY(mu_) once set; read in the destructor
  std::atomic<bool> read_shut_{false};
  std::atomic<bool> write_shut_{false};
};

}  // namespace

void Channel::Linger(int timeout_ms) {
  ::shutdown(fd_, SHUT_WR);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  size_t discarded = 0;
  while (discarded < (1u << 20)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;
    discarded += static_cast<size_t>(n);
  }
}

Result<std::unique_ptr<TlsContext>> TlsContext::Load(const std::string& cert_file,
                                                     const std::string& key_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Status::Internal("TLS: " + OpenSslErrors("SSL_CTX_new failed"));
  std::unique_ptr<TlsContext> out(new TlsContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return Status::ConfigError(
        fmt::format("--tls-cert {}: cannot load a PEM certificate: {} (give a readable PEM file)",
                    cert_file, OpenSslErrors("unknown error")));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Status::ConfigError(fmt::format(
        "--tls-key {}: cannot load a PEM private key: {} (give an unencrypted PEM key file)",
        key_file, OpenSslErrors("unknown error")));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Status::ConfigError(
        fmt::format("--tls-key {} does not match the certificate in --tls-cert {}: {}", key_file,
                    cert_file, OpenSslErrors("key mismatch")));
  }
  return out;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

std::unique_ptr<Channel> OpenChannel(int fd, std::string peer, const TlsContext* tls) {
  if (tls == nullptr) return std::make_unique<PlainChannel>(fd, std::move(peer));
  return std::make_unique<TlsChannel>(fd, std::move(peer), tls->ctx());
}

}  // namespace dataforge::cql
