// `dataforge serve` and `run --http-port` as a user runs them, with independent HTTP clients
// (curl and python3's http.client/urllib/socket) over loopback: health, error envelopes,
// keep-alive, malformed and oversized requests, slow clients, TLS, SIGTERM, the off-loopback
// rule and read-only serving beside a running pipeline.
#include <signal.h>

#include <gtest/gtest.h>

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "integration/serve_process.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

ProcessResult RunProgram(const std::vector<std::string>& argv, int timeout_ms = 60000) {
  return ChildProcess::Start(argv).Wait(timeout_ms);
}

// python3 -c SCRIPT ARGS...; the script's stdout is the result.
ProcessResult Python(const std::string& script, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv{"/usr/bin/python3", "-c", script};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv);
}

using HttpServeTest = ServeTest;

TEST_F(HttpServeTest, HealthAndErrorEnvelopes) {
  ServeProcess s(ServeArgs());
  EXPECT_EQ(s.details(), "store rocksdb://" + dir_.Sub("data") + "/store, auth off, tls off");
  auto r = Curl({}, s.Url("/health"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  EXPECT_NE(r.headers.find("Content-Type: application/json"), std::string::npos) << r.headers;

  r = Curl({}, s.Url("/v1/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            R"j({"error":{"code":"not_found","message":"no such endpoint: GET /v1/nope"}})j");

  r = Curl({"-X", "DELETE"}, s.Url("/health"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(
      r.body,
      R"j({"error":{"code":"method_not_allowed","message":"DELETE is not allowed on /health; allowed: GET"}})j");
  EXPECT_NE(r.headers.find("Allow: GET\r\n"), std::string::npos) << r.headers;

  // Bad percent-encoding: in the path, and in a query parameter (named).
  r = Curl({}, s.Url("/v1/tables/t/rows/a%zz"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(
      r.body,
      R"j({"error":{"code":"bad_request","message":"path segment 'a%zz': bad percent-encoding (a '%' must be followed by two hex digits)"}})j");
  r = Curl({}, s.Url("/health?limit=10&cursor=%G1x"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(
      r.body,
      R"j({"error":{"code":"bad_request","message":"query parameter 'cursor': bad percent-encoding in '%G1x' (a '%' must be followed by two hex digits)"}})j");

  auto stop = s.Stop();
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.out.find("serve: stopped; 5 connections, 5 requests (4 client errors, 0 server "
                          "errors)\n"),
            std::string::npos)
      << stop.out;
}

TEST_F(HttpServeTest, KeepAliveReusesTheConnection) {
  ServeProcess s(ServeArgs());
  auto r = RunProgram({"/usr/bin/curl", "-sv", "-o", "/dev/null", "-o", "/dev/null",
                       s.Url("/health"), s.Url("/health")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Re-using existing connection"), std::string::npos) << r.err;
  // python's http.client: three requests on one connection, one TCP connection on the server.
  auto py = Python(R"(
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for _ in range(3):
    c.request("GET", "/health")
    r = c.getresponse()
    print(r.status, r.read().decode(), r.getheader("Connection"))
)",
                   {std::to_string(s.port())});
  EXPECT_EQ(py.out,
            "200 {\"status\":\"ok\"} None\n200 {\"status\":\"ok\"} None\n200 "
            "{\"status\":\"ok\"} None\n")
      << py.err;
  auto stop = s.Stop();
  EXPECT_NE(stop.out.find("serve: stopped; 2 connections, 5 requests"), std::string::npos)
      << stop.out;
}

// A raw request over a socket; prints the status line and whether the server then closed.
const char* kRawRequest = R"(
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
print(body.decode())
)";

TEST_F(HttpServeTest, HugeHeaderIs400AndServerKeepsServing) {
  ServeProcess s(ServeArgs());
  std::string big(100 * 1024, 'a');
  auto py = Python(kRawRequest,
                   {std::to_string(s.port()),
                    "GET /health HTTP/1.1\\r\\nHost: x\\r\\nX-Big: " + big + "\\r\\n\\r\\n"});
  EXPECT_EQ(
      py.out,
      "HTTP/1.1 400 Bad Request\n"
      R"j({"error":{"code":"bad_request","message":"malformed or incomplete request: the request line or a header could not be read (each header line must be under 8 KiB, and the request must arrive within the read timeout)"}})j"
      "\n")
      << py.err;
  // curl's own 100 KB header, then a normal request.
  auto r = Curl({"-H", "X-Big: " + big}, s.Url("/health"));
  EXPECT_EQ(r.status, 400);
  r = Curl({}, s.Url("/health"));
  EXPECT_EQ(r.status, 200);
}

TEST_F(HttpServeTest, TenMegabyteBodyIs413WithoutBeingRead) {
  ServeProcess s(ServeArgs());
  // Only the head is sent: the 413 comes without the server waiting for the 10 MB, and the
  // connection is closed after it.
  auto py = Python(kRawRequest, {std::to_string(s.port()),
                                 "PUT /v1/tables/t/rows/k HTTP/1.1\\r\\nHost: x\\r\\n"
                                 "Content-Type: application/json\\r\\n"
                                 "Content-Length: 10485760\\r\\n\\r\\n"});
  EXPECT_EQ(
      py.out,
      "HTTP/1.1 413 Payload Too Large\n"
      R"j({"error":{"code":"payload_too_large","message":"the request body is 10485760 bytes; the limit is 1048576 bytes"}})j"
      "\n")
      << py.err;
  // curl sends "Expect: 100-continue" for a body this large and gets the 413 instead.
  WriteFile(dir_.Sub("big.json"), std::string(10 << 20, 'x'));
  auto r = Curl({"-X", "PUT", "-H", "Content-Type: application/json", "--data-binary",
                 "@" + dir_.Sub("big.json")},
                s.Url("/v1/tables/t/rows/k"));
  EXPECT_EQ(r.status, 413) << r.err;
  EXPECT_EQ(
      r.body,
      R"j({"error":{"code":"payload_too_large","message":"the request body is 10485760 bytes; the limit is 1048576 bytes"}})j");
  // A chunked body (no length up front) is cut off at the limit too: one 2 MiB chunk, of
  // which the server reads 1 MiB + 1 bytes before it answers.
  py = Python(R"(
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"PUT /v1/tables/t/rows/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          b"200000\r\n" + b"y" * (1048576 + 1))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n")[0].decode())
print(data.partition(b"\r\n\r\n")[2].decode())
)",
              {std::to_string(s.port())});
  EXPECT_EQ(
      py.out,
      "HTTP/1.1 413 Payload Too Large\n"
      R"j({"error":{"code":"payload_too_large","message":"the request body is over the limit of 1048576 bytes"}})j"
      "\n")
      << py.err;
  r = Curl({}, s.Url("/health"));
  EXPECT_EQ(r.status, 200);
  // A body within the limit reaches routing (no such endpoint yet in this test's router).
  r = Curl({"-X", "PUT", "--data-binary", "{\"a\":1}"}, s.Url("/v1/nope"));
  EXPECT_EQ(r.status, 404);
}

TEST_F(HttpServeTest, SlowClientDoesNotBlockOthersAndIsDropped) {
  ServeProcess s(ServeArgs({"--read-timeout-ms", "1000", "--workers", "2"}));
  // Half a request, then nothing: other requests are served meanwhile (urllib), and the server
  // closes the slow connection after its read timeout (recv returns b"").
  auto py = Python(R"(
import socket, sys, time, urllib.request
port = int(sys.argv[1])
slow = socket.create_connection(("127.0.0.1", port), timeout=20)
slow.sendall(b"GET /health HTTP/1.1\r\nHo")
for _ in range(3):
    with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=10) as r:
        print(r.status, r.read().decode())
data = b""
while True:
    chunk = slow.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n")[0].decode(), "then closed")
)",
                   {std::to_string(s.port())});
  EXPECT_EQ(py.out,
            "200 {\"status\":\"ok\"}\n200 {\"status\":\"ok\"}\n200 {\"status\":\"ok\"}\n"
            "HTTP/1.1 400 Bad Request then closed\n")
      << py.err;
}

TEST_F(HttpServeTest, Tls) {
  std::string cert = dir_.Sub("cert.pem"), key = dir_.Sub("key.pem");
  ASSERT_EQ(RunProgram({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"})
                .exit_code,
            0);
  ServeProcess s(ServeArgs({"--tls-cert", cert, "--tls-key", key}));
  EXPECT_EQ(s.details(), "store rocksdb://" + dir_.Sub("data") + "/store, auth off, tls on");
  auto r = Curl({"--cacert", cert}, s.Url("/health"));
  EXPECT_EQ(r.status, 200) << r.err;
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  // Without trusting the certificate curl refuses; plain HTTP gets no HTTP answer.
  r = Curl({}, s.Url("/health"));
  EXPECT_EQ(r.status, 0);
  r = Curl({}, fmt::format("http://127.0.0.1:{}/health", s.port()));
  EXPECT_NE(r.status, 200);
  // A key that does not match is a config error (exit 2).
  std::string other_key = dir_.Sub("other.pem");
  ASSERT_EQ(RunProgram({"/usr/bin/openssl", "genrsa", "-out", other_key, "2048"}).exit_code, 0);
  auto bad = RunDataforge(ServeArgs({"--tls-cert", cert, "--tls-key", other_key}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, fmt::format("dataforge: TLS: cannot use certificate {} with key {} (each "
                                 "must be a readable PEM file, and the key must match the "
                                 "certificate)\n",
                                 cert, other_key));
}

TEST_F(HttpServeTest, SigtermFinishesInFlightAndExitsZero) {
  ServeProcess s(ServeArgs({"--read-timeout-ms", "2000"}));
  // A client in the middle of a request when SIGTERM comes: the server stops accepting, waits
  // for it (bounded by the read timeout), prints the summary and exits 0. The slow connection
  // has a whole request answered first, so a worker is serving it when the half request comes
  // (a connection accepted but not yet taken by a worker when the server stops is closed
  // unanswered: cpp-httplib ends its keep-alive loop once the listener is closed).
  auto client = ChildProcess::Start({"/usr/bin/python3", "-c", R"(
import socket, sys, time, urllib.request
port = int(sys.argv[1])
with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=10) as r:
    r.read()
slow = socket.create_connection(("127.0.0.1", port), timeout=30)
slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
answer = b""
while not answer.endswith(b'{"status":"ok"}'):
    answer += slow.recv(1000)
slow.sendall(b"GET /health HTTP/1.1\r\nHo")
print("sent", flush=True)
slow.recv(100)
)",
                                     std::to_string(s.port())});
  ASSERT_TRUE(WaitFor([&] { return client.Stdout() == "sent\n"; }, 30)) << client.Stderr();
  auto stop = s.Stop();
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_NE(stop.out.find("serve: stopped; 2 connections, 3 requests (1 client errors, 0 server "
                          "errors)\n"),
            std::string::npos)
      << stop.out;
  EXPECT_EQ(client.Wait(30000).exit_code, 0);
}

const char* kRefusal =
    "refusing to listen off loopback with authentication off (anyone who can reach it could "
    "read and change the data); turn authentication on with `dataforge users add NAME --role "
    "admin --password-stdin` (or `auth.required: true` in the pipeline file), or pass "
    "--insecure-no-auth to insist\n";

TEST_F(HttpServeTest, OffLoopbackWithoutAuthIsRefused) {
  auto r = RunDataforge(ServeArgs({"--host", "0.0.0.0"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, std::string("dataforge: --host 0.0.0.0: ") + kRefusal);
  r = RunDataforge(
      {"cql-serve", "--port", "0", "--host", "0.0.0.0", "--data-dir", dir_.Sub("data")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, std::string("dataforge: --host 0.0.0.0: ") + kRefusal);
  r = RunDataforge({"run", "--no-progress", "--http-port", "0", "--http-host", "::", "--data-dir",
                    dir_.Sub("data")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, std::string("dataforge: --http-host ::: ") + kRefusal);
  r = RunDataforge({"run", "--no-progress", "--cql-port", "0", "--cql-host", "0.0.0.0",
                    "--data-dir", dir_.Sub("data")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, std::string("dataforge: --cql-host 0.0.0.0: ") + kRefusal);

  // --insecure-no-auth insists; loopback addresses need nothing.
  {
    ServeProcess s(ServeArgs({"--host", "0.0.0.0", "--insecure-no-auth"}));
    EXPECT_EQ(Curl({}, s.Url("/health")).status, 200);
    EXPECT_EQ(s.Stop().exit_code, 0);
  }
  {
    ServeProcess s(ServeArgs({"--host", "127.0.0.2"}));
    EXPECT_EQ(Curl({}, fmt::format("http://127.0.0.2:{}/health", s.port())).status, 200);
    EXPECT_EQ(s.Stop().exit_code, 0);
  }
}

TEST_F(HttpServeTest, ServesReadOnlyBesideARunningPipeline) {
  auto run =
      StartDataforge({"run", "--no-progress", "--http-port", "0", "--data-dir", dir_.Sub("data")});
  ASSERT_TRUE(WaitFor(
      [&] {
        return run.Stdout().find("serve: listening on http://127.0.0.1:") != std::string::npos;
      },
      60))
      << run.Stdout() << run.Stderr();
  ServeProcess s(ServeArgs());
  EXPECT_EQ(s.details(), fmt::format("store rocksdb://{}/store read-only, pid {} holds the data "
                                     "dir, auth off, tls off",
                                     dir_.Sub("data"), run.pid()));
  EXPECT_EQ(Curl({}, s.Url("/health")).status, 200);
  EXPECT_EQ(s.Stop().exit_code, 0);
  // The run's own endpoint answers too, and its summary names it.
  std::smatch m;
  std::string out = run.Stdout();
  ASSERT_TRUE(
      std::regex_search(out, m, std::regex(R"(serve: listening on http://127.0.0.1:(\d+))")));
  EXPECT_EQ(Curl({}, "http://127.0.0.1:" + std::string(m[1]) + "/health").status, 200);
  run.Signal(SIGTERM);
  auto done = run.Wait(60000);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(
      done.out.find("  serve: 1 connections, 1 requests (0 client errors, 0 server errors)\n"),
      std::string::npos)
      << done.out;
}

}  // namespace
}  // namespace dataforge::testing
