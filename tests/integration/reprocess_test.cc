// `dataforge reprocess` (pipeline/reprocess.h, docs/reprocess.md) with the real binary: a pipeline
// run with mapping A, the mapping changed to B (a column renamed, one added), then the log
// reprocessed into new tables, in place, from an offset, over Kafka, refused while `run` holds the
// data dir, and killed with SIGKILL then run again.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/cql_endpoint.h"
#include "integration/kafka_cluster.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

std::string Uuid(int i) {
  return fmt::format("00000000-0000-4000-8000-{:012d}", i);
}
std::string Person(int i) {
  return fmt::format(R"({{"login":{{"uuid":"{}"}},"email":"p{}@example.com","dob":{{"age":{}}},)"
                     R"("location":{{"city":"City{}"}}}})",
                     Uuid(i), i, 20 + i % 50, i);
}
// Mapping A as `run` stored it, and mapping B as the reprocess must write it.
std::string RowA(int i) {
  return fmt::format(R"({{"id":"{}","email":"p{}@example.com","age":{}}})", Uuid(i), i,
                     20 + i % 50);
}
std::string RowB(int i) {
  return fmt::format(R"({{"id":"{}","mail":"p{}@example.com","age":{},"city":"City{}"}})", Uuid(i),
                     i, 20 + i % 50, i);
}

// Mapping A: id, email, age. Mapping B: email renamed to mail, city added.
std::string PipelineYaml(const std::string& capture, bool b, const std::string& log_url = "",
                         int batch_records = 1000) {
  std::string yaml = fmt::format(
      "dags: {{}}\n"
      "source:\n"
      "  url: file://{}\n"
      "log:\n"
      "  partitions: 1\n{}"
      "tuning:\n"
      "  batch_records: {}\n"
      "process:\n"
      "  table: dataforge.people\n"
      "  key_column: id\n"
      "  columns:\n"
      "    - {{name: id, type: uuid, path: login.uuid, required: true}}\n",
      capture, log_url.empty() ? "" : "  url: " + log_url + "\n", batch_records);
  if (b) {
    yaml +=
        "    - {name: mail, path: email}\n"
        "    - {name: age, type: int, path: dob.age}\n"
        "    - {name: city, path: location.city}\n";
  } else {
    yaml +=
        "    - {name: email, path: email}\n"
        "    - {name: age, type: int, path: dob.age}\n";
  }
  return yaml;
}

class ReprocessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    capture_ = dir_.Sub("capture.json");
    config_ = dir_.Sub("pipeline.yaml");
    data_ = dir_.Sub("data");
    where_ = {"--config", config_, "--data-dir", data_};
  }
  // Runs the pipeline with mapping A over records 1..n, then switches the file to mapping B
  // (with `batch_records` records per batch).
  void RunAThenChange(int n, const std::string& log_url = "", int batch_records = 1000) {
    WriteCapture(n);
    WriteFile(config_, PipelineYaml(capture_, false, log_url));
    auto r = Df({"run", "--no-progress"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    WriteFile(config_, PipelineYaml(capture_, true, log_url, batch_records));
  }
  ProcessResult Df(std::vector<std::string> args) {
    args.insert(args.end(), where_.begin(), where_.end());
    return RunDataforge(args, 180000);
  }
  // Every row of `table` by its `key` column.
  std::map<std::string, std::string> Rows(const std::string& table, const char* key = "id") {
    auto r = Df({"table", "scan", table});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> rows;
    for (const auto& line : SplitLines(r.out)) rows[JsonField(line, key)] = line;
    return rows;
  }
  static std::map<std::string, std::string> Expected(int from, int to, bool b) {
    std::map<std::string, std::string> rows;
    for (int i = from; i <= to; ++i) rows[Uuid(i)] = b ? RowB(i) : RowA(i);
    return rows;
  }
  // The summary's second line without the time and rate, e.g. "read 40 records: stored 40, ...".
  static std::string Counts(const std::string& out) {
    auto lines = SplitLines(out);
    if (lines.size() != 2) return "not two lines: " + out;
    return std::regex_replace(lines[1], std::regex(R"( in [0-9.]+ s \([0-9]+ records/s\))"), "");
  }
  // The capture: records 1..n.
  void WriteCapture(int n) {
    std::string records;
    for (int i = 1; i <= n; ++i) records += (i > 1 ? "," : "") + Person(i);
    WriteFile(capture_, "{\"results\":[" + records + "]}");
  }
  // PipelineYaml's file with two log partitions (over Kafka: the topic's).
  static std::string TwoPartitions(std::string yaml) {
    yaml.replace(yaml.find("partitions: 1"), 13, "partitions: 2");
    return yaml;
  }
  // Mapping A keeps ages under 40 in the derived table people_young and counts people per age
  // in people_per_age; mapping B keeps ages under 30 and also sums the ages.
  static std::string OutputAndAggregateYaml(bool b) {
    std::string yaml = fmt::format(
        "  outputs:\n"
        "    - table: dataforge.people_young\n"
        "      where: \"dob.age < {}\"\n"
        "      columns:\n"
        "        - {{name: id, type: uuid, path: login.uuid, required: true}}\n"
        "        - {{name: age, type: int, path: dob.age}}\n"
        "  aggregates:\n"
        "    - table: dataforge.people_per_age\n"
        "      group_by: [age]\n"
        "      window: {{type: tumbling, size: 1d}}\n"
        "      values:\n"
        "        - {{name: people, fn: count}}\n",
        b ? 30 : 40);
    if (b) yaml += "        - {name: age_sum, fn: sum, of: age}\n";
    return yaml;
  }
  // people_young's rows for records 1..to (ages 21..20+to).
  static std::map<std::string, std::string> Young(int to) {
    std::map<std::string, std::string> rows;
    for (int i = 1; i <= to; ++i) {
      rows[Uuid(i)] = fmt::format(R"({{"id":"{}","age":{}}})", Uuid(i), 20 + i);
    }
    return rows;
  }
  // people_per_age's rows by mapping B: one person per age, and the age summed.
  static void ExpectOnePersonPerAgeWithItsSum(const std::map<std::string, std::string>& rows) {
    ASSERT_EQ(rows.size(), 30u);
    for (const auto& [key, row] : rows) {
      // "<age>|<window start>"; the window is the day of processing.
      const std::string age = key.substr(0, key.find('|')), start = key.substr(key.find('|') + 1);
      EXPECT_EQ(row, fmt::format(R"({{"window_key":"{}","age":{},"window_start":"{}",)"
                                 R"("window_end":"{}","people":1,"age_sum":{}}})",
                                 key, age, start, JsonField(row, "window_end"), age));
    }
  }
  // An aggregate's rows, by window_key.
  std::map<std::string, std::string> PerAge(const std::string& table) {
    return Rows(table, "window_key");
  }
  TempDir dir_;
  std::string capture_, config_, data_;
  std::vector<std::string> where_;
};

TEST_F(ReprocessTest, IntoSuffixBuildsNewTablesWithTheNewMappingAndLeavesTheLiveOnes) {
  RunAThenChange(40);
  ASSERT_EQ(Rows("dataforge.people"), Expected(1, 40, false));

  auto r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people -> dataforge.people_v2 (group "
            "dataforge-processor-reprocess_v2)");
  EXPECT_EQ(Counts(r.out), "read 40 records: stored 40, dead-lettered 0, lost 0, filtered 0");
  EXPECT_EQ(Rows("dataforge.people_v2"), Expected(1, 40, true));
  EXPECT_EQ(Rows("dataforge.people"), Expected(1, 40, false));  // the live table as it was
  StatusJson s = Status(data_, {"--config", config_});  // the live group's counters as they were
  EXPECT_EQ(s.fetched, 40);
  EXPECT_EQ(s.stored, 40);
  EXPECT_EQ(s.dead_lettered, 0);

  // The same command again: the group is done, nothing left to read.
  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people -> dataforge.people_v2 (group "
            "dataforge-processor-reprocess_v2, resumed)");
  EXPECT_EQ(Counts(r.out), "read 0 records: stored 0, dead-lettered 0, lost 0, filtered 0");
  // Another group into the same tables would mix two rebuilds: refused.
  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2", "--group", "other"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: reprocess: dataforge.people_v2 already holds 40 rows, and reprocess group "
            "other has no offsets in the store (it did not write them): choose another "
            "--into-suffix, or pass --group of the reprocess that wrote them to resume it\n");
}

