#include "log/embedded/embedded_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "common/testing/fault_injection_fs.h"
#include "common/testing/page_cache.h"
#include "log/embedded/batch_format.h"

namespace dataforge {
namespace {

namespace fs = std::filesystem;

class EmbeddedLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_log_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Log> Open(OpenMode mode = OpenMode::kReadWrite, LogOptions o = {}) {
    auto log = OpenLog("file://" + dir_, mode, o);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  static std::vector<LogRecord> Records(int from, int n) {
    std::vector<LogRecord> out;
    for (int i = from; i < from + n; ++i) {
      out.push_back({"k" + std::to_string(i),
                     "value-" + std::to_string(i),
                     1000 + i,
                     {{"seq", std::to_string(i)}}});
    }
    return out;
  }

  std::string Segment(int partition, int64_t base) {
    char name[32];
    snprintf(name, sizeof name, "%020lld.log", static_cast<long long>(base));
    return dir_ + "/topics/t/" + std::to_string(partition) + "/" + name;
  }

  std::string dir_;
};

// A topic's identity (Log::LogId) is made with it, stays across reopens, differs for a topic of
// the same name in another log or made again, and a topic from before identities gets one at
// its first read-write use (a reader sees "" until then).
TEST_F(EmbeddedLogTest, TopicIdentityIsMadeWithTheTopicAndKept) {
  std::string id;
  {
    auto log = Open();
    ASSERT_TRUE(log->CreateTopic("t", 2).ok());
    auto made = log->LogId("t");
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    id = *made;
    EXPECT_EQ(id.size(), 36u) << id;  // a UUID
    EXPECT_EQ(*log->LogId("t"), id);
    EXPECT_EQ(log->LogId("nosuch").status().code(), StatusCode::kNotFound);
  }
  auto log = Open();
  EXPECT_EQ(*log->LogId("t"), id);
  auto reader = Open(OpenMode::kReadOnly);
  EXPECT_EQ(*reader->LogId("t"), id);
  // The same topic name in another log directory is another log.
  char tmpl[] = "/tmp/df_log_XXXXXX";
  std::string other_dir = mkdtemp(tmpl);
  {
    auto other = OpenLog("file://" + other_dir, OpenMode::kReadWrite, {});
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->CreateTopic("t", 2).ok());
    EXPECT_NE(*(*other)->LogId("t"), id);
  }
  // A topic made before identities existed (no id file).
  log.reset();
  reader.reset();
  fs::remove(dir_ + "/topics/t/id");
  reader = Open(OpenMode::kReadOnly);
  EXPECT_EQ(*reader->LogId("t"), "");
  log = Open();
  std::string late = *log->LogId("t");
  EXPECT_EQ(late.size(), 36u);
  EXPECT_NE(late, id);
  EXPECT_EQ(*log->LogId("t"), late);
  fs::remove_all(other_dir);
}

TEST_F(EmbeddedLogTest, AppendReadRoundTrip) {
  auto log = Open();
  ASSERT_TRUE(log->CreateTopic("t", 2).ok());
  EXPECT_EQ(*log->Append("t", 1, Records(0, 3)), 0);
  EXPECT_EQ(*log->Append("t", 1, Records(3, 2)), 3);
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log->Read("t", 1, 0, 100, &out).ok());
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(out[i].offset, i);
    EXPECT_EQ(out[i].partition, 1);
    EXPECT_EQ(out[i].record.key, "k" + std::to_string(i));
    EXPECT_EQ(out[i].record.value, "value-" + std::to_string(i));
    EXPECT_EQ(out[i].record.timestamp_us, 1000 + i);
    ASSERT_EQ(out[i].record.headers.size(), 1u);
    EXPECT_EQ(out[i].record.headers[0].second, std::to_string(i));
  }
  out.clear();
  ASSERT_TRUE(log->Read("t", 1, 2, 2, &out).ok());  // from the middle of a batch, limited
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].offset, 2);
  EXPECT_EQ(out[1].offset, 3);
  out.clear();
  ASSERT_TRUE(log->Read("t", 0, 0, 10, &out).ok());
  EXPECT_TRUE(out.empty());
  auto last = log->ReadLast("t", 1);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->offset, 4);
  EXPECT_FALSE(log->ReadLast("t", 0)->has_value());
  auto info = log->DescribeTopic("t");
  EXPECT_EQ(info->partitions[1].end_offset, 5);
  EXPECT_EQ(info->partitions[0].end_offset, 0);
  EXPECT_EQ(log->ListTopics()->size(), 1u);
}

// A tombstone (a null value) reads back as one, apart from a record whose value is empty,
// after a reopen too (the batch is DFB2); a log without one is written as before (DFB1).
TEST_F(EmbeddedLogTest, TombstonesAndEmptyValuesStayApart) {
  {
    auto log = Open();
    ASSERT_TRUE(log->CreateTopic("t", 1).ok());
    std::vector<LogRecord> batch = {
        {"deleted", "", 10, {}}, {"empty", "", 11, {}}, {"full", "{\"a\":1}", 12, {{"seq", "3"}}}};
    batch[0].tombstone = true;
    EXPECT_EQ(*log->Append("t", 0, batch), 0);
    EXPECT_EQ(*log->Append("t", 0, Records(3, 1)), 3);
  }
  auto log = Open();
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log->Read("t", 0, 0, 10, &out).ok());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].record.key, "deleted");
  EXPECT_TRUE(out[0].record.tombstone);
  EXPECT_EQ(out[0].record.value, "");
  EXPECT_EQ(out[0].record.timestamp_us, 10);
  EXPECT_EQ(out[1].record.key, "empty");
  EXPECT_FALSE(out[1].record.tombstone);
  EXPECT_EQ(out[1].record.value, "");
  EXPECT_FALSE(out[2].record.tombstone);
  EXPECT_EQ(out[2].record.value, "{\"a\":1}");
  ASSERT_EQ(out[2].record.headers.size(), 1u);
  EXPECT_EQ(out[2].record.headers[0].second, "3");
  EXPECT_FALSE(out[3].record.tombstone);
  EXPECT_EQ(out[3].record.value, "value-3");
  std::ifstream in(Segment(0, 0), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(0, 4), "DFB2");
  log_format::BatchHeader first;
  ASSERT_TRUE(log_format::DecodeHeader(bytes, &first));
  EXPECT_EQ(bytes.substr(log_format::kHeaderSize + first.body_length, 4), "DFB1");
}

TEST_F(EmbeddedLogTest, TopicErrors) {
  auto log = Open();
  ASSERT_TRUE(log->CreateTopic("t", 2).ok());
  EXPECT_TRUE(log->CreateTopic("t", 2).ok());
  auto again = log->CreateTopic("t", 3);
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(again.message(),
            "topic 't' exists with 2 partitions, the pipeline asks for 3; keep 2 or use a new "
            "topic name or data dir");
  EXPECT_EQ(log->CreateTopic("../x", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append("t", 7, Records(0, 1)).status().message(),
            "topic 't' has no partition 7 (it has 2)");
  EXPECT_EQ(log->Append("nope", 0, Records(0, 1)).status().code(), StatusCode::kNotFound);
}

TEST_F(EmbeddedLogTest, SegmentsRollAndSurviveReopen) {
  LogOptions o;
  o.segment_bytes = 1024;
  {
    auto log = Open(OpenMode::kReadWrite, o);
    ASSERT_TRUE(log->CreateTopic("t", 1).ok());
    for (int b = 0; b < 50; ++b) ASSERT_TRUE(log->Append("t", 0, Records(b * 10, 10)).ok());
    EXPECT_GT(log->DescribeTopic("t")->partitions[0].segments, 5);
  }
  auto log = Open(OpenMode::kReadWrite, o);
  ASSERT_TRUE(log->CreateTopic("t", 1).ok());
  EXPECT_EQ(*log->Append("t", 0, Records(500, 1)), 500);
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log->Read("t", 0, 0, 1000, &out).ok());
  ASSERT_EQ(out.size(), 501u);
  for (int i = 0; i < 501; ++i) ASSERT_EQ(out[i].record.key, "k" + std::to_string(i));
}

