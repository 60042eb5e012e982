// Every command README.md shows, run in the order it shows them, on a fresh directory, against
// the real binary: each must exit 0 with the expected output (exact where it is deterministic:
// counts, ids, table names). The commands are read from README.md itself (the lines of its
// ```sh blocks): a command added to README without a step here fails the test, naming it.
//
// Where README names a server that is not here, the test substitutes one that is, as README
// itself suggests:
//  - Kafka broker1:9092,broker2:9092: librdkafka's mock brokers (MockKafkaCluster);
//  - PostgreSQL localhost:5432: a throwaway PostgreSQL 15 (PostgresServer) with the role `user`
//    (password `password`) and the database `pipeline` that README's URL names;
//  - Cassandra 10.0.0.1:9042,10.0.0.2:9042: `dataforge cql-serve` over a data dir of its own;
//  - https://randomuser.me/api/: there is no network here, so the built-in mock API
//    (`dataforge mock-api`) on loopback answers the same path and query instead;
//  - fixed ports (8080, 9042) become free ones: other tests run at the same time;
//  - $PWD/../shared/fixtures (README runs from the repository root) is the fixtures dir.
// Commands that run until Ctrl-C run in the background and are stopped with SIGINT, which
// must end them cleanly (exit 0).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/readme_flow.h"
#include "integration/sanitizer_build.h"
#include "integration/subprocess.h"

