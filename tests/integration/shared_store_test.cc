// Several logs writing into one store (issue 22 §2): two data dirs, each with its own embedded
// log, share one Cassandra keyspace (`dataforge cql-serve`). Offsets belong to the log they came
// from (the log's identity is recorded with every offset), so the second data dir reads its own
// log from the beginning instead of taking the first one's offsets, and `status` of each data
// dir balances its own records exactly.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/cql_endpoint.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

// The integer after the first `"key":` in `json` from `from` on, or -1.
int64_t JsonInt(const std::string& json, const std::string& key, size_t from = 0) {
  auto pos = json.find("\"" + key + "\":", from);
  if (pos == std::string::npos) return -1;
  return std::stoll(json.substr(pos + key.size() + 3));
}

class SharedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a", "b"}) {
      WriteFile(dir_.Sub(std::string(name) + ".yaml"),
                fmt::format("source:\n  seed: shared-store-{}\n  results_per_page: 100\n"
                            "tuning:\n  batch_records: 100\n",
                            name));
    }
  }
  std::vector<std::string> Where(const std::string& name) const {
    return {"--config",    dir_.Sub(name + ".yaml"), "--store", cql_.url(), "--data-dir",
            dir_.Sub(name)};
  }
  ProcessResult Run(const std::string& name, int records) {
    std::vector<std::string> args = {"run", "--max-records", std::to_string(records),
                                     "--no-progress"};
    for (const auto& a : Where(name)) args.push_back(a);
    return RunDataforge(args, 180000);
  }
  std::string StatusOf(const std::string& name) {
    std::vector<std::string> args = {"status", "--json"};
    for (const auto& a : Where(name)) args.push_back(a);
    auto r = RunDataforge(args, 60000);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  std::string StatusText(const std::string& name) {
    std::vector<std::string> args = {"status"};
    for (const auto& a : Where(name)) args.push_back(a);
    auto r = RunDataforge(args, 60000);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  int64_t TableRows() {
    auto r = RunDataforge({"table", "count", "dataforge.created_users", "--store", cql_.url(),
                           "--data-dir", dir_.Sub("a")},
                          60000);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? std::stoll(r.out) : -1;
  }
  // `status` of data dir `name` counts exactly its own `fetched` records, all stored.
  void ExpectBalanced(const std::string& name, int64_t fetched) {
    std::string st = StatusOf(name);
    EXPECT_EQ(JsonInt(st, "fetched"), fetched) << name << ": " << st;
    EXPECT_EQ(JsonInt(st, "stored"), fetched) << name << ": " << st;
    EXPECT_EQ(JsonInt(st, "dead_lettered"), 0) << name << ": " << st;
    EXPECT_EQ(JsonInt(st, "lost"), 0) << name << ": " << st;
    EXPECT_EQ(JsonInt(st, "log_lag"), 0) << name << ": " << st;
    EXPECT_EQ(JsonInt(st, "in_flight"), 0) << name << ": " << st;
    EXPECT_NE(st.find("\"balanced\":true"), std::string::npos) << name << ": " << st;
    // The embedded log's one partition (the default pipeline has 4): processed to its end.
    int64_t processed = 0, end = 0;
    for (size_t pos = st.find("\"processed_offset\":"); pos != std::string::npos;
         pos = st.find("\"processed_offset\":", pos + 1)) {
      processed += JsonInt(st, "processed_offset", pos);
    }
    for (size_t pos = st.find("\"end_offset\":"); pos != std::string::npos;
         pos = st.find("\"end_offset\":", pos + 1)) {
      end += JsonInt(st, "end_offset", pos);
    }
    EXPECT_EQ(end, fetched) << name << ": " << st;
    EXPECT_EQ(processed, fetched) << name << ": " << st;
    std::string text = StatusText(name);
    EXPECT_NE(text.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
        << name << ": " << text;
  }

  TempDir dir_;
  CqlEndpoint cql_{dir_.Sub("endpoint")};
};

TEST_F(SharedStoreTest, SecondDataDirReadsItsOwnLogFromTheStart) {
  auto a = Run("a", 300);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << a.out;
  ExpectBalanced("a", 300);

  // A new data dir (a new machine) into the same keyspace: its log's offsets 0.. are its own.
  auto b = Run("b", 200);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << b.out;
  EXPECT_EQ(TableRows(), 500);  // A's 300 users and B's 200 others
  ExpectBalanced("b", 200);
  ExpectBalanced("a", 300);

  // Each goes on from its own offsets: nothing of either is read twice or skipped.
  b = Run("b", 100);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  a = Run("a", 100);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(TableRows(), 700);
  ExpectBalanced("b", 300);
  ExpectBalanced("a", 400);
  std::printf("shared keyspace: %lld rows; a: %s; b: %s\n", static_cast<long long>(TableRows()),
              StatusOf("a").substr(0, 120).c_str(), StatusOf("b").substr(0, 120).c_str());
}

}  // namespace
}  // namespace dataforge::testing
