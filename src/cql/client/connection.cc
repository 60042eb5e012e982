#include "cql/client/connection.h"

#include "common/clock.h"

#include <algorithm>
#include <chrono>
#include <future>

#include <fmt/format.h>

#include "cql/client/retry_policy.h"

namespace dataforge::cql::client {
namespace {

// The reader wakes at least this often to expire requests whose time is up.
constexpr int64_t kReaderTickMs = 200;

thread_local SendBatch* t_send_batch = nullptr;

}  // namespace

SendBatch::SendBatch() : outermost_(t_send_batch == nullptr) {
  if (outermost_) t_send_batch = this;
}

SendBatch::~SendBatch() {
  if (!outermost_) return;
  Flush();
  t_send_batch = nullptr;
}

SendBatch* SendBatch::Current() {
  return t_send_batch;
}

void SendBatch::FlushCurrent() {
  if (t_send_batch != nullptr) t_send_batch->Flush();
}

void SendBatch::Add(std::shared_ptr<Connection> c) {
  for (const auto& p : pending_) {
    if (p == c) return;
  }
  pending_.push_back(std::move(c));
}

void SendBatch::Flush() {
  std::vector<std::shared_ptr<Connection>> pending;
  pending.swap(pending_);
  for (auto& c : pending) c->Flush();
}

Status ResponseError(const Frame& frame, std::string_view node, std::string_view statement) {
  if (frame.header.opcode == static_cast<uint8_t>(Opcode::kError)) {
    auto e = DecodeError(frame.body);
    if (!e.ok()) {
      return Status::Internal(fmt::format("cassandra {}: undecodable ERROR for '{}': {}", node,
                                          statement, e.status().message()));
    }
    return ErrorToStatus(*e, node, statement);
  }
  return Status::Internal(fmt::format("cassandra {}: unexpected {} response to '{}'", node,
                                      OpcodeName(frame.header.opcode), statement));
}

Connection::Connection(std::unique_ptr<Transport> transport, int max_in_flight, ClientProbe* probe)
    : transport_(std::move(transport)), address_(transport_->peer()), probe_(probe) {
  int n = std::clamp(max_in_flight, 1, 32768);
  slots_.resize(static_cast<size_t>(n));
  free_.reserve(static_cast<size_t>(n));
  for (int i = n - 1; i >= 0; --i) free_.push_back(static_cast<int16_t>(i));
}

Connection::~Connection() {
  Close();
}

Result<std::shared_ptr<Connection>> Connection::Open(const ConnectionOptions& options,
                                                     ClientProbe* probe) {
  DF_ASSIGN_OR_RETURN(auto transport, Transport::Connect(options.host, options.port, options.tls,
                                                         options.connect_timeout_ms));
  std::shared_ptr<Connection> c(new Connection(std::move(transport), options.max_in_flight, probe));
  c->reader_ = std::thread([raw = c.get()] { raw->ReaderLoop(); });
  Status s = c->Handshake(options);
  if (!s.ok()) {
    c->Close();
    return s;
  }
  return c;
}

Status Connection::Handshake(const ConnectionOptions& options) {
  const int64_t t = options.connect_timeout_ms;
  DF_ASSIGN_OR_RETURN(Frame supported, Call(Opcode::kOptions, "", t));
  if (supported.header.opcode != static_cast<uint8_t>(Opcode::kSupported)) {
    return ResponseError(supported, address_, "OPTIONS");
  }
  std::string body;
  EncodeStartup(StartupMessage{{{"CQL_VERSION", "3.0.0"}}}, &body);
  DF_ASSIGN_OR_RETURN(Frame reply, Call(Opcode::kStartup, std::move(body), t));
  if (reply.header.opcode == static_cast<uint8_t>(Opcode::kReady)) return Status::OK();
  if (reply.header.opcode != static_cast<uint8_t>(Opcode::kAuthenticate)) {
    return ResponseError(reply, address_, "STARTUP");
  }
  auto authenticator = DecodeAuthenticate(reply.body);
  std::string auth_name = authenticator.ok() ? *authenticator : "unknown authenticator";
  if (options.username.empty()) {
    return Status::ConfigError(fmt::format(
        "cassandra {}: the node requires authentication ({}); set user:password in the store "
        "URL or store.cassandra.username/password",
        address_, auth_name));
  }
  DF_ASSIGN_OR_RETURN(Frame outcome,
                      Call(Opcode::kAuthResponse,
                           EncodeAuthToken(PlainAuthToken(options.username, options.password)), t));
  switch (static_cast<Opcode>(outcome.header.opcode)) {
    case Opcode::kAuthSuccess:
      return Status::OK();
    case Opcode::kAuthChallenge:
      return Status::ConfigError(fmt::format(
          "cassandra {}: authenticator {} sent a challenge; only PasswordAuthenticator is "
          "supported",
          address_, auth_name));
    case Opcode::kError: {
      auto e = DecodeError(outcome.body);
      if (e.ok() && e->code == static_cast<int32_t>(ErrorCode::kBadCredentials)) {
        return Status::ConfigError(fmt::format("cassandra {}: bad credentials for user '{}': {}",
                                               address_, options.username, e->message));
      }
      return ResponseError(outcome, address_, "AUTH_RESPONSE");
    }
    default:
      return ResponseError(outcome, address_, "AUTH_RESPONSE");
  }
}

void Connection::Send(Opcode opcode, std::string body, int64_t timeout_ms, ResponseCallback done) {
  Enqueue(opcode, std::move(body), timeout_ms, std::move(done), true);
}

void Connection::Enqueue(Opcode opcode, std::string body, int64_t timeout_ms, ResponseCallback done,
                         bool may_defer) {
  bool defer = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (free_.empty() && !broken_) {
      // Our deferred frames must be on the wire before we wait for their responses.
      lock.unlock();
      SendBatch::FlushCurrent();
      lock.lock();
    }
    slot_freed_.wait(lock, [&] { return broken_ || !free_.empty(); });
    if (broken_) {
      Status why = broken_reason_;
      lock.unlock();
      done(why);
      return;
    }
    int16_t stream = free_.back();
    free_.pop_back();
    Slot& slot = slots_[static_cast<size_t>(stream)];
    slot.used = true;
    slot.orphaned = false;
    slot.deadline_ms = RealMonotonicMillis() + timeout_ms;
    slot.opcode_name = OpcodeName(static_cast<uint8_t>(opcode));
    slot.done = std::move(done);
    AppendFrame(kProtocolVersion, 0, stream, opcode, body, &out_);
    write_timeout_ms_ = timeout_ms;
    defer = may_defer && SendBatch::Current() != nullptr && out_.size() < kMaxDeferredBytes;
  }
  if (defer) {
    SendBatch::Current()->Add(shared_from_this());
    return;
  }
  Flush();
}

