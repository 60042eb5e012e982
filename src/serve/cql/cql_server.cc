#include "serve/cql/cql_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "serve/cql/cql_channel.h"
#include "serve/cql/cql_connection.h"

namespace dataforge::cql {
namespace {

// A fixed set of threads running tasks in submission order.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void Submit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return done_ || !tasks_.empty(); });
        if (tasks_.empty()) return;  // done_ and drained
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mu_)
  bool done_ = false;                        // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

constexpr char kWakeReap = 'r';
constexpr char kWakeStop = 's';

std::string PeerName(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
  }
  return fmt::format("{}:{}", host, port);
}

}  // namespace

struct CqlServer::Impl final : ConnectionHost {
  explicit Impl(CqlServerOptions o) : opts(std::move(o)) {}

  // ConnectionHost
  const CqlServerOptions& options() const override { return opts; }
  CqlEngine* engine() const override { return eng; }
  void Submit(std::function<void()> task) override { pool->Submit(std::move(task)); }
  bool stopping() const override { return stopping_flag.load(); }
  void CountRequest() override { requests.fetch_add(1, std::memory_order_relaxed); }
  void CountError() override { errors.fetch_add(1, std::memory_order_relaxed); }
  void SchemaChanged(const SchemaChange& change) override {
    std::string body;
    EncodeSchemaChangeEvent(change, &body);
    std::vector<std::shared_ptr<Connection>> targets;
    {
      std::lock_guard lock(mu);
      for (auto& [ptr, entry] : conns) {
        if (entry.conn->registered_for_schema_changes()) targets.push_back(entry.conn);
      }
    }
    for (auto& c : targets) c->SendFrame(-1, Opcode::kEvent, body);
  }

  void AcceptLoop();
  void Accept();
  // Joins the reader threads of connections that ended. REQUIRES: mu not held.
  void Reap();
  void Refuse(int fd, const std::string& peer);

  struct Entry {
    std::shared_ptr<Connection> conn;
    std::thread thread;
  };

  const CqlServerOptions opts;
  CqlEngine* eng = nullptr;
  std::unique_ptr<TlsContext> tls;
  int listen_fd = -1;
  int bound_port = 0;
  // Wakes AcceptLoop: kWakeReap when a connection ended, kWakeStop from Stop().
  int wake_pipe[2] = {-1, -1};
  std::unique_ptr<WorkerPool> pool;
  std::thread acceptor;
  bool started = false;
  bool stopped = false;
  std::atomic<bool> stopping_flag{false};

  std::mutex mu;
  std::map<Connection*, Entry> conns;  // GUARDED_BY(mu)
  std::vector<Connection*> finished;   // GUARDED_BY(mu): reader threads that returned

  std::atomic<uint64_t> connections{0}, requests{0}, errors{0};
};

void CqlServer::Impl::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      spdlog::error("cql-serve: poll on the listener failed: {}", strerror(errno));
      return;
    }
    if (fds[1].revents != 0) {
      char wake[64];
      ssize_t n = ::read(wake_pipe[0], wake, sizeof wake);
      if (n > 0 && std::memchr(wake, kWakeStop, static_cast<size_t>(n)) != nullptr) return;
    }
    if (fds[0].revents != 0) Accept();
    Reap();
  }
}

void CqlServer::Impl::Accept() {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
  if (fd < 0) {
    // EMFILE and friends: the pending connection stays queued; do not spin on it.
    if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
      spdlog::warn("cql-serve: accept failed: {} (raise the open-files limit?)", strerror(errno));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return;
  }
  connections.fetch_add(1, std::memory_order_relaxed);
  // Responses are already coalesced per write (cql_connection.h): Nagle would only hold the
  // last one of a burst back until the client's delayed ACK.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string peer = PeerName(addr);
  std::lock_guard lock(mu);
  if (static_cast<int>(conns.size()) >= opts.max_connections) {
    Refuse(fd, peer);
    return;
  }
  auto conn = std::make_shared<Connection>(this, OpenChannel(fd, peer, tls.get()));
  Connection* key = conn.get();
  Entry& e = conns[key];
  e.conn = conn;
  e.thread = std::thread([this, conn] {
    conn->Run();
    {
      std::lock_guard l(mu);
      finished.push_back(conn.get());
    }
    (void)!::write(wake_pipe[1], &kWakeReap, 1);  // the acceptor joins us and closes the socket
  });
}

