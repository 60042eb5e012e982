// The orchestrator through the real binary: DAGs declared in a pipeline file, run by
// `dags trigger --wait`, `dags backfill`, `run --role scheduler` (killed with kill -9 and
// restarted), and two schedulers sharing one real PostgreSQL.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// "YYYY-MM-DD" of today minus `days` (UTC).
std::string DaysAgo(int days) {
  time_t t = time(nullptr) - static_cast<time_t>(days) * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[16];
  strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// The STATE column of `runs list` per run id.
std::map<int, std::string> RunStates(const std::vector<std::string>& args) {
  std::vector<std::string> cmd = {"runs", "list", "--limit", "1000"};
  cmd.insert(cmd.end(), args.begin(), args.end());
  auto r = RunDataforge(cmd);
  std::map<int, std::string> out;
  auto lines = Lines(r.out);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::istringstream in(lines[i]);
    int id;
    std::string dag, type, date, state;
    in >> id >> dag >> type >> date >> state;
    out[id] = state;
  }
  return out;
}

class OrchestrateTest : public ::testing::Test {
 protected:
  // Writes `yaml` as the pipeline file; returns the common arguments.
  std::vector<std::string> Args(const std::string& yaml) {
    WriteFile(dir_.Sub("pipeline.yaml"), yaml);
    return {"--config", dir_.Sub("pipeline.yaml"), "--data-dir", dir_.Sub("data")};
  }
  ProcessResult Df(std::vector<std::string> args, const std::vector<std::string>& common,
                   int timeout_ms = 120000) {
    args.insert(args.begin(), common.begin(), common.end());
    return RunDataforge(args, timeout_ms);
  }
  TempDir dir_;
};

TEST_F(OrchestrateTest, DefaultPipelineDeclaresUserAutomation) {
  TempDir dir;
  auto r = RunDataforge({"dags", "list", "--data-dir", dir.Sub("fresh")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0].substr(0, 3), "DAG");
  std::istringstream in(lines[1]);
  std::string id, schedule, paused, next, last, tasks;
  in >> id >> schedule >> paused >> next >> last >> tasks;
  EXPECT_EQ(id, "user_automation");
  EXPECT_EQ(schedule, "@daily");
  EXPECT_EQ(paused, "no");
  EXPECT_EQ(last, "-");
  EXPECT_EQ(tasks, "1");
  auto json = RunDataforge({"dags", "list", "--json", "--data-dir", dir.Sub("fresh")});
  EXPECT_NE(json.out.find("\"catchup\":false"), std::string::npos) << json.out;
  // Listing does not create the data dir.
  EXPECT_NE(access(dir.Sub("fresh").c_str(), F_OK), 0);
}

TEST_F(OrchestrateTest, ConfigErrorsNameTheLine) {
  struct Case {
    std::string yaml, error;
  };
  std::vector<Case> cases = {
      {"dags:\n  d:\n    schedule: \"@daily\"\n    start_date: 2026-01-01\n    tasks:\n"
       "      - {id: a, type: shell, command: 'true', depends_on: [c]}\n"
       "      - {id: b, type: shell, command: 'true', depends_on: [a]}\n"
       "      - {id: c, type: shell, command: 'true', depends_on: [b]}\n",
       ":6: DAG 'd' has a dependency cycle: a -> c -> b -> a (each task depends on the next)"},
      {"dags:\n  d:\n    schedule: \"0 24 * * *\"\n    start_date: 2026-01-01\n    tasks:\n"
       "      - {id: a, type: shell, command: 'true'}\n",
       ":3: DAG 'd': schedule '0 24 * * *': cron field 'hour' has 24; hours are 0-23"},
      {"dags:\n  d:\n    schedule: \"@daily\"\n    start_date: 2026-01-01\n    tasks:\n"
       "      - {id: a, type: spark, command: 'true'}\n",
       ":6: task 'a' has unknown type 'spark'; known types: ingest, sql, check, shell, compact"},
      {"dags:\n  d:\n    schedule: \"@daily\"\n    start_date: 2026-01-01\n    tasks:\n"
       "      - {id: a, type: shell, command: 'echo {{ dss }}'}\n",
       ":6: 'command' uses unknown template variable 'dss'"},
      {"dags:\n  d:\n    schedule: \"@daily\"\n    tasks:\n      - {id: a, type: shell, command: "
       "x}\n",
       ":3: DAG 'd' needs a 'start_date' (e.g. start_date: 2024-01-01)"},
  };
  for (const auto& c : cases) {
    Args(c.yaml);
    auto r = RunDataforge({"config", "check", dir_.Sub("pipeline.yaml")});
    EXPECT_EQ(r.exit_code, 2) << c.yaml << r.out << r.err;
    EXPECT_NE(r.err.find(c.error), std::string::npos) << "want: " << c.error << "\ngot: " << r.err;
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  }
}

