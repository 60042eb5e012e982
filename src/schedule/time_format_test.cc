#include <gtest/gtest.h>

#include "schedule/schedule.h"

namespace dataforge {
namespace {

constexpr int64_t kSecondUs = 1'000'000;
constexpr int64_t kMinuteUs = 60 * kSecondUs;
constexpr int64_t kHourUs = 60 * kMinuteUs;
constexpr int64_t kDayUs = 24 * kHourUs;

std::string Error(const Status& s) {
  return s.ok() ? "OK" : s.message();
}

TEST(DurationTest, Parse) {
  EXPECT_EQ(*ParseDuration("500ms"), 500'000);
  EXPECT_EQ(*ParseDuration("30s"), 30 * kSecondUs);
  EXPECT_EQ(*ParseDuration("15m"), 15 * kMinuteUs);
  EXPECT_EQ(*ParseDuration("2h"), 2 * kHourUs);
  EXPECT_EQ(*ParseDuration("1d"), kDayUs);
  EXPECT_EQ(*ParseDuration("1h30m"), 90 * kMinuteUs);
  EXPECT_EQ(*ParseDuration("1d2h3m4s5ms"),
            kDayUs + 2 * kHourUs + 3 * kMinuteUs + 4 * kSecondUs + 5000);
  EXPECT_EQ(*ParseDuration("0s"), 0);
}

TEST(DurationTest, ParseErrors) {
  for (const char* bad : {"", "15", "m", "15x", "1.5h", "-5m", "1m1h", "1m1m", "15 m", "1h 30m",
                          "99999999999999999999d"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("use whole numbers with units ms, s, m, h or d"),
                std::string::npos)
          << r.status().message();
    }
  }
  EXPECT_EQ(Error(ParseDuration("15x").status()),
            "duration '15x' has unknown unit 'x'; use whole numbers with units ms, s, m, h or d, "
            "such as 30s, 15m or 1h30m");
}

TEST(DurationTest, Format) {
  EXPECT_EQ(FormatDuration(90'000'000), "1m30s");
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(500'000), "500ms");
  EXPECT_EQ(FormatDuration(kDayUs + 2 * kHourUs), "1d2h");
  EXPECT_EQ(FormatDuration(-90 * kMinuteUs), "-1h30m");
  EXPECT_EQ(FormatDuration(1'500), "1ms500us");
  for (const char* text : {"1d2h3m4s5ms", "15m", "1h30m", "500ms"}) {
    EXPECT_EQ(FormatDuration(*ParseDuration(text)), text);
  }
}

TEST(DateTimeTest, ParseUtcForms) {
  const int64_t jan31 = 1'769'817'600 * kSecondUs;  // 2026-01-31T00:00:00Z
  EXPECT_EQ(*ParseDateTime("2026-01-31"), jan31);
  EXPECT_EQ(*ParseDateTime("2026-01-31T06:00"), jan31 + 6 * kHourUs);
  EXPECT_EQ(*ParseDateTime("2026-01-31T06:00:30"), jan31 + 6 * kHourUs + 30 * kSecondUs);
  EXPECT_EQ(*ParseDateTime("2026-01-31 06:00:30"), jan31 + 6 * kHourUs + 30 * kSecondUs);
  EXPECT_EQ(*ParseDateTime("2026-01-31T06:00:00Z"), jan31 + 6 * kHourUs);
  EXPECT_EQ(*ParseDateTime("2026-01-31T06:00:00.25Z"), jan31 + 6 * kHourUs + kSecondUs / 4);
  EXPECT_EQ(*ParseDateTime("2026-01-31T06:00:00+02:00"), jan31 + 4 * kHourUs);
  EXPECT_EQ(*ParseDateTime("2026-01-31T06:00-0530"), jan31 + 11 * kHourUs + 30 * kMinuteUs);
  EXPECT_EQ(*ParseDateTime(" 2026-01-31 "), jan31);
  EXPECT_EQ(*ParseDateTime("1969-12-31T23:59:59Z"), -kSecondUs);
}

TEST(DateTimeTest, WallTimeInZone) {
  const int64_t jan31 = 1'769'817'600 * kSecondUs;
  // Date only = local midnight.
  EXPECT_EQ(*ParseDateTime("2026-01-31", "Europe/Berlin"), jan31 - kHourUs);
  EXPECT_EQ(*ParseDateTime("2026-07-01T12:00", "America/New_York"),
            *ParseDateTime("2026-07-01T16:00Z"));
  // An explicit offset wins over the zone.
  EXPECT_EQ(*ParseDateTime("2026-01-31T00:00Z", "Europe/Berlin"), jan31);
  // In a spring-forward gap: the first instant after it (03:00 EDT = 07:00Z).
  EXPECT_EQ(*ParseDateTime("2026-03-08T02:30", "America/New_York"),
            *ParseDateTime("2026-03-08T07:00Z"));
  // Repeated by fall back: the first occurrence (01:30 EDT).
  EXPECT_EQ(*ParseDateTime("2026-11-01T01:30", "America/New_York"),
            *ParseDateTime("2026-11-01T05:30Z"));
}

TEST(DateTimeTest, ParseErrors) {
  EXPECT_EQ(Error(ParseDateTime("2026-02-30").status()),
            "date '2026-02-30' does not exist: February 2026 has 28 days");
  EXPECT_EQ(Error(ParseDateTime("2028-02-30").status()),
            "date '2028-02-30' does not exist: February 2028 has 29 days");
  EXPECT_TRUE(ParseDateTime("2028-02-29").ok());
  EXPECT_EQ(Error(ParseDateTime("2026-13-01").status()),
            "date '2026-13-01' has month 13; months are 01-12");
  EXPECT_NE(Error(ParseDateTime("2026-01-01T24:00").status()).find("out of range"),
            std::string::npos);
  for (const char* bad : {"", "2026", "2026-1-31", "2026-01-31T6:00", "2026-01-31T06",
                          "2026-01-31T06:00+2", "2026-01-31Z", "yesterday", "2026-01-31T06:00 Z"}) {
    auto r = ParseDateTime(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_EQ(Error(ParseDateTime("2026-01-01", "Mars/Base").status()),
            "unknown time zone 'Mars/Base'; use an IANA name such as UTC or Europe/Berlin");
}

TEST(DateTimeTest, Format) {
  const int64_t t = *ParseDateTime("2026-01-31T06:00:00Z");
  EXPECT_EQ(FormatIso8601(*ParseDateTime("2026-01-31"), "UTC"), "2026-01-31T00:00:00+00:00");
  EXPECT_EQ(FormatIso8601(t, "Europe/Berlin"), "2026-01-31T07:00:00+01:00");
  EXPECT_EQ(FormatIso8601(t, "America/New_York"), "2026-01-31T01:00:00-05:00");
  EXPECT_EQ(FormatIso8601(t, "Asia/Kolkata"), "2026-01-31T11:30:00+05:30");
  EXPECT_EQ(FormatIso8601(t + 1234, "UTC"), "2026-01-31T06:00:00.001234+00:00");
  EXPECT_EQ(FormatIso8601(-kSecondUs, "UTC"), "1969-12-31T23:59:59+00:00");
  EXPECT_EQ(FormatDate(t, "UTC"), "2026-01-31");
  EXPECT_EQ(FormatDateNoDash(t, "UTC"), "20260131");
  // The local date can differ from the UTC date.
  EXPECT_EQ(FormatDate(t, "America/Los_Angeles"), "2026-01-30");
  EXPECT_EQ(FormatDateNoDash(t, "Pacific/Auckland"), "20260131");
  EXPECT_EQ(FormatDate(*ParseDateTime("2026-01-31T23:30Z"), "Pacific/Auckland"), "2026-02-01");
  // Round trip through the zone.
  EXPECT_EQ(*ParseDateTime(FormatIso8601(t, "Asia/Kolkata"), "UTC"), t);
}

// Found by tests/fuzz/pipeline_yaml_fuzz (corpus/pipeline_yaml/crash_lmt_offset_seconds): local
// mean time has offsets with seconds (Berlin +00:53:28 before 1893, Monrovia -00:44:30 until
// 1972); FormatIso8601 dropped them, so `config show` printed a start_date 28 s off and the
// `ts` template variable named another instant.
TEST(DateTimeTest, OffsetsWithSecondsRoundTrip) {
  const int64_t berlin = *ParseDateTime("1013-01-01", "Europe/Berlin");
  EXPECT_EQ(FormatIso8601(berlin, "Europe/Berlin"), "1013-01-01T00:00:00+00:53:28");
  EXPECT_EQ(*ParseDateTime(FormatIso8601(berlin, "Europe/Berlin")), berlin);
  const int64_t monrovia = *ParseDateTime("1971-06-01T12:00:00", "Africa/Monrovia");
  EXPECT_EQ(monrovia, *ParseDateTime("1971-06-01T12:44:30Z"));
  EXPECT_EQ(FormatIso8601(monrovia, "Africa/Monrovia"), "1971-06-01T12:00:00-00:44:30");
  EXPECT_EQ(*ParseDateTime("1971-06-01T12:00:00-00:44:30"), monrovia);
  EXPECT_EQ(Error(ParseDateTime("2026-01-01T00:00+01:00:60").status()),
            "date-time '2026-01-01T00:00+01:00:60' is not valid; use YYYY-MM-DD, "
            "YYYY-MM-DDTHH:MM[:SS] or either time with Z or an offset such as +02:00");
}

TEST(TimeZoneTest, IsTimeZone) {
  EXPECT_TRUE(IsTimeZone("UTC"));
  EXPECT_TRUE(IsTimeZone("Europe/Berlin"));
  EXPECT_TRUE(IsTimeZone("America/New_York"));
  EXPECT_FALSE(IsTimeZone("Mars/Base"));
  EXPECT_FALSE(IsTimeZone(""));
  EXPECT_FALSE(IsTimeZone("europe/berlin"));
  EXPECT_TRUE(IsTimeZone("Europe/Berlin"));  // cached
}

}  // namespace
}  // namespace dataforge