// OffsetForTime over many segments (binary search over each segment's batches, by the running
// max timestamp) equals a scan of every record, also when timestamps go back (a wall clock
// stepping back), after a reopen and read-only.
TEST_F(EmbeddedLogTest, OffsetForTimeEqualsAScanAcrossSegmentsWhateverTheOrder) {
  LogOptions o;
  o.segment_bytes = 1024;
  std::vector<int64_t> ts;  // by offset
  {
    auto log = Open(OpenMode::kReadWrite, o);
    ASSERT_TRUE(log->CreateTopic("t", 1).ok());
    for (int b = 0; b < 40; ++b) {
      auto records = Records(b * 10, 10);
      for (int i = 0; i < 10; ++i) {
        // Rising by 10 per record, but batch 17 goes back 150 (to the middle of batch 15).
        records[i].timestamp_us = 10'000 + (b * 10 + i) * 10 - (b == 17 ? 450 : 0);
        ts.push_back(records[i].timestamp_us);
      }
      ASSERT_TRUE(log->Append("t", 0, records).ok());
    }
    ASSERT_GT(log->DescribeTopic("t")->partitions[0].segments, 5);
  }
  auto scan = [&](int64_t t) {
    for (size_t i = 0; i < ts.size(); ++i) {
      if (ts[i] >= t) return static_cast<int64_t>(i);
    }
    return static_cast<int64_t>(ts.size());
  };
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    auto log = Open(mode, o);
    for (int64_t t = 9'000; t <= 14'500; t += 7) {
      auto got = log->OffsetForTime("t", 0, t);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(*got, scan(t)) << "t=" << t;
    }
  }
  // The first record at or after 11'520 is 152 (batch 15), not one of batch 17 (ts 11'260..).
  EXPECT_EQ(scan(11'520), 152);
  EXPECT_EQ(scan(10'000 + 4000), 400);
}

class NoResumeListener final : public ConsumerListener {
 public:
  Result<std::optional<int64_t>> ResumeOffset(int32_t) override { return std::optional<int64_t>(); }
  void OnRecordsLost(const LostRange&) override {}
};

// The consumer's cache hint (PartitionLog::DropCacheBelow): once it read a batch, the batch's
// whole pages leave the page cache, across segments, and the records read back unchanged.
TEST_F(EmbeddedLogTest, ConsumerDropsTheCachedPagesOfWhatItRead) {
  LogOptions o;
  o.segment_bytes = 64 << 10;
  auto log = Open(OpenMode::kReadWrite, o);
  ASSERT_TRUE(log->CreateTopic("t", 1).ok());
  auto batch = [](int from) {
    std::vector<LogRecord> out;
    for (int i = from; i < from + 4; ++i) {
      char key[8];
      snprintf(key, sizeof key, "k%03d", i);
      out.push_back({key, std::string(4096, static_cast<char>('a' + i % 26)), i, {}});
    }
    return out;
  };
  for (int b = 0; b < 6; ++b) ASSERT_EQ(*log->Append("t", 0, batch(4 * b)), 4 * b);
  // Every batch has the same size; rolled when a segment reached 64 KiB: 4 batches, then 2.
  const uint64_t size = fs::file_size(Segment(0, 0)) / 4;
  ASSERT_EQ(fs::file_size(Segment(0, 0)), 4 * size);
  ASSERT_EQ(fs::file_size(Segment(0, 16)), 2 * size);
  const uint64_t page = 4096;
  NoResumeListener listener;
  auto consumer = log->Subscribe("g", "t", &listener);
  ASSERT_TRUE(consumer.ok());
  std::vector<ConsumedRecord> out;
  // The kernel drops only folios wholly inside a range (one append's folios are at most its
  // ~16.5 KiB, naturally aligned), so the first batch's pages are certainly gone after the
  // consumer read three batches; the sealed segment goes whole once read to its end (its last
  // partial page included); the active one keeps its last partial page for the next append.
  ASSERT_TRUE((*consumer)->Poll(12, 0, {}, &out).ok());  // batches 0..2
  ASSERT_EQ(out.size(), 12u);
  EXPECT_EQ(testing::ResidentPages(Segment(0, 0), 0, size / page * page), 0);
  ASSERT_TRUE((*consumer)->Poll(100, 0, {}, &out).ok());  // the rest: into the second segment
  ASSERT_EQ(out.size(), 24u);
  EXPECT_EQ(testing::ResidentPages(Segment(0, 0), 0, 4 * size), 0);
  EXPECT_EQ(testing::ResidentPages(Segment(0, 16), 0, size / page * page), 0);
  std::vector<ConsumedRecord> again;
  ASSERT_TRUE(log->Read("t", 0, 0, 100, &again).ok());
  ASSERT_EQ(again.size(), 24u);
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].record.key, out[i].record.key);
    EXPECT_EQ(again[i].record.value, std::string(4096, static_cast<char>('a' + i % 26)));
  }
}

