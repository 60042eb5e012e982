#include "cql/client/transport.h"

#include "common/clock.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace dataforge::cql::client {
namespace {

// Milliseconds left until `deadline_ms` (-1 = no deadline), at least 0.
int Remaining(int64_t deadline_ms) {
  if (deadline_ms < 0) return -1;
  int64_t left = deadline_ms - RealMonotonicMillis();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on `fd`; false on timeout.
bool Wait(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, Remaining(deadline_ms));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // let the following call report the error
  }
}

std::string SslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

bool IsIpLiteral(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

}  // namespace

struct Transport::Tls {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~Tls() {
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
  }
};

Transport::Transport(int fd, std::string peer) : fd_(fd), peer_(std::move(peer)) {}

Transport::~Transport() {
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<Transport>> Transport::Connect(const std::string& host, int port,
                                                      const TlsOptions& tls,
                                                      int64_t connect_timeout_ms) {
  std::string peer = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                         : fmt::format("{}:{}", host, port);
  int64_t deadline = RealMonotonicMillis() + connect_timeout_ms;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(port);
  int gai = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (gai != 0) {
    return Status::Unavailable(
        fmt::format("cassandra {}: cannot resolve host: {}; check the host "
                    "name in the store URL",
                    peer, gai_strerror(gai)));
  }
  std::string last_error = "no address";
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    int s = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (s < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int r = ::connect(s, a->ai_addr, a->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      if (!Wait(s, POLLOUT, deadline)) {
        last_error = fmt::format("connect timed out after {} ms", connect_timeout_ms);
        ::close(s);
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
      r = err == 0 ? 0 : -1;
      errno = err;
    }
    if (r != 0) {
      last_error = std::strerror(errno);
      ::close(s);
      continue;
    }
    int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    fd = s;
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    return Status::Unavailable(fmt::format("cassandra {}: cannot connect: {}", peer, last_error));
  }
  std::unique_ptr<Transport> t(new Transport(fd, peer));
  if (tls.enabled) DF_RETURN_IF_ERROR(t->StartTls(host, tls, Remaining(deadline)));
  return t;
}

Status Transport::StartTls(const std::string& host, const TlsOptions& tls, int64_t timeout_ms) {
  int64_t deadline = RealMonotonicMillis() + timeout_ms;
  tls_ = std::make_unique<Tls>();
  tls_->ctx = SSL_CTX_new(TLS_client_method());
  if (!tls_->ctx) return Status::Internal("cassandra TLS: SSL_CTX_new failed: " + SslErrors());
  SSL_CTX_set_min_proto_version(tls_->ctx, TLS1_2_VERSION);
  int ok = tls.ca_file.empty()
               ? SSL_CTX_set_default_verify_paths(tls_->ctx)
               : SSL_CTX_load_verify_locations(tls_->ctx, tls.ca_file.c_str(), nullptr);
  if (ok != 1) {
    return Status::ConfigError(
        fmt::format("cassandra {}: cannot load CA file '{}': {}; set tls_ca to a PEM file", peer_,
                    tls.ca_file, SslErrors()));
  }
  SSL_CTX_set_verify(tls_->ctx, SSL_VERIFY_PEER, nullptr);
  if (!tls.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(tls_->ctx, tls.cert_file.c_str()) != 1) {
      return Status::ConfigError(fmt::format(
          "cassandra {}: cannot load client certificate '{}': {}; set tls_cert to a PEM file",
          peer_, tls.cert_file, SslErrors()));
    }
    const std::string& key = tls.key_file.empty() ? tls.cert_file : tls.key_file;
    if (SSL_CTX_use_PrivateKey_file(tls_->ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(tls_->ctx) != 1) {
      return Status::ConfigError(fmt::format(
          "cassandra {}: cannot use client key '{}': {}; set tls_key to the certificate's PEM key",
          peer_, key, SslErrors()));
    }
  }
  tls_->ssl = SSL_new(tls_->ctx);
  if (!tls_->ssl) return Status::Internal("cassandra TLS: SSL_new failed: " + SslErrors());
  SSL_set_mode(tls_->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_fd(tls_->ssl, fd_);
  bool ip = IsIpLiteral(host);
  if (!ip) SSL_set_tlsext_host_name(tls_->ssl, host.c_str());
  if (tls.verify_hostname) {
    X509_VERIFY_PARAM* param = SSL_get0_param(tls_->ssl);
    int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                 : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (set != 1) return Status::Internal("cassandra TLS: cannot set the expected host name");
  }
  for (;;) {
    ERR_clear_error();
    int r = SSL_connect(tls_->ssl);
    if (r == 1) return Status::OK();
    int err = SSL_get_error(tls_->ssl, r);
    if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) &&
        Wait(fd_, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
      continue;
    }
    long verify = SSL_get_verify_result(tls_->ssl);
    std::string why = verify != X509_V_OK ? fmt::format("certificate verification failed: {}",
                                                        X509_verify_cert_error_string(verify))
                      : (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
                          ? std::string("handshake timed out")
                          : SslErrors();
    return Status::Unavailable(fmt::format(
        "cassandra {}: TLS handshake failed: {}; check tls_ca / tls_verify_hostname and that the "
        "node has client_encryption_options enabled",
        peer_, why));
  }
}

Status Transport::WriteAll(std::string_view bytes, int64_t timeout_ms) {
  int64_t deadline = RealMonotonicMillis() + timeout_ms;
  size_t done = 0;
  while (done < bytes.size()) {
    short wait_for = POLLOUT;
    if (tls_) {
      std::lock_guard<std::mutex> lock(tls_mu_);
      ERR_clear_error();
      int r = SSL_write(tls_->ssl, bytes.data() + done, static_cast<int>(bytes.size() - done));
      if (r > 0) {
        done += static_cast<size_t>(r);
        continue;
      }
      int err = SSL_get_error(tls_->ssl, r);
      if (err == SSL_ERROR_WANT_READ) {
        wait_for = POLLIN;
      } else if (err != SSL_ERROR_WANT_WRITE) {
        return Status::Unavailable(
            fmt::format("cassandra {}: TLS write failed: {}", peer_, SslErrors()));
      }
    } else {
      ssize_t r = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (r > 0) {
        done += static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        return Status::Unavailable(
            fmt::format("cassandra {}: write failed: {}", peer_, std::strerror(errno)));
      }
    }
    if (!Wait(fd_, wait_for, deadline)) {
      return Status::Unavailable(
          fmt::format("cassandra {}: write timed out after {} ms ({} of {} bytes sent)", peer_,
                      timeout_ms, done, bytes.size()));
    }
  }
  return Status::OK();
}

Result<size_t> Transport::Read(char* buf, size_t n, int64_t timeout_ms) {
  int64_t deadline = timeout_ms < 0 ? -1 : RealMonotonicMillis() + timeout_ms;
  for (;;) {
    short wait_for = POLLIN;
    if (tls_) {
      std::lock_guard<std::mutex> lock(tls_mu_);
      ERR_clear_error();
      int r = SSL_read(tls_->ssl, buf, static_cast<int>(n));
      if (r > 0) return static_cast<size_t>(r);
      int err = SSL_get_error(tls_->ssl, r);
      if (err == SSL_ERROR_ZERO_RETURN) {
        return Status::Unavailable(
            fmt::format("cassandra {}: connection closed by the node", peer_));
      }
      if (err == SSL_ERROR_WANT_WRITE) {
        wait_for = POLLOUT;
      } else if (err != SSL_ERROR_WANT_READ) {
        return Status::Unavailable(
            fmt::format("cassandra {}: TLS read failed: {}", peer_,
                        err == SSL_ERROR_SYSCALL ? "connection reset" : SslErrors()));
      }
    } else {
      ssize_t r = ::recv(fd_, buf, n, 0);
      if (r > 0) return static_cast<size_t>(r);
      if (r == 0) {
        return Status::Unavailable(
            fmt::format("cassandra {}: connection closed by the node", peer_));
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return Status::Unavailable(
            fmt::format("cassandra {}: read failed: {}", peer_, std::strerror(errno)));
      }
    }
    if (!Wait(fd_, wait_for, deadline)) return static_cast<size_t>(0);
  }
}

void Transport::Shutdown() {
  ::shutdown(fd_, SHUT_RDWR);
}

}  // namespace dataforge::cql::client
