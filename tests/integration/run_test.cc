// The default pipeline end to end, through the real binary.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <set>

#include "integration/cli_helpers.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

TEST(RunTest, DefaultRunFetchesDrainsAndBalances) {
  TempDir dir;
  auto r = RunDataforge({"run", "--max-records", "2500", "--data-dir", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // no progress lines without a terminal, and nothing to warn about
  EXPECT_NE(r.out.find("dataforge run: drained"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  fetched              2500           2500"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("records/s"), std::string::npos);

  StatusJson s = Status(dir.path());
  EXPECT_EQ(s.fetched, 2500);
  EXPECT_EQ(s.staged, 2500);
  EXPECT_EQ(s.streamed, 2500);
  EXPECT_EQ(s.stored + s.dead_lettered, 2500);
  EXPECT_EQ(s.dead_lettered, 0);  // the built-in API produces only valid users
  EXPECT_EQ(s.store_rows, 2500);
  EXPECT_EQ(s.staging_rows, 2500);
  EXPECT_EQ(s.staging_lag, 0);
  EXPECT_EQ(s.log_lag, 0);
  EXPECT_EQ(ScanIds(dir.path()).size(), 2500u);
}

TEST(RunTest, SecondRunContinuesWithNewRecords) {
  TempDir dir;
  ASSERT_EQ(RunDataforge({"run", "--max-records", "1200", "--data-dir", dir.path()}).exit_code, 0);
  auto first = ScanIds(dir.path());
  ASSERT_EQ(first.size(), 1200u);
  auto r = RunDataforge({"run", "--max-records", "700", "--data-dir", dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // a clean restart has nothing to warn about
  EXPECT_NE(r.out.find("  fetched               700           1900"), std::string::npos) << r.out;
  auto all = ScanIds(dir.path());
  EXPECT_EQ(all.size(), 1900u);  // 700 new users, none re-stored, none lost
  std::set<std::string> ids(all.begin(), all.end());
  for (const auto& id : first) EXPECT_TRUE(ids.count(id)) << id;
  StatusJson s = Status(dir.path());
  EXPECT_EQ(s.fetched, 1900);
  EXPECT_EQ(s.stored, 1900);
}

TEST(RunTest, InspectionCommands) {
  TempDir dir;
  ASSERT_EQ(RunDataforge({"run", "--max-records", "30", "--data-dir", dir.path()}).exit_code, 0);
  auto count = RunDataforge({"table", "count", "--data-dir", dir.path()});
  EXPECT_EQ(count.exit_code, 0) << count.err;
  EXPECT_EQ(count.out, "30\n");
  auto count2 =
      RunDataforge({"table", "count", "dataforge.created_users", "--data-dir", dir.path()});
  EXPECT_EQ(count2.out, "30\n");

  auto ids = ScanIds(dir.path());
  ASSERT_EQ(ids.size(), 30u);
  auto get =
      RunDataforge({"table", "get", "dataforge.created_users", ids[7], "--data-dir", dir.path()});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(JsonField(get.out, "id"), ids[7]);
  for (const char* col : {"first_name", "last_name", "gender", "address", "post_code", "email",
                          "username", "dob", "registered_date", "phone", "picture"}) {
    EXPECT_NE(get.out.find(std::string("\"") + col + "\":"), std::string::npos) << col << get.out;
  }
  auto missing = RunDataforge(
      {"table", "get", "dataforge.created_users", "no-such-key", "--data-dir", dir.path()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no-such-key"), std::string::npos) << missing.err;

  auto scan = RunDataforge({"table", "scan", "--limit", "5", "--data-dir", dir.path()});
  EXPECT_EQ(SplitLines(scan.out).size(), 5u);

  auto topics = RunDataforge({"topic", "list", "--data-dir", dir.path()});
  EXPECT_EQ(topics.exit_code, 0) << topics.err;
  EXPECT_EQ(topics.out, "users_created\n");

  auto consume = RunDataforge({"topic", "consume", "users_created", "--from-beginning", "--max",
                               "4", "--data-dir", dir.path()});
  ASSERT_EQ(consume.exit_code, 0) << consume.err;
  auto lines = SplitLines(consume.out);
  ASSERT_EQ(lines.size(), 4u);
  for (const auto& l : lines) {
    EXPECT_EQ(JsonField(l, "topic"), "users_created");
    EXPECT_EQ(JsonField(l, "key"), JsonField(l, "value.login.uuid")) << l;
  }
  auto all = RunDataforge(
      {"topic", "consume", "users_created", "--from-beginning", "--data-dir", dir.path()});
  EXPECT_EQ(SplitLines(all.out).size(), 30u);

  auto staging = RunDataforge({"staging", "count", "--data-dir", dir.path()});
  EXPECT_EQ(staging.out, "30\n");
  auto dl = RunDataforge({"deadletter", "list", "--data-dir", dir.path()});
  EXPECT_EQ(dl.exit_code, 0);
  EXPECT_EQ(dl.out, "");
  auto status = RunDataforge({"status", "--data-dir", dir.path()});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_NE(status.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos);
}

TEST(RunTest, InspectionWhileRunning) {
  TempDir dir;
  auto child = StartDataforge({"run", "--max-records", "400000", "--data-dir", dir.path()});
  // Wait until the pipeline has stored something.
  int64_t stored = 0;
  for (int i = 0; i < 400 && stored <= 0; ++i) {
    usleep(50'000);
    auto r = RunDataforge({"status", "--json", "--data-dir", dir.path()});
    if (r.exit_code == 0) {
      auto pos = r.out.find("\"stored\":");
      if (pos != std::string::npos) stored = std::stoll(r.out.substr(pos + 9));
    }
  }
  ASSERT_GT(stored, 0);
  for (auto args : std::vector<std::vector<std::string>>{{"table", "count"},
                                                         {"topic", "list"},
                                                         {"staging", "count"},
                                                         {"deadletter", "list"},
                                                         {"status"}}) {
    args.push_back("--data-dir");
    args.push_back(dir.path());
    auto r = RunDataforge(args, 30000);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
  }
  auto consume = RunDataforge({"topic", "consume", "users_created", "--from-beginning", "--max",
                               "10", "--data-dir", dir.path()});
  EXPECT_EQ(SplitLines(consume.out).size(), 10u) << consume.err;
  child.Signal(SIGTERM);
  auto r = child.Wait(120000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dataforge run: drained"), std::string::npos) << r.out;
  StatusJson s = Status(dir.path());
  EXPECT_GT(s.fetched, 0);
  EXPECT_EQ(s.stored + s.dead_lettered, s.fetched);  // SIGTERM drains
  EXPECT_EQ(s.store_rows, s.stored);
}

TEST(RunTest, SecondRunOnTheSameDataDirIsRefused) {
  TempDir dir;
  auto first = StartDataforge({"run", "--max-records", "2000000", "--data-dir", dir.path()});
  for (int i = 0;
       i < 200 && first.Stderr().empty() && !std::filesystem::exists(dir.path() + "/log/LOCK");
       ++i) {
    usleep(20'000);
  }
  usleep(200'000);
  auto second = RunDataforge({"run", "--max-records", "10", "--data-dir", dir.path()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_EQ(second.err, "dataforge: data dir " + dir.path() +
                            " is in use by another dataforge process (pid " +
                            std::to_string(first.pid()) + "); stop it or use another --data-dir\n");
  first.Signal(SIGINT);
  auto r = first.Wait(120000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  StatusJson s = Status(dir.path());
  EXPECT_EQ(s.stored + s.dead_lettered, s.fetched);  // SIGINT drains
}

// A stop signal that arrives while `run` is still reading its pipeline file is handled like any
// later one (drain, summary, exit 0), not by the default action (killed, exit 143, nothing
// printed). The pipeline file is a FIFO: opening it for writing returns once `run` has opened it,
// so the signal lands exactly in that window; `status`, which handles no signals, still dies.
TEST(RunTest, StopSignalWhileThePipelineFileIsReadDrainsWithASummary) {
  TempDir dir;
  std::string fifo = dir.Sub("pipeline.yaml");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << strerror(errno);
  // Opens the FIFO for writing once `child` reads it (O_NONBLOCK: ENXIO until a reader has it
  // open), then sends `sig` and, if `then_write`, writes the pipeline file.
  auto signal_while_reading = [&](ChildProcess& child, int sig, bool then_write) {
    int fd = -1;
    ASSERT_TRUE(WaitFor(
        [&] {
          fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
          return fd >= 0;
        },
        60))
        << child.Stderr();
    child.Signal(sig);
    if (!then_write) {
      close(fd);
      return;
    }
    std::string yaml = ReadFile(std::string(DATAFORGE_SOURCE_DIR) + "/pipelines/default.yaml");
    ASSERT_EQ(fcntl(fd, F_SETFL, 0), 0);  // blocking writes from here
    ASSERT_EQ(write(fd, yaml.data(), yaml.size()), static_cast<ssize_t>(yaml.size()));
    close(fd);
  };

  auto run = StartDataforge({"run", "--config", fifo, "--data-dir", dir.Sub("data"),
                             "--max-records", "1000000", "--no-progress"});
  signal_while_reading(run, SIGTERM, true);
  ProcessResult r = run.Wait();
  EXPECT_EQ(r.signal, 0);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Terminated received: stopping the source and draining"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("dataforge run: drained"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;

  auto status = StartDataforge({"status", "--config", fifo, "--data-dir", dir.Sub("data")});
  signal_while_reading(status, SIGTERM, false);
  ProcessResult st = status.Wait();
  EXPECT_EQ(st.signal, SIGTERM) << st.out << st.err;

  // A nested command that waits (`dags trigger --wait`) handles it too: the run is queued, the
  // scheduler here stops at once and says so. (Whether the run finished before it stopped is
  // not asserted: the signal is already pending when the scheduler starts.)
  auto trigger = StartDataforge({"dags", "trigger", "user_automation", "--wait", "--config", fifo,
                                 "--data-dir", dir.Sub("data")});
  signal_while_reading(trigger, SIGINT, true);
  ProcessResult tr = trigger.Wait();
  EXPECT_EQ(tr.signal, 0) << tr.out << tr.err;
  EXPECT_NE(tr.out.find("of DAG user_automation queued"), std::string::npos) << tr.out;
  EXPECT_NE(tr.err.find("Interrupt received: stopping; queued runs stay queued for the next "
                        "scheduler"),
            std::string::npos)
      << tr.err;
  // Without --wait it handles none: the default action.
  auto queue_only = StartDataforge(
      {"dags", "trigger", "user_automation", "--config", fifo, "--data-dir", dir.Sub("data")});
  signal_while_reading(queue_only, SIGTERM, false);
  EXPECT_EQ(queue_only.Wait().signal, SIGTERM);
}

TEST(RunTest, HelpAndVersion) {
  auto v = RunDataforge({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, "dataforge 0.1.0\n");
  for (std::vector<std::string> cmd : std::vector<std::vector<std::string>>{{},
                                                                            {"run"},
                                                                            {"mock-api"},
                                                                            {"table"},
                                                                            {"table", "count"},
                                                                            {"table", "get"},
                                                                            {"table", "scan"},
                                                                            {"topic"},
                                                                            {"topic", "list"},
                                                                            {"topic", "consume"},
                                                                            {"topic", "describe"},
                                                                            {"staging", "count"},
                                                                            {"deadletter", "list"},
                                                                            {"status"},
                                                                            {"config"},
                                                                            {"config", "show"},
                                                                            {"config", "check"}}) {
    cmd.push_back("--help");
    auto r = RunDataforge(cmd);
    EXPECT_EQ(r.exit_code, 0) << cmd[0];
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << cmd[0] << r.out;
  }
  auto bad = RunDataforge({"frobnicate"});
  EXPECT_EQ(bad.exit_code, 2);
  auto none = RunDataforge({});
  EXPECT_EQ(none.exit_code, 2);
}

}  // namespace
}  // namespace dataforge::testing
