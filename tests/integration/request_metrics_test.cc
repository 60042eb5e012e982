// The request and client metrics on GET /metrics of the real binary (docs/metrics.md):
// dataforge_http_requests_total / _duration_seconds of `serve`, and in one `run --http-port
// --cql-port` process the HTTP source's requests by code, the CQL endpoint's requests by opcode
// and result, and every backend's client error and reconnect series.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

#include "cql/frame.h"
#include "cql/messages.h"
#include "integration/pg_server.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

// `name{labels}` -> value, every sample of an exposition.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> out;
  for (const auto& line : SplitLines(text)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

double Get(const std::map<std::string, double>& m, const std::string& series) {
  auto it = m.find(series);
  return it == m.end() ? -1 : it->second;
}

std::map<std::string, double> Scrape(ServeProcess& s) {
  auto r = Curl({}, s.Url("/metrics"));
  EXPECT_EQ(r.status, 200) << r.body;
  return Samples(r.body);
}

// `curl URL | promtool check metrics`: what it printed (nothing when clean).
ProcessResult Promtool(const std::string& url) {
  return ChildProcess::Start({"/bin/sh", "-c",
                              fmt::format("/usr/bin/curl -sSf '{}' | /usr/bin/promtool check "
                                          "metrics 2>&1",
                                          url)})
      .Wait(60000);
}

// A CQL native protocol v4 client over loopback: STARTUP, then one QUERY at a time.
class CqlClient {
 public:
  explicit CqlClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval bound{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~CqlClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  // The answer's opcode, or -1 when the connection ended.
  int Request(cql::Opcode op, const std::string& body) {
    std::string f;
    cql::AppendFrame(cql::kProtocolVersion, 0, ++stream_, op, body, &f);
    if (::send(fd_, f.data(), f.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(f.size())) return -1;
    while (true) {
      if (buf_.size() >= cql::kHeaderSize) {
        cql::FrameHeader h = cql::DecodeHeader(buf_);
        if (buf_.size() >= cql::kHeaderSize + h.length) {
          buf_.erase(0, cql::kHeaderSize + h.length);
          return h.opcode;
        }
      }
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return -1;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  int Query(const std::string& cql) {
    std::string b;
    cql::EncodeQuery({cql, {}}, &b);
    return Request(cql::Opcode::kQuery, b);
  }

 private:
  int fd_;
  bool connected_ = false;
  int16_t stream_ = 0;
  std::string buf_;
};

std::string FixturePage() {
  return ReadFile(std::string(DATAFORGE_FIXTURES_DIR) + "/v1.2-visdata.json");  // 20 users
}

TEST(RequestMetricsTest, ServeCountsRequestsByRoutePatternMethodAndCode) {
  TempDir dir;
  WriteFile(dir.Sub("users.json"), FixturePage());
  auto filled = RunDataforge({"run", "--no-progress", "--source-url",
                              "file://" + dir.Sub("users.json"), "--data-dir", dir.Sub("data")});
  ASSERT_EQ(filled.exit_code, 0) << filled.err;
  ServeProcess serve({"serve", "--http-port", "0", "--data-dir", dir.Sub("data")});
  ASSERT_TRUE(serve.up());
  constexpr int kStatus = 4;
  for (int i = 0; i < kStatus; ++i) ASSERT_EQ(Curl({}, serve.Url("/v1/status")).status, 200);
  ASSERT_EQ(Curl({}, serve.Url("/v1/tables/dataforge.created_users/rows?limit=2")).status, 200);
  ASSERT_EQ(Curl({}, serve.Url("/v1/tables/no.such/rows?limit=2")).status, 404);
  ASSERT_EQ(Curl({}, serve.Url("/v1/no/such/endpoint")).status, 404);
  ASSERT_EQ(Curl({"-X", "DELETE"}, serve.Url("/v1/status")).status, 405);

  auto m = Scrape(serve);
  auto requests = [&](const std::string& code, const std::string& method,
                      const std::string& route) {
    return Get(m, fmt::format("dataforge_http_requests_total{{code=\"{}\",method=\"{}\","
                              "route=\"{}\"}}",
                              code, method, route));
  };
  EXPECT_EQ(requests("200", "GET", "/v1/status"), kStatus);
  EXPECT_EQ(requests("200", "GET", "/v1/tables/{table}/rows"), 1);
  EXPECT_EQ(requests("404", "GET", "/v1/tables/{table}/rows"), 1);
  EXPECT_EQ(requests("404", "GET", "unmatched"), 1);
  EXPECT_EQ(requests("405", "DELETE", "unmatched"), 1);
  EXPECT_EQ(Get(m, R"(dataforge_http_request_duration_seconds_count{route="/v1/status"})"),
            kStatus);
  EXPECT_EQ(
      Get(m, R"(dataforge_http_request_duration_seconds_count{route="/v1/tables/{table}/rows"})"),
      2);
  EXPECT_EQ(Get(m, R"(dataforge_http_request_duration_seconds_count{route="unmatched"})"), 2);
  // A scrape is counted once it is answered: this one shows none, the next one this one.
  EXPECT_EQ(requests("200", "GET", "/metrics"), -1);
  m = Scrape(serve);
  EXPECT_EQ(requests("200", "GET", "/metrics"), 1);
  // Every backend's client series, at 0 in a server that talks to none.
  for (const char* b : {"kafka", "postgresql", "cassandra"}) {
    EXPECT_EQ(Get(m, fmt::format("dataforge_client_errors_total{{backend=\"{}\"}}", b)), 0) << b;
    EXPECT_EQ(Get(m, fmt::format("dataforge_client_reconnects_total{{backend=\"{}\"}}", b)), 0)
        << b;
  }
  EXPECT_EQ(Get(m, R"(dataforge_source_http_requests_total{code="200"})"), 0);
  auto lint = Promtool(serve.Url("/metrics"));
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  EXPECT_EQ(lint.out, "");
  EXPECT_EQ(serve.Stop().exit_code, 0);
}

TEST(RequestMetricsTest, RunCountsSourceRequestsAndCqlRequests) {
  // The source API: page 1 answers 500 once, then 200; page 2 is held until the test ends (the
  // pipeline stores 20 records and waits in its fetch).
  httplib::Server api;
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  int page1 = 0;
  std::string page = FixturePage();
  api.Get("/api/", [&](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("page") || req.get_param_value("page") == "1") {
      if (page1++ == 0) {
        res.status = 500;
        res.set_content("{\"error\":\"try again\"}", "application/json");
        return;
      }
      res.set_content(page, "application/json");
      return;
    }
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(120), [&] { return released; });
    res.set_content(R"({"results":[]})", "application/json");
  });
  int api_port = api.bind_to_any_port("127.0.0.1");
  std::thread api_thread([&] { api.listen_after_bind(); });
  // However the test ends: release the held request, stop the API, join its thread.
  struct Release {
    std::function<void()> f;
    ~Release() { f(); }
  } release{[&] {
    {
      std::lock_guard lock(mu);
      released = true;
    }
    cv.notify_all();
    api.stop();
    if (api_thread.joinable()) api_thread.join();
  }};
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config, fmt::format("source:\n  url: http://127.0.0.1:{}/api/\n"
                                "  backoff_initial_ms: 10\n",
                                api_port));
  int cql_port = FreePort();
  ASSERT_GT(cql_port, 0);
  {
    // No scheduler: the default pipeline's DAG would fetch from the same API.
    ServeProcess run({"run", "--no-progress", "--no-scheduler", "--http-port", "0", "--cql-port",
                      std::to_string(cql_port), "--config", config, "--data-dir", dir.Sub("data")});
    ASSERT_TRUE(run.up());
    std::map<std::string, double> m;
    ASSERT_TRUE(WaitFor(
        [&] {
          m = Scrape(run);
          return Get(m, R"(dataforge_records_total{stage="stored"})") == 20;
        },
        60));
    EXPECT_EQ(Get(m, R"(dataforge_source_http_requests_total{code="500"})"), 1);
    EXPECT_EQ(Get(m, R"(dataforge_source_http_requests_total{code="200"})"), 1);
    EXPECT_EQ(Get(m, "dataforge_source_http_retries_total"), 1);
    EXPECT_EQ(Get(m, R"(dataforge_source_http_requests_total{code="error"})"), 0);

    CqlClient c(cql_port);
    ASSERT_TRUE(c.connected());
    std::string startup;
    cql::EncodeStartup({{{"CQL_VERSION", "3.0.0"}}}, &startup);
    ASSERT_EQ(c.Request(cql::Opcode::kStartup, startup), static_cast<int>(cql::Opcode::kReady));
    constexpr int kQueries = 6;
    for (int i = 0; i < kQueries; ++i) {
      ASSERT_EQ(c.Query("SELECT * FROM dataforge.created_users LIMIT 3"),
                static_cast<int>(cql::Opcode::kResult));
    }
    ASSERT_EQ(c.Query("SELECT * FROM nowhere.nothing"), static_cast<int>(cql::Opcode::kError));
    m = Scrape(run);
    EXPECT_EQ(Get(m, R"(dataforge_cql_requests_total{opcode="QUERY",result="ok"})"), kQueries);
    EXPECT_EQ(Get(m, R"(dataforge_cql_requests_total{opcode="QUERY",result="error"})"), 1);
    EXPECT_EQ(Get(m, R"(dataforge_cql_requests_total{opcode="STARTUP",result="ok"})"), 1);
    EXPECT_EQ(Get(m, R"(dataforge_cql_request_duration_seconds_count{opcode="QUERY"})"),
              kQueries + 1);
    for (const char* b : {"kafka", "postgresql", "cassandra"}) {
      EXPECT_GE(Get(m, fmt::format("dataforge_client_errors_total{{backend=\"{}\"}}", b)), 0) << b;
    }
    auto lint = Promtool(run.Url("/metrics"));
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
    EXPECT_EQ(lint.out, "");
    {
      std::lock_guard lock(mu);
      released = true;  // page 2 answers empty: the input has ended, the run stops at once
    }
    cv.notify_all();
    EXPECT_EQ(run.Stop().exit_code, 0);
  }
}

}  // namespace
}  // namespace dataforge::testing
