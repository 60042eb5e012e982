#include "orchestrate/tasks/data_checks.h"

#include <gtest/gtest.h>

namespace dataforge {
namespace {

// 2026-11-24T10:00:00Z
constexpr int64_t kNov24 = 1795514400LL * 1'000'000;
constexpr int64_t kHourUs = 3600LL * 1'000'000;
constexpr int64_t kDayUs = 24 * kHourUs;

struct Outcome {
  Status status;
  std::string summary;
};

Outcome FinishJson(CheckSpec spec, const std::vector<std::string>& rows, int64_t now = kNov24) {
  CheckEvaluator e(std::move(spec));
  for (const auto& r : rows) e.AddJsonRow(r);
  Outcome o;
  o.status = e.Finish(now, &o.summary);
  return o;
}

TEST(DataCheckTest, RowCountPasses) {
  CheckSpec spec;
  spec.min_rows = 1;
  spec.max_rows = 3;
  Outcome o = FinishJson(spec, {"{}", "{}"});
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.summary, "2 rows");
  EXPECT_EQ(FinishJson({}, {"{}"}).summary, "1 row");
}

TEST(DataCheckTest, RowCountBelowMin) {
  CheckSpec spec;
  spec.min_rows = 1;
  Outcome o = FinishJson(spec, {});
  EXPECT_EQ(o.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(o.status.message(), "row count 0 is below min 1");
  EXPECT_EQ(o.summary, "row count 0 is below min 1");
}

TEST(DataCheckTest, RowCountAboveMax) {
  CheckSpec spec;
  spec.max_rows = 2;
  Outcome o = FinishJson(spec, {"{}", "{}", "{}"});
  EXPECT_EQ(o.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(o.status.message(), "row count 3 is above max 2");
}

TEST(DataCheckTest, NotNullPasses) {
  CheckSpec spec;
  spec.not_null = {"email", "name.first"};
  Outcome o = FinishJson(
      spec, {R"({"email":"a@x","name":{"first":"Ann"}})", R"({"email":"","name":{"first":0}})"});
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.summary, "2 rows; email: no nulls; name.first: no nulls");
}

TEST(DataCheckTest, NotNullCountsMissingNullAndNonObjects) {
  CheckSpec spec;
  spec.not_null = {"email"};
  Outcome o = FinishJson(
      spec, {R"({"email":"a@x"})", R"({"email":null})", R"({"other":1})", "[1,2]", "not json"});
  EXPECT_EQ(o.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(o.status.message(), "email: 4 nulls in 5 rows");
  EXPECT_EQ(o.summary, "5 rows; email: 4 nulls in 5 rows");
}

TEST(DataCheckTest, NotNullDottedPath) {
  CheckSpec spec;
  spec.not_null = {"name.first"};
  Outcome o = FinishJson(spec, {R"({"name":{"first":"Ann"}})", R"({"name":{"last":"B"}})",
                                R"({"name":"flat"})", R"({"name.first":"literal key"})"});
  EXPECT_EQ(o.status.message(), "name.first: 2 nulls in 4 rows");
}

TEST(DataCheckTest, UniquePasses) {
  CheckSpec spec;
  spec.unique = {"id"};
  // Nulls and missing values are not values; a string "1" is not the number 1.
  Outcome o = FinishJson(spec, {R"({"id":1})", R"({"id":"1"})", R"({"id":2})", R"({"id":null})",
                                R"({"id":null})", "{}"});
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.summary, "6 rows; id: unique");
}

TEST(DataCheckTest, UniqueCountsDuplicates) {
  CheckSpec spec;
  spec.unique = {"id"};
  Outcome o = FinishJson(spec, {R"({"id":"x"})", R"({"id":"y"})", R"({"id":"x"})", R"({"id":"x"})",
                                R"({"id":"y"})", R"({"id":"z"})"});
  EXPECT_EQ(o.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(o.status.message(), "id: 3 duplicate values, e.g. 'x'");
}

TEST(DataCheckTest, UniqueNumbersAndLongExample) {
  CheckSpec spec;
  spec.unique = {"n", "s"};
  std::string long_value(100, 'v');
  Outcome o = FinishJson(spec, {R"({"n":1.5,"s":")" + long_value + R"("})",
                                R"({"n":1.5,"s":")" + long_value + R"("})"});
  EXPECT_EQ(o.status.message(), "n: 1 duplicate value, e.g. '1.5'; s: 1 duplicate value, e.g. '" +
                                    std::string(57, 'v') + "...'");
}

TEST(DataCheckTest, SeveralFailuresInOneMessage) {
  CheckSpec spec;
  spec.min_rows = 5;
  spec.not_null = {"email", "id"};
  spec.unique = {"id"};
  Outcome o = FinishJson(spec, {R"({"id":"x","email":null})", R"({"id":"x","email":"a"})",
                                R"({"id":"y"})", R"({"id":"z","email":"b"})"});
  EXPECT_EQ(o.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(o.status.message(),
            "row count 4 is below min 5; email: 2 nulls in 4 rows; id: 1 duplicate value, e.g. "
            "'x'");
  EXPECT_EQ(o.summary,
            "row count 4 is below min 5; email: 2 nulls in 4 rows; id: no nulls; id: 1 "
            "duplicate value, e.g. 'x'");
}

TEST(DataCheckTest, SqlRows) {
  CheckSpec spec;
  spec.min_rows = 1;
  spec.not_null = {"email"};
  spec.unique = {"id"};
  spec.fresh_column = "updated";
  spec.fresh_max_age_us = kDayUs;
  CheckEvaluator e(spec);
  std::vector<std::string> cols = {"id", "email", "updated"};
  e.AddSqlRow(cols, {"1", "a@x", "2026-11-24 08:00:00"});
  e.AddSqlRow(cols, {"2", "b@x", "2026-11-23 08:00:00"});
  e.AddSqlRow(cols, {"3", "c@x", std::nullopt});
  std::string summary;
  Status s = e.Finish(kNov24, &summary);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(summary,
            "3 rows; email: no nulls; id: unique; updated newest 2026-11-24T08:00:00Z, 2 h old "
            "<= 1 d");
}

TEST(DataCheckTest, SqlRowsFailing) {
  CheckSpec spec;
  spec.not_null = {"email", "missing_column"};
  spec.unique = {"id"};
  CheckEvaluator e(spec);
  std::vector<std::string> cols = {"id", "email"};
  e.AddSqlRow(cols, {"1", std::nullopt});
  e.AddSqlRow(cols, {"1", "b@x"});
  e.AddSqlRow(cols, {std::nullopt, "c@x"});
  e.AddSqlRow(cols, {std::nullopt, "d@x"});
  std::string summary;
  Status s = e.Finish(kNov24, &summary);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "email: 1 null in 4 rows; missing_column: 4 nulls in 4 rows; id: 1 duplicate value, "
            "e.g. '1'");
}

TEST(DataCheckTest, FreshnessIsoWithOffsetAndFraction) {
  CheckSpec spec;
  spec.fresh_column = "ts";
  spec.fresh_max_age_us = kDayUs;
  // 10:00:00.123+02:00 is 08:00:00.123Z, the newest of the three.
  Outcome o = FinishJson(spec, {R"({"ts":"2026-11-24T10:00:00.123+02:00"})",
                                R"({"ts":"2026-11-24T07:00:00Z"})", R"({"ts":"garbage"})"});
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.summary, "3 rows; ts newest 2026-11-24T08:00:00.123Z, 1 h 59 min 59 s old <= 1 d");
}

TEST(DataCheckTest, FreshnessTooOld) {
  CheckSpec spec;
  spec.fresh_column = "ts";
  spec.fresh_max_age_us = kDayUs;
  Outcome o = FinishJson(spec, {R"({"ts":"2026-11-22T09:30:00Z"})"});
  EXPECT_EQ(o.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(o.status.message(), "ts newest 2026-11-22T09:30:00Z, 2 d 30 min old > 1 d");
}

TEST(DataCheckTest, FreshnessEpochSecondsAndMilliseconds) {
  CheckSpec spec;
  spec.fresh_column = "ts";
  spec.fresh_max_age_us = 2 * kHourUs;
  // Seconds (a JSON number), milliseconds (a number and a numeric string).
  Outcome o = FinishJson(
      spec, {R"({"ts":1795510800})", R"({"ts":1795507200000})", R"({"ts":"1795513500000"})"});
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.summary, "3 rows; ts newest 2026-11-24T09:45:00Z, 15 min old <= 2 h");

  Outcome secs = FinishJson(spec, {R"({"ts":1795510800.5})"});
  EXPECT_EQ(secs.summary, "1 row; ts newest 2026-11-24T09:00:00.500Z, 59 min 59 s old <= 2 h");
}

TEST(DataCheckTest, FreshnessWithoutParseableValue) {
  CheckSpec spec;
  spec.fresh_column = "ts";
  spec.fresh_max_age_us = kDayUs;
  Outcome o = FinishJson(spec, {R"({"ts":"yesterday"})", R"({"ts":null})", "{}"});
  EXPECT_EQ(o.status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(o.status.message(),
            "ts: no parseable timestamp in 3 rows (1 unparseable, e.g. 'yesterday')");
  EXPECT_EQ(FinishJson(spec, {}).status.message(), "ts: no parseable timestamp in 0 rows");
}

TEST(DataCheckTest, FreshnessInTheFutureAndWithoutLimit) {
  CheckSpec spec;
  spec.fresh_column = "ts";
  spec.fresh_max_age_us = kHourUs;
  Outcome future = FinishJson(spec, {R"({"ts":"2026-11-24T10:05:00Z"})"});
  EXPECT_TRUE(future.status.ok());
  EXPECT_EQ(future.summary, "1 row; ts newest 2026-11-24T10:05:00Z, 5 min in the future");
  spec.fresh_max_age_us = 0;
  Outcome nolimit = FinishJson(spec, {R"({"ts":"2026-01-01"})"});
  EXPECT_TRUE(nolimit.status.ok());
  EXPECT_EQ(nolimit.summary, "1 row; ts newest 2026-01-01T00:00:00Z, 327 d 10 h old");
}

TEST(DataCheckTest, FreshnessIsoVariants) {
  CheckSpec spec;
  spec.fresh_column = "ts";
  spec.fresh_max_age_us = 400LL * kDayUs * 10;
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"2026-11-24T10:00:00Z", "2026-11-24T10:00:00Z"},
           {"2026-11-24 10:00:00", "2026-11-24T10:00:00Z"},
           {"2026-11-24T10:00:00-0130", "2026-11-24T11:30:00Z"},
           {"2026-11-24T10:00:00+01:00", "2026-11-24T09:00:00Z"},
           {"2000-02-29T23:59:59.999999Z", "2000-02-29T23:59:59.999Z"},
           {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"},
       }) {
    Outcome o = FinishJson(spec, {R"({"ts":")" + text + R"("})"});
    EXPECT_NE(o.summary.find("newest " + want + ","), std::string::npos)
        << text << " -> " << o.summary;
  }
  for (const std::string bad :
       {"2026-13-01T00:00:00Z", "2026-11-24T10:00:00Q", "2026-11-24T", "24.11.2026", ""}) {
    Outcome o = FinishJson(spec, {R"({"ts":")" + bad + R"("})"});
    EXPECT_FALSE(o.status.ok()) << bad << " -> " << o.summary;
  }
}

TEST(DataCheckTest, NullSummaryPointerIsAllowed) {
  CheckEvaluator e(CheckSpec{});
  e.AddJsonRow("{}");
  EXPECT_TRUE(e.Finish(kNov24, nullptr).ok());
}

}  // namespace
}  // namespace dataforge
