#include "serve/cql/cql_connection.h"

#include <sys/socket.h>

#include <chrono>
#include <utility>
#include <variant>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "metrics/server_metrics.h"

namespace dataforge::cql {
namespace {

constexpr uint8_t kResponseVersion = kProtocolVersion | kResponseBit;
constexpr size_t kReadChunk = 64 << 10;
// How long a connection closed for a protocol error waits for the peer to close first.
constexpr int kLingerMs = 2000;
constexpr const char* kAuthenticator = "org.apache.cassandra.auth.PasswordAuthenticator";

// The frame the reader thread is answering (HandleFrame): its first response on the same stream
// counts it in the metrics, before that response is written.
struct FrameInFlight {
  bool active = false;
  int16_t stream = 0;
  uint8_t opcode = 0;
  std::chrono::steady_clock::time_point start;
};
thread_local FrameInFlight t_pending;

bool IsRequestOpcode(uint8_t op) {
  switch (static_cast<Opcode>(op)) {
    case Opcode::kStartup:
    case Opcode::kOptions:
    case Opcode::kQuery:
    case Opcode::kPrepare:
    case Opcode::kExecute:
    case Opcode::kRegister:
    case Opcode::kBatch:
    case Opcode::kAuthResponse:
      return true;
    default:
      return false;
  }
}

thread_local OutputBatch* t_output_batch = nullptr;

}  // namespace

OutputBatch::OutputBatch() : outermost_(t_output_batch == nullptr) {
  if (outermost_) t_output_batch = this;
}

OutputBatch::~OutputBatch() {
  if (!outermost_) return;
  Flush();
  t_output_batch = nullptr;
}

OutputBatch* OutputBatch::Current() {
  return t_output_batch;
}

void OutputBatch::Add(std::shared_ptr<Connection> c) {
  for (const auto& p : pending_) {
    if (p == c) return;
  }
  pending_.push_back(std::move(c));
}

void OutputBatch::Flush() {
  // Flushing writes nothing new into the batch: Connection::Flush never sends frames.
  std::vector<std::shared_ptr<Connection>> pending;
  pending.swap(pending_);
  for (auto& c : pending) c->Flush();
}

Connection::Connection(ConnectionHost* host, std::unique_ptr<Channel> channel)
    : host_(host), channel_(std::move(channel)) {}

Connection::~Connection() = default;

void Connection::Run() {
  if (Status s = channel_->Handshake(); !s.ok()) {
    spdlog::info("cql-serve: {}", s.message());
    return;
  }
  std::string chunk(kReadChunk, '\0');
  bool protocol_error = false;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    auto n = channel_->Read(chunk.data(), chunk.size());
    if (!n.ok()) {
      spdlog::debug("cql-serve: {}", n.status().message());
      break;
    }
    if (*n == 0) break;
    buf_.append(chunk.data(), *n);
    if (!ProcessBuffered()) {
      std::lock_guard lock(mu_);
      protocol_error = !stop_;
      break;
    }
  }
  Drain();
  if (protocol_error) channel_->Linger(kLingerMs);
  // The peer sees the end of the stream now; the server closes the socket when it reaps us.
  channel_->Shutdown(SHUT_RDWR);
}

void Connection::RequestStop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  channel_->Shutdown(SHUT_RD);
}

void Connection::Drain() {
  std::unique_lock lock(mu_);
  auto idle = [&] { return in_flight_ == 0 && !writing_ && (out_.empty() || write_failed_); };
  if (host_->stopping()) {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(host_->options().drain_timeout_ms);
    if (!cv_.wait_until(lock, deadline, idle)) {
      // The peer does not read its responses: make the pending writes fail.
      channel_->Shutdown(SHUT_RDWR);
    }
  }
  cv_.wait(lock, idle);
}

bool Connection::ProcessBuffered() {
  while (buf_.size() - start_ >= kHeaderSize) {
    FrameHeader h = DecodeHeader(std::string_view(buf_).substr(start_));
    if (!CheckHeader(h)) return false;
    if (buf_.size() - start_ - kHeaderSize < h.length) break;  // body incomplete
    std::string body = buf_.substr(start_ + kHeaderSize, h.length);
    start_ += kHeaderSize + h.length;
    host_->CountRequest();
    t_pending = FrameInFlight{true, h.stream, h.opcode, std::chrono::steady_clock::now()};
    bool keep = HandleFrame(h, std::move(body));
    t_pending.active = false;
    if (!keep) {
      SubmitBurst();
      return false;
    }
    {
      std::lock_guard lock(mu_);
      if (stop_) {
        SubmitBurst();
        return false;
      }
    }
  }
  SubmitBurst();
  // Keep the unconsumed tail at the front of the buffer.
  buf_.erase(0, start_);
  start_ = 0;
  return true;
}

