// `dataforge health` (src/cli/health_command.cc), the container image's HEALTHCHECK, against a
// real `dataforge serve` (HTTP and HTTPS), a closed port, a socket that never answers, and bad
// URLs: exit 0, 1 with its one line, 2.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "integration/pg_server.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

using HealthCommandTest = ServeTest;

TEST_F(HealthCommandTest, AnsweringServerIsZero) {
  ServeProcess s(ServeArgs());
  ASSERT_TRUE(s.up());
  auto r = RunDataforge({"health", "--url", s.Url("/health")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("health: {}: ok\n", s.Url("/health")));
  EXPECT_EQ(r.err, "");
  // Without a path the URL means /health.
  std::string bare = fmt::format("http://127.0.0.1:{}", s.port());
  r = RunDataforge({"health", "--url", bare});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("health: {}: ok\n", bare));
}

TEST_F(HealthCommandTest, OtherStatusOrBodyIsOneWithBoth) {
  ServeProcess s(ServeArgs());
  ASSERT_TRUE(s.up());
  auto r = RunDataforge({"health", "--url", s.Url("/v1/nope")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, fmt::format("dataforge: health: {}: HTTP 404 (want 200): "
                               R"({{"error":{{"code":"not_found","message":"no such endpoint: )"
                               R"(GET /v1/nope"}}}})"
                               "\n",
                               s.Url("/v1/nope")));
  r = RunDataforge({"health", "--url", s.Url("/v1/tables")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, fmt::format("dataforge: health: {}: HTTP 200 but the body is "
                               R"('{{"tables":[]}}' (want {{"status":"ok"}}))"
                               "\n",
                               s.Url("/v1/tables")));
  EXPECT_EQ(r.out, "");
}

TEST_F(HealthCommandTest, ClosedPortIsOneLine) {
  int port = FreePort();
  std::string url = fmt::format("http://127.0.0.1:{}/health", port);
  auto r = RunDataforge({"health", "--url", url});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, fmt::format("dataforge: health: {}: connection refused\n", url));
  EXPECT_EQ(r.out, "");
}

TEST_F(HealthCommandTest, ListenerThatNeverAnswersTimesOut) {
  // The kernel completes the connection from the backlog; nothing ever reads or answers.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string url = fmt::format("http://127.0.0.1:{}/health", ntohs(addr.sin_port));
  auto r = RunDataforge({"health", "--url", url, "--timeout-ms", "300"});
  close(fd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, fmt::format("dataforge: health: {}: no answer within 300 ms\n", url));
}

TEST_F(HealthCommandTest, HttpsWithItsCaAndRefusedWithout) {
  std::string cert = dir_.Sub("cert.pem"), key = dir_.Sub("key.pem");
  ASSERT_EQ(ChildProcess::Start({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                 "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj",
                                 "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"})
                .Wait()
                .exit_code,
            0);
  ServeProcess s(ServeArgs({"--tls-cert", cert, "--tls-key", key}));
  ASSERT_TRUE(s.up());
  std::string url = fmt::format("https://127.0.0.1:{}/health", s.port());
  auto r = RunDataforge({"health", "--url", url, "--ca-cert", cert});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("health: {}: ok\n", url));
  r = RunDataforge({"health", "--url", url});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, fmt::format("dataforge: health: {}: the server's certificate is not trusted "
                               "(give its CA with --ca-cert FILE) or does not name the host\n",
                               url));
  // --ca-cert with http:// is a usage error.
  std::string plain = fmt::format("http://127.0.0.1:{}/health", s.port());
  r = RunDataforge({"health", "--url", plain, "--ca-cert", cert});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(
      r.err,
      fmt::format("dataforge: health --ca-cert applies to https:// URLs only, not '{}'\n", plain));
  // Plain HTTP to the TLS port: the server closes the connection.
  r = RunDataforge({"health", "--url", plain});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            fmt::format("dataforge: health: {}: the connection closed before an answer\n", plain));
}

TEST_F(HealthCommandTest, BadUrlsAreUsageErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ftp://127.0.0.1/health", "not an http:// or https:// URL"},
      {"127.0.0.1:8080", "not an http:// or https:// URL"},
      {"http://", "no host"},
      {"http://:8080/health", "no host"},
      {"http://127.0.0.1:/health", "an empty port"},
      {"http://127.0.0.1:0/health", "port '0' is not a number from 1 to 65535"},
      {"http://127.0.0.1:80a/health", "port '80a' is not a number from 1 to 65535"},
      {"http://[::1/health", "an IPv6 address without its ']'"},
      {"http://user@127.0.0.1/health", "user info is not supported"},
      {"http://127.0.0.1/he alth", "a space or control char"},
  };
  for (const auto& [url, why] : cases) {
    auto r = RunDataforge({"health", "--url", url});
    EXPECT_EQ(r.exit_code, 2) << url;
    EXPECT_EQ(r.err, fmt::format("dataforge: health --url '{}': {} (want "
                                 "http[s]://HOST[:PORT][/PATH])\n",
                                 url, why));
  }
  auto r = RunDataforge({"health", "--timeout-ms", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--timeout-ms"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dataforge::testing
