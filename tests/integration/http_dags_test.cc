// Issue 16's DAG control and seek-by-time endpoints and `dataforge top`, end to end: a data dir
// filled by the real binary (`run`, `dags trigger --wait`), `dataforge serve` with users and API
// keys (auth on), curl as the client. Pause and unpause as `dags list --json` shows them, a
// clear of a failed task and its downstream, the grid of two runs, a task's detail, 403 for a
// reader, records by time, and `top --once` on the data dir and on the server.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

// `fixme`: first fails until the file says otherwise; second depends on it, third does not.
const char* kDags = R"(dags:
  fixme:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - {id: first, type: shell, command: "%s"}
      - {id: second, type: shell, depends_on: [first], command: "echo second ran"}
      - {id: third, type: shell, command: "echo third ran"}
  nightly:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - {id: only, type: shell, command: "true"}
)";

std::vector<std::string> Bearer(const std::string& key, std::vector<std::string> more = {}) {
  more.insert(more.begin(), {"-H", "Authorization: Bearer " + key});
  return more;
}

std::string ErrorBody(const std::string& code, const std::string& message) {
  return fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, message);
}

class HttpDagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.Sub("data");
    config_ = dir_.Sub("pipeline.yaml");
    WriteDags("exit 4");
    where_ = {"--config", config_, "--data-dir", data_};
  }
  void WriteDags(const std::string& first_command) {
    std::string text = kDags;
    WriteFile(config_, text.replace(text.find("%s"), 2, first_command));
  }
  ProcessResult Df(std::vector<std::string> args) {
    args.insert(args.end(), where_.begin(), where_.end());
    return RunDataforge(args, 180000);
  }
  // A user of `role` and a new API key of theirs.
  std::string UserKey(const std::string& name, const std::string& role) {
    auto add = Df({"users", "add", name, "--role", role});
    EXPECT_EQ(add.exit_code, 0) << add.err;
    auto key = Df({"keys", "create", name});
    EXPECT_EQ(key.exit_code, 0) << key.err;
    auto lines = SplitLines(key.out);
    return lines.empty() ? "" : lines[0];
  }
  // The `dags list --json` line of `dag`.
  std::string DagLine(const std::string& dag) {
    auto r = Df({"dags", "list", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (const auto& line : SplitLines(r.out)) {
      if (line.find(fmt::format(R"("dag_id":"{}")", dag)) != std::string::npos) return line;
    }
    return "";
  }

  TempDir dir_;
  std::string data_, config_;
  std::vector<std::string> where_;
};

TEST_F(HttpDagsTest, PauseClearGridAndTaskOverHttp) {
  ASSERT_EQ(Df({"run", "--no-progress", "--max-records", "20"}).exit_code, 0);
  // Run 1 fails at first (second never runs, third succeeds); run 2, fixed, succeeds.
  EXPECT_EQ(Df({"dags", "trigger", "fixme", "--wait"}).exit_code, 1);
  WriteDags("echo fixed");
  auto second = Df({"dags", "trigger", "fixme", "--wait"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string root = UserKey("root", "admin");
  const std::string rita = UserKey("rita", "reader");
  ServeProcess s({"serve", "--http-port", "0", "--config", config_, "--data-dir", data_});
  ASSERT_TRUE(s.up());
  EXPECT_EQ(s.details(), "store rocksdb://" + data_ + "/store, auth on, tls off");

  // Pause, then unpause: the DAG as GET /v1/dags shows it, and `dags list --json` agrees.
  EXPECT_NE(DagLine("nightly").find(R"("paused":false)"), std::string::npos);
  auto r = Curl(Bearer(root, {"-X", "POST"}), s.Url("/v1/dags/nightly/pause"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      r.body.rfind(R"({"dag_id":"nightly","schedule":"@daily","timezone":"UTC","paused":true,)", 0),
      0u)
      << r.body;
  EXPECT_NE(DagLine("nightly").find(R"("paused":true)"), std::string::npos) << DagLine("nightly");
  EXPECT_NE(DagLine("fixme").find(R"("paused":false)"), std::string::npos);
  // A trigger of the paused DAG is refused, as the CLI refuses it.
  r = Curl(Bearer(root, {"-X", "POST"}), s.Url("/v1/dags/nightly/runs"));
  EXPECT_EQ(r.status, 409) << r.body;
  r = Curl(Bearer(root, {"-X", "POST"}), s.Url("/v1/dags/nightly/unpause"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("paused":false)"), std::string::npos) << r.body;
  EXPECT_NE(DagLine("nightly").find(R"("paused":false)"), std::string::npos);
  r = Curl(Bearer(root, {"-X", "POST"}), s.Url("/v1/dags/nope/pause"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, ErrorBody("not_found",
                              "unknown DAG 'nope'; the pipeline file declares: fixme, nightly"));

  // The grid: two runs, newest first, every task's state and tries.
  r = Curl(Bearer(root), s.Url("/v1/dags/fixme/grid"));
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::element grid;
  ASSERT_EQ(parser.parse(r.body).get(grid), simdjson::SUCCESS) << r.body;
  EXPECT_EQ(std::string_view(grid["dag"]), "fixme");
  EXPECT_EQ(simdjson::minify(grid["tasks"]), R"(["first","second","third"])");
  ASSERT_EQ(grid["runs"].get_array().size(), 2u) << r.body;
  auto run2 = grid["runs"].at(0);
  auto run1 = grid["runs"].at(1);
  EXPECT_EQ(int64_t(run2["run_id"]), 2);
  EXPECT_EQ(std::string_view(run2["state"]), "success");
  EXPECT_EQ(std::string_view(run2["run_type"]), "manual");
  EXPECT_EQ(
      simdjson::minify(run2["tasks"]),
      R"({"first":{"state":"success","try_number":1},"second":{"state":"success","try_number":1},"third":{"state":"success","try_number":1}})");
  EXPECT_EQ(int64_t(run1["run_id"]), 1);
  EXPECT_EQ(std::string_view(run1["state"]), "failed");
  EXPECT_EQ(
      simdjson::minify(run1["tasks"]),
      R"({"first":{"state":"failed","try_number":1},"second":{"state":"upstream_failed","try_number":0},"third":{"state":"success","try_number":1}})");
  r = Curl(Bearer(root), s.Url("/v1/dags/fixme/grid?limit=1"));
  ASSERT_EQ(parser.parse(r.body).get(grid), simdjson::SUCCESS) << r.body;
  ASSERT_EQ(grid["runs"].get_array().size(), 1u);
  EXPECT_EQ(int64_t(grid["runs"].at(0)["run_id"]), 2);
  r = Curl(Bearer(root), s.Url("/v1/dags/fixme/grid?limit=101"));
  EXPECT_EQ(r.body, ErrorBody("bad_request",
                              "limit=101: expected a whole number from 1 to 100 (default 25)"));

  // One task instance, with its output.
  r = Curl(Bearer(root), s.Url("/v1/runs/1/tasks/third"));
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element task;
  ASSERT_EQ(parser.parse(r.body).get(task), simdjson::SUCCESS) << r.body;
  EXPECT_EQ(std::string_view(task["task_id"]), "third");
  EXPECT_EQ(std::string_view(task["state"]), "success");
  EXPECT_EQ(std::string_view(task["output"]), "third ran\n");
  r = Curl(Bearer(root), s.Url("/v1/runs/1/tasks/nope"));
  EXPECT_EQ(r.body, ErrorBody("not_found",
                              "run 1 of DAG fixme has no task 'nope'; its tasks: first, second, "
                              "third"));
  EXPECT_EQ(Curl(Bearer(root), s.Url("/v1/runs/9/tasks/first")).status, 404);

  // A reader may do neither: 403, and nothing changes.
  r = Curl(Bearer(rita, {"-X", "POST"}), s.Url("/v1/dags/nightly/pause"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, ErrorBody("forbidden",
                              "role 'reader' may not pause dags 'nightly' ('reader' is a built-in "
                              "role: give the user a role from auth.roles that grants it)"));
  r = Curl(Bearer(rita, {"-X", "POST"}), s.Url("/v1/runs/1/tasks/first/clear"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, ErrorBody("forbidden",
                              "role 'reader' may not clear dags 'fixme' ('reader' is a built-in "
                              "role: give the user a role from auth.roles that grants it)"));
  EXPECT_NE(DagLine("nightly").find(R"("paused":false)"), std::string::npos);

  // Clear the failed task: it and its downstream (not third) go back to none; the run runs.
  r = Curl(Bearer(root, {"-X", "POST"}), s.Url("/v1/runs/1/tasks/first/clear?downstream=maybe"));
  EXPECT_EQ(r.status, 400) << r.body;
  r = Curl(Bearer(root, {"-X", "POST"}), s.Url("/v1/runs/1/tasks/first/clear"));
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element cleared;
  ASSERT_EQ(parser.parse(r.body).get(cleared), simdjson::SUCCESS) << r.body;
  EXPECT_EQ(simdjson::minify(cleared["cleared"]), R"(["first","second"])");
  EXPECT_EQ(std::string_view(cleared["run"]["state"]), "running");
  std::map<std::string, std::string> states;
  for (auto t : cleared["run"]["tasks"].get_array()) {
    states[std::string(std::string_view(t["task_id"]))] = std::string(std::string_view(t["state"]));
  }
  EXPECT_EQ(states, (std::map<std::string, std::string>{
                        {"first", "none"}, {"second", "none"}, {"third", "success"}}));
  // `runs show --json` reads the same from the run store.
  auto show = Df({"runs", "show", "1", "--json"});
  EXPECT_NE(show.out.find(R"("task_id":"first","state":"none","try_number":1,"max_tries":2,)"),
            std::string::npos)
      << show.out;
  // downstream=false: only the task.
  r = Curl(Bearer(root, {"-X", "POST"}), s.Url("/v1/runs/2/tasks/first/clear?downstream=false"));
  ASSERT_EQ(parser.parse(r.body).get(cleared), simdjson::SUCCESS) << r.body;
  EXPECT_EQ(simdjson::minify(cleared["cleared"]), R"(["first"])");
  r = Curl(Bearer(root, {"-X", "POST"}), s.Url("/v1/runs/1/tasks/nope/clear"));
  EXPECT_EQ(r.body, ErrorBody("not_found",
                              "DAG fixme has no task 'nope'; its tasks: first, second, third"));
  EXPECT_EQ(Curl(Bearer(root, {"-X", "POST"}), s.Url("/v1/runs/77/tasks/first/clear")).status, 404);

  // Audited, as a trigger is (a key is logged by its id, as http_auth_test.cc reads it).
  auto key_id = [](const std::string& key) { return key.substr(4, key.find('_', 4) - 4); };
  std::string audit = ReadFile(data_ + "/audit.log");
  EXPECT_NE(
      audit.find(fmt::format(
          R"("who":"root","role":"admin","method":"key","key_id":"{}","from":"127.0.0.1","action":"POST /v1/dags/nightly/pause","result":200)",
          key_id(root))),
      std::string::npos)
      << audit;
  EXPECT_NE(
      audit.find(fmt::format(
          R"("who":"rita","role":"reader","method":"key","key_id":"{}","from":"127.0.0.1","action":"POST /v1/runs/1/tasks/first/clear","result":403)",
          key_id(rita))),
      std::string::npos)
      << audit;
  auto stopped = s.Stop();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

// The records of every partition of users_created (offset, timestamp_us), through the API.
std::map<int, std::vector<std::pair<int64_t, int64_t>>> AllRecords(const ServeProcess& s) {
  std::map<int, std::vector<std::pair<int64_t, int64_t>>> out;
  simdjson::dom::parser parser;
  for (int p = 0;; ++p) {
    auto r = Curl(
        {}, s.Url(fmt::format("/v1/topics/users_created/partitions/{}/records?limit=1000", p)));
    if (r.status != 200) break;
    simdjson::dom::element doc;
    if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) break;
    for (auto rec : doc["records"].get_array()) {
      out[p].emplace_back(int64_t(rec["offset"]), int64_t(rec["timestamp_us"]));
    }
    if (out[p].empty()) out[p] = {};
  }
  return out;
}

// records?time=: the first record at or after the time, by ISO 8601 (microseconds) and by Unix
// milliseconds, checked against every record's timestamp.
TEST_F(HttpDagsTest, RecordsByTimeOverHttp) {
  // Two runs fetch at two times: their records have two timestamps.
  ASSERT_EQ(Df({"run", "--no-progress", "--max-records", "30"}).exit_code, 0);
  ASSERT_EQ(Df({"run", "--no-progress", "--max-records", "30"}).exit_code, 0);
  ServeProcess s({"serve", "--http-port", "0", "--config", config_, "--data-dir", data_});
  ASSERT_TRUE(s.up());
  auto records = AllRecords(s);
  ASSERT_GE(records.size(), 2u);
  // The first timestamp of the second run: the smallest above the first record's.
  std::vector<int64_t> times;
  for (const auto& [p, list] : records) {
    for (const auto& [offset, ts] : list) times.push_back(ts);
  }
  std::sort(times.begin(), times.end());
  ASSERT_GE(times.size(), 2u);
  auto second_run = std::upper_bound(times.begin(), times.end(), times.front());
  ASSERT_NE(second_run, times.end()) << "both runs' records have one timestamp";
  const int64_t t2 = *second_run;
  const size_t late = static_cast<size_t>(times.end() - second_run);
  // As ISO 8601 with microseconds (UTC), computed by date(1), an independent formatter.
  auto iso = ChildProcess::Start({"/bin/sh", "-c",
                                  fmt::format("date -u -d @{}.{:06d} +%Y-%m-%dT%H:%M:%S.%6NZ",
                                              t2 / 1000000, t2 % 1000000)})
                 .Wait(10000);
  ASSERT_EQ(iso.exit_code, 0) << iso.err;
  std::string t2_iso = SplitLines(iso.out).at(0);
  int seeks_inside = 0;
  simdjson::dom::parser parser;
  for (const auto& [p, list] : records) {
    int64_t end = list.empty() ? 0 : list.back().first + 1;
    int64_t want = end;
    for (const auto& [offset, ts] : list) {
      if (ts >= t2) {
        want = offset;
        break;
      }
    }
    if (want > 0 && want < end) ++seeks_inside;
    // The same time with an offset whose '+' is not URL-encoded (it arrives as a space).
    std::string plus = t2_iso.substr(0, t2_iso.size() - 1) + "+00:00";
    auto same = Curl(
        {}, s.Url(fmt::format("/v1/topics/users_created/partitions/{}/records?time={}", p, plus)));
    EXPECT_NE(same.body.find(fmt::format(R"("seek_offset":{}}})", want)), std::string::npos)
        << same.body;
    auto r =
        Curl({}, s.Url(fmt::format("/v1/topics/users_created/partitions/{}/records?time={}&limit=2",
                                   p, t2_iso)));
    ASSERT_EQ(r.status, 200) << r.body;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS);
    EXPECT_EQ(int64_t(doc["seek_offset"]), want) << "partition " << p << " " << r.body;
    if (want < end) {
      EXPECT_EQ(int64_t(doc["records"].at(0)["offset"]), want) << r.body;
    } else {
      EXPECT_EQ(doc["records"].get_array().size(), 0u) << r.body;
    }
    // Unix milliseconds: the millisecond before the first record finds the start.
    int64_t first_ms = list.empty() ? 0 : list.front().second / 1000 - 1;
    r = Curl({}, s.Url(fmt::format("/v1/topics/users_created/partitions/{}/records?time={}", p,
                                   first_ms)));
    ASSERT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS);
    EXPECT_EQ(int64_t(doc["seek_offset"]), 0) << r.body;
    // An hour after the last: the end, no records.
    r = Curl({}, s.Url(fmt::format("/v1/topics/users_created/partitions/{}/records?time={}", p,
                                   times.back() / 1000 + 3'600'000)));
    ASSERT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS);
    EXPECT_EQ(int64_t(doc["seek_offset"]), end) << r.body;
    EXPECT_EQ(doc["records"].get_array().size(), 0u);
  }
  EXPECT_GT(seeks_inside, 0) << "no partition holds records of both runs";
  auto bad = Curl({}, s.Url("/v1/topics/users_created/partitions/0/records?time=yesterday"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body,
            ErrorBody("bad_request",
                      "time='yesterday' is not a time: give ISO 8601 (2026-01-31T06:00:00Z, "
                      "2026-01-31T06:00:00.250+01:00, 2026-01-31; UTC without an offset) or "
                      "milliseconds since the Unix epoch (1769839200000)"));
  bad = Curl({}, s.Url("/v1/topics/users_created/partitions/0/records?time=1&offset=0"));
  EXPECT_EQ(bad.body, ErrorBody("bad_request", "give offset= or time=, not both"));

  // topic consume --from-time: the records at or after it, in every partition.
  auto consume = Df({"topic", "consume", "users_created", "--from-time", t2_iso});
  ASSERT_EQ(consume.exit_code, 0) << consume.err;
  EXPECT_EQ(SplitLines(consume.out).size(), late) << consume.out;
  auto bad_flag = Df({"topic", "consume", "users_created", "--from-time", "soon"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_EQ(SplitLines(bad_flag.err).size(), 1u) << bad_flag.err;
  auto stopped = s.Stop();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
}

// `top --once`: one screen with the stored total and the balance line that `status` prints, from
// the data dir and from a running server alike; errors are one line.
TEST_F(HttpDagsTest, TopOncePrintsTheStoredCountAndBalance) {
  ASSERT_EQ(Df({"run", "--no-progress", "--max-records", "40"}).exit_code, 0);
  EXPECT_EQ(Df({"dags", "trigger", "fixme", "--wait"}).exit_code, 1);
  auto status = Status(data_, {"--config", config_});
  ASSERT_EQ(status.fetched, 40);
  const std::string stored_line = fmt::format("  {:<14}{:>14}", "stored", status.stored);
  const std::string balance = "\n  stored + dead-lettered + lost == fetched: yes\n";

  auto local = Df({"top", "--once"});
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(local.out.rfind("dataforge top: data dir " + data_ + "\n", 0), 0u) << local.out;
  EXPECT_NE(local.out.find(stored_line), std::string::npos) << local.out;
  EXPECT_NE(local.out.find(balance), std::string::npos) << local.out;
  EXPECT_NE(local.out.find("DAG RUNS (newest 100): failed 1\n"), std::string::npos) << local.out;
  EXPECT_NE(local.out.find("  fixme                    active  last run failed "),
            std::string::npos)
      << local.out;

  const std::string root = UserKey("root", "admin");
  ServeProcess s({"serve", "--http-port", "0", "--config", config_, "--data-dir", data_});
  ASSERT_TRUE(s.up());
  auto remote = RunDataforge(
      {"top", "--once", "--url", fmt::format("http://127.0.0.1:{}", s.port()), "--api-key", root},
      60000);
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  EXPECT_EQ(
      remote.out.rfind(fmt::format("dataforge top: server http://127.0.0.1:{}\n", s.port()), 0), 0u)
      << remote.out;
  // The same screen but for its title.
  EXPECT_EQ(remote.out.substr(remote.out.find('\n')), local.out.substr(local.out.find('\n')));
  auto no_key =
      RunDataforge({"top", "--once", "--url", fmt::format("http://127.0.0.1:{}", s.port())}, 60000);
  EXPECT_EQ(no_key.exit_code, 1);
  EXPECT_EQ(SplitLines(no_key.err).size(), 1u) << no_key.err;
  EXPECT_NE(no_key.err.find("answered 401"), std::string::npos) << no_key.err;
  auto stopped = s.Stop();
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;

  // Unreachable server, missing data dir: one line, exit 1. Bad flags: exit 2.
  auto gone =
      RunDataforge({"top", "--once", "--url", fmt::format("http://127.0.0.1:{}", s.port())}, 60000);
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(SplitLines(gone.err).size(), 1u) << gone.err;
  EXPECT_EQ(
      gone.err.rfind(
          fmt::format("dataforge: cannot reach the server at http://127.0.0.1:{}: ", s.port()), 0),
      0u)
      << gone.err;
  auto missing = RunDataforge({"top", "--once", "--data-dir", dir_.Sub("nowhere")}, 60000);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(SplitLines(missing.err).size(), 1u) << missing.err;
  EXPECT_EQ(RunDataforge({"top", "--interval", "0"}, 60000).exit_code, 2);
  EXPECT_EQ(RunDataforge({"top", "--api-key", "k"}, 60000).exit_code, 2);
  EXPECT_EQ(RunDataforge({"top", "--url", "ftp://x"}, 60000).exit_code, 2);
}

}  // namespace
}  // namespace dataforge::testing