namespace dataforge::testing::readme {
namespace {

const Step* FindStep(const std::vector<Step>& steps, const std::string& command) {
  for (const auto& s : steps) {
    if (s.command == command) return &s;
  }
  return nullptr;
}

// README and this test list the same commands in the same order.
TEST(ReadmeTest, EveryCommandHasAStep) {
  auto commands = ReadmeCommands();
  auto steps = Steps();
  ASSERT_FALSE(commands.empty());
  for (const auto& c : commands) {
    EXPECT_NE(FindStep(steps, c), nullptr)
        << "README.md shows `" << c << "`, which readme_steps.cc has no step for: add one";
  }
  std::vector<std::string> listed;
  for (const auto& s : steps) {
    listed.push_back(s.command);
    EXPECT_NE(std::find(commands.begin(), commands.end(), s.command), commands.end())
        << "readme_steps.cc has a step for `" << s.command << "`, which README.md no longer shows";
  }
  EXPECT_EQ(commands, listed) << "README.md and readme_steps.cc list the commands in another order";
}

// The whole README, top to bottom, in one fresh directory. The release build only (scripts/test.sh
// runs the integration label on it too): under ASan it took 742 s of CI's time, and every path
// it runs (PostgreSQL staging, Kafka roles, the CQL store, DAGs) has its own test there.
TEST(ReadmeTest, CommandsWorkInOrderOnAFreshDirectory) {
  if (kSanitizerBuild) GTEST_SKIP() << "release build only: README's commands, as a user runs them";
  Flow f;
  ASSERT_FALSE(::testing::Test::HasFailure()) << "the stand-in servers did not start";
  auto steps = Steps();
  {
    ScopedCwd cwd(f.work());
    for (const std::string& command : ReadmeCommands()) {
      SCOPED_TRACE("README command: " + command);
      const Step* step = FindStep(steps, command);
      ASSERT_NE(step, nullptr) << "no step for README's `" << command << "`";
      if (!step->run) continue;  // a benchmark
      step->run(f, command);
      ASSERT_FALSE(::testing::Test::HasFailure()) << "stopping after README's `" << command << "`";
    }
  }

  // Then every inspection command reads the external backends from a directory that has no
  // data dir, and creates none.
  ScopedCwd cwd(f.empty_dir());
  std::string pg = fmt::format("postgresql://user:password@127.0.0.1:{}/pipeline", f.pg().port());
  std::string cassandra = fmt::format("cassandra://127.0.0.1:{}/spark_streams", f.cassandra_port());
  std::string kafka = f.kafka().url();
  auto ok = [&](std::vector<std::string> args) {
    auto r = f.Dataforge(args);
    EXPECT_EQ(r.exit_code, 0) << fmt::format("{}", fmt::join(args, " ")) << ": " << r.err;
    return r.out;
  };
  EXPECT_EQ(ok({"table", "count", "dataforge.created_users", "--store", cassandra}),
            fmt::format("{}\n", f.cassandra_rows));
  auto rows = SplitLines(ok({"table", "scan", "--limit", "2", "--store", cassandra}));
  ASSERT_EQ(rows.size(), 2u);
  std::string id = JsonField(rows[0], "id");
  EXPECT_EQ(
      JsonField(ok({"table", "get", "dataforge.created_users", id, "--store", cassandra}), "id"),
      id);
  // Every instance of the shared staging database: the pg data dir's 10,000.
  EXPECT_EQ(ok({"staging", "count", "--staging", pg}), "10000\n");
  EXPECT_EQ(ok({"deadletter", "list", "--staging", pg, "--store", cassandra}), "");
  std::string st = ok({"status", "--json", "--staging", pg, "--log", kafka, "--store", cassandra});
  EXPECT_EQ(JsonInt(st, "fetched"), 10000) << st;
  EXPECT_EQ(JsonInt(st, "store_rows"), f.cassandra_rows) << st;
  EXPECT_EQ(ok({"topic", "list", "--log", kafka}), "users_created\n");
  EXPECT_EQ(SplitLines(ok({"topic", "describe", "users_created", "--log", kafka})).size(), 4u);
  EXPECT_EQ(SplitLines(ok({"topic", "consume", "users_created", "--from-beginning", "--max", "3",
                           "--log", kafka}))
                .size(),
            3u);
  auto dags = SplitLines(ok({"dags", "list", "--staging", pg}));
  ASSERT_EQ(dags.size(), 2u);
  EXPECT_EQ(dags[1].rfind("user_automation ", 0), 0u);
  EXPECT_EQ(ok({"runs", "list", "--staging", pg}).rfind("no runs yet;", 0), 0u);
  // What only a data dir has is named, with the fix, in one line.
  auto status = f.Dataforge({"status", "--staging", pg});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_EQ(status.err,
            "dataforge: data dir ./dataforge-data does not exist, and the log is in it: pass the "
            "--data-dir of a pipeline that ran, or --log kafka://… for an external one\n");
  auto count = f.Dataforge({"table", "count"});
  EXPECT_EQ(count.exit_code, 1);
  EXPECT_EQ(count.err,
            "dataforge: data dir ./dataforge-data does not exist, and the store is in it: pass "
            "the --data-dir of a pipeline that ran, or --store cassandra://… for an external "
            "one\n");
  EXPECT_TRUE(fs::is_empty(f.empty_dir())) << "a read-only command created files";
}

// Issue 14: after a bounded run (which hosts no scheduler) and on a data dir that never ran,
// `dags list` lists the pipeline file's DAGs and `runs list` says there are no runs: exit 0.
TEST(ReadmeTest, DagsAndRunsListWithoutSchedulerState) {
  TempDir dir;
  std::string data = dir.Sub("data");
  for (bool ran : {false, true}) {
    SCOPED_TRACE(ran ? "after run --max-records" : "no data dir");
    if (ran) {
      ASSERT_EQ(RunDataforge({"run", "--max-records", "100", "--data-dir", data}).exit_code, 0);
    }
    auto dags = RunDataforge({"dags", "list", "--data-dir", data});
    EXPECT_EQ(dags.exit_code, 0) << dags.err;
    auto lines = SplitLines(dags.out);
    ASSERT_EQ(lines.size(), 2u) << dags.out;
    ExpectFreshDagRow(lines[1]);
    auto json = RunDataforge({"dags", "list", "--json", "--data-dir", data});
    EXPECT_EQ(json.exit_code, 0) << json.err;
    EXPECT_EQ(JsonField(json.out, "last_run_state"), "");
    auto runs = RunDataforge({"runs", "list", "--data-dir", data});
    EXPECT_EQ(runs.exit_code, 0) << runs.err;
    EXPECT_EQ(runs.out,
              "no runs yet; `dataforge dags trigger DAG` queues one, and the scheduler in "
              "`dataforge run` starts scheduled ones\n");
    auto runs_json = RunDataforge({"runs", "list", "--json", "--data-dir", data});
    EXPECT_EQ(runs_json.exit_code, 0) << runs_json.err;
    EXPECT_EQ(runs_json.out, "");
    auto show = RunDataforge({"runs", "show", "1", "--data-dir", data});
    EXPECT_EQ(show.exit_code, 1);
    EXPECT_EQ(show.err, "dataforge: run 1 not found: nothing has run here\n");
    // Reading created nothing.
    EXPECT_EQ(fs::exists(data), ran);
  }
}

// `table count|get|scan` of a table the store does not have: exit 1, naming the tables.
TEST(ReadmeTest, TableCommandsNameTheTablesOfTheStore) {
  TempDir dir;
  ASSERT_EQ(RunDataforge({"run", "--max-records", "50", "--data-dir", dir.path()}).exit_code, 0);
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"table", "count", "nosuch.table"},
                                             {"table", "get", "nosuch.table", "k"},
                                             {"table", "scan", "nosuch.table"}}) {
    args.push_back("--data-dir");
    args.push_back(dir.path());
    auto r = RunDataforge(args);
    EXPECT_EQ(r.exit_code, 1) << args[1];
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "dataforge: no table nosuch.table; tables: dataforge.created_users\n")
        << args[1];
  }
  EXPECT_EQ(RunDataforge({"table", "count", "--data-dir", dir.path()}).out, "50\n");
}

}  // namespace
}  // namespace dataforge::testing::readme
