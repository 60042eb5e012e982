// The AggregateStage inside a real Processor over the embedded log and a RocksDB store, with a
// restart in the middle: the result table equals a computation over all records, exactly.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <simdjson.h>

#include "process/aggregate/aggregate_stage.h"
#include "process/processor.h"

namespace dataforge {
namespace {

ProcessConfig Config() {
  ProcessConfig p;
  p.group = "g";
  p.table = "t.users";
  p.key_column = "id";
  for (auto [name, type, path] : std::vector<std::tuple<const char*, const char*, const char*>>{
           {"id", "text", "$key"},
           {"country", "text", "country"},
           {"age", "int", "age"},
           {"registered_at", "timestamp", "t"}}) {
    ColumnSpec c;
    c.name = name;
    c.type = type;
    c.paths = {path};
    p.columns.push_back(c);
  }
  AggregateSpec a;
  a.table = "t.per_country_hour";
  a.group_by = {"country"};
  a.window.type = "tumbling";
  a.window.size_ms = 3'600'000;
  a.window.time_column = "registered_at";
  a.lateness_ms = 86'400'000;
  a.values = {{"users", "count", "", 0},
              {"age_sum", "sum", "age", 0},
              {"ages", "count_distinct", "age", 0}};
  p.aggregates.push_back(a);
  return p;
}

// A processor of `config` with its aggregate stage over topic "t" (3 partitions) of `log` and
// the RocksDB store in `dir`, batches of 40, for `batches` batches (< 0: until caught up); then
// it stops, as a process would. The stage reads `stage_clock`.
void RunAggregates(Log* log, const std::string& dir, const ProcessConfig& config, int batches,
                   Clock* stage_clock = Clock::Real()) {
  auto mapper = Mapper::Create(config);
  ASSERT_TRUE(mapper.ok()) << mapper.status().ToString();
  ProcessorProbe probe;
  AggregateProbe agg_probe;
  auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
  ASSERT_TRUE(store.ok());
  auto stage = AggregateStage::Create(config, store->get(), stage_clock, "t", 3, &agg_probe);
  ASSERT_TRUE(stage.ok());
  ASSERT_TRUE((*stage)->EnsureTables().ok());
  Processor p(log, store->get(), &*mapper, config, "t", 40, Clock::Real(), &probe);
  p.AddStage(stage->get());
  ASSERT_TRUE(p.Start().ok());
  for (int b = 0; batches < 0 || b < batches; ++b) {
    auto n = p.RunOnce();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    if (*n == 0) break;
  }
  ASSERT_TRUE(p.Close().ok());
}

struct Expected {
  int64_t users = 0, age_sum = 0;
  std::set<int> ages;
};

// 100 records in each of the first `filled` of the 3 partitions of topic "t": 5 hours, in time
// order within a partition. Returns the expected values by window key.
std::map<std::string, Expected> FillLog(Log* log, int filled = 3) {
  EXPECT_TRUE(log->CreateTopic("t", 3).ok());
  const char* countries[] = {"France", "Spain", "Peru", "Chad"};
  std::map<std::string, Expected> expected;  // window key -> values
  for (int p = 0; p < filled; ++p) {
    std::vector<LogRecord> records;
    for (int i = 0; i < 100; ++i) {
      int n = p * 100 + i;
      std::string country = countries[(n * 7) % 4];
      int hour = i / 20;  // 5 hours, in time order within the partition
      int age = 18 + (n * 13) % 50;
      std::string t = fmt::format("2024-01-01T{:02}:{:02}:00.000Z", 10 + hour, i % 20);
      records.push_back({fmt::format("u{}", n),
                         fmt::format(R"({{"country":"{}","age":{},"t":"{}"}})", country, age, t),
                         1,
                         {}});
      Expected& e = expected[fmt::format("{}|2024-01-01T{:02}:00:00.000Z", country, 10 + hour)];
      ++e.users;
      e.age_sum += age;
      e.ages.insert(age);
    }
    EXPECT_TRUE(log->Append("t", p, records).ok());
  }
  return expected;
}

std::map<std::string, std::string> TableRows(Store* store, const std::string& table) {
  std::map<std::string, std::string> rows;
  EXPECT_TRUE(store
                  ->Scan(table, "", 0,
                         [&](const std::string& k, const std::string& v) {
                           rows[k] = v;
                           return true;
                         })
                  .ok());
  return rows;
}

void ExpectResults(Store* store, const std::map<std::string, Expected>& expected,
                   uint64_t records = 300) {
  EXPECT_EQ(store->Counters()->stored, records);
  EXPECT_EQ(store->Count("t.users").value(), records);
  std::map<std::string, std::string> rows = TableRows(store, "t.per_country_hour");
  ASSERT_EQ(rows.size(), expected.size());
  simdjson::dom::parser parser;
  for (const auto& [key, e] : expected) {
    ASSERT_TRUE(rows.count(key)) << key;
    simdjson::dom::element row = parser.parse(rows[key]).value();
    EXPECT_EQ(int64_t(row["users"]), e.users) << key;
    EXPECT_EQ(int64_t(row["age_sum"]), e.age_sum) << key;
    EXPECT_EQ(int64_t(row["ages"]), static_cast<int64_t>(e.ages.size())) << key;
  }
}

// The 300 records of FillLog aggregated by `config` in a fresh dir `dir`: `first_batches`
// batches, a restart, the rest; then every result row compared with the expected values.
// Returns the store, open again.
std::unique_ptr<Store> RunWithARestartThenExpectExact(const std::string& dir,
                                                      const ProcessConfig& config,
                                                      int first_batches) {
  auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {});
  EXPECT_TRUE(log.ok());
  if (!log.ok()) return nullptr;
  std::map<std::string, Expected> expected = FillLog(log->get());
  RunAggregates(log->get(), dir, config, first_batches);  // then the process stops
  RunAggregates(log->get(), dir, config, -1);
  auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
  EXPECT_TRUE(store.ok());
  if (!store.ok()) return nullptr;
  ExpectResults(store->get(), expected);
  return std::move(*store);
}

TEST(AggregateProcessorTest, RestartInTheMiddleGivesTheExactResultOverRocksDb) {
  char tmpl[] = "/tmp/df_aggp_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  // 120 of 300 records, a restart, the rest.
  ASSERT_NE(RunWithARestartThenExpectExact(dir, Config(), 3), nullptr);
  std::filesystem::remove_all(dir);
}

// With late: deadletter and no lateness, the states of hours final in every partition are
// deleted as the partitions move on, across a restart, and the results stay exact.
TEST(AggregateProcessorTest, FinalStatesAreDeletedAndTheResultsStayExact) {
  char tmpl[] = "/tmp/df_aggp_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  ProcessConfig config = Config();
  config.aggregates[0].lateness_ms = 0;
  // 160 of 300 records, a restart, the rest.
  std::unique_ptr<Store> store = RunWithARestartThenExpectExact(dir, config, 4);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Counters()->dead_lettered, 0u);
  // Hours 10:00 and 11:00 ended long before every partition's last batch: their 4 countries x
  // 3 partitions of state rows are gone; hour 14:00 is still open everywhere.
  int early = 0, open = 0;
  for (const auto& [key, row] : TableRows(store.get(), "t.per_country_hour_state")) {
    early += key.find("T10:00") != std::string::npos || key.find("T11:00") != std::string::npos;
    open += key.find("T14:00") != std::string::npos;
  }
  EXPECT_EQ(early, 0);
  EXPECT_GT(open, 0);
  store.reset();
  std::filesystem::remove_all(dir);
}

