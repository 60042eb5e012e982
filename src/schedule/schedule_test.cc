#include "schedule/schedule.h"
#include "schedule/testing/schedule_test_util.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

constexpr int64_t kMinute = 60'000'000;

TEST(ScheduleParseTest, Aliases) {
  int64_t t = At("2026-01-15T10:20Z");  // a Thursday
  EXPECT_EQ(MustParse("@hourly").NextAfter(t, 0), At("2026-01-15T11:00Z"));
  EXPECT_EQ(MustParse("@daily").NextAfter(t, 0), At("2026-01-16T00:00Z"));
  EXPECT_EQ(MustParse("@midnight").NextAfter(t, 0), At("2026-01-16T00:00Z"));
  EXPECT_EQ(MustParse("@weekly").NextAfter(t, 0), At("2026-01-18T00:00Z"));  // Sunday
  EXPECT_EQ(MustParse("@monthly").NextAfter(t, 0), At("2026-02-01T00:00Z"));
  EXPECT_EQ(MustParse("@yearly").NextAfter(t, 0), At("2027-01-01T00:00Z"));
  EXPECT_EQ(MustParse("@annually").NextAfter(t, 0), At("2027-01-01T00:00Z"));
  EXPECT_EQ(MustParse("@Daily").NextAfter(t, 0), At("2026-01-16T00:00Z"));
  // In the schedule's zone: midnight in Berlin is 23:00Z in winter.
  EXPECT_EQ(MustParse("@daily", "Europe/Berlin").NextAfter(t, 0), At("2026-01-15T23:00Z"));
}

TEST(ScheduleParseTest, Once) {
  Schedule s = MustParse("@once");
  EXPECT_TRUE(s.once());
  EXPECT_FALSE(s.interval());
  EXPECT_EQ(s.NextAfter(0, 0), std::nullopt);
  EXPECT_EQ(s.LastAtOrBefore(0, 0), std::nullopt);
}

TEST(ScheduleParseTest, KeepsTextAndZone) {
  Schedule s = MustParse(" 0 2 * * * ", "Europe/Berlin");
  EXPECT_EQ(s.text(), " 0 2 * * * ");
  EXPECT_EQ(s.time_zone(), "Europe/Berlin");
  EXPECT_FALSE(s.once());
  EXPECT_FALSE(s.interval());
}

TEST(ScheduleParseTest, Errors) {
  auto unknown = Schedule::Parse("@fortnightly");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "unknown schedule '@fortnightly'; use @once, @hourly, @daily, @weekly, @monthly, "
            "@yearly, a 5-field cron expression or 'every <duration>'");
  EXPECT_FALSE(Schedule::Parse("").ok());
  EXPECT_FALSE(Schedule::Parse("   ").ok());
  auto zero = Schedule::Parse("every 0s");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(), "interval schedule 'every 0s' must be longer than 0");
  auto bad_unit = Schedule::Parse("every 15x");
  ASSERT_FALSE(bad_unit.ok());
  EXPECT_NE(bad_unit.status().message().find("unknown unit 'x'"), std::string::npos);
}

TEST(ScheduleParseTest, UnknownTimeZone) {
  for (const char* text : {"@daily", "@once", "every 5m", "0 0 * * *"}) {
    auto s = Schedule::Parse(text, "Mars/Base");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(s.status().message(),
              "unknown time zone 'Mars/Base'; use an IANA name such as UTC or Europe/Berlin");
  }
}

TEST(IntervalScheduleTest, Forms) {
  for (const char* text : {"every 15m", "15m", "EVERY  15m", "every 900s"}) {
    Schedule s = MustParse(text);
    EXPECT_TRUE(s.interval()) << text;
    EXPECT_EQ(s.NextAfter(0, 0), 15 * kMinute) << text;
  }
  EXPECT_EQ(MustParse("1h30m").NextAfter(0, 0), 90 * kMinute);
  EXPECT_EQ(MustParse("2d").NextAfter(0, 0), 2 * 24 * 60 * kMinute);
}

TEST(IntervalScheduleTest, BoundariesAreAnchorPlusMultiples) {
  Schedule s = MustParse("every 15m");
  int64_t anchor = At("2026-01-01T00:07Z");
  EXPECT_EQ(s.NextAfter(anchor, anchor), At("2026-01-01T00:22Z"));
  EXPECT_EQ(s.NextAfter(At("2026-01-01T00:22Z"), anchor), At("2026-01-01T00:37Z"));
  EXPECT_EQ(s.LastAtOrBefore(At("2026-01-01T00:22Z"), anchor), At("2026-01-01T00:22Z"));
  EXPECT_EQ(s.LastAtOrBefore(At("2026-01-01T00:21:59Z"), anchor), At("2026-01-01T00:07Z"));
  // Before the anchor: k < 0.
  EXPECT_EQ(s.NextAfter(At("2025-12-31T23:50Z"), anchor), At("2025-12-31T23:52Z"));
  EXPECT_EQ(s.LastAtOrBefore(At("2025-12-31T23:50Z"), anchor), At("2025-12-31T23:37Z"));
  EXPECT_EQ(s.LastAtOrBefore(At("2025-12-31T23:52Z"), anchor), At("2025-12-31T23:52Z"));
}

TEST(ScheduleTest, CopyAndMove) {
  Schedule a = MustParse("0 3 * * *", "Europe/Berlin");
  Schedule b = a;
  EXPECT_EQ(b.text(), "0 3 * * *");
  Schedule c = MustParse("@once");
  c = b;
  EXPECT_EQ(c.time_zone(), "Europe/Berlin");
  Schedule d = std::move(b);
  EXPECT_EQ(d.NextAfter(At("2026-01-01T00:00Z"), 0), At("2026-01-01T02:00Z"));
  c = std::move(d);
  EXPECT_EQ(c.NextAfter(At("2026-01-01T00:00Z"), 0), At("2026-01-01T02:00Z"));
}

// Found by tests/fuzz/schedule_fuzz (corpus/schedule/crash_newline_in_error): the errors quote
// the text, and a newline in it (from a quoted YAML scalar) split the error over lines.
TEST(ScheduleParseTest, ErrorsQuotingTheTextStayOnOneLine) {
  auto d = ParseDuration("30\nm");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(),
            "duration '30\\nm' has a number without a unit; use whole numbers with units ms, s, "
            "m, h or d, such as 30s, 15m or 1h30m");
  auto s = Schedule::Parse("0 24\n* * *");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message().find('\n'), std::string::npos) << s.status().message();
  auto zone = Schedule::Parse("@daily",
                              "Europe/\x01"
                              "Berlin");
  ASSERT_FALSE(zone.ok());
  EXPECT_EQ(zone.status().message().find('\x01'), std::string::npos);
  EXPECT_NE(zone.status().message().find("Europe/\\x01Berlin"), std::string::npos)
      << zone.status().message();
  auto t = ParseDateTime("2024-01-31\r\n06:00");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "date-time '2024-01-31\\r\\n06:00' is not valid; use YYYY-MM-DD, "
            "YYYY-MM-DDTHH:MM[:SS] or either time with Z or an offset such as +02:00");
}

}  // namespace
}  // namespace dataforge
