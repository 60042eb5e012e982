#include "serve/cql/cql_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "cql/frame.h"
#include "cql/messages.h"
#include "metrics/metrics_exporter.h"
#include "metrics/server_metrics.h"
#include "metrics/testing/scrape.h"
#include "serve/cql/testing/fake_access_control.h"
#include "store/store.h"

namespace dataforge::cql {
namespace {

// A raw CQL client over loopback: whole frames in, whole frames out.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval bound{30, 0};  // a server that never answers fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }

  void Send(int16_t stream, Opcode op, std::string_view body) {
    std::string f;
    AppendFrame(kProtocolVersion, 0, stream, op, body, &f);
    SendRaw(f);
  }
  void SendRaw(std::string_view bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // The next frame, or nullopt at the end of the stream.
  std::optional<Frame> Read() {
    while (true) {
      if (buf_.size() >= kHeaderSize) {
        FrameHeader h = DecodeHeader(buf_);
        if (buf_.size() >= kHeaderSize + h.length) {
          Frame f{h, buf_.substr(kHeaderSize, h.length)};
          buf_.erase(0, kHeaderSize + h.length);
          return f;
        }
      }
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  void Startup() {
    std::string b;
    EncodeStartup({{{"CQL_VERSION", "3.0.0"}}}, &b);
    Send(0, Opcode::kStartup, b);
    auto f = Read();
    ASSERT_TRUE(f.has_value());
    ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kReady));
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string buf_;
};

std::string QueryBody(const std::string& cql) {
  std::string b;
  EncodeQuery({cql, {}}, &b);
  return b;
}

ErrorMessage FrameErrorOf(const std::optional<Frame>& f) {
  EXPECT_TRUE(f.has_value());
  if (!f) return {};
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kError));
  auto e = DecodeError(f->body);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? *e : ErrorMessage{};
}

class CqlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cql_server_test_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    auto store = OpenStore("rocksdb://" + dir_ + "/store", OpenMode::kReadWrite, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    engine_ = std::make_unique<CqlEngine>(store_.get(), EngineOptions{});
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    engine_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartServer(CqlServerOptions options) {
    options.port = 0;
    server_ = std::make_unique<CqlServer>(options);
    ASSERT_TRUE(server_->Listen().ok());
    ASSERT_GT(server_->port(), 0);
    ASSERT_TRUE(server_->Start(engine_.get()).ok());
  }

  // Serves with `access_` checking statements and authenticating connections.
  void StartServerWithAccessControl() {
    EngineOptions eo;
    eo.access_control = &access_;
    engine_ = std::make_unique<CqlEngine>(store_.get(), eo);
    CqlServerOptions options;
    options.access_control = &access_;
    StartServer(options);
  }

  std::string dir_;
  // Both outlive the server (TearDown stops it).
  StaticCqlAccessControl static_access_{"alice", "s3cret"};
  testing::FakeAccessControl access_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CqlEngine> engine_;
  std::unique_ptr<CqlServer> server_;
};

// STARTUP, then AUTH_RESPONSE with `user` and `password`: the answer to the AUTH_RESPONSE.
std::optional<Frame> Login(RawClient& c, const std::string& user, const std::string& password) {
  std::string b;
  EncodeStartup({{{"CQL_VERSION", "3.0.0"}}}, &b);
  c.Send(1, Opcode::kStartup, b);
  auto f = c.Read();
  EXPECT_TRUE(f.has_value());
  if (!f) return f;
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kAuthenticate));
  c.Send(2, Opcode::kAuthResponse, EncodeAuthToken(PlainAuthToken(user, password)));
  return c.Read();
}

TEST_F(CqlServerTest, OptionsStartupAndQuery) {
  StartServer({});
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send(3, Opcode::kOptions, "");
  auto f = c.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.version, 0x84);
  EXPECT_EQ(f->header.stream, 3);
  ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kSupported));
  auto supported = DecodeSupported(f->body);
  ASSERT_TRUE(supported.ok());
  using Multimap = std::vector<std::pair<std::string, std::vector<std::string>>>;
  EXPECT_EQ(
      *supported,
      (Multimap{{"CQL_VERSION", {"3.4.5"}}, {"COMPRESSION", {}}, {"PROTOCOL_VERSIONS", {"4/v4"}}}));
  c.Startup();
  c.Send(4, Opcode::kQuery, QueryBody("SELECT key FROM system.local"));
  f = c.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.stream, 4);
  ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kResult));
  auto result = DecodeResult(f->body);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->kind, ResultKind::kRows);
  ASSERT_EQ(result->rows.rows.size(), 1u);
  EXPECT_EQ(result->rows.rows[0][0], std::optional<std::string>("local"));
}

