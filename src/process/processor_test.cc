#include "process/processor.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "config/pipeline_file.h"
#include "log/testing/forwarding_log.h"
#include "store/testing/forwarding_store.h"

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

// A temp dir (removed with the object) with an embedded log whose topic "t" has `partitions`
// partitions, and a RocksDB store.
struct LogAndStore {
  ~LogAndStore() { std::filesystem::remove_all(dir); }
  std::string dir;
  PipelineConfig config = DefaultPipelineConfig();
  std::unique_ptr<Log> log;
  std::unique_ptr<Store> store;
};

void OpenLogAndStore(LogAndStore* t, int32_t partitions) {
  char tmpl[] = "/tmp/df_proc_XXXXXX";
  t->dir = mkdtemp(tmpl);
  auto log = OpenLog("file://" + t->dir + "/log", OpenMode::kReadWrite, {});
  ASSERT_TRUE(log.ok());
  t->log = std::move(log).value();
  ASSERT_TRUE(t->log->CreateTopic("t", partitions).ok());
  auto store = OpenStore("rocksdb://" + t->dir + "/store", OpenMode::kReadWrite, {});
  ASSERT_TRUE(store.ok());
  t->store = std::move(store).value();
}

// A user record the default mapping stores: key "00000000-0000-4000-8000-<12 digits of i>".
LogRecord UserRecord(int i) {
  return LogRecord{fmt::format("00000000-0000-4000-8000-{:012}", i), "{}", 1, {}};
}

// LogAndStore with five records in each of two partitions (UserRecord(10 * p + i)).
using TenUsers = LogAndStore;

void OpenTenUsers(TenUsers* t) {
  ASSERT_NO_FATAL_FAILURE(OpenLogAndStore(t, 2));
  for (int32_t p = 0; p < 2; ++p) {
    std::vector<LogRecord> records;
    for (int i = 0; i < 5; ++i) records.push_back(UserRecord(10 * p + i));
    ASSERT_TRUE(t->log->Append("t", p, records).ok());
  }
}

// Forwards to a real store (owned) and keeps a copy of every applied batch.
class RecordingStore final : public testing::ForwardingStore {
 public:
  explicit RecordingStore(std::unique_ptr<Store> s) : ForwardingStore(s.get()), s_(std::move(s)) {}
  Status Apply(const StoreBatch& b) override {
    batches.push_back(b);
    threads.push_back(std::this_thread::get_id());
    if (batches.size() == fail_apply) return Status::IOError("store unreachable (test)");
    return s_->Apply(b);
  }
  Status EnsureTable(const TableSchema& s) override {
    ensured.push_back(s);
    return s_->EnsureTable(s);
  }

  std::vector<StoreBatch> batches;
  std::vector<std::thread::id> threads;  // the thread of each Apply
  size_t fail_apply = 0;                 // the Apply (1 = the first) that fails; 0 = none
  std::vector<TableSchema> ensured;

 private:
  std::unique_ptr<Store> s_;
};

TEST(ProcessorTest, BatchCountsRowsAndDeadLettersPerPartitionAndEnsuresItsTable) {
  LogAndStore t;
  ASSERT_NO_FATAL_FAILURE(OpenLogAndStore(&t, 2));
  const PipelineConfig& config = t.config;
  ASSERT_TRUE(
      t.log->Append("t", 0, std::vector<LogRecord>{UserRecord(1), UserRecord(2), UserRecord(3)})
          .ok());
  ASSERT_TRUE(
      t.log->Append("t", 1, std::vector<LogRecord>{UserRecord(4), LogRecord{"bad", "{}", 1, {}}})
          .ok());
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  RecordingStore store(std::move(t.store));
  Processor p(t.log.get(), &store, &*mapper, config.process, "t", 100, Clock::Real(), &probe);
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
}

// A stage that adds, for each row, a letter ("stage <key>") and a row of its own table.
class LetteringStage final : public BatchStage {
 public:
  Status OnRow(const ConsumedRecord& c, const MapResult&, const RowWrite& row,
               StoreBatch* batch) override {
    batch->dead_letters.push_back({"process", "stage " + row.key, "", c.record.value, 0});
    batch->rows.push_back({row.key, "{}", false, true, "dataforge.derived"});
    return Status::OK();
  }
};

// With a stage, a batch's rows and letters keep the records' order, whether the batch was mapped
// in the RunOnce that applies it (the first) or while the one before it was applied (the second).
TEST(ProcessorTest, WithAStageRowsAndLettersKeepTheRecordsOrder) {
  LogAndStore t;
  ASSERT_NO_FATAL_FAILURE(OpenLogAndStore(&t, 1));
  const PipelineConfig& config = t.config;
  auto bad = [](int i) { return LogRecord{"bad" + std::to_string(i), "{}", 1, {}}; };
  ASSERT_TRUE(t.log
                  ->Append("t", 0,
                           std::vector<LogRecord>{UserRecord(1), bad(1), UserRecord(2),
                                                  UserRecord(3), bad(2), UserRecord(4)})
                  .ok());
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  RecordingStore store(std::move(t.store));
  ASSERT_TRUE(store.EnsureTable({"dataforge.derived", "id", {{"id", "text"}}}).ok());
  LetteringStage stage;
  Processor p(t.log.get(), &store, &*mapper, config.process, "t", 3, Clock::Real(), &probe);
  p.AddStage(&stage);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.RunOnce(), 3u);
  EXPECT_EQ(*p.RunOnce(), 3u);
  ASSERT_EQ(store.batches.size(), 2u);
  for (int b = 0; b < 2; ++b) {
    SCOPED_TRACE("batch " + std::to_string(b + 1));
    const StoreBatch& batch = store.batches[b];
    const std::string first = UserRecord(2 * b + 1).key, second = UserRecord(2 * b + 2).key;
    ASSERT_EQ(batch.dead_letters.size(), 3u);
    EXPECT_EQ(batch.dead_letters[0].reason, "stage " + first);
    EXPECT_EQ(batch.dead_letters[1].key, "bad" + std::to_string(b + 1));  // the mapping's letter
    EXPECT_EQ(batch.dead_letters[2].reason, "stage " + second);
    EXPECT_EQ(batch.stage_letters, 2u);
    ASSERT_EQ(batch.rows.size(), 4u);
    const std::vector<std::pair<std::string, std::string>> rows = {
        {"dataforge.derived", first}, {"", first}, {"dataforge.derived", second}, {"", second}};
    for (size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(batch.rows[i].table, rows[i].first) << "row " << i;
      EXPECT_EQ(batch.rows[i].key, rows[i].second) << "row " << i;
    }
    ASSERT_EQ(batch.offsets.size(), 1u);
    EXPECT_EQ(batch.offsets[0].stored, 2u);
    EXPECT_EQ(batch.offsets[0].dead_lettered, 1u);
  }
}

// A stage that changes nothing.
class PassStage final : public BatchStage {
 public:
  Status OnRow(const ConsumedRecord&, const MapResult&, const RowWrite&, StoreBatch*) override {
    return Status::OK();
  }
};

// The store applies each batch on the applier's thread while the next is polled and mapped
// (with a stage or without); RunOnce still returns only once its own batch is durable and
// committed, so what a caller sees after each call is the same as without the overlap.
TEST(ProcessorTest, EachBatchIsDurableWhenRunOnceReturnsThoughAppliedOnAnotherThread) {
  for (bool with_stage : {false, true}) {
    SCOPED_TRACE(with_stage ? "with a stage" : "no stage");
    TenUsers t;
    ASSERT_NO_FATAL_FAILURE(OpenTenUsers(&t));
    const PipelineConfig& config = t.config;
    auto mapper = Mapper::Create(config.process);
    ProcessorProbe probe;
    RecordingStore store(std::move(t.store));
    PassStage stage;
    Processor p(t.log.get(), &store, &*mapper, config.process, "t", 4, Clock::Real(), &probe);
    if (with_stage) p.AddStage(&stage);
    ASSERT_TRUE(p.Start().ok());
    // Batches of 4 read 2 records of each partition: 4, 4, then the last 2.
    const std::vector<size_t> expected = {4, 4, 2, 0};
    uint64_t total = 0;
    for (size_t i = 0; i < expected.size(); ++i) {
      auto n = p.RunOnce();
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      EXPECT_EQ(*n, expected[i]) << "RunOnce #" << i + 1;
      total += *n;
      EXPECT_EQ(*store.Count(config.process.table), total) << "after RunOnce #" << i + 1;
      EXPECT_EQ(store.Counters()->stored, total) << "after RunOnce #" << i + 1;
      EXPECT_EQ(probe.stored.load(), total);
    }
    EXPECT_TRUE(*p.CaughtUp());
    EXPECT_EQ(*store.CommittedOffset(config.process.group, "t", 0, p.log_id()), 5);
    EXPECT_EQ(*store.CommittedOffset(config.process.group, "t", 1, p.log_id()), 5);
    ASSERT_EQ(store.threads.size(), 3u);
    for (const std::thread::id& t : store.threads) EXPECT_NE(t, std::this_thread::get_id());
  }
}

// What happened, in order, from any thread.
struct Events {
  void Add(std::string e) {
    std::lock_guard lock(mu);
    list.push_back(std::move(e));
    cv.notify_all();
  }
  // "poll", counted in `polls`.
  void AddPoll() {
    std::lock_guard lock(mu);
    ++polls;
    list.push_back("poll");
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> list;
  int polls = 0;
};

// Notes each Poll in `events` ("poll").
class PollNotingLog final : public testing::ForwardingLog {
 public:
  PollNotingLog(Log* log, Events* events) : ForwardingLog(log), events_(events) {}
  Result<std::unique_ptr<LogConsumer>> Subscribe(const std::string& g, const std::string& t,
                                                 ConsumerListener* listener) override {
    DF_ASSIGN_OR_RETURN(auto inner, inner_->Subscribe(g, t, listener));
    return std::unique_ptr<LogConsumer>(std::make_unique<Consumer>(std::move(inner), events_));
  }

 private:
  class Consumer final : public testing::ForwardingConsumer {
   public:
    Consumer(std::unique_ptr<LogConsumer> inner, Events* events)
        : ForwardingConsumer(std::move(inner)), events_(events) {}
    Status Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
                std::vector<ConsumedRecord>* out) override {
      events_->AddPoll();
      return inner_->Poll(max_records, timeout_us, stop, out);
    }

   private:
    Events* events_;
  };
  Events* events_;
};

// Notes each Apply once it is done ("applied"). The k-th Apply first waits (at most 10 s) for
// the k+1-th Poll, the poll ahead, so that "poll" comes before its "applied" when the processor
// polls while the store applies, and "no poll during the apply" otherwise.
class PollAwaitingStore final : public testing::ForwardingStore {
 public:
  PollAwaitingStore(Store* store, Events* events) : ForwardingStore(store), events_(events) {}
  Status Apply(const StoreBatch& b) override {
    {
      std::unique_lock lock(events_->mu);
      const int polls = ++applies_ + 1;
      if (!events_->cv.wait_for(lock, std::chrono::seconds(10),
                                [&] { return events_->polls >= polls; })) {
        events_->list.push_back("no poll during the apply");
      }
    }
    Status s = inner_->Apply(b);
    events_->Add("applied");
    return s;
  }

 private:
  Events* events_;
  int applies_ = 0;  // guarded by events_->mu
};

// Notes what the processor hands it: "row <partition>@<offset>", "before", "after".
class NotingStage final : public BatchStage {
 public:
  explicit NotingStage(Events* events) : events_(events) {}
  Status OnRow(const ConsumedRecord& c, const MapResult&, const RowWrite&, StoreBatch*) override {
    events_->Add(fmt::format("row {}@{}", c.partition, c.offset));
    return Status::OK();
  }
  Status BeforeApply(StoreBatch*) override {
    events_->Add("before");
    return Status::OK();
  }
  Status AfterApply(const StoreBatch&) override {
    events_->Add("after");
    return Status::OK();
  }

 private:
  Events* events_;
};

// With a stage, the next batch is polled (and mapped) while this one is applied, but the stage
// sees its records only after this batch's AfterApply: to a stage, batches come one at a time.
TEST(ProcessorTest, AStageSeesTheNextBatchOnlyAfterTheAppliedOnesAfterApply) {
  TenUsers t;
  ASSERT_NO_FATAL_FAILURE(OpenTenUsers(&t));
  const PipelineConfig& config = t.config;
  Events events;
  PollNotingLog log(t.log.get(), &events);
  PollAwaitingStore store(t.store.get(), &events);
  NotingStage stage(&events);
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  Processor p(&log, &store, &*mapper, config.process, "t", 4, Clock::Real(), &probe);
  p.AddStage(&stage);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.RunOnce(), 4u);
  EXPECT_EQ(*p.RunOnce(), 4u);
  EXPECT_EQ(*p.RunOnce(), 2u);
  EXPECT_EQ(*p.RunOnce(), 0u);
  // The embedded consumer's polls start at partition 0, 1, 0, ... in turn.
  const std::vector<std::string> expected = {
      "poll",  "row 0@0", "row 0@1", "row 1@0", "row 1@1", "before",  "poll",  "applied",
      "after", "row 1@2", "row 1@3", "row 0@2", "row 0@3", "before",  "poll",  "applied",
      "after", "row 0@4", "row 1@4", "before",  "poll",    "applied", "after", "poll"};
  EXPECT_EQ(events.list, expected);
  EXPECT_EQ(*store.Count(config.process.table), 10u);
  EXPECT_EQ(*store.CommittedOffset(config.process.group, "t", 1, p.log_id()), 5);
}

// The batch polled and mapped while the one before it was applied is not committed when that
// Apply fails: a new processor reads it again from the store's offsets, and every record is
// stored exactly once.
TEST(ProcessorTest, ABatchPolledAheadOfAFailedApplyIsReadAgain) {
  TenUsers t;
  ASSERT_NO_FATAL_FAILURE(OpenTenUsers(&t));
  const PipelineConfig& config = t.config;
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  RecordingStore store(std::move(t.store));
  store.fail_apply = 2;
  {
    Processor p(t.log.get(), &store, &*mapper, config.process, "t", 4, Clock::Real(), &probe);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(*p.RunOnce(), 4u);
    auto failed = p.RunOnce();  // the second batch fails; the third was polled meanwhile
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().message(), "store unreachable (test)");
  }
  EXPECT_EQ(*store.Count(config.process.table), 4u);
  EXPECT_EQ(store.Counters()->stored, 4u);
  store.fail_apply = 0;
  Processor again(t.log.get(), &store, &*mapper, config.process, "t", 4, Clock::Real(), &probe);
  ASSERT_TRUE(again.Start().ok());
  EXPECT_EQ(*again.RunOnce(), 4u);  // the failed batch's records, from the store's offsets
  EXPECT_EQ(*again.RunOnce(), 2u);  // then the batch that had been polled ahead
  EXPECT_EQ(*again.RunOnce(), 0u);
  EXPECT_EQ(*store.Count(config.process.table), 10u);
  auto counters = store.Counters();
  EXPECT_EQ(counters->stored, 10u);
  EXPECT_EQ(counters->dead_lettered, 0u);
}

// The embedded log with a rebalance played into the consumer's Poll number `revoke_at`: the
// consumer calls its listener's BeforeRevoke() first, as the Kafka consumer does inside a
// rebalance, and notes what was durable and committed when it returned. (The embedded log never
// rebalances; over Kafka the timing of a rebalance cannot be chosen. KafkaTest covers the real
// rebalances end to end.)
class RevokingLog final : public testing::ForwardingLog {
 public:
  // `before` runs just before BeforeRevoke, `after` once it returned.
  RevokingLog(Log* log, int revoke_at, std::function<void()> before, std::function<void()> after)
      : ForwardingLog(log),
        revoke_at_(revoke_at),
        before_(std::move(before)),
        after_(std::move(after)) {}
  Result<std::unique_ptr<LogConsumer>> Subscribe(const std::string& g, const std::string& t,
                                                 ConsumerListener* listener) override;

  std::vector<PartitionPosition> committed;  // every position passed to Commit, in order
  size_t committed_before_revoke = 0;        // how many of them when BeforeRevoke returned

 private:
  class Consumer;
  int revoke_at_;
  std::function<void()> before_, after_;
};

class RevokingLog::Consumer final : public testing::ForwardingConsumer {
 public:
  Consumer(RevokingLog* log, std::unique_ptr<LogConsumer> inner, ConsumerListener* listener)
      : ForwardingConsumer(std::move(inner)), log_(log), listener_(listener) {}
  Status Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
              std::vector<ConsumedRecord>* out) override {
    if (++polls_ == log_->revoke_at_) {
      log_->before_();
      listener_->BeforeRevoke();
      log_->committed_before_revoke = log_->committed.size();
      log_->after_();
    }
    return inner_->Poll(max_records, timeout_us, stop, out);
  }
  Status Commit(std::span<const PartitionPosition> positions) override {
    log_->committed.insert(log_->committed.end(), positions.begin(), positions.end());
    return inner_->Commit(positions);
  }

 private:
  RevokingLog* log_;
  ConsumerListener* listener_;
  int polls_ = 0;
};

Result<std::unique_ptr<LogConsumer>> RevokingLog::Subscribe(const std::string& g,
                                                            const std::string& t,
                                                            ConsumerListener* listener) {
  DF_ASSIGN_OR_RETURN(auto inner, inner_->Subscribe(g, t, listener));
  return std::unique_ptr<LogConsumer>(std::make_unique<Consumer>(this, std::move(inner), listener));
}

// Forwards to a real store; Apply waits until the test opens the gate (at most 60 s).
class GatedStore final : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  Status Apply(const StoreBatch& b) override {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(60), [&] { return open_; })) {
      return Status::Internal("the gate never opened: Apply ran on the thread that polls");
    }
    return inner_->Apply(b);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// A rebalance inside the Poll that runs while a batch is applied (the poll ahead) waits for that
// Apply and passes the batch's positions to Commit() before the partitions may go: a batch is
// never made durable after another member could have resumed its partitions.
TEST(ProcessorTest, ARevokeDuringAnApplyWaitsForItAndCommitsItsPositions) {
  TenUsers t;
  ASSERT_NO_FATAL_FAILURE(OpenTenUsers(&t));
  const PipelineConfig& config = t.config;
  GatedStore store(t.store.get());
  uint64_t rows_at_revoke = 0;
  // Poll 1 reads the first batch; poll 2 is the poll ahead, while the first batch's Apply waits
  // for the gate. The rebalance opens the gate and calls BeforeRevoke at once.
  RevokingLog revoking(
      t.log.get(), 2, [&] { store.Open(); },
      [&] { rows_at_revoke = *store.Count(config.process.table); });
  auto mapper = Mapper::Create(config.process);
  ProcessorProbe probe;
  Processor p(&revoking, &store, &*mapper, config.process, "t", 4, Clock::Real(), &probe);
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.RunOnce(), 4u);
  // When BeforeRevoke returned, the batch was durable and its positions committed.
  EXPECT_EQ(rows_at_revoke, 4u);
  ASSERT_EQ(revoking.committed_before_revoke, 2u);
  std::vector<PartitionPosition> first(revoking.committed.begin(), revoking.committed.begin() + 2);
  std::sort(first.begin(), first.end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  EXPECT_EQ(first[0].partition, 0);
  EXPECT_EQ(first[0].next_offset, 2);
  EXPECT_EQ(first[1].partition, 1);
  EXPECT_EQ(first[1].next_offset, 2);
  EXPECT_EQ(*store.CommittedOffset(config.process.group, "t", 0, p.log_id()), 2);
  EXPECT_EQ(*p.RunOnce(), 4u);
  EXPECT_EQ(*p.RunOnce(), 2u);
  EXPECT_EQ(*store.Count(config.process.table), 10u);
  EXPECT_EQ(store.Counters()->stored, 10u);
}

}  // namespace
}  // namespace dataforge