// Processing time that moves 10 minutes at each reading.
class TickingClock final : public Clock {
 public:
  int64_t NowMicros() override { return now_us_ += 600'000'000; }
  int64_t MonotonicMicros() override { return now_us_ += 600'000'000; }
  bool SleepFor(int64_t, std::stop_token) override { return true; }

 private:
  int64_t now_us_ = 1'700'000'000'000'000;
};

// Partition 2 never gets a record. Without idle_after it holds back the deletion of every final
// window's state; with idle_after (5 minutes of the stage's clock, i.e. from its second batch on)
// it is idle, its watermark follows the other two, and the early hours' state rows go. The
// results are exact either way.
TEST(AggregateProcessorTest, AnIdlePartitionHoldsNoDeletionBackWithIdleAfter) {
  for (bool idle_after : {false, true}) {
    SCOPED_TRACE(idle_after ? "idle_after: 5m" : "no idle_after");
    char tmpl[] = "/tmp/df_aggp_XXXXXX";
    std::string dir = mkdtemp(tmpl);
    ProcessConfig config = Config();
    config.aggregates[0].lateness_ms = 0;
    if (idle_after) config.aggregates[0].idle_after_ms = 300'000;
    {
      auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {});
      ASSERT_TRUE(log.ok());
      std::map<std::string, Expected> expected = FillLog(log->get(), 2);
      TickingClock clock;
      RunAggregates(log->get(), dir, config, -1, &clock);
      auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
      ASSERT_TRUE(store.ok());
      ExpectResults(store->get(), expected, 200);
      EXPECT_EQ((*store)->Counters()->dead_lettered, 0u);
      std::map<std::string, std::string> states =
          TableRows(store->get(), "t.per_country_hour_state");
      int early = 0;
      for (const auto& [key, row] : states) {
        early += key.find("T10:00") != std::string::npos || key.find("T11:00") != std::string::npos;
      }
      if (idle_after) {
        EXPECT_EQ(early, 0);
        ASSERT_TRUE(states.contains("w/2"));
        EXPECT_NE(states["w/2"].find(R"("through":0,)"), std::string::npos) << states["w/2"];
      } else {
        EXPECT_EQ(early, 16);  // 4 countries x 2 hours x 2 partitions
        EXPECT_FALSE(states.contains("w/2"));
      }
    }
    std::filesystem::remove_all(dir);
  }
}