// AppendAll writes every partition, then syncs them together (concurrently): when it returns,
// every partition's batch is durable (a power cut right after keeps all of them) and readable,
// at the offsets a loop of Append() would give.
TEST_F(EmbeddedLogTest, AppendAllSyncsEveryPartitionBeforeReturning) {
  testing::FaultInjectionFs fault_fs;
  LogOptions o;
  o.file_system = &fault_fs;
  std::vector<std::vector<LogRecord>> by_partition(4);
  by_partition[0] = Records(0, 3);
  by_partition[2] = Records(3, 1);
  by_partition[3] = Records(4, 2);
  {
    auto log = Open(OpenMode::kReadWrite, o);
    ASSERT_TRUE(log->CreateTopic("t", 4).ok());
    ASSERT_TRUE(log->Append("t", 3, Records(100, 1)).ok());
    ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
    std::vector<ConsumedRecord> out;
    ASSERT_TRUE(log->Read("t", 3, 0, 10, &out).ok());
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[1].offset, 1);
    EXPECT_EQ(out[1].record.key, "k4");
  }
  ASSERT_TRUE(fault_fs.PowerCut().ok());
  auto log = Open(OpenMode::kReadWrite, o);
  for (int p = 0; p < 4; ++p) {
    std::vector<ConsumedRecord> out;
    ASSERT_TRUE(log->Read("t", p, 0, 10, &out).ok());
    std::vector<std::string> keys;
    for (const auto& c : out) keys.push_back(c.record.key);
    std::vector<std::string> want;
    if (p == 3) want.push_back("k100");
    for (const auto& r : by_partition[p]) want.push_back(r.key);
    EXPECT_EQ(keys, want) << "partition " << p;
  }
}

TEST_F(EmbeddedLogTest, PartitionForIsStable) {
  auto log = Open();
  ASSERT_TRUE(log->CreateTopic("t", 4).ok());
  // FNV-1a of "abc" is 0x1a47e90b; 0x1a47e90b % 4 == 3.
  EXPECT_EQ(*log->PartitionFor("t", "abc"), 3);
  std::set<int32_t> seen;
  for (int i = 0; i < 100; ++i) seen.insert(*log->PartitionFor("t", "key" + std::to_string(i)));
  EXPECT_EQ(seen.size(), 4u);
}

class TornTailTest : public EmbeddedLogTest {
 protected:
  // Writes 3 batches of 5, damages the file with `damage`, reopens; returns the records left.
  size_t Survivors(const std::function<void(const std::string&, uint64_t last_batch_pos)>& damage) {
    uint64_t last_pos = 0;
    {
      auto log = Open();
      EXPECT_TRUE(log->CreateTopic("t", 1).ok());
      EXPECT_TRUE(log->Append("t", 0, Records(0, 5)).ok());
      EXPECT_TRUE(log->Append("t", 0, Records(5, 5)).ok());
      last_pos = fs::file_size(Segment(0, 0));
      EXPECT_TRUE(log->Append("t", 0, Records(10, 5)).ok());
    }
    damage(Segment(0, 0), last_pos);
    auto log = Open();
    EXPECT_TRUE(log->CreateTopic("t", 1).ok());
    std::vector<ConsumedRecord> out;
    EXPECT_TRUE(log->Read("t", 0, 0, 100, &out).ok());
    // The log accepts appends after recovery, at the next offset.
    auto next = log->Append("t", 0, Records(100, 1));
    EXPECT_TRUE(next.ok());
    EXPECT_EQ(*next, static_cast<int64_t>(out.size()));
    return out.size();
  }
};

