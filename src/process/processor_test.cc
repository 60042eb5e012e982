#include "process/processor.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include <fmt/format.h>

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

// Over the embedded log too, a tombstone (a null value) deletes the row its key names, while a
// record whose value is empty is a dead letter (it is not JSON), not a delete.
TEST(ProcessorTest, ATombstoneInTheEmbeddedLogDeletesItsRowAndAnEmptyValueDoesNot) {
  char tmpl[] = "/tmp/df_proc_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  PipelineConfig config = DefaultPipelineConfig();
  auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("t", 1).ok());
  const std::string a = "00000000-0000-4000-8000-00000000000a";
  const std::string b = "00000000-0000-4000-8000-00000000000b";
  ASSERT_TRUE((*log)
                  ->Append("t", 0,
                           std::vector<LogRecord>{{a, R"({"name":{"first":"A"}})", 1, {}},
                                                  {b, R"({"name":{"first":"B"}})", 1, {}}})
                  .ok());
  std::vector<LogRecord> changes = {{a, "", 2, {}}, {b, "", 2, {}}};
  changes[0].tombstone = true;
  ASSERT_TRUE((*log)->Append("t", 0, changes).ok());
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
  ASSERT_TRUE(store.ok());
  Processor p(log->get(), store->get(), &*mapper, config.process, "t", 100, Clock::Real(), &probe);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.RunOnce(), 4u);
  EXPECT_EQ((*store)->Count(config.process.table).value(), 1u);
  EXPECT_EQ((*store)->Get(config.process.table, a).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE((*store)->Get(config.process.table, b).ok());
  std::vector<StoredDeadLetter> dl;
  ASSERT_TRUE((*store)->ListDeadLetters(0, 10, &dl).ok());
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(dl[0].letter.location, "t/0@3");
  EXPECT_EQ(dl[0].letter.reason, "record is not valid JSON: Empty: no JSON found");
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
  EXPECT_EQ(*(*store)->CommittedOffset(config.process.group, "t", 0, p.log_id()),
            std::optional<int64_t>(7));
  std::filesystem::remove_all(dir);
}

// A truncate marker (a broadcast record) on every partition: each partition is held at its
// marker until all reached it (partition 2's copy arrives later), then the table is emptied and
// every partition moves past its marker together; later records stay. The marker counts once.
TEST(ProcessorTest, TruncateBarrierHoldsEveryPartitionUntilAllReachedTheMarker) {
  char tmpl[] = "/tmp/df_proc_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  PipelineConfig config = DefaultPipelineConfig();
  auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("t", 3).ok());
  auto row = [](int i, int seq) {
    return LogRecord{fmt::format("00000000-0000-4000-8000-{:012}", i),
                     R"({"name":{"first":"F)" + std::to_string(i) + R"("}})",
                     1,
                     {{"seq", std::to_string(seq)}, {"origin", "o"}}};
  };
  LogRecord marker{TruncateKey("public.users"),
                   R"({"op":"truncate","table":"public.users","lsn":"0/16B3748","xid":7})",
                   1,
                   {{"seq", "50"}, {"origin", "o"}}};
  auto append = [&](int32_t p, std::vector<LogRecord> records) {
    ASSERT_TRUE((*log)->Append("t", p, records).ok());
  };
  append(0, {row(1, 10), row(2, 11), marker, row(3, 60)});
  append(1, {row(4, 12), marker, row(5, 61)});
  append(2, {row(6, 13), row(7, 14)});  // its copy of the marker is not there yet
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
  ASSERT_TRUE(store.ok());
  const std::string& table = config.process.table;
  auto keys = [&] {
    std::vector<std::string> out;
    EXPECT_TRUE((*store)
                    ->Scan(table, "", 0,
                           [&](const std::string& k, const std::string&) {
                             out.push_back(k.substr(k.size() - 1));
                             return true;
                           })
                    .ok());
    return out;
  };
  auto offset = [&](int32_t p) {
    return (*store)
        ->CommittedOffset(config.process.group, "t", p, *(*log)->LogId("t"))
        ->value_or(-1);
  };
  {
    Processor p(log->get(), store->get(), &*mapper, config.process, "t", 100, Clock::Real(),
                &probe);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(*p.RunOnce(), 5u);  // 1 2 4 6 7; partitions 0 and 1 held at their markers
    EXPECT_EQ(keys(), (std::vector<std::string>{"1", "2", "4", "6", "7"}));
    EXPECT_EQ(offset(0), 2);
    EXPECT_EQ(offset(1), 1);
    EXPECT_EQ(offset(2), 2);
    EXPECT_EQ(*p.RunOnce(), 0u);  // still waiting for partition 2's copy
    EXPECT_FALSE(*p.CaughtUp());
    append(2, {marker, row(8, 62)});
    EXPECT_EQ(*p.RunOnce(100'000), 5u);  // 3 markers, then the held 3 and 5
    EXPECT_EQ(keys(), (std::vector<std::string>{"3", "5"}));
    EXPECT_EQ(offset(0), 4);
    EXPECT_EQ(offset(1), 3);
    EXPECT_EQ(offset(2), 3);
    EXPECT_EQ(*p.RunOnce(), 1u);  // 8; the marker the barrier read ahead is skipped
    EXPECT_EQ(keys(), (std::vector<std::string>{"3", "5", "8"}));
    EXPECT_EQ(offset(2), 4);
    EXPECT_TRUE(*p.CaughtUp());
    EXPECT_EQ(probe.consumed, 9u);  // 8 rows and the truncate once
    EXPECT_EQ(probe.stored, 9u);
    auto c = (*store)->Counters();
    EXPECT_EQ(c->stored, 9u);
    EXPECT_EQ(c->dead_lettered, 0u);
  }
  // A restart resumes past the markers: the truncate is not applied again.
  Processor p(log->get(), store->get(), &*mapper, config.process, "t", 100, Clock::Real(), &probe);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.RunOnce(), 0u);
  EXPECT_EQ(keys(), (std::vector<std::string>{"3", "5", "8"}));
  EXPECT_EQ((*store)->Counters()->stored, 9u);
  std::filesystem::remove_all(dir);
}

TEST(ProcessorTest, RecordsTheLogDeletedAreCountedLostOnceWithTheOffset) {
  char tmpl[] = "/tmp/df_proc_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  PipelineConfig config = DefaultPipelineConfig();
  LogOptions o;
  o.segment_bytes = 4096;
  o.retention_bytes = 8192;
  o.retention_force = true;
  auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, o);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("t", 2).ok());
  for (int b = 0; b < 40; ++b) {  // partition 0 only: partition 1 stays empty
    std::vector<LogRecord> records;
    for (int i = b * 5; i < b * 5 + 5; ++i) {
      records.push_back({fmt::format("00000000-0000-4000-8000-{:012}", i),
                         R"({"name":{"first":"F)" + std::to_string(i) + R"("}})",
                         1,
                         {}});
    }
    ASSERT_TRUE((*log)->Append("t", 0, records).ok());
  }
  ASSERT_TRUE((*log)->ApplyRetention().ok());
  int64_t start = (*log)->DescribeTopic("t")->partitions[0].start_offset;
  ASSERT_GT(start, 0);
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  {
    auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
    ASSERT_TRUE(store.ok());
    Processor p(log->get(), store->get(), &*mapper, config.process, "t", 1000, Clock::Real(),
                &probe);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(*p.RunOnce(), 200u);  // 200 - start records read, start counted lost
    EXPECT_EQ(probe.lost, static_cast<uint64_t>(start));
    EXPECT_EQ(probe.consumed, static_cast<uint64_t>(200 - start));
    auto c = (*store)->Counters();
    EXPECT_EQ(c->lost, static_cast<uint64_t>(start));
    EXPECT_EQ(c->stored + c->dead_lettered + c->lost, 200u);
    EXPECT_EQ(*(*store)->PartitionLost(config.process.group, "t", 0, p.log_id()),
              static_cast<uint64_t>(start));
    EXPECT_EQ(*(*store)->PartitionLost(config.process.group, "t", 1, p.log_id()), 0u);
    EXPECT_EQ(*(*store)->CommittedOffset(config.process.group, "t", 0, p.log_id()),
              std::optional<int64_t>(200));
    EXPECT_TRUE(*p.CaughtUp());
  }
  // A restart resumes from the store's offset: nothing is counted twice.
  auto store = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Counters()->lost, static_cast<uint64_t>(start));
  Processor p(log->get(), store->get(), &*mapper, config.process, "t", 1000, Clock::Real(), &probe);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.RunOnce(), 0u);
  EXPECT_EQ((*store)->Counters()->lost, static_cast<uint64_t>(start));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge

namespace dataforge {
namespace {

// Forwards to a real store and keeps a copy of every applied batch.
class RecordingStore final : public Store {
 public:
  explicit RecordingStore(std::unique_ptr<Store> s) : s_(std::move(s)) {}
  Status Apply(const StoreBatch& b) override {
    batches.push_back(b);
    return s_->Apply(b);
  }
  Result<std::optional<int64_t>> CommittedOffset(const std::string& g, const std::string& t,
                                                 int32_t p, const std::string& id) override {
    return s_->CommittedOffset(g, t, p, id);
  }
  Result<std::string> Get(const std::string& t, const std::string& k) override {
    return s_->Get(t, k);
  }
  Status Scan(const std::string& t, const std::string& a, size_t l,
              const std::function<bool(const std::string&, const std::string&)>& f) override {
    return s_->Scan(t, a, l, f);
  }
  Result<uint64_t> Count(const std::string& t) override { return s_->Count(t); }
  Result<std::vector<std::string>> ListTables() override { return s_->ListTables(); }
  Result<StoreCounters> Counters() override { return s_->Counters(); }
  Result<StoreCounters> LogCounters(const std::string& g, const std::string& t,
                                    const std::string& id) override {
    return s_->LogCounters(g, t, id);
  }
  Result<uint64_t> PartitionLost(const std::string& group, const std::string& topic,
                                 int32_t partition, const std::string& id) override {
    return s_->PartitionLost(group, topic, partition, id);
  }
  Status ListDeadLetters(uint64_t a, size_t l, std::vector<StoredDeadLetter>* o) override {
    return s_->ListDeadLetters(a, l, o);
  }
  Status ApplyReplay(const DeadLetterReplay& r) override { return s_->ApplyReplay(r); }
  Status EnsureTable(const TableSchema& s) override {
    ensured.push_back(s);
    return s_->EnsureTable(s);
  }
  Result<TableSchema> DescribeTable(const std::string& t) override { return s_->DescribeTable(t); }
  Status CreateKeyspace(const KeyspaceSchema& k) override { return s_->CreateKeyspace(k); }
  Result<std::vector<KeyspaceSchema>> ListKeyspaces() override { return s_->ListKeyspaces(); }
  Status Refresh() override { return s_->Refresh(); }
  Result<std::string> Compact() override { return s_->Compact(); }

  std::vector<StoreBatch> batches;
  std::vector<TableSchema> ensured;

 private:
  std::unique_ptr<Store> s_;
};

TEST(ProcessorTest, BatchCountsRowsAndDeadLettersPerPartitionAndEnsuresItsTable) {
  char tmpl[] = "/tmp/df_proc_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  PipelineConfig config = DefaultPipelineConfig();
  auto log = OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {});
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->CreateTopic("t", 2).ok());
  auto good = [](int i) {
    return LogRecord{"00000000-0000-4000-8000-00000000000" + std::to_string(i), "{}", 1, {}};
  };
  ASSERT_TRUE((*log)->Append("t", 0, std::vector<LogRecord>{good(1), good(2), good(3)}).ok());
  ASSERT_TRUE(
      (*log)->Append("t", 1, std::vector<LogRecord>{good(4), LogRecord{"bad", "{}", 1, {}}}).ok());
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  auto inner = OpenStore("rocksdb://" + dir + "/store", OpenMode::kReadWrite, {});
  ASSERT_TRUE(inner.ok());
  RecordingStore store(std::move(inner).value());
  Processor p(log->get(), &store, &*mapper, config.process, "t", 100, Clock::Real(), &probe);
  ASSERT_TRUE(p.Start().ok());
  ASSERT_EQ(store.ensured.size(), 1u);
  EXPECT_EQ(store.ensured[0].table, "dataforge.created_users");
  EXPECT_EQ(store.ensured[0].key_column, "id");
  ASSERT_EQ(store.ensured[0].columns.size(), 12u);
  EXPECT_EQ(store.ensured[0].columns[0].type, "uuid");
  EXPECT_EQ(store.ensured[0].columns[8].name, "dob");
  EXPECT_EQ(store.ensured[0].columns[8].type, "timestamp");
  EXPECT_EQ(*p.RunOnce(), 5u);
  ASSERT_EQ(store.batches.size(), 1u);
  auto offsets = store.batches[0].offsets;
  std::sort(offsets.begin(), offsets.end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  ASSERT_EQ(offsets.size(), 2u);
  EXPECT_EQ(offsets[0].next_offset, 3);
  EXPECT_EQ(offsets[0].stored, 3u);
  EXPECT_EQ(offsets[0].dead_lettered, 0u);
  EXPECT_EQ(offsets[1].next_offset, 2);
  EXPECT_EQ(offsets[1].stored, 1u);
  EXPECT_EQ(offsets[1].dead_lettered, 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge
