// Airflow data-interval semantics: DueIntervals, NextDueAt, IntervalsStartingIn,
// LatestCompleteInterval.
#include <gtest/gtest.h>

#include "schedule/schedule.h"
#include "schedule/testing/schedule_test_util.h"

namespace dataforge {
namespace {

DataInterval Interval(std::string_view start, std::string_view end) {
  return {At(start), At(end)};
}

class DailyTest : public ::testing::Test {
 protected:
  Schedule daily_ = MustParse("@daily");
  int64_t start_ = At("2026-01-01");
  int64_t now_ = At("2026-01-31T10:00Z");
};

TEST_F(DailyTest, CatchupCreatesEveryEndedInterval) {
  auto due = DueIntervals(daily_, start_, std::nullopt, now_, /*catchup=*/true, 100);
  ASSERT_EQ(due.size(), 30u);
  EXPECT_EQ(due.front(), Interval("2026-01-01", "2026-01-02"));
  EXPECT_EQ(due.back(), Interval("2026-01-30", "2026-01-31"));
  for (size_t i = 1; i < due.size(); ++i) EXPECT_EQ(due[i].start_us, due[i - 1].end_us);
}

TEST_F(DailyTest, CatchupLimitCapsTheBatchAndTheRestFollow) {
  auto first = DueIntervals(daily_, start_, std::nullopt, now_, true, 7);
  ASSERT_EQ(first.size(), 7u);
  EXPECT_EQ(first.back(), Interval("2026-01-07", "2026-01-08"));
  auto rest = DueIntervals(daily_, start_, first.back().start_us, now_, true, 100);
  ASSERT_EQ(rest.size(), 23u);
  EXPECT_EQ(rest.front(), Interval("2026-01-08", "2026-01-09"));
  EXPECT_TRUE(DueIntervals(daily_, start_, std::nullopt, now_, true, 0).empty());
}

TEST_F(DailyTest, NoCatchupCreatesOnlyTheNewest) {
  auto due = DueIntervals(daily_, start_, std::nullopt, now_, /*catchup=*/false, 100);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], Interval("2026-01-30", "2026-01-31"));
  // After a run for Jan 5, the newest is still the only one created.
  due = DueIntervals(daily_, start_, At("2026-01-05"), now_, false, 100);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], Interval("2026-01-30", "2026-01-31"));
}

TEST_F(DailyTest, NothingDueUntilTheNextIntervalEnds) {
  for (bool catchup : {true, false}) {
    EXPECT_TRUE(DueIntervals(daily_, start_, At("2026-01-30"), now_, catchup, 100).empty());
    auto due = DueIntervals(daily_, start_, At("2026-01-30"), At("2026-02-01"), catchup, 100);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0], Interval("2026-01-31", "2026-02-01"));
  }
  EXPECT_EQ(NextDueAt(daily_, start_, At("2026-01-30")), At("2026-02-01T00:00Z"));
  EXPECT_EQ(NextDueAt(daily_, start_, std::nullopt), At("2026-01-02"));
}

TEST_F(DailyTest, NothingBeforeTheFirstIntervalEnds) {
  EXPECT_TRUE(
      DueIntervals(daily_, start_, std::nullopt, At("2026-01-01T23:59Z"), true, 10).empty());
  EXPECT_TRUE(DueIntervals(daily_, start_, std::nullopt, At("2025-12-01"), false, 10).empty());
  auto due = DueIntervals(daily_, start_, std::nullopt, At("2026-01-02"), false, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], Interval("2026-01-01", "2026-01-02"));
}

TEST(DataIntervalTest, StartDateOffBoundaryStartsAtTheNextBoundary) {
  Schedule daily = MustParse("@daily");
  int64_t start = At("2026-01-01T05:00Z");
  auto due = DueIntervals(daily, start, std::nullopt, At("2026-01-10"), true, 100);
  ASSERT_FALSE(due.empty());
  EXPECT_EQ(due.front(), Interval("2026-01-02", "2026-01-03"));
  EXPECT_EQ(NextDueAt(daily, start, std::nullopt), At("2026-01-03"));
  EXPECT_EQ(IntervalsStartingIn(daily, start, At("2025-12-01"), At("2026-01-03")),
            (std::vector<DataInterval>{Interval("2026-01-02", "2026-01-03"),
                                       Interval("2026-01-03", "2026-01-04")}));
  EXPECT_EQ(LatestCompleteInterval(daily, start, At("2026-01-02T12:00Z")),
            (DataInterval{At("2026-01-02T12:00Z"), At("2026-01-02T12:00Z")}));
}

TEST(DataIntervalTest, Once) {
  Schedule once = MustParse("@once");
  int64_t start = At("2026-01-01T05:00Z");
  EXPECT_TRUE(DueIntervals(once, start, std::nullopt, start - 1, true, 10).empty());
  EXPECT_EQ(DueIntervals(once, start, std::nullopt, start, true, 10),
            (std::vector<DataInterval>{{start, start}}));
  EXPECT_EQ(DueIntervals(once, start, std::nullopt, start + 1000, false, 10),
            (std::vector<DataInterval>{{start, start}}));
  EXPECT_TRUE(DueIntervals(once, start, start, At("2030-01-01"), true, 10).empty());
  EXPECT_EQ(NextDueAt(once, start, std::nullopt), start);
  EXPECT_EQ(NextDueAt(once, start, start), std::nullopt);
  EXPECT_EQ(IntervalsStartingIn(once, start, start, start),
            (std::vector<DataInterval>{{start, start}}));
  EXPECT_TRUE(IntervalsStartingIn(once, start, start + 1, start + 10).empty());
  int64_t t = At("2026-02-01");
  EXPECT_EQ(LatestCompleteInterval(once, start, t), (DataInterval{t, t}));
}

TEST(DataIntervalTest, IntervalScheduleIsAnchoredAtStart) {
  Schedule every = MustParse("every 6h");
  int64_t start = At("2026-01-01T01:00Z");
  auto due = DueIntervals(every, start, std::nullopt, At("2026-01-02T00:00Z"), true, 100);
  EXPECT_EQ(due, (std::vector<DataInterval>{Interval("2026-01-01T01:00Z", "2026-01-01T07:00Z"),
                                            Interval("2026-01-01T07:00Z", "2026-01-01T13:00Z"),
                                            Interval("2026-01-01T13:00Z", "2026-01-01T19:00Z")}));
  EXPECT_EQ(IntervalsStartingIn(every, start, At("2026-01-01T08:00Z"), At("2026-01-01T20:00Z")),
            (std::vector<DataInterval>{Interval("2026-01-01T13:00Z", "2026-01-01T19:00Z"),
                                       Interval("2026-01-01T19:00Z", "2026-01-02T01:00Z")}));
  EXPECT_EQ(LatestCompleteInterval(every, start, At("2026-01-01T14:00Z")),
            Interval("2026-01-01T07:00Z", "2026-01-01T13:00Z"));
}

TEST(DataIntervalTest, BackfillRangeIsInclusive) {
  Schedule daily = MustParse("@daily");
  int64_t start = At("2026-01-01");
  auto in = IntervalsStartingIn(daily, start, At("2026-01-10"), At("2026-01-12"));
  EXPECT_EQ(in, (std::vector<DataInterval>{Interval("2026-01-10", "2026-01-11"),
                                           Interval("2026-01-11", "2026-01-12"),
                                           Interval("2026-01-12", "2026-01-13")}));
  EXPECT_EQ(IntervalsStartingIn(daily, start, At("2026-01-10T00:01Z"), At("2026-01-10T23:00Z")),
            std::vector<DataInterval>{});
}

TEST(DataIntervalTest, LatestCompleteIntervalForManualTriggers) {
  Schedule daily = MustParse("@daily", "Europe/Berlin");
  int64_t start = At("2026-01-01T00:00+01:00");
  EXPECT_EQ(LatestCompleteInterval(daily, start, At("2026-01-31T10:00Z")),
            (DataInterval{At("2026-01-30T00:00+01:00"), At("2026-01-31T00:00+01:00")}));
  // Exactly at a boundary, the interval ending there is complete.
  EXPECT_EQ(LatestCompleteInterval(daily, start, At("2026-01-31T00:00+01:00")),
            (DataInterval{At("2026-01-30T00:00+01:00"), At("2026-01-31T00:00+01:00")}));
  // Across spring forward the interval is 23 hours long.
  DataInterval short_day = LatestCompleteInterval(daily, start, At("2026-03-30T12:00Z"));
  EXPECT_EQ(short_day.end_us - short_day.start_us, 23 * 3'600'000'000LL);
  // Before the first interval ends: [t, t].
  int64_t early = At("2026-01-01T12:00Z");
  EXPECT_EQ(LatestCompleteInterval(daily, start, early), (DataInterval{early, early}));
}

}  // namespace
}  // namespace dataforge