TEST_F(TornTailTest, TornHeader) {
  EXPECT_EQ(Survivors([](const std::string& f, uint64_t pos) { fs::resize_file(f, pos + 10); }),
            10u);
}

TEST_F(TornTailTest, TornBody) {
  EXPECT_EQ(Survivors([](const std::string& f, uint64_t pos) { fs::resize_file(f, pos + 40); }),
            10u);
}

TEST_F(TornTailTest, ZeroFilledTail) {
  EXPECT_EQ(Survivors([](const std::string& f, uint64_t) {
              std::ofstream(f, std::ios::app | std::ios::binary) << std::string(4096, '\0');
            }),
            15u);
}

TEST_F(TornTailTest, FlippedByteInLastBatch) {
  EXPECT_EQ(Survivors([](const std::string& f, uint64_t pos) {
              std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
              io.seekp(static_cast<std::streamoff>(pos + 40));
              io.put('\x7f');
            }),
            10u);
}

TEST_F(TornTailTest, FlippedByteInFirstBatchDropsEverythingAfter) {
  EXPECT_EQ(Survivors([](const std::string& f, uint64_t) {
              std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
              io.seekp(40);
              io.put('\x7f');
            }),
            0u);
}

TEST_F(EmbeddedLogTest, CorruptSealedSegmentIsACorruptionErrorWithFileAndPosition) {
  LogOptions o;
  o.segment_bytes = 200;
  {
    auto log = Open(OpenMode::kReadWrite, o);
    ASSERT_TRUE(log->CreateTopic("t", 1).ok());
    for (int b = 0; b < 4; ++b) ASSERT_TRUE(log->Append("t", 0, Records(b * 5, 5)).ok());
  }
  std::string first = Segment(0, 0);
  {
    std::fstream io(first, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(50);
    char c = static_cast<char>(io.peek());
    io.seekp(50);
    io.put(static_cast<char>(c ^ 0x5a));
  }
  auto log = Open(OpenMode::kReadWrite, o);  // opening does not fail: the segment is sealed
  ASSERT_TRUE(log->CreateTopic("t", 1).ok());
  std::vector<ConsumedRecord> out;
  Status s = log->Read("t", 0, 0, 100, &out);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message().rfind("corrupt batch in " + first + " at byte 0: checksum 0x", 0), 0u)
      << s.message();
  out.clear();
  EXPECT_TRUE(log->Read("t", 0, 5, 100, &out).ok());  // later segments still read
  EXPECT_EQ(out.size(), 15u);
}

TEST_F(EmbeddedLogTest, RetentionBySizeAndAge) {
  LogOptions o;
  o.segment_bytes = 300;
  o.retention_bytes = 1000;
  auto log = Open(OpenMode::kReadWrite, o);
  ASSERT_TRUE(log->CreateTopic("t", 1).ok());
  for (int b = 0; b < 20; ++b) ASSERT_TRUE(log->Append("t", 0, Records(b * 5, 5)).ok());
  ASSERT_TRUE(log->ApplyRetention().ok());
  auto p = log->DescribeTopic("t")->partitions[0];
  EXPECT_GT(p.start_offset, 0);
  EXPECT_EQ(p.end_offset, 100);
  EXPECT_LE(p.size_bytes, 1000u + 300u);
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log->Read("t", 0, 0, 1000, &out).ok());  // below start: starts at start
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.front().offset, p.start_offset);
  EXPECT_EQ(out.back().offset, 99);

  LogOptions aged;
  aged.segment_bytes = 300;
  aged.retention_ms = 1;  // records have timestamps near 1970: everything sealed is too old
  TearDown();
  SetUp();
  auto log2 = Open(OpenMode::kReadWrite, aged);
  ASSERT_TRUE(log2->CreateTopic("t", 1).ok());
  for (int b = 0; b < 10; ++b) ASSERT_TRUE(log2->Append("t", 0, Records(b * 5, 5)).ok());
  ASSERT_TRUE(log2->ApplyRetention().ok());
  auto p2 = log2->DescribeTopic("t")->partitions[0];
  EXPECT_EQ(p2.segments, 1);  // only the active segment is left
  EXPECT_EQ(p2.end_offset, 50);
}

TEST_F(EmbeddedLogTest, GroupOffsetsSurviveReopen) {
  {
    auto log = Open();
    ASSERT_TRUE(log->CreateTopic("t", 2).ok());
    ASSERT_TRUE(log->CommitGroupOffset("g", "t", 1, 42).ok());
    ASSERT_TRUE(log->CommitGroupOffset("g", "t", 0, 7).ok());
    ASSERT_TRUE(log->CommitGroupOffset("g", "t", 1, 43).ok());
  }
  auto log = Open(OpenMode::kReadOnly);
  EXPECT_EQ(*log->GroupOffset("g", "t", 1), 43);
  EXPECT_EQ(*log->GroupOffset("g", "t", 0), 7);
  EXPECT_FALSE(log->GroupOffset("other", "t", 0)->has_value());
  // All partitions at once (Log's default: one GroupOffset each), in partition order.
  auto all = log->GroupOffsets("g", "t", 3);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, (std::vector<std::optional<int64_t>>{7, 43, std::nullopt}));
  EXPECT_EQ(*log->GroupOffsets("other", "t", 2),
            (std::vector<std::optional<int64_t>>{std::nullopt, std::nullopt}));
}

TEST_F(EmbeddedLogTest, SecondWriterIsRefusedWithThePid) {
  auto log = Open();
  pid_t child = fork();
  if (child == 0) {
    auto second = OpenLog("file://" + dir_, OpenMode::kReadWrite, {});
    bool expected = !second.ok() &&
                    second.status().message() ==
                        "log directory " + dir_ + " is locked by another dataforge process (pid " +
                            std::to_string(getppid()) + "); stop it or use another --data-dir";
    _exit(expected ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(EmbeddedLogTest, ReadOnlyInstanceSeesAppendsAndTornTails) {
  auto writer = Open();
  ASSERT_TRUE(writer->CreateTopic("t", 1).ok());
  ASSERT_TRUE(writer->Append("t", 0, Records(0, 3)).ok());
  auto reader = Open(OpenMode::kReadOnly);
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(reader->Read("t", 0, 0, 100, &out).ok());
  EXPECT_EQ(out.size(), 3u);
  ASSERT_TRUE(writer->Append("t", 0, Records(3, 4)).ok());
  // Half a batch at the tail, as a writer in the middle of write() would leave it.
  std::string partial;
  log_format::EncodeBatch(7, Records(7, 2), &partial);
  std::ofstream(Segment(0, 0), std::ios::app | std::ios::binary) << partial.substr(0, 20);
  out.clear();
  ASSERT_TRUE(reader->Read("t", 0, 3, 100, &out).ok());
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(reader->DescribeTopic("t")->partitions[0].end_offset, 7);
  EXPECT_EQ(reader->Append("t", 0, Records(9, 1)).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EmbeddedLogTest, UnknownSchemeIsAConfigError) {
  auto log = OpenLog("pulsar://broker:6650", OpenMode::kReadWrite, {});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(log.status().message(),
            "log url 'pulsar://broker:6650': unsupported scheme 'pulsar'; use file://DIR (the "
            "embedded log) or kafka://host:port[,host:port...] (Apache Kafka)");
}

TEST(BatchFormatTest, Crc32cKnownValue) {
  // CRC-32C of "123456789" is 0xE3069283 (the standard check value).
  EXPECT_EQ(log_format::Crc32c(0, "123456789", 9), 0xE3069283u);
}

// Long inputs run as three interleaved chains joined at the end of each round; a byte at a
// time runs as one. Both give the same CRC at every length around the rounds' edges.
TEST(BatchFormatTest, Crc32cOfALongInputEqualsItsBytesOneAtATime) {
  std::string data(3 * 512 * 3 + 40, '\0');
  uint32_t x = 12345;
  for (char& c : data) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  for (size_t n : {size_t{0}, size_t{7}, size_t{1535}, size_t{1536}, size_t{1537}, size_t{1543},
                   size_t{3072}, size_t{3079}, data.size()}) {
    uint32_t bytewise = 0;
    for (size_t i = 0; i < n; ++i) bytewise = log_format::Crc32c(bytewise, data.data() + i, 1);
    EXPECT_EQ(log_format::Crc32c(0, data.data(), n), bytewise) << n << " bytes";
    // Continued from a CRC so far, as a caller over several buffers does.
    if (n >= 5) {
      EXPECT_EQ(log_format::Crc32c(log_format::Crc32c(0, data.data(), 5), data.data() + 5, n - 5),
                bytewise)
          << n << " bytes";
    }
  }
}

// Found with tests/fuzz/log_batch_fuzz (corpus/log_batch/crash_offset_overflow, a hand-made seed
// rather than the fuzzer's own find): a batch whose base offset is so close to the int64 maximum
// that its records' offsets overflow passed DecodeHeader; DecodeRecords (base_offset + i) and
// the segment scan (base_offset + record_count) then overflowed (undefined behaviour).
TEST(BatchFormatTest, OffsetsThatWouldOverflowAreRefused) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<LogRecord> three = {{"a", "1", 1, {}}, {"b", "2", 2, {}}, {"c", "3", 3, {}}};
  log_format::BatchHeader h;
  std::string fits;
  log_format::EncodeBatch(kMax - 3, three, &fits);  // offsets kMax-3 .. kMax-1
  ASSERT_TRUE(log_format::DecodeHeader(fits, &h));
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log_format::DecodeRecords(fits, h, 0, 0, 10, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].offset, kMax - 1);
  std::string beyond;  // offsets kMax-2 .. kMax: the next offset, kMax + 1, overflows
  log_format::EncodeBatch(kMax - 2, three, &beyond);
  EXPECT_FALSE(log_format::DecodeHeader(beyond, &h));
  std::string far;  // offsets kMax-1 .. kMax+1
  log_format::EncodeBatch(kMax - 1, three, &far);
  EXPECT_FALSE(log_format::DecodeHeader(far, &h));
}

// DFB2's value length is the length plus one (0 = null): a length past the body, or a batch
// that ends inside the length, is a malformed record, not a read past the end.
TEST(BatchFormatTest, ANullableValueLengthPastTheBodyIsMalformed) {
  std::vector<LogRecord> one = {{"k", "abc", 1, {}}};
  std::vector<LogRecord> with_null = {{"n", "", 1, {}}, {"k", "abc", 2, {}}};
  with_null[0].tombstone = true;
  std::string good;
  log_format::EncodeBatch(0, with_null, &good);
  log_format::BatchHeader h;
  ASSERT_TRUE(log_format::DecodeHeader(good, &h));
  EXPECT_EQ(h.magic, log_format::kMagicNullable);
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log_format::DecodeRecords(good, h, 0, 0, 10, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].record.tombstone);
  EXPECT_EQ(out[1].record.value, "abc");
  // The second record's value length (at body byte 5: key "n" 2 bytes, 0, timestamp, 0
  // headers, key "k" 2 bytes) says 4 + 1; make it 100.
  std::string bad = good;
  const size_t at = log_format::kHeaderSize + 2 + 1 + 1 + 1 + 2;
  ASSERT_EQ(static_cast<uint8_t>(bad[at]), 4u);
  bad[at] = 100;
  out.clear();
  Status s = log_format::DecodeRecords(bad, h, 0, 0, 10, &out);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "record 1 of the batch is malformed");
  std::string plain;
  log_format::EncodeBatch(0, one, &plain);
  ASSERT_TRUE(log_format::DecodeHeader(plain, &h));
  EXPECT_EQ(h.magic, log_format::kMagic);
}

}  // namespace
}  // namespace dataforge
