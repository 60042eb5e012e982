#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "common/timestamp.h"
#include "expr/testing/call.h"

namespace dataforge::expr {
namespace {

using testing::B;
using testing::Call;
using testing::D;
using testing::I;
using testing::N;
using testing::S;
using testing::T;

// randomuser's dob.date of the first fixture record's form.
const char kDob[] = "1993-07-20T09:44:18.674Z";

int64_t Ms(const char* iso) {
  return *ParseTimestampMillis(iso);
}

TEST(DateFunctions, ToTimestampIso) {
  EXPECT_EQ(Call("to_timestamp", {S(kDob)}), "timestamp 1993-07-20T09:44:18.674Z");
  EXPECT_EQ(Call("to_timestamp", {S("2024-01-02T03:04:05+02:00")}),
            "timestamp 2024-01-02T01:04:05.000Z");
  EXPECT_EQ(Call("to_timestamp", {S("2024-01-02 03:04:05.123456-0800")}),
            "timestamp 2024-01-02T11:04:05.123Z");
  EXPECT_EQ(Call("to_timestamp", {S("2024-02-29")}), "timestamp 2024-02-29T00:00:00.000Z");
  EXPECT_EQ(Call("to_timestamp", {S("2023-02-29")}),
            "error: to_timestamp: cannot parse '2023-02-29' as ISO-8601 (like "
            "2024-01-02T03:04:05.678Z or 2024-01-02); give the format as the second argument");
  EXPECT_EQ(Call("to_timestamp", {S("yesterday")}),
            "error: to_timestamp: cannot parse 'yesterday' as ISO-8601 (like "
            "2024-01-02T03:04:05.678Z or 2024-01-02); give the format as the second argument");
  EXPECT_EQ(Call("to_timestamp", {T(5)}), "timestamp 1970-01-01T00:00:00.005Z");
  EXPECT_EQ(Call("to_timestamp", {N()}), "null");
}

TEST(DateFunctions, ToTimestampFromEpochSeconds) {
  EXPECT_EQ(Call("to_timestamp", {I(1700000000)}), "timestamp 2023-11-14T22:13:20.000Z");
  EXPECT_EQ(Call("to_timestamp", {D(1.5)}), "timestamp 1970-01-01T00:00:01.500Z");
  EXPECT_EQ(Call("to_timestamp", {D(-1.5)}), "timestamp 1969-12-31T23:59:58.500Z");
  EXPECT_EQ(Call("to_timestamp", {D(std::numeric_limits<double>::quiet_NaN())}),
            "error: to_timestamp: NaN seconds since the epoch is outside the supported years "
            "0000-9999");
  EXPECT_EQ(Call("to_timestamp", {I(1'000'000'000'000'000)}),
            "error: to_timestamp: 1000000000000000 seconds since the epoch is outside the "
            "supported years 0000-9999");
  EXPECT_EQ(Call("to_timestamp", {B(true)}),
            "error: to_timestamp: value must be a string, a number or a timestamp, got boolean "
            "true");
}

TEST(DateFunctions, ToTimestampWithFormat) {
  EXPECT_EQ(Call("to_timestamp", {S("20/07/1993 09:44"), S("%d/%m/%Y %H:%M")}),
            "timestamp 1993-07-20T09:44:00.000Z");
  EXPECT_EQ(Call("to_timestamp", {S("Jul 20, 1993 9:44:18 pm"), S("%b %d, %Y %I:%M:%S %p")}),
            "timestamp 1993-07-20T21:44:18.000Z");
  EXPECT_EQ(Call("to_timestamp", {S("12:00 AM 2024-01-01"), S("%I:%M %p %F")}),
            "timestamp 2024-01-01T00:00:00.000Z");
  EXPECT_EQ(Call("to_timestamp", {S("2024-01-01 12:00:00.5 +0530"), S("%F %T.%f %z")}),
            "timestamp 2024-01-01T06:30:00.500Z");
  EXPECT_EQ(Call("to_timestamp", {S("1700000000"), S("%s")}), "timestamp 2023-11-14T22:13:20.000Z");
  EXPECT_EQ(Call("to_timestamp", {S("2024-060"), S("%Y-%j")}),
            "timestamp 2024-02-29T00:00:00.000Z");
  EXPECT_EQ(Call("to_timestamp", {S("Tuesday, 20 July 93"), S("%A, %d %B %y")}),
            "timestamp 1993-07-20T00:00:00.000Z");
  EXPECT_EQ(Call("to_timestamp", {S("100%"), S("%Y%%")}), "timestamp 0100-01-01T00:00:00.000Z");
}

TEST(DateFunctions, ToTimestampFormatErrorsSayWhy) {
  const std::string prefix = "error: to_timestamp: cannot parse ";
  EXPECT_EQ(Call("to_timestamp", {S("2023-13-45"), S("%Y-%m-%d")}),
            prefix + "'2023-13-45' with format '%Y-%m-%d': month 13 is out of range");
  EXPECT_EQ(Call("to_timestamp", {S("2023-02-30"), S("%Y-%m-%d")}),
            prefix + "'2023-02-30' with format '%Y-%m-%d': day 30 does not exist in 2023-02");
  EXPECT_EQ(Call("to_timestamp", {S("2023-01-01x"), S("%Y-%m-%d")}),
            prefix + "'2023-01-01x' with format '%Y-%m-%d': unexpected 'x' at character 11");
  EXPECT_EQ(Call("to_timestamp", {S("2023/01/01"), S("%Y-%m-%d")}),
            prefix + "'2023/01/01' with format '%Y-%m-%d': expected '-' at character 5");
  EXPECT_EQ(Call("to_timestamp", {S("2023-01-01"), S("%Y-%m-%d %H")}),
            prefix +
                "'2023-01-01' with format '%Y-%m-%d %H': expected 1 digit(s) for %H at "
                "character 11");
  EXPECT_EQ(Call("to_timestamp", {S("25:00"), S("%H:%M")}),
            prefix + "'25:00' with format '%H:%M': hour 25 is out of range");
  EXPECT_EQ(Call("to_timestamp", {S("2023"), S("%Q")}),
            prefix + "'2023' with format '%Q': unknown directive '%Q' in the format");
  EXPECT_EQ(Call("to_timestamp", {S("Foo 1 2020"), S("%b %d %Y")}),
            prefix +
                "'Foo 1 2020' with format '%b %d %Y': expected a month name for %b at "
                "character 1");
  EXPECT_EQ(Call("to_timestamp", {S("2023"), I(1)}),
            "error: to_timestamp: format must be a string, got int 1");
}

TEST(DateFunctions, ToTimestampInAZoneAcrossDst) {
  const char* f = "%Y-%m-%d %H:%M";
  EXPECT_EQ(Call("to_timestamp", {S("2024-07-01 12:00"), S(f), S("America/New_York")}),
            "timestamp 2024-07-01T16:00:00.000Z");
  // Berlin springs forward at 2024-03-31 02:00 CET: 02:30 does not exist -> the first instant
  // after the gap.
  EXPECT_EQ(Call("to_timestamp", {S("2024-03-31 02:30"), S(f), S("Europe/Berlin")}),
            "timestamp 2024-03-31T01:00:00.000Z");
  // ... and falls back at 2024-10-27 03:00 CEST: 02:30 happens twice -> the first (CEST).
  EXPECT_EQ(Call("to_timestamp", {S("2024-10-27 02:30"), S(f), S("Europe/Berlin")}),
            "timestamp 2024-10-27T00:30:00.000Z");
  // An offset in the text wins over the zone.
  EXPECT_EQ(Call("to_timestamp",
                 {S("2024-07-01 12:00 Z"), S("%Y-%m-%d %H:%M %z"), S("America/New_York")}),
            "timestamp 2024-07-01T12:00:00.000Z");
  EXPECT_EQ(Call("to_timestamp", {S("2024-01-01"), S("%F"), S("Mars/Olympus")}),
            "error: to_timestamp: unknown time zone 'Mars/Olympus'; use an IANA name such as UTC "
            "or Europe/Berlin");
}

TEST(DateFunctions, FormatTimestamp) {
  EXPECT_EQ(Call("format_timestamp", {T(Ms(kDob))}), "string '1993-07-20T09:44:18.674Z'");
  EXPECT_EQ(Call("format_timestamp", {S(kDob), S("%Y/%m/%d %H:%M:%S.%f")}),
            "string '1993/07/20 09:44:18.674'");
  EXPECT_EQ(Call("format_timestamp", {S(kDob), S("%a %A %b %B %e %j %u %w %y %I %p %V %G %s")}),
            "string 'Tue Tuesday Jul July 20 201 2 2 93 09 AM 29 1993 743161458'");
  EXPECT_EQ(Call("format_timestamp", {S(kDob), S("%F %T %z %Z"), S("Europe/Berlin")}),
            "string '1993-07-20 11:44:18 +0200 CEST'");
  EXPECT_EQ(Call("format_timestamp", {S("2024-07-01T12:00:00Z"), S("%T %z %Z"), S("Asia/Kolkata")}),
            "string '17:30:00 +0530 IST'");
  EXPECT_EQ(
      Call("format_timestamp", {S("2024-07-01T12:00:00Z"), S("%T %z %Z"), S("America/St_Johns")}),
      "string '09:30:00 -0230 NDT'");
  EXPECT_EQ(Call("format_timestamp", {T(-1), S("%s %F %T.%f")}),
            "string '-1 1969-12-31 23:59:59.999'");
  EXPECT_EQ(Call("format_timestamp", {T(0), S("100%% %")}), "string '100% %'");
  EXPECT_EQ(Call("format_timestamp", {S("0000-01-01T00:00:00Z")}),
            "string '0000-01-01T00:00:00.000Z'");
}

TEST(DateFunctions, FormatTimestampAtTheDstEdge) {
  const char* f = "%F %T %z %Z";
  EXPECT_EQ(Call("format_timestamp", {S("2024-03-31T00:59:59.999Z"), S(f), S("Europe/Berlin")}),
            "string '2024-03-31 01:59:59 +0100 CET'");
  EXPECT_EQ(Call("format_timestamp", {S("2024-03-31T01:00:00Z"), S(f), S("Europe/Berlin")}),
            "string '2024-03-31 03:00:00 +0200 CEST'");
}

TEST(DateFunctions, FormatTimestampErrors) {
  EXPECT_EQ(Call("format_timestamp", {T(0), S("%Q")}),
            "error: format_timestamp: unknown directive '%Q' in format '%Q'");
  EXPECT_EQ(Call("format_timestamp", {S("bad"), S("%Y")}),
            "error: format_timestamp: ts must be a timestamp or an ISO-8601 string, got string "
            "'bad'");
  EXPECT_EQ(Call("format_timestamp", {I(5)}),
            "error: format_timestamp: ts must be a timestamp or an ISO-8601 string, got int 5");
  EXPECT_EQ(Call("format_timestamp", {T(253402300800000)}),
            "error: format_timestamp: ts (253402300800000 ms since the epoch) is outside the "
            "supported years 0000-9999");
  EXPECT_EQ(Call("format_timestamp", {T(0), S("%Y"), S("Nowhere")}),
            "error: format_timestamp: unknown time zone 'Nowhere'; use an IANA name such as UTC "
            "or Europe/Berlin");
  EXPECT_EQ(Call("format_timestamp", {N(), S("%Y")}), "null");
  EXPECT_EQ(Call("format_timestamp", {T(0), N()}), "null");
}

TEST(DateFunctions, DateTrunc) {
  const char* ts = "2024-05-12T07:08:09.123Z";  // a Sunday
  EXPECT_EQ(Call("date_trunc", {S("millisecond"), S(ts)}), "timestamp 2024-05-12T07:08:09.123Z");
  EXPECT_EQ(Call("date_trunc", {S("second"), S(ts)}), "timestamp 2024-05-12T07:08:09.000Z");
  EXPECT_EQ(Call("date_trunc", {S("minute"), S(ts)}), "timestamp 2024-05-12T07:08:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("HOUR"), S(ts)}), "timestamp 2024-05-12T07:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("day"), S(ts)}), "timestamp 2024-05-12T00:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("week"), S(ts)}), "timestamp 2024-05-06T00:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("week"), S("2024-05-06T00:00:00Z")}),
            "timestamp 2024-05-06T00:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("month"), S(ts)}), "timestamp 2024-05-01T00:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("quarter"), S(ts)}), "timestamp 2024-04-01T00:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("year"), S(ts)}), "timestamp 2024-01-01T00:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("day"), T(-1)}), "timestamp 1969-12-31T00:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("week"), T(0)}), "timestamp 1969-12-29T00:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("fortnight"), S(ts)}),
            "error: date_trunc: unknown unit string 'fortnight'; use one of millisecond, "
            "second, minute, hour, day, week, month, quarter, year");
  EXPECT_EQ(Call("date_trunc", {S("dow"), S(ts)}),
            "error: date_trunc: unknown unit string 'dow'; use one of millisecond, second, "
            "minute, hour, day, week, month, quarter, year");
  EXPECT_EQ(Call("date_trunc", {N(), S(ts)}), "null");
  EXPECT_EQ(Call("date_trunc", {S("day"), N()}), "null");
}

