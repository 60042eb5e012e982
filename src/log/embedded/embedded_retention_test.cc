// The embedded log's retention against consumer groups, and the LostRange a consumer reports
// when the offset it was to read next is gone (log.retention_force, a log that lost its tail).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include <fmt/format.h>

#include "log/embedded/embedded_log.h"

namespace dataforge {
namespace {

namespace fs = std::filesystem;

class RecordingListener final : public ConsumerListener {
 public:
  std::optional<int64_t> resume;
  std::vector<LostRange> lost;
  Result<std::optional<int64_t>> ResumeOffset(int32_t) override { return resume; }
  void OnRecordsLost(const LostRange& range) override { lost.push_back(range); }
};

class EmbeddedRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_retention_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Segments of about 300 bytes, retention 1000 bytes: 100 records in batches of 5 leave the
  // newest few segments. `force` deletes regardless of consumer groups.
  std::unique_ptr<Log> OpenFilled(bool force) {
    LogOptions o;
    o.segment_bytes = 300;
    o.retention_bytes = 1000;
    o.retention_force = force;
    auto log = OpenLog("file://" + dir_, OpenMode::kReadWrite, o);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_TRUE((*log)->CreateTopic("t", 1).ok());
    for (int b = 0; b < 20; ++b) {
      std::vector<LogRecord> records;
      for (int i = b * 5; i < b * 5 + 5; ++i) {
        records.push_back({"k" + std::to_string(i), "value-" + std::to_string(i), 1000 + i, {}});
      }
      EXPECT_TRUE((*log)->Append("t", 0, records).ok());
    }
    return std::move(log).value();
  }

  int64_t StartOffset(Log* log) { return log->DescribeTopic("t")->partitions[0].start_offset; }

  // Where retention leaves the start with no consumer group at all.
  int64_t UnheldStart() {
    TearDown();
    SetUp();
    auto log = OpenFilled(false);
    EXPECT_TRUE(log->ApplyRetention().ok());
    int64_t start = StartOffset(log.get());
    log.reset();
    TearDown();
    SetUp();
    return start;
  }

  std::string dir_;
};

TEST_F(EmbeddedRetentionTest, KeepsSegmentsACommittedGroupHasNotReadPast) {
  int64_t unheld = UnheldStart();
  ASSERT_GT(unheld, 10);  // retention alone deletes offset 10
  auto log = OpenFilled(false);
  ASSERT_TRUE(log->CommitGroupOffset("g", "t", 0, 10).ok());
  ASSERT_TRUE(log->ApplyRetention().ok());
  int64_t held = StartOffset(log.get());
  EXPECT_LE(held, 10);  // the segment holding offset 10 stays
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log->Read("t", 0, 10, 1, &out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].offset, 10);
  // Once the group reads past everything, retention deletes as if it were not there.
  ASSERT_TRUE(log->CommitGroupOffset("g", "t", 0, 100).ok());
  ASSERT_TRUE(log->ApplyRetention().ok());
  EXPECT_EQ(StartOffset(log.get()), unheld);
}

TEST_F(EmbeddedRetentionTest, TheGroupFileHoldsRetentionInAnotherProcess) {
  {
    auto log = OpenFilled(false);
    ASSERT_TRUE(log->CommitGroupOffset("g", "t", 0, 0).ok());
  }
  // A `compact` task opens the log on its own: the group file still holds everything.
  LogOptions o;
  o.segment_bytes = 300;
  o.retention_bytes = 1000;
  auto log = OpenLog("file://" + dir_, OpenMode::kReadWrite, o);
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->ApplyRetention().ok());
  EXPECT_EQ(StartOffset(log->get()), 0);
}

TEST_F(EmbeddedRetentionTest, AnOpenConsumerHoldsRetentionBeforeItCommits) {
  auto log = OpenFilled(false);
  RecordingListener listener;
  auto consumer = log->Subscribe("g", "t", &listener);
  ASSERT_TRUE(consumer.ok());
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE((*consumer)->Poll(7, 0, {}, &out).ok());  // read 0..6, nothing committed yet
  ASSERT_EQ(out.size(), 7u);
  ASSERT_TRUE(log->ApplyRetention().ok());
  EXPECT_EQ(StartOffset(log.get()), 0);
  EXPECT_TRUE(listener.lost.empty());
}

TEST_F(EmbeddedRetentionTest, ForcedRetentionReportsTheDeletedOffsetsAsLost) {
  int64_t unheld = UnheldStart();
  auto log = OpenFilled(true);
  ASSERT_TRUE(log->CommitGroupOffset("g", "t", 0, 3).ok());
  ASSERT_TRUE(log->ApplyRetention().ok());
  ASSERT_EQ(StartOffset(log.get()), unheld);  // force: the group does not hold it
  RecordingListener listener;
  listener.resume = 3;
  auto consumer = log->Subscribe("g", "t", &listener);
  ASSERT_TRUE(consumer.ok());
  EXPECT_FALSE(*(*consumer)->CaughtUp());
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE((*consumer)->Poll(1000, 0, {}, &out).ok());
  ASSERT_EQ(listener.lost.size(), 1u);
  const LostRange& r = listener.lost[0];
  EXPECT_EQ(r.partition, 0);
  EXPECT_EQ(r.cause, LostRange::Cause::kDeleted);
  EXPECT_EQ(r.expected, 3);
  EXPECT_EQ(r.resume_at, unheld);
  EXPECT_EQ(r.records, static_cast<uint64_t>(unheld - 3));
  ASSERT_EQ(out.size(), static_cast<size_t>(100 - unheld));
  EXPECT_EQ(out.front().offset, unheld);
  EXPECT_EQ(DescribeLostRange("t", r),
            fmt::format("log t partition 0: offsets 3..{} ({} records) were deleted by the log's "
                        "retention (log.retention_force, or a retention run while the processor "
                        "lagged) before they were processed; they are counted as lost",
                        unheld - 1, unheld - 3));
  PartitionPosition done{0, 100};
  ASSERT_TRUE((*consumer)->Commit({&done, 1}).ok());
  EXPECT_TRUE(*(*consumer)->CaughtUp());
  out.clear();
  ASSERT_TRUE((*consumer)->Poll(1000, 0, {}, &out).ok());  // reported once
  EXPECT_EQ(listener.lost.size(), 1u);
}

// A position past the end is a tail the log lost in a crash (fsync: none): not a loss, the relay
// streams it again at the same offsets; the consumer waits there and reports nothing.
TEST_F(EmbeddedRetentionTest, APositionPastTheEndWaitsForTheTailToBeStreamedAgain) {
  auto log = OpenFilled(false);
  RecordingListener listener;
  listener.resume = 103;  // the store's offset, from before the tail was lost
  auto consumer = log->Subscribe("g", "t", &listener);
  ASSERT_TRUE(consumer.ok());
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE((*consumer)->Poll(1000, 0, {}, &out).ok());
  EXPECT_TRUE(out.empty());
  std::vector<LogRecord> tail;
  for (int i = 100; i < 106; ++i) tail.push_back({"k" + std::to_string(i), "again", 1, {}});
  ASSERT_TRUE(log->Append("t", 0, tail).ok());
  ASSERT_TRUE((*consumer)->Poll(1000, 0, {}, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out.front().offset, 103);
  EXPECT_TRUE(listener.lost.empty());
}

}  // namespace
}  // namespace dataforge
