// OutputsStage inside the processor (process/outputs/outputs_stage.h), over the embedded log and
// the RocksDB store: derived rows commit with the main rows and the offsets; topic rows are
// published before the store commits (a failed Apply leaves them published, and the replay
// publishes them again: at least once, never skipped).
#include "process/outputs/outputs_stage.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "config/pipeline_file.h"
#include "process/processor.h"

namespace dataforge {
namespace {

std::string Uuid(int i) {
  return fmt::format("00000000-0000-4000-8000-{:012d}", i);
}

// A derived table's key column: the record key as a uuid, required.
ColumnSpec IdColumn() {
  ColumnSpec id;
  id.name = "id";
  id.type = "uuid";
  id.paths = {"$key"};
  id.required = true;
  return id;
}

class OutputsStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_outputs_XXXXXX";
    dir_ = mkdtemp(tmpl);
    config_ = DefaultPipelineConfig();
    OutputSpec by_gender;
    by_gender.table = "dataforge.by_gender";
    by_gender.line = 7;
    ColumnSpec gender;
    gender.name = "gender";
    gender.paths = {"gender"};
    gender.required = true;
    by_gender.columns = {IdColumn(), gender};
    OutputSpec topic;
    topic.topic = "users_flat";
    topic.line = 12;
    config_.process.outputs = {by_gender, topic};
    auto log = OpenLog("file://" + dir_ + "/log", OpenMode::kReadWrite, {});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    ASSERT_TRUE(log_->CreateTopic("t", 2).ok());
  }
  void TearDown() override {
    stage_.reset();
    store_.reset();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Append(int32_t partition, int from, int n, bool with_gender = true) {
    std::vector<LogRecord> records;
    for (int i = from; i < from + n; ++i) {
      std::string gender =
          with_gender ? (i % 2 ? R"(,"gender":"female")" : R"(,"gender":"male")") : "";
      records.push_back(
          {Uuid(i), fmt::format(R"({{"name":{{"first":"F{}"}}{}}})", i, gender), 1000 + i, {}});
    }
    ASSERT_TRUE(log_->Append("t", partition, records).ok());
  }

  // Every record of the output topic: key -> times seen.
  std::map<std::string, int> Topic() {
    std::map<std::string, int> keys;
    for (int32_t p = 0; p < config_.log.partitions; ++p) {
      std::vector<ConsumedRecord> out;
      EXPECT_TRUE(log_->Read("users_flat", p, 0, 100000, &out).ok());
      for (const auto& c : out) {
        ++keys[c.record.key];
        EXPECT_NE(c.record.value.find("\"id\":\"" + c.record.key + "\""), std::string::npos)
            << c.record.value;
      }
    }
    return keys;
  }

  // Opens the store, the mapper and the outputs stage of config_ and creates the stage's topics;
  // its tables too when `make_tables`.
  void Open(bool make_tables = true) {
    auto store = OpenStore("rocksdb://" + dir_ + "/store", OpenMode::kReadWrite, {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto mapper = Mapper::Create(config_.process);
    ASSERT_TRUE(mapper.ok()) << mapper.status().ToString();
    mapper_ = std::make_unique<Mapper>(std::move(mapper).value());
    auto stage = OutputsStage::Create(config_.process, log_.get(), config_.log.partitions, "p.yaml",
                                      "t", Clock::Real(), &outputs_probe_);
    ASSERT_TRUE(stage.ok()) << stage.status().ToString();
    stage_ = std::move(stage).value();
    if (make_tables) {
      for (const auto& t : stage_->TableSchemas()) ASSERT_TRUE(store_->EnsureTable(t).ok());
    }
    ASSERT_TRUE(stage_->CreateTopics().ok());
  }
  // A started processor of topic "t" (batches of 100) with the outputs stage; after Open().
  std::unique_ptr<Processor> StartProcessor() {
    auto p = std::make_unique<Processor>(log_.get(), store_.get(), mapper_.get(), config_.process,
                                         "t", 100, Clock::Real(), &probe_);
    p->AddStage(stage_.get());
    Status started = p->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return p;
  }

  std::string dir_;
  PipelineConfig config_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Mapper> mapper_;
  std::unique_ptr<OutputsStage> stage_;
  ProcessorProbe probe_;
  OutputsProbe outputs_probe_;
};

TEST_F(OutputsStageTest, DerivedRowsAndTopicRowsFollowTheMainRows) {
  Append(0, 0, 6);
  Append(1, 6, 4);
  ASSERT_NO_FATAL_FAILURE(Open());
  ASSERT_EQ(stage_->TableSchemas().size(), 1u);
  EXPECT_EQ(stage_->TableSchemas()[0].table, "dataforge.by_gender");
  auto p = StartProcessor();
  EXPECT_EQ(*p->RunOnce(), 10u);
  EXPECT_EQ(*store_->Count(config_.process.table), 10u);
  EXPECT_EQ(*store_->Count("dataforge.by_gender"), 10u);
  EXPECT_EQ(*store_->Get("dataforge.by_gender", Uuid(3)),
            fmt::format(R"({{"id":"{}","gender":"female"}})", Uuid(3)));
  EXPECT_EQ(store_->Counters()->stored, 10u);  // records, not rows
  auto topic = Topic();
  EXPECT_EQ(topic.size(), 10u);
  for (const auto& [key, times] : topic) EXPECT_EQ(times, 1) << key;
  EXPECT_EQ(outputs_probe_.derived_rows.load(), 10u);
  EXPECT_EQ(outputs_probe_.published.load(), 10u);
}

// A delete (here a tombstone in the processor's own topic) is published to the output topic as a
// tombstone, which the embedded log keeps as one: read back, its value is null, not "".
TEST_F(OutputsStageTest, ADeleteIsPublishedAsATombstoneThatTheEmbeddedLogKeeps) {
  Append(0, 0, 2);
  LogRecord tombstone{Uuid(0), "", 2000, {}};
  tombstone.tombstone = true;
  ASSERT_TRUE(log_->Append("t", 0, std::vector<LogRecord>{tombstone}).ok());
  ASSERT_NO_FATAL_FAILURE(Open());
  auto p = StartProcessor();
  EXPECT_EQ(*p->RunOnce(), 3u);
  EXPECT_EQ(*store_->Count(config_.process.table), 1u);
  std::vector<std::string> seen;  // "key value" per record, "key null" for a tombstone
  for (int32_t q = 0; q < config_.log.partitions; ++q) {
    std::vector<ConsumedRecord> out;
    ASSERT_TRUE(log_->Read("users_flat", q, 0, 100, &out).ok());
    for (const auto& c : out) {
      seen.push_back(c.record.key + (c.record.tombstone       ? " null"
                                     : c.record.value.empty() ? " empty"
                                                              : " row"));
    }
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen,
            (std::vector<std::string>{Uuid(0) + " null", Uuid(0) + " row", Uuid(1) + " row"}));
}

TEST_F(OutputsStageTest, TopicRowsArePublishedBeforeTheStoreCommitsSoAFailedApplyRepeatsThem) {
  Append(0, 0, 5);
  ASSERT_NO_FATAL_FAILURE(Open(/*make_tables=*/false));
  {
    // The derived table was never made: Apply fails (store.h: unknown table), after the topic
    // rows went out.
    auto p = StartProcessor();
    auto r = p->RunOnce();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
    EXPECT_EQ(*store_->Count(config_.process.table), 0u);
    EXPECT_EQ(*store_->CommittedOffset(config_.process.group, "t", 0, *log_->LogId("t")),
              std::nullopt);
    EXPECT_EQ(Topic().size(), 5u);
  }
  for (const auto& t : stage_->TableSchemas()) ASSERT_TRUE(store_->EnsureTable(t).ok());
  auto p = StartProcessor();
  EXPECT_EQ(*p->RunOnce(), 5u);
  EXPECT_EQ(*store_->Count(config_.process.table), 5u);
  EXPECT_EQ(*store_->Count("dataforge.by_gender"), 5u);
  EXPECT_EQ(store_->Counters()->stored, 5u);
  auto topic = Topic();
  EXPECT_EQ(topic.size(), 5u);
  for (const auto& [key, times] : topic) EXPECT_EQ(times, 2) << key;  // again, never skipped
}

TEST_F(OutputsStageTest, ARecordADerivedMappingCannotTakeIsDeadLetteredForThatOutputOnly) {
  // A second derived table whose expression fails for record 1 (name.first "F1": 10 / (1 - 1)).
  OutputSpec ratio;
  ratio.table = "dataforge.ratio";
  ratio.line = 15;
  ColumnSpec quotient;
  quotient.name = "r";
  quotient.type = "int";
  quotient.line = 17;
  quotient.expr = "10 / (cast(substring(name.first, 2) as int) - 1)";
  quotient.expr_column = 9;
  ratio.columns = {IdColumn(), quotient};
  config_.process.outputs.push_back(ratio);
  Append(0, 0, 2);
  Append(0, 2, 1, /*with_gender=*/false);
  ASSERT_NO_FATAL_FAILURE(Open());
  auto p = StartProcessor();
  auto r = p->RunOnce();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 3u);
  // Every record is stored in process.table and published; each derived table lacks one.
  EXPECT_EQ(*store_->Count(config_.process.table), 3u);
  EXPECT_EQ(*store_->Count("dataforge.by_gender"), 2u);
  EXPECT_FALSE(store_->Get("dataforge.by_gender", Uuid(2)).ok());
  EXPECT_EQ(*store_->Count("dataforge.ratio"), 2u);
  EXPECT_FALSE(store_->Get("dataforge.ratio", Uuid(1)).ok());
  EXPECT_EQ(Topic().size(), 3u);
  EXPECT_EQ(store_->Counters()->stored, 3u);
  EXPECT_EQ(store_->Counters()->dead_lettered, 0u);  // the records are stored
  EXPECT_EQ(outputs_probe_.derived_rows, 4u);
  EXPECT_EQ(outputs_probe_.derived_dead_lettered, 2u);
  std::vector<StoredDeadLetter> dl;
  ASSERT_TRUE(store_->ListDeadLetters(0, 10, &dl).ok());
  ASSERT_EQ(dl.size(), 2u);
  std::map<std::string, DeadLetter> by_location;
  for (const auto& d : dl) by_location[d.letter.location] = d.letter;
  ASSERT_EQ(by_location.count("t/0@1"), 1u);
  ASSERT_EQ(by_location.count("t/0@2"), 1u);
  EXPECT_EQ(by_location["t/0@1"].stage, "process");
  EXPECT_EQ(by_location["t/0@1"].reason,
            "output table 'dataforge.ratio' (line 15): column \"r\": expression \"10 / "
            "(cast(substring(name.first, 2) as int) - 1)\": division by zero: 10 / 0");
  EXPECT_EQ(by_location["t/0@1"].payload, R"({"name":{"first":"F1"},"gender":"female"})");
  EXPECT_EQ(by_location["t/0@2"].reason,
            "output table 'dataforge.by_gender' (line 7): column \"gender\": no value (tried "
            "gender)");
  EXPECT_EQ(by_location["t/0@2"].payload, R"({"name":{"first":"F2"}})");
  // Nothing again on the next round.
  EXPECT_EQ(*p->RunOnce(), 0u);
  std::vector<StoredDeadLetter> again;
  ASSERT_TRUE(store_->ListDeadLetters(0, 10, &again).ok());
  EXPECT_EQ(again.size(), 2u);
}

TEST(OutputsCheckTest, TopicEqualToLogTopicIsRefusedAndDerivedTablesTakeEveryLogFormat) {
  PipelineConfig c = DefaultPipelineConfig();
  c.path = "p.yaml";
  OutputSpec o;
  o.topic = c.log.topic;
  o.line = 9;
  c.process.outputs = {o};
  Status s = CheckOutputs(c);
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(),
            "p.yaml:9: output topic 'users_created' is log.topic, the topic the processor reads: "
            "its rows would be read again as records; name another topic (e.g. "
            "users_created_flat)");
  OutputSpec t;
  t.table = "dataforge.t";
  t.line = 4;
  ColumnSpec id;
  id.name = "id";
  id.paths = {"$key"};
  t.columns = {id};
  c.process.outputs = {t};
  EXPECT_TRUE(CheckOutputs(c).ok()) << CheckOutputs(c).ToString();
  c.log.format = LogConfig::Format::kConfluentAvro;  // derived tables map the decoded JSON
  EXPECT_TRUE(CheckOutputs(c).ok()) << CheckOutputs(c).ToString();
}

}  // namespace
}  // namespace dataforge
