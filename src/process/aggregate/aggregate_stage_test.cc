#include "process/aggregate/aggregate_stage.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/timestamp.h"

namespace dataforge {
namespace {

class FakeClock final : public Clock {
 public:
  int64_t NowMicros() override { return now_us; }
  int64_t MonotonicMicros() override { return now_us; }
  bool SleepFor(int64_t, std::stop_token) override { return true; }
  int64_t now_us = 1'700'000'000'000'000;
};

constexpr int64_t kMinute = 60'000;

ProcessConfig StageConfig() {
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
};

TEST(AggregateStageTest, TumblingCountAvgDistinctOneResultRowPerTouchedWindow) {
  Fixture f;
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(
      f.Row(0, 1, R"("France")", "2024-01-01T10:59:59.999Z", R"("age":41,"city":"Lyon")").ok());
  ASSERT_TRUE(
      f.Row(1, 0, R"("France")", "2024-01-01T10:30:00.000Z", R"("age":null,"city":"Lyon")").ok());
  ASSERT_TRUE(f.Row(1, 1, R"("Spain")", "2024-01-01T11:00:00.000Z").ok());
  auto rows = f.Commit();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows["France|2024-01-01T10:00:00.000Z"],
            R"({"window_key":"France|2024-01-01T10:00:00.000Z","country":"France",)"
            R"("window_start":"2024-01-01T10:00:00.000Z","window_end":"2024-01-01T11:00:00.000Z",)"
            R"("users":3,"avg_age":35.5,"cities":2})");
  EXPECT_EQ(rows["Spain|2024-01-01T11:00:00.000Z"],
            R"({"window_key":"Spain|2024-01-01T11:00:00.000Z","country":"Spain",)"
            R"("window_start":"2024-01-01T11:00:00.000Z","window_end":"2024-01-01T12:00:00.000Z",)"
            R"("users":1,"avg_age":30,"cities":1})");
  // The state rows: one per (window, partition), one watermark per partition.
  EXPECT_EQ(f.store->Count("t.per_country_hour_state").value(), 5u);
  EXPECT_EQ(f.probe.results_written.load(), 2u);
  // The next batch adds to the same window: the row holds the new total.
  // Partition 1's watermark is 11:00 (Spain): 10:50 is still on time (lateness 10m).
  ASSERT_TRUE(f.Row(1, 2, R"("France")", "2024-01-01T10:50:00.000Z").ok());
  rows = f.Commit();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows["France|2024-01-01T10:00:00.000Z"].find(R"("users":4,)"), std::string::npos);
}

TEST(AggregateStageTest, NullAndEscapedGroupValuesGetTheirOwnKeys) {
  Fixture f;
  ASSERT_TRUE(f.Row(0, 0, "null", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 1, R"("A|B\\C")", "2024-01-01T10:00:00.000Z").ok());
  auto rows = f.Commit();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.begin()->first, "A\\|B\\\\C|2024-01-01T10:00:00.000Z");
  EXPECT_NE(rows.begin()->second.find(R"("country":"A|B\\C")"), std::string::npos);
  EXPECT_NE(rows["\\N|2024-01-01T10:00:00.000Z"].find(R"("country":null,)"), std::string::npos);
}

TEST(AggregateStageTest, LateRecordIsDeadLetteredNamingAggregateWindowAndTimes) {
  Fixture f;
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T11:30:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T11:20:00.000Z").ok());  // at the limit
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T11:19:59.999Z").ok());  // late
  ASSERT_TRUE(f.Row(1, 0, R"("France")", "2024-01-01T09:00:00.000Z").ok());  // own watermark
  auto rows = f.Commit();
  EXPECT_NE(rows["France|2024-01-01T11:00:00.000Z"].find(R"("users":2,)"), std::string::npos);
  EXPECT_NE(rows["France|2024-01-01T09:00:00.000Z"].find(R"("users":1,)"), std::string::npos);
  ASSERT_EQ(f.letters.size(), 1u);
  EXPECT_EQ(f.letters[0].stage, "process");
  EXPECT_EQ(f.letters[0].location, "users/0@2");
  EXPECT_EQ(f.letters[0].key, "k2");
  EXPECT_EQ(f.letters[0].payload, "{\"raw\":1}");
  EXPECT_EQ(f.letters[0].reason,
            "aggregate t.per_country_hour: late record: event time 2024-01-01T11:19:59.999Z is "
            "more than the lateness 10m behind the watermark 2024-01-01T11:30:00.000Z of "
            "partition 0 (window [2024-01-01T11:00:00.000Z, 2024-01-01T12:00:00.000Z) of group "
            "'France'; set late: update to apply such records, or a larger lateness)");
  EXPECT_EQ(f.probe.late.load(), 1u);
  EXPECT_EQ(f.probe.late_dead_lettered.load(), 1u);
}

TEST(AggregateStageTest, LateUpdateReloadsAnEvictedWindowAndAppliesTheRecord) {
  Fixture f;
  f.config.aggregates[0].late = "update";
  f.Open();
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:10:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T12:00:00.000Z").ok());
  f.Commit();
  // 10:00-11:00 is final (watermark 12:00 > 11:00 + 10m): evicted; 12:00-13:00 stays open.
  EXPECT_EQ(f.probe.windows_open.load(), 1);
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T10:20:00.000Z").ok());
  auto rows = f.Commit();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows["France|2024-01-01T10:00:00.000Z"].find(R"("users":2,)"), std::string::npos);
  EXPECT_TRUE(f.letters.empty());
  EXPECT_EQ(f.probe.late.load(), 1u);
  EXPECT_EQ(f.probe.late_dead_lettered.load(), 0u);
}

// Replaces the state row `key` with one whose state is not base64: reading it fails.
void SpoilStateRow(Store* store, const std::string& key) {
  StoreBatch b;
  b.table = "t.per_country_hour_state";
  b.counted = false;
  b.rows.push_back(
      {key, fmt::format(R"({{"state_key":"{}","through":1,"state":"!"}})", key), false, true});
  ASSERT_TRUE(store->Apply(b).ok());
}

TEST(AggregateStageTest, LateUpdateKeepsFinalStatesInMemoryWithinItsBudget) {
  Fixture f;
  f.config.aggregates[0].late = "update";
  f.Open();
  f.stage->set_max_kept_bytes(4);  // ~1 byte a generation per partition: the last state only
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T11:15:00.000Z").ok());
  f.Commit();  // 10:00 is final (11:15 > 11:00 + 10m): kept
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T13:00:00.000Z").ok());
  f.Commit();  // 11:00 is final: kept, and 10:00 forgotten
  EXPECT_EQ(f.probe.windows_open.load(), 1);
  // One kept state, counted as its key, the bytes of its state row's state and 128.
  EXPECT_EQ(f.probe.final_states_kept.load(), 1);
  const std::string kept_key = "France|2024-01-01T11:00:00.000Z";
  auto row = f.store->Get("t.per_country_hour_state", "s/0/" + kept_key);
  ASSERT_TRUE(row.ok());
  const size_t at = row->find(R"("state":")") + 9;  // base64 holds no quote
  auto state = Base64Decode(row->substr(at, row->find('"', at) - at));
  ASSERT_TRUE(state.has_value()) << *row;
  EXPECT_EQ(f.probe.final_state_bytes_kept.load(),
            static_cast<int64_t>(kept_key.size() + state->size() + 128));
  // The kept state serves a late record: its spoiled row is not read.
  SpoilStateRow(f.store.get(), "s/0/France|2024-01-01T11:00:00.000Z");
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T11:40:00.000Z").ok());
  auto rows = f.Commit();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_NE(rows["France|2024-01-01T11:00:00.000Z"].find(R"("users":2,)"), std::string::npos);
  // The forgotten one is read from the store again (the partition is fresh: its key was
  // remembered as evicted when it was forgotten), ...
  ASSERT_TRUE(f.Row(0, 4, R"("France")", "2024-01-01T10:20:00.000Z").ok());
  rows = f.Commit();
  EXPECT_NE(rows["France|2024-01-01T10:00:00.000Z"].find(R"("users":2,)"), std::string::npos);
  // ... and so is a spoiled one (the late record of 10:20 kept 10:00 and forgot 11:00).
  SpoilStateRow(f.store.get(), "s/0/France|2024-01-01T11:00:00.000Z");
  EXPECT_EQ(f.Row(0, 5, R"("France")", "2024-01-01T11:50:00.000Z").ToString(),
            "Corruption: aggregate t.per_country_hour: state row "
            "s/0/France|2024-01-01T11:00:00.000Z of t.per_country_hour_state: not base64");
}

// A late record's update of a final window is kept as the bytes its batch wrote: the next late
// record of that window starts from them, not from the store (whose row is spoiled here).
TEST(AggregateStageTest, ALateUpdateIsKeptAsTheStateItsBatchWrote) {
  Fixture f;
  f.config.aggregates[0].late = "update";
  f.Open();
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T11:15:00.000Z").ok());
  f.Commit();  // 10:00 is final: kept
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T10:20:00.000Z").ok());
  auto rows = f.Commit();  // late: 10:00 updated, written, and kept again
  EXPECT_NE(rows["France|2024-01-01T10:00:00.000Z"].find(R"("users":2,)"), std::string::npos);
  SpoilStateRow(f.store.get(), "s/0/France|2024-01-01T10:00:00.000Z");
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T10:40:00.000Z").ok());
  rows = f.Commit();
  EXPECT_NE(rows["France|2024-01-01T10:00:00.000Z"].find(R"("users":3,)"), std::string::npos)
      << rows["France|2024-01-01T10:00:00.000Z"];
  EXPECT_EQ(f.probe.final_states_kept.load(), 1);
}

// max_final_state_bytes: 0 keeps nothing: a late record reads its window's state row.
TEST(AggregateStageTest, NoFinalStateIsKeptWithABudgetOfZero) {
  Fixture f;
  f.config.aggregates[0].late = "update";
  f.config.aggregates[0].max_final_state_bytes = 0;
  f.Open();
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T11:15:00.000Z").ok());
  f.Commit();  // 10:00 is final, and not kept
  EXPECT_EQ(f.probe.final_states_kept.load(), 0);
  EXPECT_EQ(f.probe.final_state_bytes_kept.load(), 0);
  SpoilStateRow(f.store.get(), "s/0/France|2024-01-01T10:00:00.000Z");
  EXPECT_EQ(f.Row(0, 2, R"("France")", "2024-01-01T10:40:00.000Z").ToString(),
            "Corruption: aggregate t.per_country_hour: state row "
            "s/0/France|2024-01-01T10:00:00.000Z of t.per_country_hour_state: not base64");
}

TEST(AggregateStageTest, RecordsBelowAStoredStatesThroughAreSkipped) {
  Fixture f;
  // A state row that holds partition 0's records up to offset 4 (3 of them counted), as a
  // crash after the state rows and before the offsets (Cassandra) leaves it.
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 4, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  f.Commit();
  f.Open();  // a restart: the cache is gone, the store's rows remain
  // The replay from offset 2: 2..4 are in the state already, 5 is new.
  for (int64_t o = 2; o <= 5; ++o) {
    ASSERT_TRUE(f.Row(0, o, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  }
  auto rows = f.Commit();
  EXPECT_NE(rows["France|2024-01-01T10:00:00.000Z"].find(R"("users":4,)"), std::string::npos);
  auto state = f.store->Get("t.per_country_hour_state", "s/0/France|2024-01-01T10:00:00.000Z");
  ASSERT_TRUE(state.ok());
  EXPECT_NE(state->find(R"("through":6)"), std::string::npos) << *state;
}

TEST(AggregateStageTest, AReplayedBatchJudgesLatenessAsTheFirstTime) {
  Fixture f;
  // 10:00 then 11:30: both on time when they were first applied.
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T09:00:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T11:30:00.000Z").ok());
  f.Commit();
  f.Open();
  // The offsets of the second batch did not commit (Cassandra crash): it comes again. With the
  // final watermark 11:30, 10:00 would be late; the watermark before the batch (09:00) says no.
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T11:30:00.000Z").ok());
  f.Commit();
  EXPECT_TRUE(f.letters.empty());
  EXPECT_EQ(f.probe.late.load(), 0u);
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T10:00:00.000Z").ok());  // now it is late
  f.Commit();
  EXPECT_EQ(f.letters.size(), 1u);
}

constexpr const char* kStates = "t.per_country_hour_state";
constexpr const char* kFrance10 = "France|2024-01-01T10:00:00.000Z";

// The state keys of the state table, watermark rows left out.
std::vector<std::string> WindowStates(Store* store) {
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

TEST(AggregateStageTest, AWindowsStateRowsAreDeletedOnceItIsFinalInEveryPartition) {
  Fixture f;
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 0, R"("France")", "2024-01-01T10:30:00.000Z").ok());
  f.Commit();
  // Partition 0 moves on: 10:00-11:00 is final there (12:00 > 11:00 + 10m) and leaves its cache,
  // but partition 1 (watermark 10:30) may still add to it.
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T12:00:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T12:05:00.000Z").ok());
  f.Commit();
  EXPECT_EQ(WindowStates(f.store.get()),
            (std::vector<std::string>{"s/0/France|2024-01-01T10:00:00.000Z",
                                      "s/0/France|2024-01-01T12:00:00.000Z",
                                      "s/1/France|2024-01-01T10:00:00.000Z"}));
  // Partition 1 still adds to the window, merging partition 0's stored state.
  ASSERT_TRUE(f.Row(1, 1, R"("France")", "2024-01-01T10:40:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 2, R"("France")", "2024-01-01T12:10:00.000Z").ok());
  auto rows = f.Commit();
  EXPECT_NE(rows[kFrance10].find(R"("users":3,)"), std::string::npos) << rows[kFrance10];
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);
  // Partition 1's batch may still be replayed from its watermark before it (10:30), so the
  // window goes with the next batch, once both partitions judge from past 11:10.
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T12:06:00.000Z").ok());
  rows = f.Commit(kStates);
  EXPECT_EQ(rows.size(), 4u);  // two deletions, partition 0's 12:00 state and watermark
  EXPECT_EQ(rows["s/0/France|2024-01-01T10:00:00.000Z"], "deleted");
  EXPECT_EQ(rows["s/1/France|2024-01-01T10:00:00.000Z"], "deleted");
  EXPECT_EQ(f.probe.states_deleted.load(), 2u);
  EXPECT_EQ(WindowStates(f.store.get()),
            (std::vector<std::string>{"s/0/France|2024-01-01T12:00:00.000Z",
                                      "s/1/France|2024-01-01T12:00:00.000Z"}));
  // The result row keeps the final value; a record for the window now is late everywhere.
  auto result = f.store->Get("t.per_country_hour", kFrance10);
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->find(R"("users":3,)"), std::string::npos) << *result;
  ASSERT_TRUE(f.Row(1, 3, R"("France")", "2024-01-01T10:59:00.000Z").ok());
  rows = f.Commit();
  EXPECT_FALSE(rows.contains(kFrance10));
  ASSERT_EQ(f.letters.size(), 1u);
  EXPECT_NE(f.letters[0].reason.find("late record"), std::string::npos);
}

TEST(AggregateStageTest, APartitionWithoutRecordsHoldsDeletionsBack) {
  Fixture f;  // two partitions; only partition 0 has records
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T12:00:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T15:00:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T15:01:00.000Z").ok());
  f.Commit();
  EXPECT_EQ(WindowStates(f.store.get()).size(), 3u);
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);
}

TEST(AggregateStageTest, LateUpdateKeepsFinalStateRows) {
  Fixture f;
  f.config.aggregates[0].late = "update";
  f.Open();
  for (int round = 0; round < 3; ++round) {
    for (int32_t p = 0; p < 2; ++p) {
      ASSERT_TRUE(f.Row(p, round, R"("France")",
                        fmt::format("2024-01-01T{:02}:00:00.000Z", 10 + 2 * round).c_str())
                      .ok());
    }
    f.Commit();
  }
  EXPECT_EQ(WindowStates(f.store.get()).size(), 6u);
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);
}

// late: update with late_update_for 1h: a final window takes late records for 1h more, then its
// state rows are deleted (and its kept states forgotten) and its records are dead-lettered.
TEST(AggregateStageTest, LateUpdateForDeletesFinalStatesAndDeadLettersRecordsPastIt) {
  Fixture f;
  f.config.aggregates[0].late = "update";
  f.config.aggregates[0].late_update_for_ms = 60 * kMinute;
  f.Open();
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 0, R"("France")", "2024-01-01T10:30:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T12:00:00.000Z").ok());
  f.Commit();  // 10:00 is final in partition 0 (12:00 > 11:00 + 10m): kept
  // Late (before 11:50) but within late_update_for (not before 10:50): applied.
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T10:55:00.000Z").ok());
  auto rows = f.Commit();
  EXPECT_NE(rows[kFrance10].find(R"("users":3,)"), std::string::npos) << rows[kFrance10];
  EXPECT_TRUE(f.letters.empty());
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T13:30:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 1, R"("France")", "2024-01-01T13:30:00.000Z").ok());
  f.Commit();  // partition 1 judges from 10:30 still: nothing goes
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);
  EXPECT_EQ(f.probe.final_states_kept.load(), 3);  // 10:00 of both, 12:00 of partition 0
  ASSERT_TRUE(f.Row(0, 4, R"("France")", "2024-01-01T13:31:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 2, R"("France")", "2024-01-01T13:31:00.000Z").ok());
  rows = f.Commit(kStates);  // both judge from 13:30: final for 1h where end < 12:20
  EXPECT_EQ(rows["s/0/France|2024-01-01T10:00:00.000Z"], "deleted");
  EXPECT_EQ(rows["s/1/France|2024-01-01T10:00:00.000Z"], "deleted");
  EXPECT_EQ(f.probe.states_deleted.load(), 2u);
  EXPECT_EQ(WindowStates(f.store.get()),
            (std::vector<std::string>{"s/0/France|2024-01-01T12:00:00.000Z",
                                      "s/0/France|2024-01-01T13:00:00.000Z",
                                      "s/1/France|2024-01-01T13:00:00.000Z"}));
  EXPECT_EQ(f.probe.final_states_kept.load(), 1);  // 12:00 of partition 0; both 10:00 forgotten
  // Past late_update_for (before 12:21): dead-lettered; 12:30 is still applied.
  ASSERT_TRUE(f.Row(0, 5, R"("France")", "2024-01-01T10:59:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 6, R"("France")", "2024-01-01T12:30:00.000Z").ok());
  rows = f.Commit();
  EXPECT_FALSE(rows.contains(kFrance10));
  EXPECT_NE(rows["France|2024-01-01T12:00:00.000Z"].find(R"("users":2,)"), std::string::npos)
      << rows["France|2024-01-01T12:00:00.000Z"];
  ASSERT_EQ(f.letters.size(), 1u);
  EXPECT_EQ(f.letters[0].key, "k5");
  EXPECT_EQ(f.letters[0].reason,
            "aggregate t.per_country_hour: late record: event time 2024-01-01T10:59:00.000Z is "
            "more than the lateness 10m and late_update_for 1h behind the watermark "
            "2024-01-01T13:31:00.000Z of partition 0 (window [2024-01-01T10:00:00.000Z, "
            "2024-01-01T11:00:00.000Z) of group 'France'; a window's state is deleted once it is "
            "final for late_update_for: set a longer late_update_for to apply such records)");
  EXPECT_EQ(f.probe.late.load(), 3u);
  EXPECT_EQ(f.probe.late_dead_lettered.load(), 1u);
  auto result = f.store->Get("t.per_country_hour", kFrance10);
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->find(R"("users":3,)"), std::string::npos) << *result;
}

// A restart forgets the listed windows; the sweep finds them with late_update_for too.
TEST(AggregateStageTest, AfterARestartTheSweepDeletesLateUpdateStatesPastLateUpdateFor) {
  Fixture f;
  f.config.aggregates[0].late = "update";
  f.config.aggregates[0].late_update_for_ms = 60 * kMinute;
  f.Open();
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 0, R"("Spain")", "2024-01-01T10:30:00.000Z").ok());
  f.Commit();
  f.Open();
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T12:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 1, R"("Spain")", "2024-01-01T12:08:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T12:15:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 2, R"("Spain")", "2024-01-01T12:16:00.000Z").ok());
  f.Commit();  // judging from 12:05 and 12:08: 11:00 + 10m + 1h is not before them
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);
  EXPECT_EQ(WindowStates(f.store.get()).size(), 4u);
  f.Open();
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T12:21:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 3, R"("Spain")", "2024-01-01T12:27:00.000Z").ok());
  auto rows = f.Commit(kStates);  // judging from 12:15 and 12:16: both 10:00 windows go
  EXPECT_EQ(rows["s/0/France|2024-01-01T10:00:00.000Z"], "deleted");
  EXPECT_EQ(rows["s/1/Spain|2024-01-01T10:00:00.000Z"], "deleted");
  EXPECT_EQ(f.probe.states_deleted.load(), 2u);
}

TEST(AggregateStageTest, AfterARestartTheSweepDeletesTheFinalStatesLeftBehind) {
  Fixture f;
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 0, R"("Spain")", "2024-01-01T10:30:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T12:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 1, R"("Spain")", "2024-01-01T12:10:00.000Z").ok());
  f.Commit();  // both 10:00 windows evicted; both partitions judge from before 11:10 still
  EXPECT_EQ(WindowStates(f.store.get()).size(), 4u);
  f.Open();  // a restart forgets what was evicted
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T12:20:00.000Z").ok());
  f.Commit();  // partition 1 (from its w/1 row) judges from 10:30: not yet
  EXPECT_EQ(WindowStates(f.store.get()).size(), 4u);
  ASSERT_TRUE(f.Row(1, 2, R"("Spain")", "2024-01-01T12:25:00.000Z").ok());
  auto rows = f.Commit(kStates);  // now partition 1 judges from 12:10 and 0 from 12:20
  EXPECT_EQ(rows["s/0/France|2024-01-01T10:00:00.000Z"], "deleted");
  EXPECT_EQ(rows["s/1/Spain|2024-01-01T10:00:00.000Z"], "deleted");
  EXPECT_EQ(f.probe.states_deleted.load(), 2u);
  EXPECT_EQ(WindowStates(f.store.get()),
            (std::vector<std::string>{"s/0/France|2024-01-01T12:00:00.000Z",
                                      "s/1/Spain|2024-01-01T12:00:00.000Z"}));
}

// Runs of one batch each, the sweep reading 2 rows a batch: each run resumes the sweep where the
// last one stopped (the cursor row), so the final windows behind the open ones in key order are
// reached; starting from the beginning every time, the sweep would read the open ones only.
TEST(AggregateStageTest, ShortRunsResumeTheSweepWhereTheLastRunStopped) {
  Fixture f;
  int64_t next_offset[2] = {0, 0};
  // A run (a restart, then one batch): M's records go to partition 1, the others to 0.
  auto run = [&](const char* time, const std::vector<std::string>& countries) {
    f.Open();
    f.stage->set_sweep_rows(2);
    for (const auto& c : countries) {
      const int32_t p = c == "M" ? 1 : 0;
      ASSERT_TRUE(f.Row(p, next_offset[p]++, "\"" + c + "\"", time).ok());
    }
    f.Commit();
  };
  // Final (10:00) and open (15:00) windows; the open ones come first in key order.
  f.Open();
  for (const char* c : {"Z1", "Z2", "Z3"}) {
    ASSERT_TRUE(
        f.Row(0, next_offset[0]++, fmt::format(R"("{}")", c), "2024-01-01T10:05:00.000Z").ok());
  }
  for (const char* c : {"A1", "A2", "A3", "A4"}) {
    ASSERT_TRUE(
        f.Row(0, next_offset[0]++, fmt::format(R"("{}")", c), "2024-01-01T15:00:00.000Z").ok());
  }
  ASSERT_TRUE(f.Row(1, next_offset[1]++, R"("M")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, next_offset[1]++, R"("M")", "2024-01-01T15:00:00.000Z").ok());
  f.Commit();  // the 10:00 windows are final in both partitions, listed in this run only
  run("2024-01-01T15:01:00.000Z", {"A1", "M"});  // judged from 15:00: they may go
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);  // the first page: A1, A2 (open)
  auto cursor = f.store->Get(kStates, "c/sweep");
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor,
            R"({"state_key":"c/sweep","through":0,"state":"v1 s/0/A2|2024-01-01T15:00:00.000Z"})");
  run("2024-01-01T15:02:00.000Z", {"A1", "M"});
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);  // A3, A4
  run("2024-01-01T15:03:00.000Z", {"A1", "M"});
  EXPECT_EQ(f.probe.states_deleted.load(), 2u);  // Z1, Z2
  run("2024-01-01T15:04:00.000Z", {"A1", "M"});
  EXPECT_EQ(f.probe.states_deleted.load(), 4u);  // Z3, and M's 10:00 in partition 1
  EXPECT_EQ(WindowStates(f.store.get()),
            (std::vector<std::string>{
                "s/0/A1|2024-01-01T15:00:00.000Z", "s/0/A2|2024-01-01T15:00:00.000Z",
                "s/0/A3|2024-01-01T15:00:00.000Z", "s/0/A4|2024-01-01T15:00:00.000Z",
                "s/1/M|2024-01-01T15:00:00.000Z"}));
}

TEST(AggregateStageTest, WindowsEvictedPastTheListsBoundAreFoundByTheSweepAndDeletedOnce) {
  Fixture f;
  f.stage->set_max_final_states(2);
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 0, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  f.Commit();
  // Partition 1 stays at 10:00, so nothing can go while partition 0 evicts 10:00 to 13:00: two
  // listed, two past the bound.
  for (int64_t o = 1; o < 6; ++o) {
    ASSERT_TRUE(
        f.Row(0, o, R"("France")", fmt::format("2024-01-01T{:02}:00:00.000Z", 10 + o).c_str())
            .ok());
    f.Commit();
  }
  EXPECT_EQ(WindowStates(f.store.get()).size(), 7u);
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);
  // Partition 1 catches up (and evicts its 10:00, past the bound too); the next batch deletes
  // the two listed hours and the sweep the other three, each once.
  ASSERT_TRUE(f.Row(1, 1, R"("France")", "2024-01-01T15:30:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 6, R"("France")", "2024-01-01T15:40:00.000Z").ok());
  auto rows = f.Commit(kStates);
  int deletions = 0;
  for (const auto& [key, row] : rows) deletions += row == "deleted";
  EXPECT_EQ(deletions, 5);
  EXPECT_EQ(f.probe.states_deleted.load(), 5u);
  EXPECT_EQ(WindowStates(f.store.get()),
            (std::vector<std::string>{"s/0/France|2024-01-01T14:00:00.000Z",
                                      "s/0/France|2024-01-01T15:00:00.000Z",
                                      "s/1/France|2024-01-01T15:00:00.000Z"}));
}

TEST(AggregateStageTest, ResultMergesPartitionsNotInTheBatchFromTheStore) {
  Fixture f;
  ASSERT_TRUE(f.Row(1, 0, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(
      f.Row(1, 1, R"("France")", "2024-01-01T10:01:00.000Z", R"("age":50,"city":"Nice")").ok());
  f.Commit();
  f.Open();  // another member (or a restart): partition 1's state is only in the store
  ASSERT_TRUE(
      f.Row(0, 0, R"("France")", "2024-01-01T10:02:00.000Z", R"("age":10,"city":"Paris")").ok());
  auto rows = f.Commit();
  EXPECT_EQ(rows["France|2024-01-01T10:00:00.000Z"],
            R"({"window_key":"France|2024-01-01T10:00:00.000Z","country":"France",)"
            R"("window_start":"2024-01-01T10:00:00.000Z","window_end":"2024-01-01T11:00:00.000Z",)"
            R"("users":3,"avg_age":30,"cities":2})");
}

TEST(AggregateStageTest, MissingEventTimeIsDeadLettered) {
  Fixture f;
  ConsumedRecord c{0, 7, {"k", "{}", 0, {}}};
  RowWrite row{"k", R"({"id":"k","country":"France","registered_at":null})"};
  ASSERT_TRUE(f.stage->OnRow(c, MapResult{}, row, &f.batch).ok());
  auto rows = f.Commit();
  EXPECT_TRUE(rows.empty());
  ASSERT_EQ(f.letters.size(), 1u);
  EXPECT_EQ(f.letters[0].reason,
            "aggregate t.per_country_hour: the record has no event time: column 'registered_at' "
            "is null or missing (give it a value, or filter such records with process.where)");
  EXPECT_EQ(f.probe.no_event_time.load(), 1u);
}

TEST(AggregateStageTest, ProcessingTimeWindowsUseTheInjectedClock) {
  Fixture f;
  f.config.aggregates[0].window.time_column = "";
  f.Open();
  f.clock.now_us = *ParseTimestampMillis("2030-05-05T05:59:59.999Z") * 1000;
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  f.clock.now_us += 1000;
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  auto rows = f.Commit();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows.count("France|2030-05-05T05:00:00.000Z"));
  EXPECT_TRUE(rows.count("France|2030-05-05T06:00:00.000Z"));
}

TEST(AggregateStageTest, HoppingRecordUpdatesEveryWindowItIsIn) {
  Fixture f;
  f.config.aggregates[0].window = {"hopping", 60 * kMinute, 30 * kMinute, 0, "registered_at", 0};
  f.Open();
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:45:00.000Z").ok());
  auto rows = f.Commit();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows.count("France|2024-01-01T10:00:00.000Z"));
  EXPECT_NE(
      rows["France|2024-01-01T10:30:00.000Z"].find(
          R"("window_start":"2024-01-01T10:30:00.000Z","window_end":"2024-01-01T11:30:00.000Z")"),
      std::string::npos);
}

TEST(AggregateStageTest, SessionsMergeAndTheReplacedResultRowIsDeleted) {
  Fixture f;
  f.config.aggregates[0].window = {"session", 0, 0, 30 * kMinute, "registered_at", 0};
  f.config.aggregates[0].lateness_ms = 24 * 60 * kMinute;
  f.Open();
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T10:45:00.000Z").ok());
  auto rows = f.Commit();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NE(rows["France|2024-01-01T10:45:00.000Z|p0"].find(
                R"("window_end":"2024-01-01T11:15:00.000Z","users":1,)"),
            std::string::npos);
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T10:20:00.000Z").ok());  // bridges both
  rows = f.Commit();
  EXPECT_EQ(rows["France|2024-01-01T10:45:00.000Z|p0"], "deleted");
  EXPECT_NE(
      rows["France|2024-01-01T10:00:00.000Z|p0"].find(
          R"("window_start":"2024-01-01T10:00:00.000Z","window_end":"2024-01-01T11:15:00.000Z","users":3,)"),
      std::string::npos)
      << rows["France|2024-01-01T10:00:00.000Z|p0"];
  EXPECT_EQ(f.store->Count("t.per_country_hour").value(), 1u);
}

// Sessions of 30 minutes, 10 minutes of lateness.
void UseSessions(Fixture& f) {
  f.config.aggregates[0].window = {"session", 0, 0, 30 * kMinute, "registered_at", 0};
  f.Open();
}

// A group's state row goes one batch after its last session is final in its own partition: a
// session is one partition's, so partition 1, which has no record, holds nothing back.
TEST(AggregateStageTest, ASessionGroupsStateRowIsDeletedOnceItsLastSessionIsFinalInItsPartition) {
  Fixture f;
  UseSessions(f);
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 1, R"("Spain")", "2024-01-01T10:05:00.000Z").ok());
  f.Commit();
  // Watermark 11:00: final before 10:50. France's 10:00-10:30 session is final but it opens
  // another; Spain's (10:05-10:35) was its last and leaves the cache.
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T11:00:00.000Z").ok());
  f.Commit();
  EXPECT_EQ(WindowStates(f.store.get()), (std::vector<std::string>{"g/0/France", "g/0/Spain"}));
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);
  // The next batch judges from 11:00 even if replayed: Spain's row goes.
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T11:05:00.000Z").ok());
  auto rows = f.Commit(kStates);
  EXPECT_EQ(rows["g/0/Spain"], "deleted");
  EXPECT_EQ(f.probe.states_deleted.load(), 1u);
  EXPECT_EQ(WindowStates(f.store.get()), (std::vector<std::string>{"g/0/France"}));
  // Its result row stays; a record of its time now is late, one after it opens a new session.
  const std::string spain = "Spain|2024-01-01T10:05:00.000Z|p0";
  ASSERT_TRUE(f.store->Get("t.per_country_hour", spain).ok());
  ASSERT_TRUE(f.Row(0, 4, R"("Spain")", "2024-01-01T10:20:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 5, R"("Spain")", "2024-01-01T11:10:00.000Z").ok());
  rows = f.Commit();
  ASSERT_EQ(f.letters.size(), 1u);
  EXPECT_NE(f.letters[0].reason.find("late record"), std::string::npos) << f.letters[0].reason;
  EXPECT_FALSE(rows.contains(spain));
  EXPECT_NE(rows["Spain|2024-01-01T11:10:00.000Z|p0"].find(
                R"("window_end":"2024-01-01T11:40:00.000Z","users":1,)"),
            std::string::npos)
      << rows["Spain|2024-01-01T11:10:00.000Z|p0"];
  EXPECT_NE(f.store->Get("t.per_country_hour", spain)->find(R"("users":1,)"), std::string::npos);
}

// The sweep reads a group's row for its last session's end: after a restart it deletes the rows
// of groups whose sessions ended, and leaves those of open ones.
TEST(AggregateStageTest, AfterARestartTheSweepDeletesSessionStateRowsLeftBehind) {
  Fixture f;
  UseSessions(f);
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:00:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 1, R"("Spain")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(1, 0, R"("Italy")", "2024-01-01T10:10:00.000Z").ok());
  f.Commit();
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T11:00:00.000Z").ok());
  f.Commit();  // Spain's last session is final: evicted, listed
  f.Open();    // a restart forgets the list
  ASSERT_TRUE(f.Row(0, 3, R"("Germany")", "2024-01-01T11:05:00.000Z").ok());
  auto rows = f.Commit(kStates);
  // Partition 0 judges from 11:00 (final before 10:50): Spain (ended 10:35) goes, France (open
  // until 11:30) stays; partition 1 judges from 10:10: Italy (until 10:40) stays.
  EXPECT_EQ(rows["g/0/Spain"], "deleted");
  EXPECT_FALSE(rows.contains("g/0/France"));
  EXPECT_FALSE(rows.contains("g/1/Italy"));
  EXPECT_EQ(f.probe.states_deleted.load(), 1u);
  EXPECT_EQ(WindowStates(f.store.get()),
            (std::vector<std::string>{"g/0/France", "g/0/Germany", "g/1/Italy"}));
  // Partition 1 moves past Italy's end + lateness (another group); the batch after that one,
  // which judges from there, sweeps again and deletes Italy's row.
  ASSERT_TRUE(f.Row(1, 1, R"("Portugal")", "2024-01-01T12:00:00.000Z").ok());
  f.Commit();
  EXPECT_EQ(f.probe.states_deleted.load(), 1u);
  ASSERT_TRUE(f.Row(1, 2, R"("Portugal")", "2024-01-01T12:01:00.000Z").ok());
  rows = f.Commit(kStates);
  EXPECT_EQ(rows["g/1/Italy"], "deleted");
  EXPECT_EQ(f.probe.states_deleted.load(), 2u);
  EXPECT_EQ(WindowStates(f.store.get()),
            (std::vector<std::string>{"g/0/France", "g/0/Germany", "g/1/Portugal"}));
}

TEST(AggregateStageTest, ResultAndStateTableSchemas) {
  ProcessConfig p = StageConfig();
  auto s = AggregateResultSchema(p.aggregates[0], p);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->key_column, "window_key");
  std::string cols;
  for (const auto& c : s->columns) cols += c.name + ":" + c.type + " ";
  EXPECT_EQ(cols,
            "window_key:text country:text window_start:timestamp window_end:timestamp "
            "users:bigint avg_age:double cities:bigint ");
  TableSchema st = AggregateStateSchema(p.aggregates[0]);
  EXPECT_EQ(st.table, "t.per_country_hour_state");
  EXPECT_EQ(st.key_column, "state_key");
}

}  // namespace
}  // namespace dataforge

namespace dataforge {
namespace {

// Two process members (two stages over one store), each owning one partition, write the same
// window at once: A merges partition 1's state before B commits it, B merges partition 0's
// before A commits. A's row, written last, would miss B's record; A's check after its batch
// sees partition 1's state moved and writes the merge again.
TEST(AggregateStageTest, TwoMembersWritingOneWindowAtOnceLeaveTheExactRow) {
  Fixture f;
  AggregateProbe probe_b;
  auto b = AggregateStage::Create(f.config, f.store.get(), &f.clock, "users", 2, &probe_b);
  ASSERT_TRUE(b.ok());
  auto row = [](int32_t p, int64_t offset, StoreBatch* batch, AggregateStage* stage) {
    ConsumedRecord c{p, offset, {fmt::format("k{}-{}", p, offset), "{}", 0, {}}};
    RowWrite r{c.record.key, R"({"country":"France","registered_at":"2024-01-01T10:00:00.000Z"})"};
    return stage->OnRow(c, MapResult{}, r, batch);
  };
  auto apply = [&](const StoreBatch& batch) {
    std::map<std::string, StoreBatch> by_table;
    for (const auto& r : batch.rows) {
      by_table[r.table].table = r.table;
      by_table[r.table].counted = false;
      by_table[r.table].rows.push_back(r);
    }
    for (const auto& [t, tb] : by_table) ASSERT_TRUE(f.store->Apply(tb).ok());
  };
  StoreBatch batch_a, batch_b;
  ASSERT_TRUE(row(0, 0, &batch_a, f.stage.get()).ok());
  ASSERT_TRUE(row(0, 1, &batch_a, f.stage.get()).ok());
  ASSERT_TRUE(f.stage->BeforeApply(&batch_a).ok());  // A merges: p0 = 2, p1 = none yet
  ASSERT_TRUE(row(1, 0, &batch_b, b->get()).ok());
  ASSERT_TRUE((*b)->BeforeApply(&batch_b).ok());  // B merges: p0 = none yet, p1 = 1
  apply(batch_b);
  ASSERT_TRUE((*b)->AfterApply(batch_b).ok());  // p0 has not moved: nothing more
  auto get = [&] {
    auto r = f.store->Get("t.per_country_hour", "France|2024-01-01T10:00:00.000Z");
    return r.ok() ? *r : r.status().ToString();
  };
  EXPECT_NE(get().find(R"("users":1,)"), std::string::npos) << get();
  apply(batch_a);
  EXPECT_NE(get().find(R"("users":2,)"), std::string::npos) << get();  // misses B's record
  ASSERT_TRUE(f.stage->AfterApply(batch_a).ok());
  EXPECT_NE(get().find(R"("users":3,)"), std::string::npos) << get();  // merged again: exact
  EXPECT_EQ(f.probe.results_written.load(), 2u);
}

}  // namespace
}  // namespace dataforge
