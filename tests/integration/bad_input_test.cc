// Bad input gets a clear answer: a dead letter with the reason, or a one-line error and the
// right exit code. Never a crash, never silent loss.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

// Runs the pipeline once over a file holding `body`.
ProcessResult RunOverFile(const TempDir& dir, const std::string& body,
                          const std::vector<std::string>& extra = {}) {
  std::string file = dir.Sub("capture.json");
  WriteFile(file, body);
  std::vector<std::string> args = {"run", "--source-url", "file://" + file, "--data-dir",
                                   dir.Sub("data")};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunDataforge(args);
}

TEST(BadInputTest, MalformedJsonIsDeadLetteredWhole) {
  TempDir dir;
  auto r = RunOverFile(dir, "{\"results\": [{\"login\": {\"uuid\": \"x\"}}, ");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  StatusJson s = Status(dir.Sub("data"));
  EXPECT_EQ(s.fetched, 1);
  EXPECT_EQ(s.dead_lettered, 1);
  EXPECT_EQ(s.stored, 0);
  auto dl = DeadLetters(dir.Sub("data"));
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(JsonField(dl[0], "stage"), "source");
  EXPECT_NE(JsonField(dl[0], "reason").find("not JSON"), std::string::npos) << dl[0];
  EXPECT_EQ(JsonField(dl[0], "payload"), "{\"results\": [{\"login\": {\"uuid\": \"x\"}}, ");
}

TEST(BadInputTest, ErrorResponseIsDeadLettered) {
  TempDir dir;
  auto r = RunOverFile(dir, "{\"error\":\"Uh oh, something has gone wrong.\"}");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto dl = DeadLetters(dir.Sub("data"));
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_NE(JsonField(dl[0], "reason").find("results"), std::string::npos) << dl[0];
  StatusJson s = Status(dir.Sub("data"));
  EXPECT_EQ(s.fetched, 1);
  EXPECT_EQ(s.dead_lettered, 1);
}

TEST(BadInputTest, EmptyResultsIsNothing) {
  TempDir dir;
  auto r = RunOverFile(dir, "{\"results\":[],\"info\":{\"seed\":\"x\",\"results\":0,\"page\":1}}");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  StatusJson s = Status(dir.Sub("data"));
  EXPECT_EQ(s.fetched, 0);
  EXPECT_EQ(s.dead_lettered, 0);
}

TEST(BadInputTest, BadRecordsAreDeadLetteredAloneWithTheReason) {
  TempDir dir;
  std::string good =
      R"({"gender":"female","name":{"first":"Ana","last":"Lima"},"location":{"street":{"number":1,"name":"Rua A"},"city":"Natal","state":"RN","country":"Brazil","postcode":59000},"email":"ana@example.com","login":{"uuid":"11111111-2222-4333-8444-555555555555","username":"ana"},"dob":{"date":"1990-01-02T03:04:05.678Z"},"registered":{"date":"2010-01-02T03:04:05.678Z"},"phone":"1","picture":{"medium":"m.jpg"}})";
  std::string bad_date =
      R"({"login":{"uuid":"22222222-2222-4333-8444-555555555555","username":"bob"},"dob":{"date":"yesterday"}})";
  std::string bad_uuid = R"({"login":{"uuid":"not-a-uuid"}})";
  auto r = RunOverFile(dir, "{\"results\":[" + good + ",42," + bad_date + "," + bad_uuid + "]}");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  StatusJson s = Status(dir.Sub("data"));
  EXPECT_EQ(s.fetched, 4);
  EXPECT_EQ(s.stored, 1);
  EXPECT_EQ(s.dead_lettered, 3);
  auto dl = DeadLetters(dir.Sub("data"));
  ASSERT_EQ(dl.size(), 3u);
  std::string all;
  for (const auto& d : dl) all += d + "\n";
  EXPECT_NE(all.find("\"stage\":\"source\""), std::string::npos) << all;   // 42: not an object
  EXPECT_NE(all.find("\"stage\":\"process\""), std::string::npos) << all;  // bad values
  EXPECT_NE(all.find("dob"), std::string::npos) << all;
  EXPECT_NE(all.find("yesterday"), std::string::npos) << all;
  EXPECT_NE(all.find("not-a-uuid"), std::string::npos) << all;
  auto get = RunDataforge({"table", "get", "dataforge.created_users",
                           "11111111-2222-4333-8444-555555555555", "--data-dir", dir.Sub("data")});
  EXPECT_EQ(JsonField(get.out, "address"), "1 Rua A, Natal, RN, Brazil");
  EXPECT_EQ(JsonField(get.out, "post_code"), "59000");
}

TEST(BadInputTest, TenMegabyteResponseIsProcessed) {
  TempDir dir;
  std::string body = "{\"results\":[";
  int n = 0;
  while (body.size() < 10 * 1024 * 1024) {
    if (n) body += ',';
    body += fmt::format(
        R"({{"login":{{"uuid":"{:08x}-0000-4000-8000-000000000000","username":"u{}"}},"name":{{"first":"F","last":"L"}},"padding":"{}"}})",
        n, n, std::string(1000, 'x'));
    ++n;
  }
  body += "]}";
  auto r = RunOverFile(dir, body);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  StatusJson s = Status(dir.Sub("data"));
  EXPECT_EQ(s.fetched, n);
  EXPECT_EQ(s.stored, n);
}

TEST(BadInputTest, ResponseOverTheLimitIsDeadLettered) {
  TempDir dir;
  WriteFile(dir.Sub("p.yaml"), "source:\n  max_response_bytes: 4096\n");
  std::string body = "{\"results\":[" + std::string(9000, ' ') + "]}";
  auto r = RunOverFile(dir, body, {"--config", dir.Sub("p.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto dl = DeadLetters(dir.Sub("data"), {"--config", dir.Sub("p.yaml")});
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_NE(JsonField(dl[0], "reason").find("max_response_bytes"), std::string::npos) << dl[0];
}

TEST(BadInputTest, ServerErrorsExhaustRetriesWithAClearError) {
  httplib::Server server;
  std::atomic<int> hits{0};
  server.Get("/api/", [&](const httplib::Request&, httplib::Response& res) {
    ++hits;
    res.status = 500;
    res.set_content("database on fire", "text/plain");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread t([&] { server.listen_after_bind(); });
  TempDir dir;
  WriteFile(dir.Sub("p.yaml"),
            "source:\n  max_retries: 2\n  backoff_initial_ms: 10\n  backoff_max_ms: 20\n");
  auto r = RunDataforge({"run", "--config", dir.Sub("p.yaml"), "--data-dir", dir.Sub("data"),
                         "--source-url", fmt::format("http://127.0.0.1:{}/api/", port)});
  server.stop();
  t.join();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(hits.load(), 3);
  auto lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("dataforge: "), std::string::npos) << r.err;
  EXPECT_NE(lines.back().find("500"), std::string::npos) << r.err;
  EXPECT_NE(lines.back().find("database on fire"), std::string::npos) << r.err;
}

TEST(BadInputTest, BadConfigIsExitTwoWithTheLine) {
  TempDir dir;
  WriteFile(dir.Sub("p.yaml"), "log:\n  partitions: zero\n");
  auto r = RunDataforge({"run", "--config", dir.Sub("p.yaml"), "--data-dir", dir.Sub("data")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: " + dir.Sub("p.yaml") + ":2: 'partitions' must be a number, not 'zero'\n");
  auto check = RunDataforge({"config", "check", dir.Sub("p.yaml")});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_EQ(check.err, r.err);
  WriteFile(dir.Sub("ok.yaml"), "log:\n  partitions: 2\n");
  auto ok = RunDataforge({"config", "check", dir.Sub("ok.yaml")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  auto show = RunDataforge({"config", "show", "--config", dir.Sub("ok.yaml")});
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find("partitions: 2"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("picture.medium"), std::string::npos) << show.out;
}

TEST(BadInputTest, UnusableDataDirIsAClearError) {
  auto r = RunDataforge({"run", "--max-records", "10", "--data-dir", "/proc/dataforge"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("dataforge: cannot create data dir /proc/dataforge:", 0), 0u) << r.err;
  TempDir dir;
  WriteFile(dir.Sub("file"), "x");
  auto f = RunDataforge({"run", "--max-records", "10", "--data-dir", dir.Sub("file")});
  EXPECT_EQ(f.exit_code, 2);
  EXPECT_EQ(f.err, "dataforge: data dir " + dir.Sub("file") +
                       " is not a directory (choose another --data-dir)\n");
  auto st = RunDataforge({"status", "--data-dir", dir.Sub("nothing")});
  EXPECT_EQ(st.exit_code, 1);
  EXPECT_NE(st.err.find("does not exist"), std::string::npos) << st.err;
}

// A shell whose working directory was deleted under it: the relative default data dir cannot
// be resolved. One line and exit 1 (it aborted with an uncaught filesystem_error).
TEST(BadInputTest, ADeletedWorkingDirectoryIsAClearError) {
  TempDir dir;
  for (const char* command : {"runs list", "status", "run --max-records 10"}) {
    std::string script = fmt::format("cd '{}' && rmdir '{}' && exec '{}' {}", dir.path(),
                                     dir.path(), DATAFORGE_BIN, command);
    auto child = ChildProcess::Start({"/bin/sh", "-c", script});
    auto r = child.Wait(60000);
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.err;
    EXPECT_EQ(r.err,
              "dataforge: the current directory no longer exists (No such file or directory): "
              "cd into an existing directory, or give --data-dir as an absolute path\n")
        << command;
    ASSERT_EQ(::mkdir(dir.path().c_str(), 0700), 0);
  }
}

TEST(BadInputTest, UnsupportedSourceSchemeIsUsageError) {
  TempDir dir;
  auto r = RunDataforge({"run", "--source-url", "ftp://example.com/x", "--data-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("ftp://example.com/x"), std::string::npos) << r.err;
}

TEST(BadInputTest, MissingCaptureFileIsAClearError) {
  TempDir dir;
  auto r = RunDataforge(
      {"run", "--source-url", "file://" + dir.Sub("nope.json"), "--data-dir", dir.Sub("data")});
  EXPECT_EQ(r.exit_code, 1);
  auto lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("dataforge: ", 0), 0u) << r.err;
  EXPECT_NE(lines.back().find("nope.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dataforge::testing