bool Connection::CheckHeader(const FrameHeader& h) {
  if (h.version != kProtocolVersion) {
    // Drivers try v5 (or a beta/DSE version) first and downgrade on this exact message.
    SendError(h.stream, ErrorCode::kProtocolError,
              fmt::format("Invalid or unsupported protocol version ({}); supported versions are "
                          "(4/v4)",
                          h.version & ~kResponseBit & 0xFF));
    return false;
  }
  uint32_t limit = std::min<uint32_t>(host_->options().max_frame_bytes, kMaxBodyBytes);
  if (h.length > limit) {
    SendError(h.stream, ErrorCode::kProtocolError,
              fmt::format("frame on stream {} ({}) announces a body of {} bytes, above the limit "
                          "of {} bytes (cql-serve --max-frame-bytes); closing the connection",
                          h.stream, OpcodeName(h.opcode), h.length, limit));
    return false;
  }
  return true;
}

bool Connection::HandleFrame(const FrameHeader& h, std::string body) {
  if (h.flags & kFlagCompression) {
    SendError(h.stream, ErrorCode::kProtocolError,
              fmt::format("{} frame on stream {} has the compression flag (0x01) but compression "
                          "is not supported: send STARTUP without COMPRESSION",
                          OpcodeName(h.opcode), h.stream));
    return true;
  }
  if (!IsRequestOpcode(h.opcode)) {
    SendError(h.stream, ErrorCode::kProtocolError,
              IsKnownOpcode(h.opcode)
                  ? fmt::format("{} (opcode 0x{:02x}) on stream {} is a response, not a request",
                                OpcodeName(h.opcode), h.opcode, h.stream)
                  : fmt::format("unknown opcode 0x{:02x} on stream {} (a {}-byte body was skipped)",
                                h.opcode, h.stream, body.size()));
    return true;
  }
  if (h.flags & kFlagCustomPayload) {
    SendError(h.stream, ErrorCode::kProtocolError,
              fmt::format("{} frame on stream {} has a custom payload (flag 0x04), which this "
                          "server does not support",
                          OpcodeName(h.opcode), h.stream));
    return true;
  }
  switch (static_cast<Opcode>(h.opcode)) {
    case Opcode::kOptions:
      SendFrame(h.stream, Opcode::kSupported, [] {
        std::string b;
        EncodeSupported(
            {{"CQL_VERSION", {"3.4.5"}}, {"COMPRESSION", {}}, {"PROTOCOL_VERSIONS", {"4/v4"}}}, &b);
        return b;
      }());
      return true;
    case Opcode::kStartup:
      HandleStartup(h.stream, body);
      return true;
    case Opcode::kAuthResponse:
      HandleAuthResponse(h.stream, body);
      return true;
    default:
      break;
  }
  if (state_ != State::kReady) {
    SendError(h.stream, ErrorCode::kProtocolError,
              fmt::format("{} on stream {} before the connection is ready: send STARTUP{} first",
                          OpcodeName(h.opcode), h.stream,
                          AuthenticationExpected()
                              ? " and authenticate (AUTH_RESPONSE with a username and password)"
                              : ""));
    return true;
  }
  if (h.opcode == static_cast<uint8_t>(Opcode::kRegister)) {
    HandleRegister(h.stream, body);
    return true;
  }
  Dispatch(h, std::move(body));
  return true;
}

bool Connection::AuthenticationExpected() const {
  if (state_ == State::kNeedAuth) return true;
  CqlAccessControl* access = host_->options().access_control;
  return state_ == State::kNeedStartup && access != nullptr && access->Required();
}

void Connection::HandleStartup(int16_t stream, std::string_view body) {
  if (state_ != State::kNeedStartup) {
    SendError(stream, ErrorCode::kProtocolError,
              "STARTUP on stream " + std::to_string(stream) +
                  ": the connection is already started (send STARTUP once)");
    return;
  }
  auto m = DecodeStartup(body);
  if (!m.ok()) {
    SendError(stream, ErrorCode::kProtocolError, m.status().message());
    return;
  }
  const std::string* cql_version = nullptr;
  for (const auto& [k, v] : m->options) {
    if (k == "COMPRESSION") {
      SendError(stream, ErrorCode::kProtocolError,
                "STARTUP asks for COMPRESSION " + v +
                    ": compression is not supported (connect without compression)");
      return;
    }
    if (k == "CQL_VERSION") cql_version = &v;
  }
  if (cql_version == nullptr) {
    SendError(stream, ErrorCode::kProtocolError,
              "STARTUP without CQL_VERSION: the options must name it (e.g. 3.4.5)");
    return;
  }
  if (cql_version->rfind("3.", 0) != 0) {
    SendError(stream, ErrorCode::kProtocolError,
              "STARTUP asks for CQL_VERSION " + *cql_version + ": only 3.x is supported (3.4.5)");
    return;
  }
  CqlAccessControl* access = host_->options().access_control;
  if (access == nullptr || !access->Required()) {
    state_ = State::kReady;
    SendFrame(stream, Opcode::kReady, "");
    return;
  }
  state_ = State::kNeedAuth;
  std::string b;
  EncodeAuthenticate(kAuthenticator, &b);
  SendFrame(stream, Opcode::kAuthenticate, b);
}

void Connection::HandleAuthResponse(int16_t stream, std::string_view body) {
  if (state_ != State::kNeedAuth) {
    SendError(stream, ErrorCode::kProtocolError,
              "AUTH_RESPONSE on stream " + std::to_string(stream) +
                  (state_ == State::kReady ? ": the connection is already authenticated"
                                           : ": send STARTUP first (the server asks for "
                                             "authentication in its answer)"));
    return;
  }
  auto token = DecodeAuthToken(body);
  if (!token.ok()) {
    SendError(stream, ErrorCode::kProtocolError, token.status().message());
    return;
  }
  auto credentials = ParsePlainAuthToken(token->value_or(""));
  if (!credentials) {
    SendError(stream, ErrorCode::kProtocolError,
              "AUTH_RESPONSE token is not SASL PLAIN (\\0username\\0password)");
    return;
  }
  const auto& [user, password] = *credentials;
  std::string address(PeerHost(peer()));
  auto who = host_->options().access_control->Authenticate(user, password, address);
  if (!who.ok()) {
    // Which of the two was wrong is not said (Cassandra's text); a limiter's refusal says
    // when to retry; a store that cannot be read is the server's failure, not the client's.
    switch (who.status().code()) {
      case StatusCode::kUnauthenticated:
        SendError(stream, ErrorCode::kBadCredentials,
                  "Provided username " + user + " and/or password are incorrect");
        break;
      case StatusCode::kResourceExhausted:
      case StatusCode::kPermissionDenied:
        SendError(stream, ErrorCode::kBadCredentials, who.status().message());
        break;
      default:
        SendError(stream, ErrorCode::kServerError,
                  "cannot check the credentials of " + user + ": " + who.status().message());
        break;
    }
    return;
  }
  {
    std::lock_guard lock(mu_);
    session_.user = std::make_shared<const CqlSessionUser>(
        CqlSessionUser{std::move(who).value(), std::move(address)});
  }
  state_ = State::kReady;
  SendFrame(stream, Opcode::kAuthSuccess, EncodeAuthToken(std::nullopt));
}

void Connection::HandleRegister(int16_t stream, std::string_view body) {
  auto events = DecodeRegister(body);
  if (!events.ok()) {
    SendError(stream, ErrorCode::kProtocolError, events.status().message());
    return;
  }
  for (const std::string& e : *events) {
    if (e == "SCHEMA_CHANGE") {
      registered_schema_ = true;
    } else if (e != "TOPOLOGY_CHANGE" && e != "STATUS_CHANGE") {
      SendError(stream, ErrorCode::kProtocolError,
                "REGISTER for unknown event type '" + e +
                    "': use TOPOLOGY_CHANGE, STATUS_CHANGE or SCHEMA_CHANGE");
      return;
    }
  }
  SendFrame(stream, Opcode::kReady, "");
}

void Connection::Dispatch(const FrameHeader& h, std::string body) {
  {
    std::unique_lock lock(mu_);
    int bound = host_->options().max_in_flight_per_connection;
    if (in_flight_ >= bound && !burst_.empty()) {
      lock.unlock();
      SubmitBurst();  // the requests we hold must run before we can wait for them
      lock.lock();
    }
    cv_.wait(lock, [&] { return stop_ || in_flight_ < bound; });
    if (stop_) return;
    ++in_flight_;
  }
  burst_.push_back(Request{h, std::move(body), t_pending.start});
  if (burst_.size() >= kMaxBurst) SubmitBurst();
}

void Connection::SubmitBurst() {
  if (burst_.empty()) return;
  std::vector<Request> burst;
  burst.swap(burst_);
  host_->Submit([self = shared_from_this(), burst = std::move(burst)] { self->RunBurst(burst); });
}

void Connection::RunBurst(const std::vector<Request>& burst) {
  OutputBatch out;
  for (const Request& r : burst) Execute(r);
  // Our writes, and whatever else is queued, as groups; answers written after each group.
  host_->engine()->CommitWrites([&out] { out.Flush(); });
}

void Connection::Execute(const Request& r) {
  const FrameHeader& h = r.header;
  SessionState session;
  {
    std::lock_guard lock(mu_);
    session = session_;
  }
  CqlEngine* engine = host_->engine();
  auto respond = [self = shared_from_this(), stream = h.stream, opcode = h.opcode,
                  start = r.start](Response response) {
    self->Respond(stream, opcode, start, std::move(response));
  };
  Status decode_error;
  switch (static_cast<Opcode>(h.opcode)) {
    case Opcode::kQuery: {
      auto m = DecodeQuery(r.body);
      if (m.ok()) engine->QueryAsync(&session, *m, std::move(respond));
      decode_error = m.status();
      break;
    }
    case Opcode::kPrepare: {
      auto m = DecodePrepare(r.body);
      if (m.ok()) respond(engine->Prepare(&session, *m));
      decode_error = m.status();
      break;
    }
    case Opcode::kExecute: {
      auto m = DecodeExecute(r.body);
      if (m.ok()) engine->ExecuteAsync(&session, *m, std::move(respond));
      decode_error = m.status();
      break;
    }
    case Opcode::kBatch: {
      auto m = DecodeBatch(r.body);
      if (m.ok()) engine->BatchAsync(&session, *m, std::move(respond));
      decode_error = m.status();
      break;
    }
    default:
      decode_error = Status::Internal("opcode " + OpcodeName(h.opcode) + " reached a worker");
      break;
  }
  if (!decode_error.ok()) {
    Observe(h.opcode, false, r.start);
    SendError(h.stream, ErrorCode::kProtocolError, decode_error.message());
    Finished();
  }
}

void Connection::Observe(uint8_t opcode, bool ok, std::chrono::steady_clock::time_point start) {
  if (metrics::CqlMetrics* m = host_->options().metrics) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    m->Observe(opcode, ok, took.count());
  }
}

void Connection::Respond(int16_t stream, uint8_t opcode,
                         std::chrono::steady_clock::time_point start, Response response) {
  Observe(opcode, !std::holds_alternative<ErrorMessage>(response), start);
  if (auto* error = std::get_if<ErrorMessage>(&response)) {
    host_->CountError();
    std::string b;
    EncodeError(*error, &b);
    SendFrame(stream, Opcode::kError, b);
    Finished();
    return;
  }
  const auto& result = std::get<ResultMessage>(response);
  if (result.kind == ResultKind::kSetKeyspace) {
    std::lock_guard lock(mu_);
    session_.keyspace = result.keyspace;
  }
  SendResult(stream, result);
  if (result.kind == ResultKind::kSchemaChange) host_->SchemaChanged(result.schema_change);
  Finished();
}

void Connection::Finished() {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
  }
  cv_.notify_all();
}

void Connection::SendResult(int16_t stream, const ResultMessage& result) {
  std::string b;
  EncodeResult(result, &b);
  SendFrame(stream, Opcode::kResult, b);
}

void Connection::SendError(int16_t stream, ErrorCode code, std::string message) {
  host_->CountError();
  ErrorMessage e;
  e.code = static_cast<int32_t>(code);
  e.message = std::move(message);
  std::string b;
  EncodeError(e, &b);
  SendFrame(stream, Opcode::kError, b);
}

void Connection::SendFrame(int16_t stream, Opcode opcode, std::string_view body) {
  if (t_pending.active && t_pending.stream == stream) {
    t_pending.active = false;
    Observe(t_pending.opcode, opcode != Opcode::kError, t_pending.start);
  }
  {
    std::lock_guard lock(mu_);
    AppendFrame(kResponseVersion, 0, stream, opcode, body, &out_);
  }
  if (OutputBatch* batch = OutputBatch::Current()) {
    batch->Add(shared_from_this());
    return;
  }
  Flush();
}

void Connection::Flush() {
  std::unique_lock lock(mu_);
  if (writing_) return;  // that thread writes ours too
  writing_ = true;
  std::string data;
  while (!out_.empty() && !write_failed_) {
    data.swap(out_);
    lock.unlock();
    Status s = channel_->WriteAll(data);
    if (!s.ok()) {
      spdlog::debug("cql-serve: {}", s.message());
      channel_->Shutdown(SHUT_RDWR);
    }
    data.clear();
    lock.lock();
    if (!s.ok()) write_failed_ = true;
  }
  if (write_failed_) out_.clear();
  writing_ = false;
  lock.unlock();
  cv_.notify_all();
}

}  // namespace dataforge::cql