TEST(DateFunctions, DateTruncInAZoneAcrossDst) {
  // 2024-03-31 in Berlin has 23 hours: its midnight is CET (+01:00).
  EXPECT_EQ(Call("date_trunc", {S("day"), S("2024-03-31T12:00:00Z"), S("Europe/Berlin")}),
            "timestamp 2024-03-30T23:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("day"), S("2024-04-01T12:00:00Z"), S("Europe/Berlin")}),
            "timestamp 2024-03-31T22:00:00.000Z");
  // The repeated hour 02:00-03:00 on 2024-10-27: each instant truncates into its own hour.
  EXPECT_EQ(Call("date_trunc", {S("hour"), S("2024-10-27T00:30:00Z"), S("Europe/Berlin")}),
            "timestamp 2024-10-27T00:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("hour"), S("2024-10-27T01:30:00Z"), S("Europe/Berlin")}),
            "timestamp 2024-10-27T01:00:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("month"), S("2024-06-30T23:30:00Z"), S("Asia/Kolkata")}),
            "timestamp 2024-06-30T18:30:00.000Z");
  EXPECT_EQ(Call("date_trunc", {S("hour"), S("2024-07-01T12:59:00Z"), S("Asia/Kolkata")}),
            "timestamp 2024-07-01T12:30:00.000Z");
}

