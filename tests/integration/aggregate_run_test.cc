// process.aggregates with the real binary (issue 20, helper window): `config check` refuses a
// bad aggregate with FILE:LINE and exit 2; `run` over a capture file writes the result table
// (one row per group and window, exact values), dead-letters the late record with its reason,
// and creates the state table beside the result table.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

std::string Uuid(int i) {
  return fmt::format("00000000-0000-4000-8000-{:012d}", i);
}

// A user; `country` "" leaves the field out.
std::string User(int i, const std::string& country, int age, const std::string& time) {
  std::string c = country.empty() ? "" : fmt::format(R"("country":"{}")", country);
  return fmt::format(
      R"({{"login":{{"uuid":"{}"}},"location":{{{}}},"dob":{{"age":{}}},"registered":{{"date":"{}"}}}})",
      Uuid(i), c, age, time);
}

std::string Yaml(const std::string& capture, const std::string& group_by) {
  return fmt::format(
      "dags: {{}}\n"
      "source:\n"
      "  url: file://{}\n"
      "log:\n"
      "  partitions: 1\n"
      "process:\n"
      "  table: dataforge.people\n"
      "  key_column: id\n"
      "  columns:\n"
      "    - {{name: id, type: uuid, path: $key, required: true}}\n"
      "    - {{name: country, path: location.country}}\n"
      "    - {{name: age, type: int, path: dob.age}}\n"
      "    - {{name: registered_at, type: timestamp, path: registered.date}}\n"
      "  aggregates:\n"
      "    - table: dataforge.people_per_country_hour\n"
      "      group_by: [{}]\n"
      "      window: {{type: tumbling, size: 1h, time: registered_at}}\n"
      "      lateness: 10m\n"
      "      values:\n"
      "        - {{name: users, fn: count}}\n"
      "        - {{name: age_sum, fn: sum, of: age}}\n"
      "        - {{name: youngest, fn: min, of: age}}\n"
      "        - {{name: avg_age, fn: avg, of: age}}\n"
      "        - {{name: ages, fn: count_distinct, of: age}}\n",
      capture, group_by);
}

class AggregateRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    capture_ = dir_.Sub("capture.json");
    config_ = dir_.Sub("pipeline.yaml");
    data_ = dir_.Sub("data");
  }
  ProcessResult Df(std::vector<std::string> args) {
    args.insert(args.end(), {"--config", config_, "--data-dir", data_});
    return RunDataforge(args, 180000);
  }
  TempDir dir_;
  std::string capture_, config_, data_;
};

TEST_F(AggregateRunTest, ConfigCheckRefusesAnUnknownGroupByColumnWithItsLine) {
  WriteFile(capture_, "{\"results\":[]}");
  WriteFile(config_, Yaml(capture_, "nation"));
  auto r = Df({"config", "check", config_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(fmt::format("{}:16: group_by column 'nation' is not one of "
                                   "process.columns (id, country, age, registered_at): group by "
                                   "a mapped column",
                                   config_)),
            std::string::npos)
      << r.err;
  r = Df({"run", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(AggregateRunTest, TumblingCountsPerCountryAndHourAndTheLateRecordIsALetter) {
  WriteFile(capture_, "{\"results\":[" + User(1, "France", 30, "2024-01-01T10:05:00Z") + "," +
                          User(2, "France", 40, "2024-01-01T10:50:00Z") + "," +
                          User(3, "Spain", 25, "2024-01-01T10:45:00Z") + "," +
                          User(4, "France", 50, "2024-01-01T11:30:00Z") + "," +
                          User(5, "France", 60, "2024-01-01T10:10:00Z") + "," +  // late
                          User(6, "Spain", 35, "2024-01-01T11:25:00Z") + "," +
                          User(7, "", 20, "2024-01-01T11:40:00Z") + "]}");
  WriteFile(config_, Yaml(capture_, "country"));
  auto r = Df({"config", "check", config_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Df({"run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Df({"table", "scan", "dataforge.people_per_country_hour"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto row = [](const char* key, const char* country, const char* hour, const char* values) {
    return fmt::format(
        R"({{"window_key":"{}","country":{},"window_start":"2024-01-01T{}:00:00.000Z",)"
        R"("window_end":"2024-01-01T{}:00:00.000Z",{}}})",
        key, country, hour, std::stoi(hour) + 1, values);
  };
  std::vector<std::string> expected = {
      row("France|2024-01-01T10:00:00.000Z", "\"France\"", "10",
          R"("users":2,"age_sum":70,"youngest":30,"avg_age":35,"ages":2)"),
      row("France|2024-01-01T11:00:00.000Z", "\"France\"", "11",
          R"("users":1,"age_sum":50,"youngest":50,"avg_age":50,"ages":1)"),
      row("Spain|2024-01-01T10:00:00.000Z", "\"Spain\"", "10",
          R"("users":1,"age_sum":25,"youngest":25,"avg_age":25,"ages":1)"),
      row("Spain|2024-01-01T11:00:00.000Z", "\"Spain\"", "11",
          R"("users":1,"age_sum":35,"youngest":35,"avg_age":35,"ages":1)"),
      row(R"(\\N|2024-01-01T11:00:00.000Z)", "null", "11",
          R"("users":1,"age_sum":20,"youngest":20,"avg_age":20,"ages":1)")};
  EXPECT_EQ(SplitLines(r.out), expected);
  // Every record's row is stored (7), the late one is also a letter naming the window.
  EXPECT_EQ(ScanIds(data_, {"--config", config_}).size(), 7u);
  auto letters = DeadLetters(data_, {"--config", config_});
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(JsonField(letters[0], "reason"),
            "aggregate dataforge.people_per_country_hour: late record: event time "
            "2024-01-01T10:10:00.000Z is more than the lateness 10m behind the watermark "
            "2024-01-01T11:30:00.000Z of partition 0 (window [2024-01-01T10:00:00.000Z, "
            "2024-01-01T11:00:00.000Z) of group 'France'; set late: update to apply such "
            "records, or a larger lateness)");
  EXPECT_EQ(JsonField(letters[0], "payload.login.uuid"), Uuid(5));
  // The state table: one state row per (window, partition) and the partition's watermark.
  r = Df({"table", "scan", "dataforge.people_per_country_hour_state"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out).size(), 6u) << r.out;
}

}  // namespace
}  // namespace dataforge::testing
