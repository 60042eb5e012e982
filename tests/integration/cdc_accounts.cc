#include "integration/cdc_accounts.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "integration/cli_helpers.h"

namespace dataforge::testing {

std::vector<std::string> StoreRows(const std::string& data, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"table", "scan", "--data-dir", data};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = RunDataforge(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> rows;
  for (const auto& line : SplitLines(r.out)) {
    rows.push_back(JsonField(line, "id") + "|" + JsonField(line, "note"));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::string> TableRows(PostgresServer& pg) {
  auto rows = SplitLines(pg.Psql("SELECT id::text || '|' || note FROM accounts"));
  std::sort(rows.begin(), rows.end());
  return rows;
}

void WaitForSlot(PostgresServer& pg, ChildProcess& child) {
  for (int i = 0; i < 300; ++i) {
    if (pg.Psql("SELECT count(*) FROM pg_replication_slots s JOIN pg_stat_replication r ON "
                "r.pid = s.active_pid WHERE s.slot_name='dataforge_accounts' AND r.state <> "
                "'startup'") == "1") {
      return;
    }
    usleep(50'000);
  }
  FAIL() << "the replication slot never became active: " << child.Stderr();
}

void WaitForStored(const std::string& data, const std::vector<std::string>& extra, int64_t n,
                   ChildProcess& child) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  int64_t stored = StoredNow(data, extra);
  while (stored < n && std::chrono::steady_clock::now() < deadline) {
    usleep(50'000);
    stored = StoredNow(data, extra);
  }
  ASSERT_EQ(stored, n) << child.Stderr();
}

}  // namespace dataforge::testing
