// Deleting final state (aggregate_final_states.cc): windows final in every partition, session
// groups whose last session is final in their partition, the list of evicted states and the
// sweep of the state table.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "process/aggregate/aggregate_stage.h"
#include "process/aggregate/testing/stage_fixture.h"

namespace dataforge {
namespace {

using namespace aggregate_testing;

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

TEST(AggregateStageTest, AnIdlePartitionsWatermarkFollowsTheOthersSoDeletionsGoOn) {
  Fixture f;  // two partitions, both held here; only partition 0 has records at first
  f.config.aggregates[0].idle_after_ms = 5 * kMinute;
  f.Open();
  f.held = std::vector<int32_t>{0, 1};
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T12:00:00.000Z").ok());
  f.Commit();
  // Partition 1 is held since that batch: 4 minutes without a record is not idle yet.
  f.clock.now_us += 4 * kMinute * 1000;
  ASSERT_TRUE(f.Row(0, 2, R"("France")", "2024-01-01T12:05:00.000Z").ok());
  auto rows = f.Commit(kStates);
  EXPECT_FALSE(rows.contains("w/1"));
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);
  EXPECT_EQ(f.probe.idle_partitions.load(), 0);
  EXPECT_FALSE(f.store->Get(kStates, "w/1").ok());
  // 6 minutes: idle. Its watermark becomes partition 0's judging one (12:05, from before this
  // batch), written with the batch; the 10:00 window is final everywhere and goes with it.
  f.clock.now_us += 2 * kMinute * 1000;
  ASSERT_TRUE(f.Row(0, 3, R"("France")", "2024-01-01T12:06:00.000Z").ok());
  rows = f.Commit(kStates);
  EXPECT_EQ(rows["w/1"],
            R"({"state_key":"w/1","through":0,"state":"v1 1704110700000 0 1704110700000"})");
  EXPECT_EQ(rows["s/0/France|2024-01-01T10:00:00.000Z"], "deleted");
  EXPECT_EQ(rows.size(), 4u);  // and partition 0's 12:00 state and watermark
  EXPECT_EQ(f.probe.states_deleted.load(), 1u);
  EXPECT_EQ(f.probe.idle_partitions.load(), 1);
  EXPECT_EQ(WindowStates(f.store.get()),
            std::vector<std::string>{"s/0/France|2024-01-01T12:00:00.000Z"});
  // After a restart partition 1 judges from that watermark: a record of the deleted window is
  // late (dead-lettered, its result row untouched), a record within lateness of it counts.
  f.Open();
  ASSERT_TRUE(f.Row(1, 0, R"("France")", "2024-01-01T10:30:00.000Z").ok());
  rows = f.Commit();
  EXPECT_TRUE(rows.empty());
  ASSERT_EQ(f.letters.size(), 1u);
  EXPECT_NE(f.letters[0].reason.find("late record"), std::string::npos) << f.letters[0].reason;
  EXPECT_NE(f.letters[0].reason.find("2024-01-01T12:05:00.000Z"), std::string::npos)
      << f.letters[0].reason;
  ASSERT_TRUE(f.Row(1, 1, R"("France")", "2024-01-01T12:30:00.000Z").ok());
  rows = f.Commit();
  const std::string france12 = "France|2024-01-01T12:00:00.000Z";
  EXPECT_NE(rows[france12].find(R"("users":4,)"), std::string::npos) << rows[france12];
  EXPECT_TRUE(f.letters.empty());
  EXPECT_EQ(f.probe.idle_partitions.load(), 0);  // records again
}

TEST(AggregateStageTest, OnlyAPartitionHeldHereIsAdvancedWhenIdle) {
  Fixture f;  // partition 1 is another member's (not held here) and has had no record
  f.config.aggregates[0].idle_after_ms = 5 * kMinute;
  f.Open();
  f.held = std::vector<int32_t>{0};
  ASSERT_TRUE(f.Row(0, 0, R"("France")", "2024-01-01T10:05:00.000Z").ok());
  ASSERT_TRUE(f.Row(0, 1, R"("France")", "2024-01-01T12:00:00.000Z").ok());
  f.Commit();
  for (int i = 0; i < 3; ++i) {
    f.clock.now_us += 10 * kMinute * 1000;
    ASSERT_TRUE(
        f.Row(0, 2 + i, R"("France")", fmt::format("2024-01-01T1{}:00:00.000Z", 3 + i).c_str())
            .ok());
    auto rows = f.Commit(kStates);
    EXPECT_FALSE(rows.contains("w/1"));
  }
  EXPECT_EQ(f.probe.states_deleted.load(), 0u);
  EXPECT_EQ(WindowStates(f.store.get()).size(), 5u);
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

}  // namespace
}  // namespace dataforge