TEST_F(OrchestrateTest, IngestCheckCompactDagStoresExactly) {
  auto args = Args(R"(
dags:
  etl:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - {id: pull, type: ingest, records: 1200}
      - id: verify
        type: check
        depends_on: [pull]
        table: dataforge.created_users
        row_count: {min: 1200, max: 1200}
        not_null: [email, id]
        unique: [id]
      - {id: staged, type: check, depends_on: [pull], query: "SELECT key FROM outbox", row_count: {min: 1200}, unique: [key]}
      # The upsert view follows the relay cursor; an ingest task ends once its rows are in it.
      - {id: view, type: check, depends_on: [pull], query: "SELECT key_hash FROM staged", row_count: {min: 1200, max: 1200}}
      - {id: tidy, type: compact, depends_on: [verify, staged, view]}
)");
  auto r = Df({"dags", "trigger", "etl", "--wait"}, args, 180000);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("run 1 of DAG etl queued"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run 1: success"), std::string::npos) << r.out;
  auto count = Df({"table", "count"}, args);
  EXPECT_EQ(count.out, "1200\n") << count.err;
  auto show = Df({"runs", "show", "1"}, args);
  ASSERT_EQ(show.exit_code, 0) << show.err;
  for (const char* task : {"pull", "verify", "staged", "view", "tidy"}) {
    EXPECT_NE(show.out.find(fmt::format("  {:<28} {:<15} {:>5}", task, "success", "1/1")),
              std::string::npos)
        << task << "\n"
        << show.out;
  }
  EXPECT_NE(show.out.find("1200 fetched, 1200 staged"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("check passed on table dataforge.created_users: 1200 rows"),
            std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("store compacted"), std::string::npos) << show.out;

  // A second trigger pulls 1200 more (the task's source position moves on): 2400 rows, and
  // the check with max 1200 now fails with the numbers; compact is upstream_failed.
  auto again = Df({"dags", "trigger", "etl", "--wait"}, args, 180000);
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_NE(again.err.find("run 2 of DAG etl failed; see: dataforge runs show 2"),
            std::string::npos)
      << again.err;
  auto show2 = Df({"runs", "show", "2"}, args);
  EXPECT_NE(show2.out.find("row count 2400 is above max 1200"), std::string::npos) << show2.out;
  EXPECT_NE(show2.out.find(fmt::format("  {:<28} {:<15}", "tidy", "upstream_failed")),
            std::string::npos)
      << show2.out;
  EXPECT_EQ(Df({"table", "count"}, args).out, "2400\n");
}

TEST_F(OrchestrateTest, FailingTaskIsRetriedThenSucceeds) {
  std::string flag = dir_.Sub("flag");
  auto args = Args(fmt::format(R"(
dags:
  flaky:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - id: once_broken
        type: shell
        retries: 2
        retry_delay: 1s
        command: "if [ -f {0} ]; then echo fixed; else touch {0}; echo boom >&2; exit 3; fi"
      - {{id: after, type: shell, depends_on: [once_broken], command: "echo after {{{{ ds }}}}"}}
)",
                               flag));
  auto r = Df({"dags", "trigger", "flaky", "--wait"}, args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto show = Df({"runs", "show", "1"}, args);
  EXPECT_NE(show.out.find(fmt::format("  {:<28} {:<15} {:>5}", "once_broken", "success", "2/3")),
            std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("fixed"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("after " + DaysAgo(0)), std::string::npos) << show.out;

  // Out of retries: the run fails and says why.
  auto args2 = Args(R"(
dags:
  broken:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - {id: always, type: shell, retries: 1, retry_delay: 100ms, command: "echo no luck; exit 3"}
)");
  auto r2 = Df({"dags", "trigger", "broken", "--wait"}, args2);
  EXPECT_EQ(r2.exit_code, 1);
  auto show2 = Df({"runs", "show", "2"}, args2);
  EXPECT_NE(show2.out.find(fmt::format("  {:<28} {:<15} {:>5}", "always", "failed", "2/2")),
            std::string::npos)
      << show2.out;
  EXPECT_NE(show2.out.find("the command exited with code 3: no luck"), std::string::npos)
      << show2.out;
}

// `trigger --wait` runs the scheduler here: runs queued before it (a trigger without --wait, a
// run a stopped scheduler left) run too, and it says so, since their tasks change data.
TEST_F(OrchestrateTest, TriggerAndWaitSaysWhichEarlierRunsItAlsoRuns) {
  std::string log = dir_.Sub("log");
  auto args = Args(fmt::format(R"(
dags:
  first:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - {{id: a, type: shell, command: "echo first >> {0}"}}
  second:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - {{id: b, type: shell, command: "echo second >> {0}"}}
)",
                               log));
  auto queued = Df({"dags", "trigger", "first"}, args);
  ASSERT_EQ(queued.exit_code, 0) << queued.err;
  auto r = Df({"dags", "trigger", "second", "--wait"}, args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_TRUE(lines[0].starts_with("run 2 of DAG second queued (logical date ")) << r.out;
  EXPECT_EQ(lines[1], "run 2: success");
  size_t at = r.err.find(
      "dataforge: the scheduler here also runs a run left unfinished before: run 1 of DAG first "
      "(manual, logical date ");
  EXPECT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(RunStates(args), (std::map<int, std::string>{{1, "success"}, {2, "success"}}));
  std::string ran = ReadFile(log);
  EXPECT_TRUE(ran == "first\nsecond\n" || ran == "second\nfirst\n") << ran;
  // Nothing left: a second trigger --wait says nothing of other runs.
  auto again = Df({"dags", "trigger", "second", "--wait"}, args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("also runs"), std::string::npos) << again.err;
}

TEST_F(OrchestrateTest, HangingTaskIsKilledAtItsTimeout) {
  auto args = Args(R"(
dags:
  hang:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - {id: stuck, type: shell, timeout: 1s, command: "echo started; sleep 60"}
)");
  auto t0 = std::chrono::steady_clock::now();
  auto r = Df({"dags", "trigger", "hang", "--wait"}, args);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_LT(seconds, 20);
  auto show = Df({"runs", "show", "1"}, args);
  EXPECT_NE(show.out.find("timed out after 1s: killed"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("started"), std::string::npos) << show.out;
}

TEST_F(OrchestrateTest, TemplatesAndConfReachTheTask) {
  auto args = Args(R"(
dags:
  tpl:
    schedule: "@daily"
    timezone: Europe/Berlin
    start_date: 2026-01-01
    tasks:
      - id: say
        type: shell
        env: {WHO: "{{ conf.who }}"}
        command: "echo ds={{ ds }} nodash={{ ds_nodash }} who=$WHO dag={{ dag_id }} try={{ try_number }} env_ds=$DATAFORGE_DS"
)");
  auto r = Df({"dags", "trigger", "tpl", "--conf", "{\"who\": \"ada\"}", "--wait"}, args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto show = Df({"runs", "show", "1", "--json"}, args);
  EXPECT_NE(show.out.find("who=ada dag=tpl try=1"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("\"conf\":{\"who\":\"ada\"}"), std::string::npos) << show.out;
  auto bad = Df({"dags", "trigger", "tpl", "--conf", "[1,2]"}, args);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--conf '[1,2]' is not a JSON object"), std::string::npos) << bad.err;
  auto unknown = Df({"dags", "trigger", "nope"}, args);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown DAG 'nope'; the pipeline file declares: tpl"),
            std::string::npos)
      << unknown.err;
}

TEST_F(OrchestrateTest, BackfillOfThirtyDailyIntervals) {
  std::string out = dir_.Sub("days.txt");
  auto args = Args(fmt::format(R"(
dags:
  daily:
    schedule: "@daily"
    start_date: 2025-12-01
    catchup: false
    max_active_runs: 4
    tasks:
      - {{id: extract, type: shell, command: "echo {{{{ ds }}}} {{{{ data_interval_end }}}} >> {0}"}}
      - {{id: load, type: sql, depends_on: [extract], sql: "SELECT '{{{{ ds }}}}' AS day"}}
)",
                               out));
  auto r = Df({"dags", "backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-30"}, args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("backfill daily: 30 intervals from 2026-01-01 to 2026-01-30: 30 runs "
                       "created, 0 existed already"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("backfill daily: 30 of 30 runs succeeded, 0 failed"), std::string::npos)
      << r.out;
  auto lines = Lines(ReadFile(out));
  ASSERT_EQ(lines.size(), 30u);
  std::set<std::string> days(lines.begin(), lines.end());
  EXPECT_EQ(days.size(), 30u);
  EXPECT_TRUE(days.count("2026-01-01 2026-01-02T00:00:00+00:00"));
  EXPECT_TRUE(days.count("2026-01-30 2026-01-31T00:00:00+00:00"));
  auto states =
      RunStates({"daily", "--data-dir", dir_.Sub("data"), "--config", dir_.Sub("pipeline.yaml")});
  EXPECT_EQ(states.size(), 30u);
  for (const auto& [id, state] : states) EXPECT_EQ(state, "success") << id;
  // Again: nothing is created twice.
  auto again =
      Df({"dags", "backfill", "daily", "--from", "2026-01-01", "--to", "2026-01-30"}, args);
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("0 runs created, 30 existed already"), std::string::npos) << again.out;
  EXPECT_EQ(Lines(ReadFile(out)).size(), 30u);
}

TEST_F(OrchestrateTest, PausedDagCreatesNoRuns) {
  auto args = Args(fmt::format(R"(
dags:
  p:
    schedule: "@daily"
    start_date: {}
    catchup: true
    tasks:
      - {{id: a, type: shell, command: "true"}}
)",
                               DaysAgo(3)));
  ASSERT_EQ(Df({"dags", "pause", "p"}, args).exit_code, 0);
  auto sched = StartDataforge({"--config", dir_.Sub("pipeline.yaml"), "--data-dir",
                               dir_.Sub("data"), "run", "--role", "scheduler"});
  // Two seconds of ticks once it runs (its first tick comes at once), not from its start: an
  // ASan start can take that long, and then no tick would have had the chance to create a run.
  ASSERT_TRUE(
      WaitFor([&] { return sched.Stderr().find("scheduler running") != std::string::npos; }, 60))
      << sched.Stderr();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(
      RunStates({"--data-dir", dir_.Sub("data"), "--config", dir_.Sub("pipeline.yaml")}).size(),
      0u);
  ASSERT_EQ(Df({"dags", "unpause", "p"}, args).exit_code, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = RunStates({"--data-dir", dir_.Sub("data"), "--config", dir_.Sub("pipeline.yaml")});
        return s.size() == 3 && s.begin()->second == "success" && s.rbegin()->second == "success";
      },
      30));
  sched.Signal(SIGTERM);
  auto r = sched.Wait(30000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("scheduler: 3 runs created"), std::string::npos) << r.out;
}

// `dataforge run` hosts the scheduler beside the streaming stages: the default pipeline's
// user_automation DAG (no catchup) runs once for the newest day, and its ingest task pulls 500
// users into the running pipeline, which stores them with everything else.
TEST_F(OrchestrateTest, RunHostsTheSchedulerAndIngestFeedsTheLivePipeline) {
  std::string data = dir_.Sub("data");
  auto run = StartDataforge({"run", "--data-dir", data, "--no-progress"});
  ASSERT_TRUE(WaitFor([&] { return RunStates({"--data-dir", data})[1] == "success"; }, 60));
  run.Signal(SIGTERM);
  auto r = run.Wait(60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("scheduler: 1 runs created, 1 task attempts (1 succeeded, 0 failed"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;
  auto show = RunDataforge({"runs", "show", "1", "--data-dir", data});
  EXPECT_NE(show.out.find("run 1 of DAG user_automation (scheduled): success"), std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find(": 500 fetched, 500 staged, 0 dead-lettered; all stored"),
            std::string::npos)
      << show.out;
  StatusJson st = Status(data);
  EXPECT_EQ(st.stored, st.fetched);
  EXPECT_GE(st.stored, 500);
  // Restarted, it does not run the same day again. SIGTERM only once records flow: before its
  // handler is in place (a slow ASan start) the signal would kill the process, not stop it.
  auto again = StartDataforge({"run", "--data-dir", data, "--no-progress"});
  ASSERT_TRUE(WaitFor([&] { return StoredNow(data) > st.stored; }, 60)) << again.Stderr();
  again.Signal(SIGTERM);
  auto r2 = again.Wait(60000);
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_NE(r2.out.find("scheduler: 0 runs created, 0 task attempts"), std::string::npos) << r2.out;
  EXPECT_EQ(RunStates({"--data-dir", data}).size(), 1u);
}

// tasks clear: a failed task and what depends on it run again (after the cause was fixed).
TEST_F(OrchestrateTest, ClearedTaskRunsAgainWithItsDownstream) {
  const char* yaml = R"(
dags:
  fixme:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - {id: first, type: shell, command: "%s"}
      - {id: second, type: shell, depends_on: [first], command: "echo second ran"}
)";
  auto with = [&](const std::string& command) {
    std::string text = yaml;
    return text.replace(text.find("%s"), 2, command);
  };
  auto args = Args(with("exit 4"));
  auto r = Df({"dags", "trigger", "fixme", "--wait"}, args);
  EXPECT_EQ(r.exit_code, 1);
  auto show = Df({"runs", "show", "1"}, args);
  EXPECT_NE(show.out.find(fmt::format("  {:<28} {:<15}", "second", "upstream_failed")),
            std::string::npos)
      << show.out;
  WriteFile(dir_.Sub("pipeline.yaml"), with("echo fixed"));
  auto clear = Df({"tasks", "clear", "1", "first"}, args);
  ASSERT_EQ(clear.exit_code, 0) << clear.err;
  EXPECT_EQ(clear.out,
            "cleared 2 task(s) of run 1: first, second; the scheduler runs them again\n");
  auto sched = StartDataforge({"--config", dir_.Sub("pipeline.yaml"), "--data-dir",
                               dir_.Sub("data"), "run", "--role", "scheduler"});
  EXPECT_TRUE(WaitFor(
      [&] {
        return RunStates({"--data-dir", dir_.Sub("data"), "--config",
                          dir_.Sub("pipeline.yaml")})[1] == "success";
      },
      30));
  sched.Signal(SIGTERM);
  sched.Wait();
  auto after = Df({"runs", "show", "1"}, args);
  EXPECT_NE(after.out.find(fmt::format("  {:<28} {:<15} {:>5}", "first", "success", "2/2")),
            std::string::npos)
      << after.out;
  EXPECT_NE(after.out.find("second ran"), std::string::npos) << after.out;
  auto bad = Df({"tasks", "clear", "1", "nope"}, args);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("DAG fixme has no task 'nope'"), std::string::npos) << bad.err;
}

// kill -9 of the scheduler while a task runs: after a restart the killed attempt is retried
// per its policy, every run completes, no run is created twice.
TEST_F(OrchestrateTest, SchedulerKilledMidTaskResumesAfterRestart) {
  std::string log = dir_.Sub("events.txt");
  auto args = Args(fmt::format(R"(
scheduler: {{lease: 30s}}
dags:
  slow:
    schedule: "@daily"
    start_date: {1}
    catchup: true
    max_active_runs: 1
    tasks:
      - id: work
        type: shell
        retries: 1
        retry_delay: 0s
        command: "echo start {{{{ ds }}}} >> {0}; sleep 1; echo end {{{{ ds }}}} >> {0}"
)",
                               log, DaysAgo(5)));
  std::vector<std::string> run = {
      "--config", dir_.Sub("pipeline.yaml"), "--data-dir", dir_.Sub("data"), "run", "--role",
      "scheduler"};
  auto first = StartDataforge(run);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto lines = Lines(ReadFile(log));
        return lines.size() == 3;  // start, end, start: killed inside the second run's task
      },
      60))
      << ReadFile(log);
  first.Signal(SIGKILL);
  first.Wait();
  auto second = StartDataforge(run);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = RunStates({"--data-dir", dir_.Sub("data"), "--config", dir_.Sub("pipeline.yaml")});
        if (s.size() != 5) return false;
        for (const auto& [id, state] : s) {
          if (state != "success") return false;
        }
        return true;
      },
      60))
      << ReadFile(log);
  second.Signal(SIGTERM);
  second.Wait();
  std::map<std::string, int> starts, ends;
  for (const auto& line : Lines(ReadFile(log))) {
    std::istringstream in(line);
    std::string what, day;
    in >> what >> day;
    (what == "start" ? starts : ends)[day] += 1;
  }
  EXPECT_EQ(ends.size(), 5u);
  for (const auto& [day, n] : ends) EXPECT_EQ(n, 1) << day;
  int restarted = 0;
  for (const auto& [day, n] : starts) restarted += n - 1;
  EXPECT_EQ(restarted, 1) << ReadFile(log);
  auto states = RunStates({"--data-dir", dir_.Sub("data"), "--config", dir_.Sub("pipeline.yaml")});
  EXPECT_EQ(states.size(), 5u);
  auto show = Df({"runs", "show", "2"}, args);
  EXPECT_NE(show.out.find("2/2"), std::string::npos) << show.out;
}

