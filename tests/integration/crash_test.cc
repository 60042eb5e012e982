// kill -9 in the middle of a run, then restart: the store ends exact.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <set>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

constexpr int kPageSize = 100;

// The first `n` users the built-in API serves for `seed`, fetched over HTTP from a separate
// `dataforge mock-api` process, page by page.
std::vector<std::string> ExpectedUuids(const std::string& seed, int64_t n) {
  auto server = StartDataforge({"mock-api", "--port", "0"});
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    usleep(20'000);
    std::string out = server.Stdout();
    auto pos = out.find("http://127.0.0.1:");
    if (pos != std::string::npos) port = std::stoi(out.substr(pos + 17));
  }
  EXPECT_NE(port, 0) << server.Stderr();
  httplib::Client client("127.0.0.1", port);
  std::vector<std::string> uuids;
  for (int page = 1; static_cast<int64_t>(uuids.size()) < n; ++page) {
    auto res =
        client.Get(fmt::format("/api/?results={}&seed={}&page={}", kPageSize, seed, page).c_str());
    if (!res || res->status != 200) {
      ADD_FAILURE() << "mock-api page " << page;
      break;
    }
    for (auto& u : ResultUuids(res->body)) {
      if (static_cast<int64_t>(uuids.size()) < n) uuids.push_back(u);
    }
  }
  server.Signal(SIGTERM);
  server.Wait(10000);
  return uuids;
}

TEST(CrashTest, KillNineMidRunThenRestartLeavesTheStoreExact) {
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config, fmt::format("source:\n  seed: crashtest\n  results_per_page: {}\n"
                                "tuning:\n  batch_records: {}\n",
                                kPageSize, kPageSize));
  std::string data = dir.Sub("data");
  // Three runs killed with SIGKILL at different depths, each resuming the previous one.
  for (int64_t kill_after : {1500, 6000, 12000}) {
    auto child =
        StartDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "1000000"});
    int64_t stored = 0;
    for (int i = 0; i < 1200 && stored < kill_after; ++i) {
      usleep(25'000);
      stored = StoredNow(data);
    }
    ASSERT_GE(stored, kill_after) << child.Stderr();
    child.Signal(SIGKILL);
    auto r = child.Wait(10000);
    ASSERT_EQ(r.signal, SIGKILL);
  }
  // A last run that drains.
  auto r = RunDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  StatusJson s = Status(data, {"--config", config});
  EXPECT_EQ(s.stored + s.dead_lettered, s.fetched);
  EXPECT_EQ(s.dead_lettered, 0);
  EXPECT_EQ(s.staging_lag, 0);
  EXPECT_EQ(s.log_lag, 0);
  // Exactly the first `fetched` users of the seed: none missing, none extra, none twice.
  auto expected = ExpectedUuids("crashtest", s.fetched);
  ASSERT_EQ(static_cast<int64_t>(expected.size()), s.fetched);
  auto stored_ids = ScanIds(data, {"--config", config});
  std::set<std::string> want(expected.begin(), expected.end());
  std::set<std::string> got(stored_ids.begin(), stored_ids.end());
  EXPECT_EQ(got.size(), stored_ids.size()) << "duplicate ids";
  EXPECT_EQ(want.size(), expected.size()) << "the API repeated a uuid";
  std::vector<std::string> missing, extra;
  for (const auto& id : want) {
    if (!got.count(id)) missing.push_back(id);
  }
  for (const auto& id : got) {
    if (!want.count(id)) extra.push_back(id);
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " missing, first " << missing[0];
  EXPECT_TRUE(extra.empty()) << extra.size() << " unexpected, first " << extra[0];
  // Every record version went through the log exactly once.
  auto consume = RunDataforge({"topic", "consume", "users_created", "--from-beginning", "--config",
                               config, "--data-dir", data});
  EXPECT_EQ(static_cast<int64_t>(SplitLines(consume.out).size()), s.fetched);
  EXPECT_EQ(s.streamed, s.fetched);
  EXPECT_EQ(s.stored, s.fetched);
  // The staging's upsert view, which trails the relay cursor during a run and may have been
  // killed in the middle of a pass, holds every key once the last run drained; staging get
  // finds the first user and the last.
  EXPECT_EQ(s.staging_rows, s.fetched);
  for (const auto& id : {expected.front(), expected.back()}) {
    auto get = RunDataforge({"staging", "get", id, "--config", config, "--data-dir", data});
    EXPECT_EQ(get.exit_code, 0) << get.err;
    EXPECT_EQ(JsonField(get.out, "login.uuid"), id) << get.out;
  }
}

}  // namespace
}  // namespace dataforge::testing
