// Cron schedules across DST changes; the rules are in schedule.h and cron.h.
#include <gtest/gtest.h>

#include "schedule/schedule.h"
#include "schedule/testing/schedule_test_util.h"

namespace dataforge {
namespace {

constexpr int64_t kHour = 3'600'000'000;

// Boundaries after `from` up to `to`, as ISO 8601 in the schedule's zone.
std::vector<std::string> Between(const Schedule& s, std::string_view from, std::string_view to) {
  std::vector<std::string> out;
  for (auto t = s.NextAfter(At(from), 0); t && *t <= At(to); t = s.NextAfter(*t, 0)) {
    out.push_back(FormatIso8601(*t, s.time_zone()));
  }
  return out;
}

TEST(DstTest, GapFiresOnceAtFirstInstantAfter) {
  // New York, 2026-03-08: 02:00 EST -> 03:00 EDT; 02:30 does not exist.
  EXPECT_EQ(Between(MustParse("30 2 * * *", "America/New_York"), "2026-03-07T00:00Z",
                    "2026-03-10T00:00Z"),
            (std::vector<std::string>{"2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00",
                                      "2026-03-09T02:30:00-04:00"}));
  // Berlin, 2026-03-29: 02:00 CET -> 03:00 CEST.
  EXPECT_EQ(
      Between(MustParse("30 2 * * *", "Europe/Berlin"), "2026-03-28T00:00Z", "2026-03-31T00:00Z"),
      (std::vector<std::string>{"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00",
                                "2026-03-30T02:30:00+02:00"}));
  // Every wall minute in the gap collapses into one run at 03:00, not four.
  EXPECT_EQ(Between(MustParse("*/15 * * * *", "America/New_York"), "2026-03-08T06:40Z",
                    "2026-03-08T07:20Z"),
            (std::vector<std::string>{"2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00",
                                      "2026-03-08T03:15:00-04:00"}));
}

TEST(DstTest, GapBoundariesSeenBackwards) {
  Schedule s = MustParse("30 2 * * *", "America/New_York");
  EXPECT_EQ(s.LastAtOrBefore(At("2026-03-08T07:00Z"), 0), At("2026-03-08T07:00Z"));
  EXPECT_EQ(s.LastAtOrBefore(At("2026-03-08T06:59:59Z"), 0), At("2026-03-07T07:30Z"));
}

TEST(DstTest, FixedHourFiresAtFirstOccurrenceOnly) {
  // New York, 2026-11-01: 02:00 EDT -> 01:00 EST; 01:30 happens at 05:30Z and 06:30Z.
  Schedule ny = MustParse("30 1 * * *", "America/New_York");
  EXPECT_EQ(Between(ny, "2026-10-31T12:00Z", "2026-11-02T12:00Z"),
            (std::vector<std::string>{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}));
  // Asked from inside the second occurrence, the repeat is still skipped.
  EXPECT_EQ(ny.NextAfter(At("2026-11-01T06:10Z"), 0), At("2026-11-02T06:30Z"));
  EXPECT_EQ(ny.LastAtOrBefore(At("2026-11-01T06:45Z"), 0), At("2026-11-01T05:30Z"));
  // Berlin, 2026-10-25: 03:00 CEST -> 02:00 CET.
  EXPECT_EQ(
      Between(MustParse("30 2 * * *", "Europe/Berlin"), "2026-10-24T12:00Z", "2026-10-26T12:00Z"),
      (std::vector<std::string>{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}));
  // Every two hours is a fixed hour field too.
  EXPECT_EQ(
      Between(MustParse("0 */2 * * *", "Europe/Berlin"), "2026-10-24T23:30Z", "2026-10-25T03:30Z"),
      (std::vector<std::string>{"2026-10-25T02:00:00+02:00", "2026-10-25T04:00:00+01:00"}));
}

TEST(DstTest, HourlyFiresEveryUtcHourThroughFallBack) {
  Schedule s = MustParse("0 * * * *", "America/New_York");
  EXPECT_EQ(Between(s, "2026-11-01T03:30Z", "2026-11-01T07:30Z"),
            (std::vector<std::string>{"2026-11-01T00:00:00-04:00", "2026-11-01T01:00:00-04:00",
                                      "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"}));
  // From the first 01:00 both directions see the repeat.
  EXPECT_EQ(s.NextAfter(At("2026-11-01T05:50Z"), 0), At("2026-11-01T06:00Z"));
  EXPECT_EQ(s.LastAtOrBefore(At("2026-11-01T06:59Z"), 0), At("2026-11-01T06:00Z"));
  // Minute-level schedules too: */30 fires at 01:00, 01:30 of both occurrences.
  EXPECT_EQ(Between(MustParse("*/30 * * * *", "America/New_York"), "2026-11-01T04:59Z",
                    "2026-11-01T07:00Z"),
            (std::vector<std::string>{"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00",
                                      "2026-11-01T01:00:00-05:00", "2026-11-01T01:30:00-05:00",
                                      "2026-11-01T02:00:00-05:00"}));
  // And spring forward skips the missing hour without a duplicate.
  EXPECT_EQ(Between(s, "2026-03-08T05:30Z", "2026-03-08T08:30Z"),
            (std::vector<std::string>{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00",
                                      "2026-03-08T04:00:00-04:00"}));
}

TEST(DstTest, DailyInBerlinIs23And25HoursAcrossChanges) {
  Schedule s = MustParse("@daily", "Europe/Berlin");
  int64_t before_spring = At("2026-03-28T23:00Z");  // 2026-03-29 00:00 CET
  auto after_spring = s.NextAfter(before_spring, 0);
  ASSERT_TRUE(after_spring);
  EXPECT_EQ(FormatIso8601(*after_spring, "Europe/Berlin"), "2026-03-30T00:00:00+02:00");
  EXPECT_EQ(*after_spring - before_spring, 23 * kHour);

  int64_t before_fall = At("2026-10-24T22:00Z");  // 2026-10-25 00:00 CEST
  auto after_fall = s.NextAfter(before_fall, 0);
  ASSERT_TRUE(after_fall);
  EXPECT_EQ(FormatIso8601(*after_fall, "Europe/Berlin"), "2026-10-26T00:00:00+01:00");
  EXPECT_EQ(*after_fall - before_fall, 25 * kHour);
}

TEST(DstTest, IntervalSchedulesIgnoreDst) {
  Schedule s = MustParse("every 1d", "Europe/Berlin");
  int64_t anchor = At("2026-03-28T23:00Z");
  EXPECT_EQ(s.NextAfter(anchor, anchor), anchor + 24 * kHour);
}

}  // namespace
}  // namespace dataforge