TEST_F(CqlServerTest, PipelinedRequestsEachGetTheirStream) {
  CqlServerOptions options;
  options.max_in_flight_per_connection = 4;  // the reader must pause and resume
  StartServer(options);
  RawClient c(server_->port());
  c.Startup();
  std::string all;
  for (int16_t s = 1; s <= 200; ++s) {
    AppendFrame(kProtocolVersion, 0, s, Opcode::kQuery, QueryBody("SELECT key FROM system.local"),
                &all);
  }
  c.SendRaw(all);
  std::set<int16_t> streams;
  for (int i = 0; i < 200; ++i) {
    auto f = c.Read();
    ASSERT_TRUE(f.has_value()) << "after " << i << " responses";
    EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kResult));
    streams.insert(f->header.stream);
  }
  EXPECT_EQ(streams.size(), 200u);
  EXPECT_EQ(*streams.begin(), 1);
  EXPECT_EQ(*streams.rbegin(), 200);
  EXPECT_EQ(server_->stats().requests, 201u);  // STARTUP + 200
}

TEST_F(CqlServerTest, ConnectionsBeyondTheLimitGetOverloaded) {
  CqlServerOptions options;
  options.max_connections = 1;
  StartServer(options);
  RawClient first(server_->port());
  first.Startup();  // accepted and served
  RawClient second(server_->port());
  ErrorMessage e = FrameErrorOf(second.Read());
  EXPECT_EQ(e.code, static_cast<int32_t>(ErrorCode::kOverloaded));
  EXPECT_EQ(e.message, "too many connections: this server accepts 1; retry later");
  EXPECT_FALSE(second.Read().has_value());
  first.Send(1, Opcode::kOptions, "");
  auto f = first.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kSupported));
  EXPECT_EQ(server_->stats().connections, 2u);
}

TEST_F(CqlServerTest, PasswordAuthenticator) {
  CqlServerOptions options;
  options.access_control = &static_access_;
  StartServer(options);
  RawClient c(server_->port());
  std::string b;
  EncodeStartup({{{"CQL_VERSION", "3.0.0"}}}, &b);
  c.Send(1, Opcode::kStartup, b);
  auto f = c.Read();
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kAuthenticate));
  EXPECT_EQ(*DecodeAuthenticate(f->body), "org.apache.cassandra.auth.PasswordAuthenticator");
  c.Send(2, Opcode::kQuery, QueryBody("SELECT key FROM system.local"));
  EXPECT_EQ(FrameErrorOf(c.Read()).code, static_cast<int32_t>(ErrorCode::kProtocolError));
  c.Send(3, Opcode::kAuthResponse, EncodeAuthToken(PlainAuthToken("alice", "wrong")));
  ErrorMessage e = FrameErrorOf(c.Read());
  EXPECT_EQ(e.code, static_cast<int32_t>(ErrorCode::kBadCredentials));
  EXPECT_EQ(e.message, "Provided username alice and/or password are incorrect");
  c.Send(4, Opcode::kAuthResponse, EncodeAuthToken(PlainAuthToken("alice", "s3cret")));
  f = c.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.stream, 4);
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kAuthSuccess));
  c.Send(5, Opcode::kQuery, QueryBody("SELECT key FROM system.local"));
  f = c.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kResult));
}

