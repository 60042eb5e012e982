// Test-only: an AggregateStage over a real RocksDB store in a temporary directory, fed rows by
// hand and committed batch by batch (aggregate_stage_test.cc, aggregate_final_states_test.cc).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/clock.h"
#include "process/aggregate/aggregate_stage.h"
#include "store/store.h"

namespace dataforge::aggregate_testing {

class FakeClock final : public Clock {
 public:
  int64_t NowMicros() override { return now_us; }
  int64_t MonotonicMicros() override { return now_us; }
  bool SleepFor(int64_t, std::stop_token) override { return true; }
  int64_t now_us = 1'700'000'000'000'000;
};

constexpr int64_t kMinute = 60'000;

inline ProcessConfig StageConfig() {
  ProcessConfig p;
  p.table = "t.users";
  p.key_column = "id";
  for (auto [name, type] :
       std::vector<std::pair<const char*, const char*>>{{"id", "text"},
                                                        {"country", "text"},
                                                        {"age", "int"},
                                                        {"city", "text"},
                                                        {"registered_at", "timestamp"}}) {
    ColumnSpec c;
    c.name = name;
    c.type = type;
    c.paths = {name};
    p.columns.push_back(c);
  }
  AggregateSpec a;
  a.table = "t.per_country_hour";
  a.group_by = {"country"};
  a.window.type = "tumbling";
  a.window.size_ms = 60 * kMinute;
  a.window.time_column = "registered_at";
  a.lateness_ms = 10 * kMinute;
  a.values = {
      {"users", "count", ""}, {"avg_age", "avg", "age"}, {"cities", "count_distinct", "city"}};
  p.aggregates.push_back(a);
  return p;
}

struct Fixture {
  Fixture() : config(StageConfig()) {
    char tmpl[] = "/tmp/df_agg_XXXXXX";
    dir = mkdtemp(tmpl);
    Open();
  }
  ~Fixture() {
    stage.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  void Open() {
    stage.reset();
    store.reset();
    store = std::move(OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {}).value());
    stage =
        std::move(AggregateStage::Create(config, store.get(), &clock, "users", 2, &probe).value());
    ASSERT_TRUE(stage->EnsureTables().ok());
  }
  // One record of `partition` at `offset` mapped to these columns.
  Status Row(int32_t partition, int64_t offset, const std::string& country, const char* time,
             const std::string& more = R"("age":30,"city":"Paris")") {
    ConsumedRecord c{partition, offset, {fmt::format("k{}", offset), "{\"raw\":1}", 0, {}}};
    RowWrite row{c.record.key, fmt::format(R"({{"id":"{}","country":{},"registered_at":"{}",{}}})",
                                           c.record.key, country, time, more)};
    return stage->OnRow(c, MapResult{}, row, &batch);
  }
  // BeforeApply, Apply (each row into its own table, as a store with RowWrite.table does),
  // AfterApply; returns the batch's rows of `table` by key.
  std::map<std::string, std::string> Commit(const std::string& table = "t.per_country_hour") {
    if (held) stage->OnPartitionsHeld(*held);
    EXPECT_TRUE(stage->BeforeApply(&batch).ok());
    std::map<std::string, StoreBatch> by_table;
    std::map<std::string, std::string> rows;
    for (const auto& r : batch.rows) {
      StoreBatch& b = by_table[r.table];
      b.table = r.table;
      b.counted = false;
      b.rows.push_back(r);
      if (r.table == table) rows[r.key] = r.deleted ? "deleted" : r.row_json;
    }
    for (const auto& [t, b] : by_table) EXPECT_TRUE(store->Apply(b).ok()) << t;
    EXPECT_TRUE(stage->AfterApply(batch).ok());
    letters = batch.dead_letters;
    batch = StoreBatch{};
    return rows;
  }

  ProcessConfig config;
  std::string dir;
  FakeClock clock;
  AggregateProbe probe;
  std::unique_ptr<Store> store;
  std::unique_ptr<AggregateStage> stage;
  StoreBatch batch;
  std::vector<DeadLetter> letters;
  // The partitions the processor holds, told before each BeforeApply; none: not told.
  std::optional<std::vector<int32_t>> held;
};

// Replaces the state row `key` with one whose state is not base64: reading it fails.
inline void SpoilStateRow(Store* store, const std::string& key) {
  StoreBatch b;
  b.table = "t.per_country_hour_state";
  b.counted = false;
  b.rows.push_back(
      {key, fmt::format(R"({{"state_key":"{}","through":1,"state":"!"}})", key), false, true});
  ASSERT_TRUE(store->Apply(b).ok());
}

constexpr const char* kStates = "t.per_country_hour_state";
constexpr const char* kFrance10 = "France|2024-01-01T10:00:00.000Z";

// The state keys of the state table, watermark rows left out.
inline std::vector<std::string> WindowStates(Store* store) {
  std::vector<std::string> keys;
  EXPECT_TRUE(store
                  ->Scan(kStates, "", 0,
                         [&](const std::string& key, const std::string&) {
                           if (key.starts_with("s/") || key.starts_with("g/")) {
                             keys.push_back(key);
                           }
                           return true;
                         })
                  .ok());
  return keys;
}

}  // namespace dataforge::aggregate_testing
