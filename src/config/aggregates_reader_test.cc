#include "config/aggregates_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "config/pipeline_file.h"

namespace dataforge {
namespace {

// A process section with columns id, country, age, city, registered_at and `aggregates` below
// it (line 9 is the first line of the aggregates list).
std::string File(const std::string& aggregates) {
  return "process:\n"
         "  table: ks.users\n"
         "  columns:\n"
         "    - {name: id, type: uuid, path: $key, required: true}\n"
         "    - {name: country, path: location.country}\n"
         "    - {name: age, type: int, path: dob.age}\n"
         "    - {name: city, path: location.city}\n"
         "    - {name: registered_at, type: timestamp, path: registered.date}\n"
         "  aggregates:\n" +
         aggregates;
}

std::string ErrorOf(const std::string& aggregates) {
  auto c = ParsePipelineConfig(File(aggregates), "p.yaml");
  if (c.ok()) return "ok";
  EXPECT_EQ(c.status().code(), StatusCode::kConfigError);
  return c.status().message();
}

const char* kGood =
    "    - table: ks.users_per_country_hour\n"
    "      group_by: [country]\n"
    "      window: {type: tumbling, size: 1h, time: registered_at}\n"
    "      lateness: 10m\n"
    "      late: update\n"
    "      values:\n"
    "        - {name: users, fn: count}\n"
    "        - {name: avg_age, fn: avg, of: age}\n"
    "        - {name: cities, fn: count_distinct, of: city}\n"
    "      distinct_exact_limit: 500\n"
    "      max_final_state_bytes: 1048576\n"
    "      late_update_for: 7d\n"
    "    - table: ks.sessions\n"
    "      window: {type: session, gap: 30m}\n"
    "      values: [{name: n, fn: count}, {name: oldest, fn: max, of: age}]\n"
    "    - table: ks.hopping\n"
    "      group_by: city\n"
    "      window: {type: hopping, size: 1h, advance: 15m, time: registered_at}\n"
    "      values: [{name: first, fn: min, of: registered_at}]\n";

TEST(AggregatesReaderTest, ReadsTheSyntaxOfTheIssue) {
  auto c = ParsePipelineConfig(File(kGood), "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& a = c->process.aggregates;
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].table, "ks.users_per_country_hour");
  EXPECT_EQ(a[0].group_by, std::vector<std::string>{"country"});
  EXPECT_EQ(a[0].window.type, "tumbling");
  EXPECT_EQ(a[0].window.size_ms, 3'600'000);
  EXPECT_EQ(a[0].window.time_column, "registered_at");
  EXPECT_EQ(a[0].lateness_ms, 600'000);
  EXPECT_EQ(a[0].late, "update");
  ASSERT_EQ(a[0].values.size(), 3u);
  EXPECT_EQ(a[0].values[1].fn, "avg");
  EXPECT_EQ(a[0].values[1].of, "age");
  EXPECT_EQ(a[0].values[1].line, 17);
  EXPECT_EQ(a[0].distinct_exact_limit, 500u);
  EXPECT_EQ(a[0].max_final_state_bytes, 1048576u);
  EXPECT_EQ(a[0].late_update_for_ms, int64_t{7} * 86'400'000);
  EXPECT_EQ(a[0].line, 10);
  EXPECT_EQ(a[1].window.type, "session");
  EXPECT_EQ(a[1].window.gap_ms, 1'800'000);
  EXPECT_EQ(a[1].window.time_column, "");  // processing time
  EXPECT_EQ(a[1].late, "deadletter");
  EXPECT_EQ(a[1].lateness_ms, 0);
  EXPECT_EQ(a[1].distinct_exact_limit, 10000u);
  EXPECT_EQ(a[2].max_final_state_bytes, uint64_t{32} << 20);  // the default
  EXPECT_EQ(a[2].late_update_for_ms, std::nullopt);           // for ever
  EXPECT_EQ(a[2].idle_after_ms, std::nullopt);  // a partition without records holds back
  EXPECT_EQ(a[2].window.advance_ms, 900'000);
  EXPECT_EQ(a[2].group_by, std::vector<std::string>{"city"});
}

TEST(AggregatesReaderTest, EachMistakeIsOneLineWithFileLineAndTheFix) {
  const std::string head = "    - table: ks.a\n";
  const std::string win = "      window: {type: tumbling, size: 1h}\n";
  const std::string vals = "      values: [{name: n, fn: count}]\n";
  EXPECT_EQ(ErrorOf(head + "      group_by: [nation]\n" + win + vals),
            "p.yaml:11: group_by column 'nation' is not one of process.columns (id, country, age, "
            "city, registered_at): group by a mapped column");
  EXPECT_EQ(ErrorOf(head + win + vals + "      max_final_state_bytes: 1000\n"),
            "p.yaml:13: max_final_state_bytes is the memory of final states that late: update "
            "applies late records to; with late: deadletter a final state is deleted: remove it, "
            "or set late: update");
  EXPECT_EQ(ErrorOf(head + win + vals + "      late: update\n      max_final_state_bytes: -1\n"),
            "p.yaml:14: 'max_final_state_bytes' is -1; it must be between 0 and 1099511627776");
  EXPECT_EQ(ErrorOf(head + win + vals + "      late_update_for: 1d\n"),
            "p.yaml:13: late_update_for is how long late: update applies late records to a final "
            "window; with late: deadletter none is applied: remove it, or set late: update");
  EXPECT_EQ(ErrorOf(head + win + vals + "      late: update\n      late_update_for: 0s\n"),
            "p.yaml:14: 'late_update_for' is '0s'; it must be at least 1ms");
  EXPECT_EQ(ErrorOf(head + win + vals + "      idle_after: 0s\n"),
            "p.yaml:13: 'idle_after' is '0s'; it must be at least 1ms");
  EXPECT_EQ(
      ErrorOf(head + "      window: {type: session, gap: 30m}\n" + vals + "      idle_after: 5m\n"),
      "p.yaml:13: idle_after is for tumbling and hopping windows: a session is one "
      "partition's, so a partition without records holds back no session's deletion: "
      "remove it");
  EXPECT_EQ(ErrorOf(head + "      window: {type: tumbling, size: 1h, time: age}\n" + vals),
            "p.yaml:11: window time column 'age' is of type int: it must be a timestamp column "
            "(type: timestamp)");
  EXPECT_EQ(ErrorOf(head + "      window: {type: tumbling, size: 1h, time: born}\n" + vals),
            "p.yaml:11: window time column 'born' is not one of process.columns (id, country, "
            "age, city, registered_at): name a timestamp column, or omit 'time' for processing "
            "time");
  EXPECT_EQ(ErrorOf(head + "      window: {type: tumbling, size: 1 hour}\n" + vals),
            "p.yaml:11: 'size' is '1 hour': duration '1 hour' has a number without a unit; use "
            "whole numbers with units ms, s, m, h or d, such as 30s, 15m or 1h30m");
  EXPECT_EQ(ErrorOf(head + "      window: {type: sliding, size: 1h}\n" + vals),
            "p.yaml:11: 'type' is 'sliding'; it must be one of: tumbling, hopping, session");
  EXPECT_EQ(ErrorOf(head + "      window: {type: hopping, size: 1h}\n" + vals),
            "p.yaml:11: a hopping window needs an 'advance' (e.g. advance: 15m)");
  EXPECT_EQ(ErrorOf(head + "      window: {type: hopping, size: 10m, advance: 1h}\n" + vals),
            "p.yaml:11: a hopping window's 'advance' must not exceed its 'size' (records would "
            "fall between windows)");
  EXPECT_EQ(ErrorOf(head + "      window: {type: session, size: 1h}\n" + vals),
            "p.yaml:11: a session window needs a 'gap' (e.g. gap: 30m)");
  EXPECT_EQ(ErrorOf(head + "      window: {type: tumbling, size: 1h, gap: 1m}\n" + vals),
            "p.yaml:11: 'gap' is for session windows: remove it");
  EXPECT_EQ(ErrorOf(head + "      window: {type: tumbling}\n" + vals),
            "p.yaml:11: a tumbling window needs a 'size' (e.g. size: 1h)");
  EXPECT_EQ(ErrorOf(head + vals),
            "p.yaml:10: aggregate ks.a needs a 'window' (e.g. {type: tumbling, size: 1h, time: "
            "registered_at})");
  EXPECT_EQ(ErrorOf(head + win + "      values: [{name: n, fn: median, of: age}]\n"),
            "p.yaml:12: 'fn' is 'median'; it must be one of: count, sum, min, max, avg, "
            "count_distinct");
  EXPECT_EQ(ErrorOf(head + win + "      values: [{name: n, fn: sum, of: city}]\n"),
            "p.yaml:12: value 'n': sum of column 'city' of type text: sum and avg need a number "
            "column (int, bigint, double, decimal)");
  EXPECT_EQ(ErrorOf(head + win + "      values: [{name: n, fn: sum}]\n"),
            "p.yaml:12: value 'n': sum needs 'of: COLUMN' (a column of process.columns)");
  EXPECT_EQ(ErrorOf(head + win + "      values: [{name: n, fn: max, of: height}]\n"),
            "p.yaml:12: value 'n': 'of' column 'height' is not one of process.columns (id, "
            "country, age, city, registered_at)");
  EXPECT_EQ(ErrorOf(head + win + "      values: [{name: n, fn: count}, {name: n, fn: count}]\n"),
            "p.yaml:12: value name 'n' is used twice in aggregate ks.a (group_by columns, "
            "window_key, window_start and window_end included): rename it");
  EXPECT_EQ(ErrorOf(head + win + "      values: []\n"),
            "p.yaml:12: aggregate ks.a needs 'values': a list of {name: N, fn: F, of: COLUMN} "
            "(fn: count, sum, min, max, avg, count_distinct)");
  EXPECT_EQ(ErrorOf(head + win + vals + "      late: drop\n"),
            "p.yaml:13: 'late' is 'drop'; it must be one of: deadletter, update");
  EXPECT_EQ(
      ErrorOf(head + "      window: {type: session, gap: 5m}\n" + vals + "      late: update\n"),
      "p.yaml:13: late: update is not supported for session windows (a final session's "
      "state is dropped): use late: deadletter and a lateness long enough for your data");
  EXPECT_EQ(ErrorOf(head + win + vals + "      lateness: soon\n"),
            "p.yaml:13: 'lateness' is 'soon': duration 'soon' has 'soon' where a number belongs; "
            "use whole numbers with units ms, s, m, h or d, such as 30s, 15m or 1h30m");
  EXPECT_EQ(ErrorOf(head + win + vals + "      colour: red\n").substr(0, 33),
            "p.yaml:13: unknown key 'colour' i");
  EXPECT_EQ(ErrorOf("    - table: users\n" + win + vals),
            "p.yaml:10: aggregate table 'users' must be keyspace.name (e.g. "
            "dataforge.users_per_hour)");
  EXPECT_EQ(ErrorOf("    - table: ks.users\n" + win + vals),
            "p.yaml:10: aggregate table 'ks.users' is process.table: give the aggregate a table "
            "of its own");
  EXPECT_EQ(ErrorOf(head + win + vals + head + win + vals),
            "p.yaml:13: aggregate table 'ks.a' (or its state table 'ks.a_state') is already used "
            "by another aggregate: give each aggregate its own table");
  EXPECT_EQ(ErrorOf(head + win + vals + "    - table: ks.a_state\n" + win + vals),
            "p.yaml:13: aggregate table 'ks.a_state' (or its state table 'ks.a_state_state') is "
            "already used by another aggregate: give each aggregate its own table");
  EXPECT_EQ(ErrorOf("    table: ks.a\n"),
            "p.yaml:10: 'process.aggregates' must be a list of aggregates ({table: ..., "
            "group_by: [...], window: {...}, values: [...]})");
}

// `config show` prints process.aggregates (and expr/where in derived tables) so that reading it
// back gives the same pipeline: nothing of the processing is left out of what it shows.
TEST(AggregatesReaderTest, ConfigShowRoundTripsAggregatesAndExpressions) {
  auto c = ParsePipelineConfig(
      "process:\n"
      "  table: dataforge.users\n"
      "  key_column: id\n"
      "  where: \"nat <> 'XX'\"\n"
      "  columns:\n"
      "    - {name: id, type: uuid, path: login.uuid, required: true}\n"
      "    - {name: country, path: location.country}\n"
      "    - {name: age, type: int, path: dob.age}\n"
      "    - {name: at, type: timestamp, path: registered.date}\n"
      "    - {name: decade, type: int, expr: \"floor(dob.age / 10) * 10\"}\n"
      "  outputs:\n"
      "    - table: dataforge.adults\n"
      "      where: \"dob.age >= 18\"\n"
      "      columns:\n"
      "        - {name: id, type: uuid, path: $key, required: true}\n"
      "        - {name: initial, expr: \"upper(substring(name.first, 1, 1))\"}\n"
      "  aggregates:\n"
      "    - table: dataforge.per_country\n"
      "      group_by: [country, decade]\n"
      "      window: {type: hopping, size: 1h30m, advance: 15m, time: at}\n"
      "      lateness: 10m\n"
      "      late: update\n"
      "      values:\n"
      "        - {name: users, fn: count}\n"
      "        - {name: avg_age, fn: avg, of: age}\n"
      "      distinct_exact_limit: 500\n"
      "      max_final_state_bytes: 0\n"
      "      late_update_for: 36h\n"
      "      idle_after: 2m30s\n"
      "    - table: dataforge.sessions\n"
      "      group_by: [country]\n"
      "      window: {type: session, gap: 30m}\n"
      "      values: [{name: n, fn: count}]\n",
      "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string yaml = PipelineConfigToYaml(*c);
  auto back = ParsePipelineConfig(yaml, "shown.yaml");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << yaml;
  EXPECT_EQ(PipelineConfigToYaml(*back), yaml);
  EXPECT_EQ(back->process.where, "nat <> 'XX'");
  EXPECT_EQ(back->process.columns[4].expr, "floor(dob.age / 10) * 10");
  ASSERT_EQ(back->process.outputs.size(), 1u);
  EXPECT_EQ(back->process.outputs[0].where, "dob.age >= 18");
  EXPECT_EQ(back->process.outputs[0].columns[1].expr, "upper(substring(name.first, 1, 1))");
  ASSERT_EQ(back->process.aggregates.size(), 2u);
  const AggregateSpec& a = back->process.aggregates[0];
  EXPECT_EQ(a.table, "dataforge.per_country");
  EXPECT_EQ(a.group_by, (std::vector<std::string>{"country", "decade"}));
  EXPECT_EQ(a.window.type, "hopping");
  EXPECT_EQ(a.window.size_ms, 5'400'000);
  EXPECT_EQ(a.window.advance_ms, 900'000);
  EXPECT_EQ(a.window.time_column, "at");
  EXPECT_EQ(a.lateness_ms, 600'000);
  EXPECT_EQ(a.late, "update");
  ASSERT_EQ(a.values.size(), 2u);
  EXPECT_EQ(a.values[1].fn, "avg");
  EXPECT_EQ(a.values[1].of, "age");
  EXPECT_EQ(a.distinct_exact_limit, 500u);
  EXPECT_EQ(a.max_final_state_bytes, 0u);
  EXPECT_EQ(a.late_update_for_ms, int64_t{36} * 3'600'000);
  EXPECT_EQ(a.idle_after_ms, 150'000);
  EXPECT_EQ(back->process.aggregates[1].idle_after_ms, std::nullopt);
  EXPECT_EQ(back->process.aggregates[1].window.gap_ms, 1'800'000);
  EXPECT_EQ(back->process.aggregates[1].window.time_column, "");
}

}  // namespace
}  // namespace dataforge