void CqlServer::Impl::Refuse(int fd, const std::string& peer) {
  errors.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("cql-serve: refusing {}: {} connections open (the limit)", peer,
               opts.max_connections);
  if (tls == nullptr) {  // a TLS peer could not read it before a handshake
    ErrorMessage e;
    e.code = static_cast<int32_t>(ErrorCode::kOverloaded);
    e.message = fmt::format("too many connections: this server accepts {}; retry later",
                            opts.max_connections);
    std::string body, frame;
    EncodeError(e, &body);
    AppendFrame(kProtocolVersion | kResponseBit, 0, 0, Opcode::kError, body, &frame);
    (void)!::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_WR);
  }
  ::close(fd);
}

void CqlServer::Impl::Reap() {
  std::vector<Entry> done;
  {
    std::lock_guard lock(mu);
    for (Connection* c : finished) {
      auto it = conns.find(c);
      if (it == conns.end()) continue;
      done.push_back(std::move(it->second));
      conns.erase(it);
    }
    finished.clear();
  }
  for (auto& e : done) e.thread.join();
}

CqlServer::CqlServer(CqlServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CqlServer::~CqlServer() {
  Stop();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  for (int fd : impl_->wake_pipe) {
    if (fd >= 0) ::close(fd);
  }
}

Status CqlServer::Listen() {
  Impl& m = *impl_;
  if (m.listen_fd >= 0) return Status::FailedPrecondition("CqlServer::Listen called twice");
  if (m.opts.tls_cert_file.empty() != m.opts.tls_key_file.empty()) {
    return Status::ConfigError("TLS needs both --tls-cert and --tls-key (PEM files)");
  }
  if (!m.opts.tls_cert_file.empty()) {
    DF_ASSIGN_OR_RETURN(m.tls, TlsContext::Load(m.opts.tls_cert_file, m.opts.tls_key_file));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(m.opts.port);
  if (int rc = ::getaddrinfo(m.opts.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Status::ConfigError(fmt::format("cannot resolve --host {}: {} (give an IP address)",
                                           m.opts.host, gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      m.listen_fd = fd;
      break;
    }
    last_error = strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  if (m.listen_fd < 0) {
    return Status::Unavailable(
        fmt::format("cannot listen on {}:{}: {} (is another server using the port? try --port 0)",
                    m.opts.host, m.opts.port, last_error));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(m.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m.bound_port = addr.ss_family == AF_INET6
                     ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return Status::OK();
}

int CqlServer::port() const {
  return impl_->bound_port;
}
bool CqlServer::tls() const {
  return !impl_->opts.tls_cert_file.empty();
}
bool CqlServer::auth() const {
  return impl_->opts.access_control != nullptr && impl_->opts.access_control->Required();
}

Status CqlServer::Start(CqlEngine* engine) {
  Impl& m = *impl_;
  if (m.listen_fd < 0) return Status::FailedPrecondition("CqlServer::Start before Listen");
  if (m.started) return Status::FailedPrecondition("CqlServer::Start called twice");
  if (::pipe2(m.wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return Status::IOError(fmt::format("cql-serve: pipe: {}", strerror(errno)));
  }
  ::signal(SIGPIPE, SIG_IGN);
  m.eng = engine;
  m.pool = std::make_unique<WorkerPool>(std::max(1, m.opts.worker_threads));
  m.started = true;
  m.acceptor = std::thread([&m] { m.AcceptLoop(); });
  return Status::OK();
}

void CqlServer::Stop() {
  Impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  m.stopping_flag = true;
  (void)!::write(m.wake_pipe[1], &kWakeStop, 1);
  m.acceptor.join();
  ::close(m.listen_fd);
  m.listen_fd = -1;
  std::map<Connection*, Impl::Entry> conns;
  {
    std::lock_guard lock(m.mu);
    for (auto& [ptr, entry] : m.conns) entry.conn->RequestStop();
    conns.swap(m.conns);
    m.finished.clear();
  }
  for (auto& [ptr, entry] : conns) entry.thread.join();
  conns.clear();
  m.pool.reset();  // every request has finished: readers drained before returning
}

CqlServerStats CqlServer::stats() const {
  return {impl_->connections.load(std::memory_order_relaxed),
          impl_->requests.load(std::memory_order_relaxed),
          impl_->errors.load(std::memory_order_relaxed)};
}

}  // namespace dataforge::cql
