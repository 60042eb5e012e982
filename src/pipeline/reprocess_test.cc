// The reprocess's pieces that need no binary: its flags' parsing, its default group, and the log
// view that bounds and seeds its consumer (over a real embedded log in a temporary directory).
#include "pipeline/reprocess.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <regex>

#include <fmt/format.h>

#include "log/log.h"
#include "pipeline/reprocess_log.h"

namespace dataforge {
namespace {

TEST(ReprocessFlagsTest, PartitionOffsetsParseAndBadOnesNameThePart) {
  auto ok = ParsePartitionOffsets("0:1200,3:0");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(*ok, (std::map<int32_t, int64_t>{{0, 1200}, {3, 0}}));
  for (const char* bad : {"", "0", "0:", ":5", "a:1", "1:-2", "1:2x", "0:1,,1:2"}) {
    auto r = ParsePartitionOffsets(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kConfigError) << bad;
    EXPECT_NE(r.status().message().find("is not PARTITION:OFFSET"), std::string::npos)
        << r.status().message();
  }
  auto twice = ParsePartitionOffsets("1:5,1:6");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(),
            "--from-offset: partition 1 is given twice: give each partition once");
}

TEST(ReprocessFlagsTest, SuffixIsPartOfATableName) {
  EXPECT_TRUE(CheckIntoSuffix("_v2").ok());
  EXPECT_TRUE(CheckIntoSuffix(std::string(48, 'a')).ok());
  for (const std::string& bad :
       std::vector<std::string>{"", "-v2", "_v 2", ".v2", std::string(49, 'a')}) {
    EXPECT_EQ(CheckIntoSuffix(bad).code(), StatusCode::kConfigError) << bad;
  }
}

TEST(ReprocessFlagsTest, DefaultGroupResumesIntoSuffixAndIsNewInPlace) {
  ProcessConfig process;
  process.group = "live";
  ReprocessOptions o;
  o.into_suffix = "_v2";
  EXPECT_EQ(DefaultReprocessGroup(process, o, {}, 0), "live-reprocess_v2");
  o.into_suffix.clear();
  o.in_place = true;
  // 2026-12-04T04:15:00Z
  EXPECT_EQ(DefaultReprocessGroup(process, o, {}, 1796357700'000000),
            "live-reprocess-20261204T041500Z");
}

// process.table, a derived table, a topic output (not a table) and two aggregates, one of
// whose names repeats in another keyspace.
ProcessConfig FourTables() {
  ProcessConfig process;
  process.group = "live";
  process.table = "ks.people";
  OutputSpec young, topic;
  young.table = "ks.young";
  topic.topic = "people_out";
  process.outputs = {young, topic};
  AggregateSpec per_country, per_country_elsewhere;
  per_country.table = "ks.per_country";
  per_country_elsewhere.table = "other.per_country";
  process.aggregates = {per_country, per_country_elsewhere};
  return process;
}

TEST(ReprocessFlagsTest, TablesAreSelectedInTheFilesOrderByFullOrBareName) {
  ProcessConfig process = FourTables();
  using Tables = std::vector<std::string>;
  EXPECT_EQ(ReprocessTables(process),
            (Tables{"ks.people", "ks.young", "ks.per_country", "other.per_country"}));
  auto all = SelectReprocessTables(process, {});
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(*all, ReprocessTables(process));
  auto some = SelectReprocessTables(process, {"other.per_country", "young", "young"});
  ASSERT_TRUE(some.ok()) << some.status().message();
  EXPECT_EQ(*some, (Tables{"ks.young", "other.per_country"}));

  auto unknown = SelectReprocessTables(process, {"young", "ks.old"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(unknown.status().message(),
            "--tables: 'ks.old' is not a table the processor writes; its tables are ks.people, "
            "ks.young, ks.per_country, other.per_country (name one or more, comma-separated)");
  auto ambiguous = SelectReprocessTables(process, {"per_country"});
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().message(),
            "--tables: 'per_country' names several tables (ks.per_country, other.per_country): "
            "write it with its keyspace");
  for (const char* not_a_table : {"people_out", "", "ks.per_country_state", "ks"}) {
    auto r = SelectReprocessTables(process, {not_a_table});
    ASSERT_FALSE(r.ok()) << not_a_table;
    EXPECT_EQ(r.status().message().find(fmt::format("--tables: '{}' is not a table", not_a_table)),
              0u)
        << r.status().message();
  }
}

TEST(ReprocessFlagsTest, DefaultGroupNamesTheTablesWhenNotAllAreRebuilt) {
  ProcessConfig process = FourTables();
  ReprocessOptions o;
  o.into_suffix = "_v2";
  EXPECT_EQ(DefaultReprocessGroup(process, o, {"ks.young", "other.per_country"}, 0),
            "live-reprocess_v2-young-per_country");
  EXPECT_EQ(DefaultReprocessGroup(process, o, ReprocessTables(process), 0), "live-reprocess_v2");
  // Past the log's 200 characters: the count and a checksum of the names.
  std::vector<std::string> many;
  for (int i = 0; i < 10; ++i) {
    AggregateSpec a;
    a.table = fmt::format("ks.a_table_with_a_name_of_some_length_{}", i);
    process.aggregates.push_back(a);
    many.push_back(a.table);
  }
  std::string group = DefaultReprocessGroup(process, o, many, 0);
  EXPECT_TRUE(std::regex_match(group, std::regex("live-reprocess_v2-10tables-[0-9a-f]{8}")))
      << group;
  // Another ten tables: the same count, another checksum.
  std::vector<std::string> others = many;
  others.back() = "ks.per_country";
  std::string other = DefaultReprocessGroup(process, o, others, 0);
  EXPECT_TRUE(std::regex_match(other, std::regex("live-reprocess_v2-10tables-[0-9a-f]{8}")))
      << other;
  EXPECT_NE(other, group);
  many.pop_back();
  EXPECT_NE(DefaultReprocessGroup(process, o, many, 0).substr(0, 26), group.substr(0, 26));
  o.into_suffix.clear();
  o.in_place = true;
  EXPECT_EQ(DefaultReprocessGroup(process, o, {"ks.young"}, 1796357700'000000),
            "live-reprocess-20261204T041500Z");
}

// A listener that knows no stored offset (a new reprocess group).
class NoStoredOffsets final : public ConsumerListener {
 public:
  Result<std::optional<int64_t>> ResumeOffset(int32_t) override { return std::optional<int64_t>(); }
  void OnRecordsLost(const LostRange&) override { ++lost; }
  int lost = 0;
};

TEST(ReprocessLogTest, ConsumerStartsAtTheSeedStopsAtTheEndAndLeavesNoGroupInTheLog) {
  char tmpl[] = "/tmp/df_reprocess_log_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, LogOptions{});
    ASSERT_TRUE(log.ok()) << log.status().message();
    ASSERT_TRUE((*log)->CreateTopic("t", 1).ok());
    std::vector<LogRecord> records;
    for (int i = 0; i < 10; ++i) records.push_back({"k" + std::to_string(i), "{}", 1, {}});
    ASSERT_TRUE((*log)->Append("t", 0, records).ok());

    ReprocessLog view(log->get(), "rg", "t", {{0, 3}}, {{0, 7}});
    EXPECT_FALSE(view.Done());
    EXPECT_EQ(view.Remaining(), 4u);
    NoStoredOffsets listener;
    auto consumer = view.Subscribe("rg", "t", &listener);
    ASSERT_TRUE(consumer.ok()) << consumer.status().message();
    std::vector<ConsumedRecord> got;
    ASSERT_TRUE((*consumer)->Poll(100, 1'000'000, {}, &got).ok());
    std::vector<int64_t> offsets;
    for (const auto& c : got) offsets.push_back(c.offset);
    EXPECT_EQ(offsets, (std::vector<int64_t>{3, 4, 5, 6}));  // from the seed, before the end
    PartitionPosition next{0, 7};
    ASSERT_TRUE((*consumer)->Commit({&next, 1}).ok());
    EXPECT_EQ(view.Position(0), 7);
    EXPECT_TRUE(view.Done());
    EXPECT_EQ(*view.GroupOffset("rg", "t", 0), std::optional<int64_t>(7));
    ASSERT_TRUE((*consumer)->Close().ok());
    // The real log never heard of the group: nothing of it holds the log's retention.
    auto in_log = (*log)->GroupOffset("rg", "t", 0);
    ASSERT_TRUE(in_log.ok());
    EXPECT_FALSE(in_log->has_value());
    EXPECT_EQ(listener.lost, 0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge
