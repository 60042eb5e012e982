#include "process/processor.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "config/pipeline_file.h"

namespace dataforge {
namespace {

TEST(ProcessorTest, MapsStoresAndResumesFromCommittedOffsets) {
  char tmpl[] = "/tmp/df_proc_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  PipelineConfig config = DefaultPipelineConfig();
  auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("t", 2).ok());
  std::vector<LogRecord> records;
  for (int i = 0; i < 5; ++i) {
    std::string id = "00000000-0000-4000-8000-00000000000" + std::to_string(i);
    records.push_back({id, R"({"name":{"first":"F)" + std::to_string(i) + R"("}})", 1, {}});
  }
  records.push_back({"bad", "{}", 1, {}});  // not a UUID key: dead-lettered
  ASSERT_TRUE((*log)->Append("t", 0, records).ok());
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  {
    auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
    ASSERT_TRUE(store.ok());
    Processor p(log->get(), store->get(), &*mapper, config.process, "t", 100, Clock::Real(),
                &probe);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(*p.RunOnce(), 6u);
    EXPECT_EQ(*p.RunOnce(), 0u);
    EXPECT_TRUE(*p.CaughtUp());
    EXPECT_EQ((*store)->Count(config.process.table).value(), 5u);
    auto c = (*store)->Counters();
    EXPECT_EQ(c->stored, 5u);
    EXPECT_EQ(c->dead_lettered, 1u);
    std::vector<StoredDeadLetter> dl;
    ASSERT_TRUE((*store)->ListDeadLetters(0, 10, &dl).ok());
    ASSERT_EQ(dl.size(), 1u);
    EXPECT_EQ(dl[0].letter.location, "t/0@5");
    EXPECT_EQ(dl[0].letter.reason, "column \"id\": value \"bad\" at $key is not a UUID");
  }
  ASSERT_TRUE((*log)->Append("t", 1, std::vector<LogRecord>{records[0]}).ok());
  auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
  Processor p(log->get(), store->get(), &*mapper, config.process, "t", 100, Clock::Real(), &probe);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.RunOnce(), 1u);  // only the new record: offsets were committed with the rows
  EXPECT_EQ((*store)->Counters()->stored, 6u);
  EXPECT_EQ((*store)->Count(config.process.table).value(), 5u);  // an upsert of the same key
  std::filesystem::remove_all(dir);
}

TEST(ProcessorTest, CopiesOfRelayedRecordsAreSkippedBySeqAndOrigin) {
  char tmpl[] = "/tmp/df_proc_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  PipelineConfig config = DefaultPipelineConfig();
  auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("t", 1).ok());
  auto rec = [](int i, const char* origin, int seq) {
    std::string id = "00000000-0000-4000-8000-00000000000" + std::to_string(i);
    return LogRecord{id,
                     R"({"name":{"first":"F)" + std::to_string(i) + R"("}})",
                     1,
                     {{"seq", std::to_string(seq)}, {"origin", origin}}};
  };
  // a:1 a:2 a:1(copy) b:1 a:2(copy) a:3, and one record without a seq (another producer's).
  std::vector<LogRecord> records = {rec(1, "a", 1),
                                    rec(2, "a", 2),
                                    rec(1, "a", 1),
                                    rec(3, "b", 1),
                                    rec(2, "a", 2),
                                    rec(4, "a", 3),
                                    {"00000000-0000-4000-8000-000000000005", "{}", 1, {}}};
  ASSERT_TRUE((*log)->Append("t", 0, records).ok());
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
  ASSERT_TRUE(store.ok());
  Processor p(log->get(), store->get(), &*mapper, config.process, "t", 100, Clock::Real(), &probe);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.RunOnce(), 7u);
  EXPECT_EQ(probe.duplicates, 2u);
  EXPECT_EQ((*store)->Counters()->stored, 5u);
  EXPECT_EQ((*store)->Count(config.process.table).value(), 5u);
  EXPECT_EQ(*(*store)->CommittedOffset(config.process.group, "t", 0), std::optional<int64_t>(7));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge
