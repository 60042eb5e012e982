#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "schedule/schedule.h"
#include "schedule/testing/schedule_test_util.h"

namespace dataforge {
namespace {

std::string ParseError(std::string_view text) {
  auto s = Schedule::Parse(text, "UTC");
  EXPECT_FALSE(s.ok()) << text;
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  return s.status().message();
}

// The next `n` boundaries after `from`, formatted in `tz`.
std::vector<std::string> Next(const Schedule& s, std::string_view from, int n) {
  std::vector<std::string> out;
  int64_t t = At(from);
  for (int i = 0; i < n; ++i) {
    auto next = s.NextAfter(t, 0);
    if (!next) break;
    out.push_back(FormatIso8601(*next, s.time_zone()));
    t = *next;
  }
  return out;
}

TEST(CronParseTest, FieldCount) {
  EXPECT_EQ(ParseError("0 0 * *"),
            "cron expression '0 0 * *' has 4 fields; it needs 5: minute hour day-of-month "
            "month day-of-week");
  EXPECT_EQ(ParseError("* * * * * *"),
            "cron expression '* * * * * *' has 6 fields; it needs 5: minute hour day-of-month "
            "month day-of-week");
}

TEST(CronParseTest, OutOfRangeNamesFieldAndRange) {
  EXPECT_EQ(ParseError("0 24 * * *"), "cron field 'hour' has 24; hours are 0-23");
  EXPECT_EQ(ParseError("60 0 * * *"), "cron field 'minute' has 60; minutes are 0-59");
  EXPECT_EQ(ParseError("0 0 0 * *"), "cron field 'day-of-month' has 0; days of the month are 1-31");
  EXPECT_EQ(ParseError("0 0 * 13 *"), "cron field 'month' has 13; months are 1-12 or jan-dec");
  EXPECT_EQ(ParseError("0 0 * * 8"),
            "cron field 'day-of-week' has 8; days of the week are 0-7 or sun-sat (0 and 7 are "
            "Sunday)");
  EXPECT_EQ(ParseError("x 0 * * *"), "cron field 'minute' has 'x'; minutes are 0-59");
  EXPECT_EQ(ParseError("0 jan * * *"), "cron field 'hour' has 'jan'; hours are 0-23");
}

TEST(CronParseTest, MalformedItems) {
  EXPECT_NE(ParseError("*/0 * * * *").find("step"), std::string::npos);
  EXPECT_NE(ParseError("1,,2 * * * *").find("empty list item"), std::string::npos);
  EXPECT_NE(ParseError("0 5-2 * * *").find("range 5-2"), std::string::npos);
  EXPECT_NE(ParseError("0 0 * * mon-").find("day-of-week"), std::string::npos);
}

// Found by tests/fuzz/schedule_fuzz (corpus/schedule/crash_long_step): a step of more than four
// characters was still accumulated into an int, a signed overflow (undefined behaviour).
TEST(CronParseTest, LongStepIsAnErrorNotAnOverflow) {
  EXPECT_EQ(ParseError("*/123456789012345 * * * *"),
            "cron field 'minute' has '*/123456789012345'; a step must be a whole number of at "
            "least 1");
  EXPECT_EQ(ParseError("0 2/AlaskaAlaska * * *"),
            "cron field 'hour' has '2/AlaskaAlaska'; a step must be a whole number of at least 1");
}

TEST(CronParseTest, NeverFires) {
  EXPECT_EQ(ParseError("0 0 31 2 *"),
            "cron expression '0 0 31 2 *' never fires: none of its days of the month exist in "
            "its months");
  EXPECT_NE(ParseError("0 0 30 2 *").find("never fires"), std::string::npos);
  EXPECT_NE(ParseError("0 0 31 4,6,9,11 *").find("never fires"), std::string::npos);
  // With both day fields restricted either matches, so this fires on Mondays in February.
  EXPECT_TRUE(Schedule::Parse("0 0 31 2 mon").ok());
}

TEST(CronTest, StepsRangesAndLists) {
  EXPECT_EQ(Next(MustParse("*/20 * * * *"), "2026-01-01T00:00:00Z", 4),
            (std::vector<std::string>{"2026-01-01T00:20:00+00:00", "2026-01-01T00:40:00+00:00",
                                      "2026-01-01T01:00:00+00:00", "2026-01-01T01:20:00+00:00"}));
  EXPECT_EQ(Next(MustParse("5 8-12/2 * * *"), "2026-01-01T09:00:00Z", 3),
            (std::vector<std::string>{"2026-01-01T10:05:00+00:00", "2026-01-01T12:05:00+00:00",
                                      "2026-01-02T08:05:00+00:00"}));
  EXPECT_EQ(Next(MustParse("0 1,13 * * *"), "2026-01-01T01:00:00Z", 2),
            (std::vector<std::string>{"2026-01-01T13:00:00+00:00", "2026-01-02T01:00:00+00:00"}));
  // "a/n" runs from a to the end of the field.
  EXPECT_EQ(Next(MustParse("50/5 0 * * *"), "2026-01-01T00:00:00Z", 3),
            (std::vector<std::string>{"2026-01-01T00:50:00+00:00", "2026-01-01T00:55:00+00:00",
                                      "2026-01-02T00:50:00+00:00"}));
}

TEST(CronTest, NamesAreCaseInsensitiveAndSevenIsSunday) {
  // 2026-01-04 is a Sunday.
  std::vector<std::string> sundays = {"2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"};
  EXPECT_EQ(Next(MustParse("0 0 * * 0"), "2026-01-01T00:00:00Z", 2), sundays);
  EXPECT_EQ(Next(MustParse("0 0 * * 7"), "2026-01-01T00:00:00Z", 2), sundays);
  EXPECT_EQ(Next(MustParse("0 0 * * SUN"), "2026-01-01T00:00:00Z", 2), sundays);
  EXPECT_EQ(Next(MustParse("0 0 * * fri-sun"), "2026-01-01T00:00:00Z", 3),
            (std::vector<std::string>{"2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00",
                                      "2026-01-04T00:00:00+00:00"}));
  EXPECT_EQ(Next(MustParse("0 0 1 Mar,dec *"), "2026-01-01T00:00:00Z", 3),
            (std::vector<std::string>{"2026-03-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00",
                                      "2027-03-01T00:00:00+00:00"}));
}

TEST(CronTest, BothDayFieldsRestrictedMatchEither) {
  // The 13th or any Friday: 2026-02-06 (Fri), 02-13 (Fri and the 13th), 02-20, 02-27, 03-06,
  // 03-13 (Fri), ...
  EXPECT_EQ(Next(MustParse("0 0 13 * 5"), "2026-02-01T00:00:00Z", 5),
            (std::vector<std::string>{"2026-02-06T00:00:00+00:00", "2026-02-13T00:00:00+00:00",
                                      "2026-02-20T00:00:00+00:00", "2026-02-27T00:00:00+00:00",
                                      "2026-03-06T00:00:00+00:00"}));
  // A field starting with '*' counts as unrestricted (Vixie), so both must match: odd days
  // that are Mondays (Feb 2026 Mondays: 2, 9, 16, 23).
  EXPECT_EQ(Next(MustParse("0 0 */2 * 1"), "2026-02-01T00:00:00Z", 2),
            (std::vector<std::string>{"2026-02-09T00:00:00+00:00", "2026-02-23T00:00:00+00:00"}));
}

TEST(CronTest, MonthEnds) {
  EXPECT_EQ(Next(MustParse("0 0 31 * *"), "2026-01-31T00:00:00Z", 4),
            (std::vector<std::string>{"2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00",
                                      "2026-07-31T00:00:00+00:00", "2026-08-31T00:00:00+00:00"}));
  EXPECT_EQ(Next(MustParse("@monthly"), "2026-01-15T12:00:00Z", 2),
            (std::vector<std::string>{"2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"}));
  EXPECT_EQ(Next(MustParse("0 0 29 2 *"), "2026-01-01T00:00:00Z", 2),
            (std::vector<std::string>{"2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"}));
  // 2100 is not a leap year.
  EXPECT_EQ(Next(MustParse("0 0 29 2 *"), "2097-01-01T00:00:00Z", 1),
            (std::vector<std::string>{"2104-02-29T00:00:00+00:00"}));
}

TEST(CronTest, NextAfterIsStrictAndLastAtOrBeforeInclusive) {
  Schedule s = MustParse("30 6 * * *");
  EXPECT_EQ(s.NextAfter(At("2026-01-01T06:30Z"), 0), At("2026-01-02T06:30Z"));
  EXPECT_EQ(s.NextAfter(At("2026-01-01T06:29:59.999999Z"), 0), At("2026-01-01T06:30Z"));
  EXPECT_EQ(s.LastAtOrBefore(At("2026-01-01T06:30Z"), 0), At("2026-01-01T06:30Z"));
  EXPECT_EQ(s.LastAtOrBefore(At("2026-01-01T06:29:59Z"), 0), At("2025-12-31T06:30Z"));
  EXPECT_EQ(MustParse("0 0 29 2 *").LastAtOrBefore(At("2028-02-28T00:00Z"), 0),
            At("2024-02-29T00:00Z"));
  EXPECT_EQ(MustParse("0 0 31 * *").LastAtOrBefore(At("2026-05-30T00:00Z"), 0),
            At("2026-03-31T00:00Z"));
}

TEST(CronTest, BeforeTheEpoch) {
  Schedule s = MustParse("@daily");
  EXPECT_EQ(s.NextAfter(At("1969-12-31T12:00Z"), 0), At("1970-01-01T00:00Z"));
  EXPECT_EQ(s.LastAtOrBefore(At("1969-12-31T12:00Z"), 0), At("1969-12-31T00:00Z"));
}

// NextAfter and LastAtOrBefore walk the same boundaries, in zones with DST too.
TEST(CronTest, ForwardAndBackwardAgree) {
  for (const char* tz : {"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"}) {
    for (const char* expr : {"0 * * * *", "*/15 * * * *", "30 2 * * *", "0 0 * * *", "45 1 * * 0",
                             "0 0 13 * 5", "0 3 1 */3 *", "10 2,3 * 3,10,11 *"}) {
      Schedule s = MustParse(expr, tz);
      int64_t t = At("2026-01-01T00:00Z");
      std::vector<int64_t> forward;
      while (t < At("2027-01-01T00:00Z")) {
        auto next = s.NextAfter(t, 0);
        ASSERT_TRUE(next.has_value());
        ASSERT_GT(*next, t);
        ASSERT_EQ(s.LastAtOrBefore(*next, 0), *next) << tz << " " << expr;
        ASSERT_EQ(s.LastAtOrBefore(*next - 1, 0), forward.empty() ? s.LastAtOrBefore(t, 0) : t)
            << tz << " " << expr << " at " << FormatIso8601(*next, tz);
        forward.push_back(*next);
        t = *next;
      }
    }
  }
}

TEST(CronTest, FarFutureSearchIsFast) {
  // A scheduler asks 1,000 DAGs for their next run; rare schedules must not scan minutes.
  Schedule rare = MustParse("0 0 29 2 *", "Europe/Berlin");
  Schedule yearly = MustParse("@yearly", "America/New_York");
  auto start = std::chrono::steady_clock::now();
  int64_t t = At("2026-03-01T00:00Z");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(rare.NextAfter(t + i, 0).has_value());
    ASSERT_TRUE(yearly.NextAfter(t + i, 0).has_value());
    ASSERT_TRUE(rare.LastAtOrBefore(t + i, 0).has_value());
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));  // ~ms in practice; generous for sanitizers
}

}  // namespace
}  // namespace dataforge