TEST_F(CqlServerTest, AuthenticationOutcomes) {
  access_.AddUser("bob", "pw-bob", "reader");
  StartServerWithAccessControl();
  EXPECT_TRUE(server_->auth());
  RawClient c(server_->port());
  ErrorMessage e = FrameErrorOf(Login(c, "bob", "wrong"));
  EXPECT_EQ(e.code, static_cast<int32_t>(ErrorCode::kBadCredentials));
  EXPECT_EQ(e.message, "Provided username bob and/or password are incorrect");
  // The failed-login limiter's refusal keeps its text (it says when to retry).
  access_.FailNextLogin(
      Status::ResourceExhausted("too many failed logins from 127.0.0.1; retry in 42s"));
  c.Send(3, Opcode::kAuthResponse, EncodeAuthToken(PlainAuthToken("bob", "pw-bob")));
  e = FrameErrorOf(c.Read());
  EXPECT_EQ(e.code, static_cast<int32_t>(ErrorCode::kBadCredentials));
  EXPECT_EQ(e.message, "too many failed logins from 127.0.0.1; retry in 42s");
  // A store that cannot be read is a server error, not bad credentials.
  access_.FailNextLogin(Status::Unavailable("credential store: database is locked"));
  c.Send(4, Opcode::kAuthResponse, EncodeAuthToken(PlainAuthToken("bob", "pw-bob")));
  e = FrameErrorOf(c.Read());
  EXPECT_EQ(e.code, static_cast<int32_t>(ErrorCode::kServerError));
  EXPECT_EQ(e.message, "cannot check the credentials of bob: credential store: database is locked");
  c.Send(5, Opcode::kAuthResponse, EncodeAuthToken(PlainAuthToken("bob", "pw-bob")));
  auto f = c.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.stream, 5);
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kAuthSuccess));
  // Every attempt named the client's address (the limiter counts per address).
  auto peers = access_.peers();
  ASSERT_EQ(peers.size(), 4u);
  EXPECT_EQ(peers, std::vector<std::string>(4, "127.0.0.1"));
}

TEST_F(CqlServerTest, StatementsAreCheckedAsTheAuthenticatedUser) {
  access_.AddUser("bob", "pw-bob", "reader");
  access_.AddUser("root", "pw-root", "admin");
  StartServerWithAccessControl();
  RawClient admin(server_->port());
  auto f = Login(admin, "root", "pw-root");
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kAuthSuccess));
  for (const char* q : {"CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy'}",
                        "CREATE TABLE ks.t (id text PRIMARY KEY, v text)"}) {
    admin.Send(3, Opcode::kQuery, QueryBody(q));
    f = admin.Read();
    ASSERT_TRUE(f.has_value());
    ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kResult)) << q;
  }
  RawClient reader(server_->port());
  f = Login(reader, "bob", "pw-bob");
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kAuthSuccess));
  reader.Send(3, Opcode::kQuery, QueryBody("SELECT key FROM system.local"));
  f = reader.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kResult));
  reader.Send(4, Opcode::kQuery, QueryBody("INSERT INTO ks.t (id, v) VALUES ('a', 'b')"));
  f = reader.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.stream, 4);
  ErrorMessage e = FrameErrorOf(f);
  EXPECT_EQ(e.code, static_cast<int32_t>(ErrorCode::kUnauthorized));
  EXPECT_EQ(e.message, "User bob has no MODIFY permission on <table ks.t> or any of its parents");
  reader.Send(5, Opcode::kQuery, QueryBody("SELECT * FROM ks.t"));
  e = FrameErrorOf(reader.Read());
  EXPECT_EQ(e.message, "User bob has no SELECT permission on <table ks.t> or any of its parents");
  auto audit = access_.audit();
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[2].user, "bob");
  EXPECT_EQ(audit[2].action, "CQL INSERT INTO ks.t");
  EXPECT_EQ(audit[2].result, "Unauthorized");
  EXPECT_EQ(audit[2].peer, "127.0.0.1");
}

TEST_F(CqlServerTest, AuthenticationOffMeansReadyAndUnchecked) {
  access_.set_required(false);
  StartServerWithAccessControl();
  EXPECT_FALSE(server_->auth());
  RawClient c(server_->port());
  c.Startup();  // READY, no AUTHENTICATE
  c.Send(2, Opcode::kQuery,
         QueryBody("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy'}"));
  auto f = c.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kResult));
  EXPECT_TRUE(access_.audit().empty());
  // Turned on (a user was added): the open connection is refused, the next one must
  // authenticate.
  access_.set_required(true);
  EXPECT_TRUE(server_->auth());
  c.Send(3, Opcode::kQuery, QueryBody("SELECT key FROM system.local"));
  ErrorMessage e = FrameErrorOf(c.Read());
  EXPECT_EQ(e.code, static_cast<int32_t>(ErrorCode::kUnauthorized));
  EXPECT_EQ(e.message.rfind("authentication was turned on after this connection was opened", 0), 0u)
      << e.message;
  RawClient late(server_->port());
  std::string b;
  EncodeStartup({{{"CQL_VERSION", "3.0.0"}}}, &b);
  late.Send(1, Opcode::kStartup, b);
  f = late.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kAuthenticate));
}

TEST_F(CqlServerTest, SchemaChangeEventGoesToRegisteredConnections) {
  StartServer({});
  RawClient listener(server_->port()), other(server_->port()), writer(server_->port());
  listener.Startup();
  other.Startup();
  writer.Startup();
  std::string b;
  EncodeRegister({"SCHEMA_CHANGE"}, &b);
  listener.Send(1, Opcode::kRegister, b);
  auto f = listener.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kReady));

  writer.Send(2, Opcode::kQuery,
              QueryBody("CREATE KEYSPACE ev WITH replication = {'class': 'SimpleStrategy', "
                        "'replication_factor': 1}"));
  f = writer.Read();
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kResult));
  auto result = DecodeResult(f->body);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->kind, ResultKind::kSchemaChange);

  f = listener.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.stream, -1);
  EXPECT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kEvent));
  SchemaChange change;
  change.change_type = "CREATED";
  change.target = "KEYSPACE";
  change.keyspace = "ev";
  std::string want;
  EncodeSchemaChangeEvent(change, &want);
  EXPECT_EQ(f->body, want);
  // The unregistered connection got nothing: its next frame answers its own request.
  other.Send(7, Opcode::kOptions, "");
  f = other.Read();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.stream, 7);
}

TEST_F(CqlServerTest, StopClosesConnectionsAndTheListener) {
  StartServer({});
  int port = server_->port();
  RawClient c(port);
  c.Startup();
  server_->Stop();
  EXPECT_FALSE(c.Read().has_value());
  RawClient late(port);
  EXPECT_FALSE(late.connected());
}

TEST_F(CqlServerTest, TlsFilesMustLoad) {
  CqlServerOptions options;
  options.tls_cert_file = dir_ + "/missing-cert.pem";
  options.tls_key_file = dir_ + "/missing-key.pem";
  CqlServer server(options);
  Status s = server.Listen();
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message().rfind("--tls-cert " + dir_ +
                                  "/missing-cert.pem: cannot load a PEM "
                                  "certificate: ",
                              0),
            0u)
      << s.message();
}

// Each request is counted once by opcode and result before its answer is written: handshake
// opcodes on the reader thread, QUERY/PREPARE on the workers, ERROR answers as errors.
TEST_F(CqlServerTest, RequestMetricsByOpcodeAndResult) {
  metrics::MetricsExporter exporter;
  metrics::CqlMetrics cql_metrics(exporter.registry());
  CqlServerOptions options;
  options.metrics = &cql_metrics;
  StartServer(options);
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send(1, Opcode::kQuery, QueryBody("SELECT key FROM system.local"));  // before STARTUP
  ASSERT_EQ(FrameErrorOf(c.Read()).code, static_cast<int32_t>(ErrorCode::kProtocolError));
  c.Send(2, Opcode::kOptions, "");
  auto f = c.Read();
  ASSERT_TRUE(f.has_value());
  c.Startup();
  constexpr int kQueries = 7;
  for (int i = 0; i < kQueries; ++i) {
    c.Send(static_cast<int16_t>(10 + i), Opcode::kQuery, QueryBody("SELECT key FROM system.local"));
    f = c.Read();
    ASSERT_TRUE(f.has_value());
    ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kResult));
  }
  c.Send(30, Opcode::kQuery, QueryBody("SELECT * FROM nowhere.nothing"));
  FrameErrorOf(c.Read());
  std::string prepare;
  EncodePrepare({"SELECT key FROM system.local"}, &prepare);
  c.Send(31, Opcode::kPrepare, prepare);
  f = c.Read();
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->header.opcode, static_cast<uint8_t>(Opcode::kResult));

  using metrics::testing::SampleValue;
  std::string text = exporter.Scrape();
  auto requests = [&](const std::string& op, const std::string& result) {
    return SampleValue(
        text, "dataforge_cql_requests_total{opcode=\"" + op + "\",result=\"" + result + "\"}");
  };
  EXPECT_EQ(requests("QUERY", "ok"), kQueries) << text;
  EXPECT_EQ(requests("QUERY", "error"), 2);
  EXPECT_EQ(requests("OPTIONS", "ok"), 1);
  EXPECT_EQ(requests("STARTUP", "ok"), 1);
  EXPECT_EQ(requests("PREPARE", "ok"), 1);
  EXPECT_EQ(requests("EXECUTE", "ok"), 0);
  EXPECT_EQ(SampleValue(text, "dataforge_cql_request_duration_seconds_count{opcode=\"QUERY\"}"),
            kQueries + 2);
}

}  // namespace
}  // namespace dataforge::cql
