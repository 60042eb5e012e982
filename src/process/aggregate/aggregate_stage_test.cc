#include "process/aggregate/aggregate_stage.h"

#include <gtest/gtest.h>

#include <map>

#include <fmt/format.h>

#include "common/base64.h"
#include "common/timestamp.h"
#include "process/aggregate/testing/stage_fixture.h"

namespace dataforge {
namespace {

using namespace aggregate_testing;

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
