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

}  // namespace
}  // namespace dataforge