TEST_F(ReprocessTest, InPlaceEmptiesTheTableWithTheFirstBatchAndRebuildsEveryRow) {
  RunAThenChange(30);
  auto r = Df({"reprocess", "--from-beginning", "--in-place"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: reprocess --in-place rewrites the live table dataforge.people (from the "
            "beginning: every row removed first): add --yes to confirm, or rebuild into new "
            "tables with --into-suffix _v2\n");
  EXPECT_EQ(Rows("dataforge.people"), Expected(1, 30, false));

  r = Df({"reprocess", "--from-beginning", "--in-place", "--yes", "--group", "rebuild-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people in place (group rebuild-1, "
            "emptied first)");
  EXPECT_EQ(Counts(r.out), "read 30 records: stored 30, dead-lettered 0, lost 0, filtered 0");
  // Every row has the new shape only: the old column went with the truncate.
  EXPECT_EQ(Rows("dataforge.people"), Expected(1, 30, true));
  StatusJson s = Status(data_, {"--config", config_});
  EXPECT_EQ(s.fetched, 30);
  EXPECT_EQ(s.stored, 30);
  EXPECT_EQ(s.store_rows, 30);
}

// In place with a derived table (process.outputs): the first batch empties it with
// process.table, so a row the changed `where` no longer keeps does not survive the rebuild.
TEST_F(ReprocessTest, InPlaceEmptiesTheDerivedTableTooAndRebuildsItWithTheNewWhere) {
  auto derived = [](int max_age) {
    return fmt::format(
        "  outputs:\n"
        "    - table: dataforge.people_young\n"
        "      where: \"dob.age < {}\"\n"
        "      columns:\n"
        "        - {{name: id, type: uuid, path: login.uuid, required: true}}\n"
        "        - {{name: age, type: int, path: dob.age}}\n",
        max_age);
  };
  WriteCapture(30);
  WriteFile(config_, PipelineYaml(capture_, false) + derived(40));
  auto r = Df({"run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Rows("dataforge.people_young"), Young(19));  // ages 21..39

  WriteFile(config_, PipelineYaml(capture_, true) + derived(30));
  r = Df({"reprocess", "--from-beginning", "--in-place", "--yes", "--group", "rebuild-d"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Counts(r.out), "read 30 records: stored 30, dead-lettered 0, lost 0, filtered 0");
  EXPECT_EQ(Rows("dataforge.people"), Expected(1, 30, true));
  EXPECT_EQ(Rows("dataforge.people_young"), Young(9));  // ages 21..29: 30..39 went
}

// --tables: a derived table and an aggregate beside process.table; each rebuild names some of
// them, and the tables it leaves out keep their rows byte for byte.
TEST_F(ReprocessTest, TablesRebuildsOnlyTheNamedTablesAndLeavesTheOthersAsTheyWere) {
  WriteCapture(30);
  WriteFile(config_, PipelineYaml(capture_, false) + OutputAndAggregateYaml(false));
  auto r = Df({"run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Rows("dataforge.people_young"), Young(19));  // ages 21..39
  const auto counted = PerAge("dataforge.people_per_age");
  ASSERT_EQ(counted.size(), 30u);  // ages 21..50, one person each
  // Batches of 7 records: what empties a table must do so with the first batch only.
  WriteFile(config_, PipelineYaml(capture_, true, "", 7) + OutputAndAggregateYaml(true));

  // The derived table alone, in place: process.table and the aggregate keep mapping A's rows.
  r = Df({"reprocess", "--from-beginning", "--in-place", "--tables", "people_young"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: reprocess --in-place rewrites the live table dataforge.people_young (from "
            "the beginning: every row removed first): add --yes to confirm, or rebuild into new "
            "tables with --into-suffix _v2\n");
  r = Df({"reprocess", "--from-beginning", "--in-place", "--yes", "--tables", "people_young",
          "--group", "young-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people_young in place (group young-1, "
            "emptied first)");
  EXPECT_EQ(Counts(r.out), "read 30 records: stored 30, dead-lettered 0, lost 0, filtered 0");
  EXPECT_EQ(Rows("dataforge.people_young"), Young(9));  // ages 21..29
  EXPECT_EQ(Rows("dataforge.people"), Expected(1, 30, false));
  EXPECT_EQ(PerAge("dataforge.people_per_age"), counted);

  // In place from an offset: refused while an aggregate is among the tables, allowed without.
  r = Df(
      {"reprocess", "--from-offset", "0:20", "--in-place", "--yes", "--tables", "people_per_age"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: reprocess --in-place from an offset or a time keeps the aggregates' "
            "windows, which already hold the records read again: rebuild them with "
            "--from-beginning (every aggregate table emptied first), into new tables with "
            "--into-suffix SUFFIX, or leave them out with --tables\n");
  r = Df({"reprocess", "--from-offset", "0:20", "--in-place", "--yes", "--tables",
          "dataforge.people,people_young", "--group", "tail-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people in place, dataforge.people_young in "
            "place (group tail-1)");
  EXPECT_EQ(Counts(r.out), "read 10 records: stored 10, dead-lettered 0, lost 0, filtered 0");
  // Partial upserts: the ten records read again gained mail and city and kept email.
  int a = 0, upserted = 0;
  for (const auto& [id, row] : Rows("dataforge.people")) {
    int i = std::stoi(id.substr(id.size() - 12));
    if (row == RowA(i)) ++a;
    if (JsonField(row, "mail") == fmt::format("p{}@example.com", i) &&
        JsonField(row, "email") == JsonField(row, "mail") &&
        JsonField(row, "city") == fmt::format("City{}", i)) {
      ++upserted;
    }
  }
  EXPECT_EQ(a, 20);
  EXPECT_EQ(upserted, 10);
  EXPECT_EQ(PerAge("dataforge.people_per_age"), counted);

  // The aggregate alone, in place: its new value in every row; the others as they were.
  const auto people = Rows("dataforge.people");
  r = Df({"reprocess", "--from-beginning", "--in-place", "--yes", "--tables",
          "dataforge.people_per_age", "--group", "per-age-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summed = PerAge("dataforge.people_per_age");
  ExpectOnePersonPerAgeWithItsSum(summed);
  EXPECT_EQ(Rows("dataforge.people"), people);
  EXPECT_EQ(Rows("dataforge.people_young"), Young(9));

  // Into new tables: only the named ones are created, under a group that names them.
  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2", "--tables", "nosuch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: --tables: 'nosuch' is not a table the processor writes; its tables are "
            "dataforge.people, dataforge.people_young, dataforge.people_per_age (name one or "
            "more, comma-separated)\n");
  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2", "--tables",
          "people_per_age,people_young"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people_young -> dataforge.people_young_v2, "
            "dataforge.people_per_age -> dataforge.people_per_age_v2 (group "
            "dataforge-processor-reprocess_v2-people_young-people_per_age)");
  EXPECT_EQ(Rows("dataforge.people_young_v2"), Young(9));
  EXPECT_EQ(PerAge("dataforge.people_per_age_v2").size(), 30u);
  EXPECT_EQ(Df({"table", "count", "dataforge.people_v2"}).exit_code, 1);  // not created
  // process.table's rebuild into _v2 is another group and finds its table new.
  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2", "--tables", "people"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people -> dataforge.people_v2 (group "
            "dataforge-processor-reprocess_v2-people)");
  EXPECT_EQ(Rows("dataforge.people_v2"), Expected(1, 30, true));
  // The live group's counters as the run left them.
  StatusJson s = Status(data_, {"--config", config_});
  EXPECT_EQ(s.fetched, 30);
  EXPECT_EQ(s.stored, 30);
}

TEST_F(ReprocessTest, FromOffsetReadsOnlyFromThereAndBadOffsetsAreRefused) {
  RunAThenChange(25);
  // The log's order: offset k holds the record of the k-th line `topic consume` prints.
  auto c = Df({"topic", "consume", "users_created", "--from-beginning"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  auto lines = SplitLines(c.out);
  ASSERT_EQ(lines.size(), 25u);
  std::map<std::string, std::string> expected;
  for (size_t k = 10; k < lines.size(); ++k) {
    std::string id = JsonField(lines[k], "value.login.uuid");
    int i = std::stoi(id.substr(id.size() - 12));
    expected[id] = RowB(i);
  }
  ASSERT_EQ(expected.size(), 15u);

  auto r = Df({"reprocess", "--from-offset", "0:10", "--into-suffix", "_tail"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Counts(r.out), "read 15 records: stored 15, dead-lettered 0, lost 0, filtered 0");
  EXPECT_EQ(Rows("dataforge.people_tail"), expected);

  // Every record is younger than 2000: --from-time reads them all.
  r = Df({"reprocess", "--from-time", "2000-01-01T00:00:00Z", "--into-suffix", "_all"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Counts(r.out), "read 25 records: stored 25, dead-lettered 0, lost 0, filtered 0");
  EXPECT_EQ(Rows("dataforge.people_all"), Expected(1, 25, true));

  r = Df({"reprocess", "--from-offset", "0:26", "--into-suffix", "_x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: --from-offset 0:26: partition 0 of users_created ends at offset 25 (its "
            "next record gets it): give an offset from 0 to 25\n");
  r = Df({"reprocess", "--from-offset", "3:0", "--into-suffix", "_x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: --from-offset: topic users_created has no partition 3 (it has partitions "
            "0..0)\n");
  r = Df({"reprocess", "--from-offset", "0:ten", "--into-suffix", "_x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: --from-offset: '0:ten' is not PARTITION:OFFSET (whole numbers >= 0), "
            "e.g. --from-offset 0:1200,1:0\n");
  r = Df({"reprocess", "--into-suffix", "_x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: reprocess: say where to start with one of --from-beginning, "
            "--from-offset P:O[,P:O...] or --from-time TIME\n");
  r = Df({"reprocess", "--from-beginning", "--into-suffix", "-v2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: --into-suffix '-v2': use 1 to 48 letters, digits or underscores (it is "
            "appended to table names), e.g. --into-suffix _v2\n");
  EXPECT_EQ(Df({"table", "count", "dataforge.people_x"}).exit_code, 1);  // nothing created
}

TEST_F(ReprocessTest, RecordsGoneFromTheLogAreRefusedThenCountedLostWithAllowLost) {
  // Small segments and a retention the compact task applies once the live group read them.
  WriteFile(config_,
            "source:\n  results_per_page: 200\n"
            "log:\n  partitions: 1\n  segment_bytes: 65536\n  retention_bytes: 262144\n"
            "dags:\n  tidy:\n    schedule: \"@yearly\"\n    start_date: 2026-01-01\n    tasks:\n"
            "      - {id: retention, type: compact, log: true, store: false}\n");
  auto run = Df({"run", "--max-records", "2000", "--no-progress"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto tidy = Df({"dags", "trigger", "tidy", "--wait"});
  ASSERT_EQ(tidy.exit_code, 0) << tidy.out << tidy.err;
  auto d = Df({"topic", "describe", "users_created"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(d.out, m, std::regex(R"("start_offset":([0-9]+),"end_offset":2000)")))
      << d.out;
  const int gone = std::stoi(m[1]);
  ASSERT_GT(gone, 0) << "retention deleted nothing";

  auto r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, fmt::format("dataforge: reprocess: {} records of users_created are no longer "
                               "in the log (partition 0 starts at offset {} (offsets 0..{} were "
                               "deleted)): pass --allow-lost to rebuild from what is left (they "
                               "are counted lost), or start later with --from-offset\n",
                               gone, gone, gone - 1));
  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2", "--allow-lost"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Counts(r.out), fmt::format("read {} records: stored {}, dead-lettered 0, lost {}, "
                                       "filtered 0",
                                       2000 - gone, 2000 - gone, gone));
  auto count = Df({"table", "count", "dataforge.created_users_v2"});
  EXPECT_EQ(count.out, fmt::format("{}\n", 2000 - gone));
  // The reprocess kept its progress in the store only: no group file holds the log's retention.
  EXPECT_TRUE(std::filesystem::exists(data_ + "/log/groups/dataforge-processor.offsets"));
  EXPECT_FALSE(
      std::filesystem::exists(data_ + "/log/groups/dataforge-processor-reprocess_v2.offsets"));
}

TEST_F(ReprocessTest, RefusedWhileRunHoldsTheDataDir) {
  // The built-in API never ends: `run` holds the data dir until it is stopped.
  WriteFile(capture_, "{\"results\":[]}");
  WriteFile(config_, "dags: {}\n");
  auto run = StartDataforge({"run", "--no-progress", "--config", config_, "--data-dir", data_});
  ASSERT_TRUE(WaitFor(
      [&] {
        return StoredNow(data_, {"--config", config_}) > 0;
      },
      60))
      << run.Stderr();
  auto r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, fmt::format("dataforge: reprocess: data dir {} is in use by another dataforge "
                               "process (pid {}): stop that `dataforge run` first (the "
                               "reprocess needs the data dir's embedded log and store to "
                               "itself), then run reprocess again\n",
                               data_, run.pid()));
  run.Signal(SIGINT);
  EXPECT_EQ(run.Wait().exit_code, 0);
}

TEST_F(ReprocessTest, OverKafkaIntoNewTables) {
  MockKafkaCluster kafka(1, {"users_created:1"});
  RunAThenChange(35, kafka.url());
  ASSERT_EQ(Rows("dataforge.people"), Expected(1, 35, false));
  // The data dir remembers its Kafka log (`backends`): no --log needed.
  auto r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Counts(r.out), "read 35 records: stored 35, dead-lettered 0, lost 0, filtered 0");
  EXPECT_EQ(Rows("dataforge.people_v2"), Expected(1, 35, true));
  EXPECT_EQ(Rows("dataforge.people"), Expected(1, 35, false));
  StatusJson s = Status(data_, {"--config", config_});
  EXPECT_EQ(s.stored, 35);
}

TEST_F(ReprocessTest, OverKafkaAndCassandraBesideALiveProcessMember) {
  MockKafkaCluster kafka(1, {"users_created:2"});
  CqlEndpoint cql(dir_.Sub("endpoint"));
  WriteCapture(40);
  auto yaml = [&](bool b) {
    return TwoPartitions(PipelineYaml(capture_, b, kafka.url())) + "store:\n  url: " + cql.url() +
           "\n";
  };
  WriteFile(config_, yaml(false));
  auto run = Df({"run", "--no-progress"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // The live processor goes on as a process member of its own data dir.
  auto member = StartDataforge(
      {"run", "--role", "process", "--config", config_, "--data-dir", dir_.Sub("member")});
  ASSERT_TRUE(WaitFor(
      [&] { return member.Stderr().find("gave this member partitions") != std::string::npos; }, 60))
      << member.Stderr();

  // No lock to take over Kafka and Cassandra: the reprocess runs beside the member.
  WriteFile(config_, yaml(true));
  auto r = RunDataforge({"reprocess", "--from-beginning", "--into-suffix", "_v2", "--config",
                         config_, "--data-dir", dir_.Sub("reprocess")},
                        180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Counts(r.out), "read 40 records: stored 40, dead-lettered 0, lost 0, filtered 0");
  auto scan = Df({"table", "scan", "dataforge.people_v2"});
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  std::set<std::string> ids;
  for (const auto& line : SplitLines(scan.out)) {
    std::string id = JsonField(line, "id");
    int i = std::stoi(id.substr(id.size() - 12));
    EXPECT_EQ(JsonField(line, "mail"), fmt::format("p{}@example.com", i)) << line;
    EXPECT_EQ(JsonField(line, "city"), fmt::format("City{}", i)) << line;
    EXPECT_NE(line.find(fmt::format("\"age\":{}", 20 + i % 50)), std::string::npos) << line;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 40u);
  // The live group's counters and table as they were, the member still running.
  StatusJson s = Status(data_, {"--config", config_});
  EXPECT_EQ(s.stored, 40);
  EXPECT_EQ(Df({"table", "count", "dataforge.people"}).out, "40\n");
  EXPECT_EQ(member.Stderr().find("error"), std::string::npos) << member.Stderr();
  member.Signal(SIGTERM);
  EXPECT_EQ(member.Wait(30000).exit_code, 0);
}

// --tables over Kafka and the Cassandra store (through cql-serve): the aggregate alone rebuilt in
// place (its result and state tables emptied with the first batch, as on RocksDB), then the
// derived table alone into a new table; each time the tables left out keep their rows.
TEST_F(ReprocessTest, TablesOverKafkaAndCassandraRebuildOnlyTheNamedTables) {
  MockKafkaCluster kafka(1, {"users_created:2"});
  CqlEndpoint cql(dir_.Sub("endpoint"));
  WriteCapture(30);
  auto yaml = [&](bool b) {
    return TwoPartitions(PipelineYaml(capture_, b, kafka.url(), b ? 7 : 1000)) +
           OutputAndAggregateYaml(b) + "store:\n  url: " + cql.url() + "\n";
  };
  WriteFile(config_, yaml(false));
  auto r = Df({"run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Rows("dataforge.people"), Expected(1, 30, false));
  ASSERT_EQ(Rows("dataforge.people_young"), Young(19));
  const auto counted = PerAge("dataforge.people_per_age");
  ASSERT_EQ(counted.size(), 30u);
  ASSERT_EQ(Df({"table", "count", "dataforge.people_per_age_state"}).out, "32\n")
      << "30 windows, a watermark row per partition";
  WriteFile(config_, yaml(true));

  // DataForge never alters a Cassandra table (docs/cassandra.md): the new value's column is
  // added as the error says, here with the Python driver through cql-serve.
  const std::vector<std::string> rebuild = {"reprocess", "--from-beginning", "--in-place",
                                            "--yes",     "--tables",         "people_per_age",
                                            "--group",   "per-age-1"};
  r = Df(rebuild);
  ASSERT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err,
            "dataforge: cassandra table dataforge.people_per_age: column age_sum is missing in "
            "Cassandra; run `ALTER TABLE dataforge.people_per_age ADD age_sum bigint` and start "
            "again\n");
  std::string script = dir_.Sub("alter.py");
  WriteFile(script, fmt::format(R"py(
from cassandra.cluster import Cluster
cluster = Cluster(['127.0.0.1'], port={}, protocol_version=4)
cluster.connect().execute('ALTER TABLE dataforge.people_per_age ADD age_sum bigint')
cluster.shutdown()
)py",
                                cql.port()));
  auto py = ChildProcess::Start({"/usr/bin/python3", script}).Wait(60000);
  ASSERT_EQ(py.exit_code, 0) << py.err;
  // Nothing written by the refusal: the rows as the run left them, the new column null.
  auto altered = PerAge("dataforge.people_per_age");
  ASSERT_EQ(altered.size(), 30u);
  for (const auto& [key, row] : altered) {
    EXPECT_EQ(row, counted.at(key).substr(0, counted.at(key).size() - 1) + ",\"age_sum\":null}");
  }
  r = Df(rebuild);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people_per_age in place (group per-age-1, "
            "emptied first)");
  EXPECT_EQ(Counts(r.out), "read 30 records: stored 30, dead-lettered 0, lost 0, filtered 0");
  const auto summed = PerAge("dataforge.people_per_age");
  ExpectOnePersonPerAgeWithItsSum(summed);
  // The state table holds the rebuild's states only: a second copy of any would count twice.
  EXPECT_EQ(Df({"table", "count", "dataforge.people_per_age_state"}).out, "32\n");
  EXPECT_EQ(Rows("dataforge.people"), Expected(1, 30, false));
  EXPECT_EQ(Rows("dataforge.people_young"), Young(19));

  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2", "--tables", "people_young"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people_young -> dataforge.people_young_v2 "
            "(group dataforge-processor-reprocess_v2-people_young)");
  EXPECT_EQ(Rows("dataforge.people_young_v2"), Young(9));
  EXPECT_EQ(Rows("dataforge.people_young"), Young(19));
  EXPECT_EQ(PerAge("dataforge.people_per_age"), summed);
  EXPECT_EQ(Df({"table", "count", "dataforge.people_v2"}).exit_code, 1);  // not created
  EXPECT_EQ(Df({"table", "count", "dataforge.people_per_age_v2"}).exit_code, 1);
  // The live group's counters as the run left them.
  StatusJson s = Status(data_, {"--config", config_});
  EXPECT_EQ(s.stored, 30);
}

// Into new tables whose aggregate results were deleted by hand (here over CQL; TRUNCATE in cqlsh
// on a cluster) but whose state table was left: another group's rebuild is refused. Its state
// rows would judge the new group's records, and skip them as applied already (they include
// offsets 0..29), leaving the result table empty without an error.
TEST_F(ReprocessTest, IntoNewTablesRefusesAStateTableLeftBehindItsDeletedResults) {
  CqlEndpoint cql(dir_.Sub("endpoint"));
  WriteCapture(30);
  WriteFile(config_, PipelineYaml(capture_, true) + OutputAndAggregateYaml(false) +
                         "store:\n  url: " + cql.url() + "\n");
  auto r = Df({"run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2", "--tables", "people_per_age",
          "--group", "first"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(Df({"table", "count", "dataforge.people_per_age_v2"}).out, "30\n");
  // The Python driver deletes every result row and leaves the state table.
  std::string script = dir_.Sub("delete.py");
  WriteFile(script, fmt::format(R"py(
from cassandra.cluster import Cluster
cluster = Cluster(['127.0.0.1'], port={}, protocol_version=4)
session = cluster.connect()
keys = [row[0] for row in session.execute('SELECT window_key FROM dataforge.people_per_age_v2')]
for key in keys:
    session.execute('DELETE FROM dataforge.people_per_age_v2 WHERE window_key = %s', (key,))
print(len(keys))
cluster.shutdown()
)py",
                                cql.port()));
  auto py = ChildProcess::Start({"/usr/bin/python3", script}).Wait(60000);
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_EQ(py.out, "30\n");
  ASSERT_EQ(Df({"table", "count", "dataforge.people_per_age_v2"}).out, "0\n");
  // 30 windows (ages 21..50, one partition) and the partition's watermark row.
  ASSERT_EQ(Df({"table", "count", "dataforge.people_per_age_v2_state"}).out, "31\n");

  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v2", "--tables", "people_per_age",
          "--group", "second"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: reprocess: dataforge.people_per_age_v2_state already holds 31 rows, and "
            "reprocess group second has no offsets in the store (it did not write them): choose "
            "another --into-suffix, or pass --group of the reprocess that wrote them to resume "
            "it\n");
  EXPECT_EQ(Df({"table", "count", "dataforge.people_per_age_v2"}).out, "0\n");
  // Into another suffix the same rebuild has new tables, and every window is back.
  r = Df({"reprocess", "--from-beginning", "--into-suffix", "_v3", "--tables", "people_per_age",
          "--group", "second"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Counts(r.out), "read 30 records: stored 30, dead-lettered 0, lost 0, filtered 0");
  EXPECT_EQ(Df({"table", "count", "dataforge.people_per_age_v3"}).out, "30\n");
}

TEST_F(ReprocessTest, InPlaceKilledThenRunAgainResumesWithoutEmptyingTheTableAgain) {
  // The reprocess in small batches, each one fsynced: long enough to be killed half-way.
  RunAThenChange(4000, "", 5);
  const std::vector<std::string> cmd = {
      "reprocess", "--from-beginning", "--in-place", "--yes",      "--group",
      "rebuild",   "--config",         config_,      "--data-dir", data_};
  auto first = StartDataforge(cmd);
  // Wait until some rebuilt rows are durable (a read-only look at the store), then kill.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto rows = Df({"table", "scan", "dataforge.people", "--limit", "0"});
        return rows.out.find("\"mail\"") != std::string::npos;
      },
      60))
      << first.Stderr();
  first.Signal(SIGKILL);
  EXPECT_EQ(first.Wait().signal, SIGKILL);
  size_t rebuilt_at_kill = 0;
  for (const auto& [id, row] : Rows("dataforge.people")) {
    if (row.find("\"mail\"") != std::string::npos) ++rebuilt_at_kill;
  }
  ASSERT_LT(rebuilt_at_kill, 4000u) << "the reprocess ended before it was killed";

  auto r = Df({"reprocess", "--from-beginning", "--in-place", "--yes", "--group", "rebuild"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SplitLines(r.out)[0],
            "reprocessed users_created into dataforge.people in place (group rebuild, resumed)");
  auto counts = Counts(r.out);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      counts, m,
      std::regex(R"(read ([0-9]+) records: stored \1, dead-lettered 0, lost 0, filtered 0)")))
      << counts;
  // Each record is its own key: the rows at the kill are the records its durable batches held.
  EXPECT_EQ(std::stoul(m[1]), 4000 - rebuilt_at_kill);
  // Exactly the 4000 rows with the new shape: the second run did not empty the table again.
  EXPECT_EQ(Rows("dataforge.people"), Expected(1, 4000, true));
}

}  // namespace
}  // namespace dataforge::testing