void Connection::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  if (writing_) return;
  writing_ = true;
  std::string data;
  while (!out_.empty() && !broken_) {
    data.swap(out_);
    int64_t timeout_ms = write_timeout_ms_;
    lock.unlock();
    Status s = transport_->WriteAll(data, timeout_ms);
    data.clear();
    if (!s.ok()) Break(s);
    lock.lock();
  }
  if (broken_) out_.clear();
  writing_ = false;
}

Result<Frame> Connection::Call(Opcode opcode, std::string body, int64_t timeout_ms) {
  std::promise<Result<Frame>> promise;
  auto future = promise.get_future();
  Enqueue(
      opcode, std::move(body), timeout_ms,
      [&promise](Result<Frame> r) { promise.set_value(std::move(r)); }, false);
  return future.get();
}

void Connection::ReaderLoop() {
  FrameAssembler assembler;
  std::string buf(64 * 1024, '\0');
  for (;;) {
    auto n = transport_->Read(buf.data(), buf.size(), kReaderTickMs);
    if (!n.ok()) {
      bool expected;
      {
        std::lock_guard<std::mutex> lock(mu_);
        expected = broken_;
      }
      if (!expected && probe_) probe_->ConnectionLost();
      Break(n.status());
      return;
    }
    if (*n > 0) {
      assembler.Feed(std::string_view(buf.data(), *n));
      for (;;) {
        auto frame = assembler.Next();
        if (!frame.ok()) {
          Break(Status::Unavailable(
              fmt::format("cassandra {}: protocol error, closing the connection: {}", address_,
                          frame.status().message())));
          return;
        }
        if (!frame->has_value()) break;
        Dispatch(std::move(**frame));
      }
    }
    ExpireOverdue();
  }
}

void Connection::Dispatch(Frame frame) {
  if (frame.header.stream < 0) return;  // an EVENT: we never REGISTER, ignore
  ResponseCallback done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t i = static_cast<size_t>(frame.header.stream);
    if (i >= slots_.size() || !slots_[i].used) return;  // not ours (or already failed)
    Slot& slot = slots_[i];
    if (slot.orphaned) --orphaned_;
    done = std::move(slot.done);
    slot = Slot{};
    free_.push_back(frame.header.stream);
  }
  slot_freed_.notify_one();
  if (done) done(std::move(frame));
}

void Connection::ExpireOverdue() {
  int64_t now = RealMonotonicMillis();
  std::vector<std::pair<ResponseCallback, Status>> expired;
  bool too_many = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& slot = slots_[i];
      if (!slot.used || slot.orphaned || slot.deadline_ms > now) continue;
      slot.orphaned = true;
      ++orphaned_;
      expired.emplace_back(std::move(slot.done),
                           Status::DeadlineExceeded(fmt::format(
                               "cassandra {}: no response to {} (stream {}) in time; the node "
                               "may be overloaded, or raise request_timeout_ms",
                               address_, slot.opcode_name, i)));
    }
    too_many = orphaned_ > static_cast<int>(slots_.size()) / 2;
  }
  for (auto& [done, why] : expired) {
    if (probe_) probe_->TimedOut();
    done(why);
  }
  if (too_many) {
    Break(Status::Unavailable(fmt::format(
        "cassandra {}: more than half of the requests timed out, closing the connection",
        address_)));
  }
}

void Connection::Break(const Status& why) {
  std::vector<ResponseCallback> failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!broken_) {
      broken_ = true;
      broken_reason_ = why;
    }
    for (Slot& slot : slots_) {
      if (slot.used && !slot.orphaned && slot.done) failed.push_back(std::move(slot.done));
      slot = Slot{};
    }
    free_.clear();
    if (!writing_) out_.clear();  // else the writer drops it
  }
  slot_freed_.notify_all();
  transport_->Shutdown();
  Status reason = why.code() == StatusCode::kUnavailable ? why : Status::Unavailable(why.message());
  for (auto& done : failed) done(reason);
}

void Connection::Close() {
  Break(
      Status::Unavailable(fmt::format("cassandra {}: connection closed by the client", address_)));
  if (reader_.joinable()) {
    if (reader_.get_id() == std::this_thread::get_id()) {
      reader_.detach();  // contract violation, but never deadlock on ourselves
    } else {
      reader_.join();
    }
  }
}

bool Connection::broken() const {
  std::lock_guard<std::mutex> lock(mu_);
  return broken_;
}

int Connection::outstanding() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(slots_.size() - free_.size());
}

}  // namespace dataforge::cql::client