TEST(DateFunctions, Extract) {
  auto x = [](const char* unit) { return Call("extract", {S(unit), S(kDob)}); };
  EXPECT_EQ(x("year"), "int 1993");
  EXPECT_EQ(x("quarter"), "int 3");
  EXPECT_EQ(x("month"), "int 7");
  EXPECT_EQ(x("week"), "int 29");
  EXPECT_EQ(x("day"), "int 20");
  EXPECT_EQ(x("dow"), "int 2");
  EXPECT_EQ(x("isodow"), "int 2");
  EXPECT_EQ(x("doy"), "int 201");
  EXPECT_EQ(x("hour"), "int 9");
  EXPECT_EQ(x("minute"), "int 44");
  EXPECT_EQ(x("second"), "int 18");
  EXPECT_EQ(x("millisecond"), "int 674");
  EXPECT_EQ(x("epoch"), "int 743161458");
  EXPECT_EQ(x("Year"), "int 1993");
  EXPECT_EQ(Call("extract", {S("epoch"), T(-1500)}), "int -2");
  EXPECT_EQ(Call("extract", {S("dow"), S("2024-05-12")}), "int 0");
  EXPECT_EQ(Call("extract", {S("isodow"), S("2024-05-12")}), "int 7");
  EXPECT_EQ(Call("extract", {S("week"), S("2021-01-03")}), "int 53");
  EXPECT_EQ(Call("extract", {S("week"), S("2024-12-30")}), "int 1");
  EXPECT_EQ(Call("extract", {S("week"), S("2020-12-31")}), "int 53");
  EXPECT_EQ(Call("extract", {S("doy"), S("2024-12-31")}), "int 366");
  EXPECT_EQ(Call("extract", {S("decade"), S(kDob)}),
            "error: extract: unknown unit string 'decade'; use one of millisecond, second, "
            "minute, hour, day, week, month, quarter, year, dow, isodow, doy, epoch");
  EXPECT_EQ(Call("extract", {I(1), S(kDob)}),
            "error: extract: unknown unit int 1; use one of millisecond, second, minute, hour, "
            "day, week, month, quarter, year, dow, isodow, doy, epoch");
  EXPECT_EQ(Call("extract", {S("year"), N()}), "null");
  // A day its month does not have is not a date (not 2 March).
  EXPECT_EQ(Call("extract", {S("day"), S("2023-02-30")}),
            "error: extract: ts must be a timestamp or an ISO-8601 string, got string "
            "'2023-02-30'");
  EXPECT_EQ(Call("extract", {S("day"), S("2024-02-29T23:59:59Z")}), "int 29");
}

TEST(DateFunctions, ExtractInAZone) {
  EXPECT_EQ(Call("extract", {S("hour"), S(kDob), S("Asia/Tokyo")}), "int 18");
  EXPECT_EQ(Call("extract", {S("year"), S("2024-01-01T05:00:00Z"), S("America/Los_Angeles")}),
            "int 2023");
  EXPECT_EQ(Call("extract", {S("hour"), S("2024-03-31T00:59:59.999Z"), S("Europe/Berlin")}),
            "int 1");
  EXPECT_EQ(Call("extract", {S("hour"), S("2024-03-31T01:00:00Z"), S("Europe/Berlin")}), "int 3");
  EXPECT_EQ(Call("extract", {S("epoch"), S(kDob), S("Asia/Tokyo")}), "int 743161458");
  EXPECT_EQ(Call("extract", {S("hour"), S(kDob), S("UTC")}), "int 9");
  EXPECT_EQ(Call("extract", {S("hour"), S(kDob), I(2)}),
            "error: extract: zone must be a time zone name, got int 2");
}

TEST(DateFunctions, Age) {
  EXPECT_EQ(Call("age", {S(kDob), S("2024-07-20T09:44:18.674Z")}), "int 31");
  EXPECT_EQ(Call("age", {S(kDob), S("2024-07-20T09:44:18.673Z")}), "int 30");
  EXPECT_EQ(Call("age", {S(kDob)}, Ms("2026-12-04T00:00:00Z")), "int 33");  // until now()
  EXPECT_EQ(Call("age", {S("2000-02-29"), S("2001-02-28")}), "int 0");
  EXPECT_EQ(Call("age", {S("2000-02-29"), S("2001-03-01")}), "int 1");
  EXPECT_EQ(Call("age", {S("2030-01-01"), S("2024-01-01")}), "int -6");
  EXPECT_EQ(Call("age", {T(0), T(0)}), "int 0");
  EXPECT_EQ(Call("age", {S("born")}),
            "error: age: ts must be a timestamp or an ISO-8601 string, got string 'born'");
  EXPECT_EQ(Call("age", {N()}), "null");
}

TEST(DateFunctions, DateAdd) {
  EXPECT_EQ(Call("date_add", {S("hour"), I(24), S("2024-03-30T11:00:00Z")}),
            "timestamp 2024-03-31T11:00:00.000Z");
  EXPECT_EQ(Call("date_add", {S("minute"), I(-90), S("2024-01-01T00:00:00Z")}),
            "timestamp 2023-12-31T22:30:00.000Z");
  EXPECT_EQ(Call("date_add", {S("millisecond"), I(1), T(-1)}),
            "timestamp 1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Call("date_add", {S("week"), I(2), S("2024-01-01")}),
            "timestamp 2024-01-15T00:00:00.000Z");
  EXPECT_EQ(Call("date_add", {S("month"), I(1), S("2024-01-31T10:00:00Z")}),
            "timestamp 2024-02-29T10:00:00.000Z");
  EXPECT_EQ(Call("date_add", {S("month"), I(1), S("2023-01-31")}),
            "timestamp 2023-02-28T00:00:00.000Z");
  EXPECT_EQ(Call("date_add", {S("year"), I(1), S("2024-02-29")}),
            "timestamp 2025-02-28T00:00:00.000Z");
  EXPECT_EQ(Call("date_add", {S("quarter"), I(-1), S("2024-05-15")}),
            "timestamp 2024-02-15T00:00:00.000Z");
  EXPECT_EQ(Call("date_add", {S("year"), I(9000), S("2024-01-01")}),
            "error: date_add: 2024-01-01T00:00:00.000Z + 9000 year(s) is outside the supported "
            "years 0000-9999");
  EXPECT_EQ(Call("date_add", {S("hour"), I(100'000'000'000), S("2024-01-01")}),
            "error: date_add: 2024-01-01T00:00:00.000Z + 100000000000 hour(s) is outside the "
            "supported years 0000-9999");
  EXPECT_EQ(Call("date_add", {S("dow"), I(1), S("2024-01-01")}),
            "error: date_add: unknown unit string 'dow'; use one of millisecond, second, minute, "
            "hour, day, week, month, quarter, year");
  EXPECT_EQ(Call("date_add", {S("day"), S("x"), S("2024-01-01")}),
            "error: date_add: n must be an int, got string 'x'");
  EXPECT_EQ(Call("date_add", {S("day"), I(1), N()}), "null");
}

TEST(DateFunctions, DateAddDaysKeepTheWallClockAcrossDst) {
  // 12:00 CET + 1 day = 12:00 CEST the next day: 23 hours later.
  EXPECT_EQ(Call("date_add", {S("day"), I(1), S("2024-03-30T11:00:00Z"), S("Europe/Berlin")}),
            "timestamp 2024-03-31T10:00:00.000Z");
  // 03:30 CEST + 1 day = 03:30 CET (after the fall-back): 25 hours later.
  EXPECT_EQ(Call("date_add", {S("day"), I(1), S("2024-10-26T01:30:00Z"), S("Europe/Berlin")}),
            "timestamp 2024-10-27T02:30:00.000Z");
  // In UTC a day is 24 hours.
  EXPECT_EQ(Call("date_add", {S("day"), I(1), S("2024-03-30T11:00:00Z")}),
            "timestamp 2024-03-31T11:00:00.000Z");
}

TEST(DateFunctions, DateDiff) {
  EXPECT_EQ(Call("date_diff", {S("day"), S("2024-01-01"), S("2024-03-01")}), "int 60");
  EXPECT_EQ(Call("date_diff", {S("day"), S("2024-03-01"), S("2024-01-01")}), "int -60");
  EXPECT_EQ(
      Call("date_diff", {S("hour"), S("2024-01-01T00:00:00Z"), S("2024-01-01T01:59:59.999Z")}),
      "int 1");
  EXPECT_EQ(Call("date_diff", {S("millisecond"), T(0), T(-5)}), "int -5");
  EXPECT_EQ(Call("date_diff", {S("week"), S("2024-01-01"), S("2024-01-14T23:59:59Z")}), "int 1");
  EXPECT_EQ(Call("date_diff", {S("month"), S("2024-01-31"), S("2024-02-29")}), "int 0");
  EXPECT_EQ(Call("date_diff", {S("month"), S("2024-01-31"), S("2024-03-31")}), "int 2");
  EXPECT_EQ(Call("date_diff", {S("quarter"), S("2024-01-15"), S("2024-12-31")}), "int 3");
  EXPECT_EQ(Call("date_diff", {S("year"), S(kDob), S("2024-07-20T09:44:18.674Z")}), "int 31");
  EXPECT_EQ(Call("date_diff", {S("year"), S("2024-07-20T09:44:18.674Z"), S(kDob)}), "int -31");
  // Days on Berlin's wall clock: the 23-hour day counts as one.
  EXPECT_EQ(Call("date_diff", {S("day"), S("2024-03-30T11:00:00Z"), S("2024-03-31T10:00:00Z"),
                               S("Europe/Berlin")}),
            "int 1");
  EXPECT_EQ(Call("date_diff", {S("day"), S("2024-03-30T11:00:00Z"), S("2024-03-31T10:00:00Z")}),
            "int 0");
  EXPECT_EQ(Call("date_diff", {S("day"), N(), S("2024-01-01")}), "null");
}

TEST(DateFunctions, Now) {
  EXPECT_EQ(Call("now", {}, Ms(kDob)), "timestamp 1993-07-20T09:44:18.674Z");
  EXPECT_EQ(Call("now", {I(1)}), "bad arity");
}

}  // namespace
}  // namespace dataforge::expr