// Two schedulers on one PostgreSQL share the work; every task instance runs exactly once,
// and when one dies the other takes its work over within the lease.
TEST_F(OrchestrateTest, TwoSchedulersOnPostgresRunEachTaskOnce) {
  PostgresServer pg;
  std::string log = dir_.Sub("events.txt");
  auto args = Args(fmt::format(R"(
scheduler: {{lease: 3s, poll: 200ms, parallelism: 4}}
dags:
  shared:
    schedule: "@daily"
    start_date: {1}
    catchup: true
    max_active_runs: 20
    default_args: {{retries: 1, retry_delay: 0s}}
    tasks:
      - {{id: a, type: shell, command: "echo start {{{{ ds }}}} a $PPID >> {0}; sleep 0.3; echo end {{{{ ds }}}} a >> {0}"}}
      - {{id: b, type: shell, depends_on: [a], command: "echo start {{{{ ds }}}} b $PPID >> {0}; sleep 0.3; echo end {{{{ ds }}}} b >> {0}"}}
      - {{id: c, type: shell, depends_on: [a], command: "echo start {{{{ ds }}}} c $PPID >> {0}; sleep 0.3; echo end {{{{ ds }}}} c >> {0}"}}
)",
                               log, DaysAgo(20)));
  auto start = [&](const std::string& data) {
    return StartDataforge({"--config", dir_.Sub("pipeline.yaml"), "--data-dir", dir_.Sub(data),
                           "--staging", pg.Url(), "run", "--role", "scheduler"});
  };
  auto one = start("one");
  auto two = start("two");
  std::vector<std::string> list = {
      "--data-dir", dir_.Sub("one"), "--config", dir_.Sub("pipeline.yaml"), "--staging", pg.Url()};
  // Kill one of them once a third of the work is done; the other finishes it.
  ASSERT_TRUE(WaitFor([&] { return Lines(ReadFile(log)).size() >= 40; }, 90)) << ReadFile(log);
  pid_t killed_pid = one.pid();
  one.Signal(SIGKILL);
  one.Wait();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto s = RunStates(list);
        if (s.size() != 20) return false;
        for (const auto& [id, state] : s) {
          if (state != "success") return false;
        }
        return true;
      },
      120))
      << ReadFile(log);
  two.Signal(SIGTERM);
  two.Wait();
  // Every task instance ran to its end; only an attempt the killed scheduler had started (and
  // may have finished without recording it) runs a second time, on the survivor.
  std::string killed = std::to_string(killed_pid);
  std::map<std::string, int> ends, survivor_starts;
  std::map<std::string, bool> started_on_killed;
  std::set<std::string> runners;
  for (const auto& line : Lines(ReadFile(log))) {
    std::istringstream in(line);
    std::string what, day, task, pid;
    in >> what >> day >> task >> pid;
    if (what == "end") ends[day + " " + task] += 1;
    if (what != "start") continue;
    runners.insert(pid);
    if (pid == killed) {
      started_on_killed[day + " " + task] = true;
    } else {
      survivor_starts[day + " " + task] += 1;
    }
  }
  EXPECT_EQ(ends.size(), 60u) << ReadFile(log);
  EXPECT_EQ(
      survivor_starts.size() + started_on_killed.size() -
          [&] {
            size_t both = 0;
            for (const auto& [k, v] : started_on_killed) both += survivor_starts.count(k);
            return both;
          }(),
      60u);
  for (const auto& [key, n] : survivor_starts) EXPECT_EQ(n, 1) << key << "\n" << ReadFile(log);
  for (const auto& [key, n] : ends) {
    if (n != 1) {
      EXPECT_TRUE(started_on_killed[key]) << key << " ran twice";
    }
  }
  EXPECT_GE(runners.size(), 2u) << "both schedulers ran tasks";
  // The run store agrees: a second try only where the first was the killed scheduler's.
  auto retried = Lines(pg.Psql(
      "SELECT count(*) FROM dataforge.task_instances WHERE try_number <> 1 OR state <> 'success'"));
  ASSERT_EQ(retried.size(), 1u);
  EXPECT_LE(std::stoi(retried[0]), 4);  // the killed scheduler ran at most 4 at once
  EXPECT_EQ(pg.Psql("SELECT count(*), count(DISTINCT logical_us) FROM dataforge.dag_runs"),
            "20|20");
}

}  // namespace
}  // namespace dataforge::testing