// Event time from the log: `registered_at` maps `$timestamp`, the record's log timestamp, so the
// windows follow the times the records carry in the log (Kafka's record timestamps), not a field.
TEST(AggregateProcessorTest, WindowsOnTheLogTimestampFollowTheRecordsTimestamps) {
  char tmpl[] = "/tmp/df_aggp_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  ProcessConfig config = Config();
  config.columns[3].paths = {"$timestamp"};
  auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("t", 3).ok());
  const char* countries[] = {"France", "Spain", "Peru", "Chad"};
  std::map<std::string, int64_t> expected;        // window key -> users
  const int64_t base_us = 1'704'103'200'000'000;  // 2024-01-01T10:00:00Z
  for (int p = 0; p < 3; ++p) {
    std::vector<LogRecord> records;
    for (int i = 0; i < 60; ++i) {
      int n = p * 60 + i;
      std::string country = countries[(n * 7) % 4];
      int64_t at_us = base_us + int64_t{i} * 180'000'000 + 999;  // every 3 minutes: 3 hours
      // The record's own "t" says another day: the window comes from the log, not from it.
      records.push_back({fmt::format("u{}", n),
                         fmt::format(R"({{"country":"{}","age":30,"t":"1999-01-01"}})", country),
                         at_us,
                         {}});
      ++expected[fmt::format("{}|2024-01-01T{:02}:00:00.000Z", country, 10 + i / 20)];
    }
    ASSERT_TRUE((*log)->Append("t", p, records).ok());
  }
  RunAggregates(log->get(), dir, config, -1);
  {
    auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->Counters()->stored, 180u);
    auto row = (*store)->Get("t.users", "u0");
    ASSERT_TRUE(row.ok());
    EXPECT_NE(row->find(R"("registered_at":"2024-01-01T10:00:00.000Z")"), std::string::npos)
        << *row;
    std::map<std::string, int64_t> rows;
    simdjson::dom::parser parser;
    ASSERT_TRUE((*store)
                    ->Scan("t.per_country_hour", "", 0,
                           [&](const std::string& k, const std::string& v) {
                             rows[k] = int64_t(parser.parse(v).value()["users"]);
                             return true;
                           })
                    .ok());
    EXPECT_EQ(rows, expected);
    EXPECT_EQ(expected.size(), 12u);  // 4 countries x 3 hours
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge
