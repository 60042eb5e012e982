// The Log contract (log/log.h), checked for every backend: the embedded log, and Kafka through
// librdkafka's mock brokers in-process (real Kafka protocol over loopback TCP).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "integration/subprocess.h"
#include "log/kafka/testing_mock_cluster.h"
#include "log/log.h"

namespace dataforge {
namespace {

using testing::WaitFor;

struct EmbeddedBackend {
  testing::TempDir dir;
  Result<std::unique_ptr<Log>> Open(OpenMode mode) {
    return OpenLog(dir.Sub("log"), mode, LogOptions{});
  }
  void PrepareTopic(const std::string&, int) {}  // CreateTopic makes it
  std::string Mismatch(const std::string& topic, int have, int want) const {
    return fmt::format(
        "topic '{}' exists with {} partitions, the pipeline asks for {}; keep {} or use a new "
        "topic name or data dir",
        topic, have, want, have);
  }
};

struct KafkaBackend {
  testing::InProcessKafka kafka{1};
  Result<std::unique_ptr<Log>> Open(OpenMode mode) {
    LogOptions options;
    options.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    return OpenLog(kafka.url(), mode, options);
  }
  // The mock brokers do not implement the CreateTopics admin request: the operator's part.
  void PrepareTopic(const std::string& topic, int partitions) {
    kafka.CreateTopic(topic, partitions);
  }
  std::string Mismatch(const std::string& topic, int have, int want) const {
    return fmt::format(
        "topic '{}' has {} partitions in Kafka at {}, the pipeline file says {}: set "
        "log.partitions: {} (or use another log.topic)",
        topic, have, kafka.bootstrap(), want, have);
  }
};

std::vector<LogRecord> Records(int from, int n) {
  std::vector<LogRecord> v;
  for (int i = from; i < from + n; ++i) {
    v.push_back({fmt::format("key{}", i),
                 fmt::format("{{\"i\":{}}}", i),
                 1'700'000'000'000'000 + i * 1000,  // whole milliseconds (Kafka's unit)
                 {{"seq", std::to_string(i)}, {"origin", "conformance"}}});
  }
  return v;
}

class Listener : public ConsumerListener {
 public:
  Result<std::optional<int64_t>> ResumeOffset(int32_t partition) override {
    auto it = resume.find(partition);
    return it == resume.end() ? std::optional<int64_t>() : std::optional<int64_t>(it->second);
  }
  void OnRecordsLost(const LostRange& range) override { lost.push_back(range); }
  std::map<int32_t, int64_t> resume;
  std::vector<LostRange> lost;  // nothing is deleted in these tests: must stay empty
};

template <typename B>
class LogConformance : public ::testing::Test {
 protected:
  void SetUp() override { log_ = Open(OpenMode::kReadWrite); }

  std::unique_ptr<Log> Open(OpenMode mode) {
    auto log = backend_.Open(mode);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  std::vector<ConsumedRecord> Read(Log* log, int32_t partition, int64_t offset, size_t max) {
    std::vector<ConsumedRecord> out;
    Status s = log->Read("t", partition, offset, max, &out);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  // Polls `c` until `want` records arrived (60 s at most), committing after each poll.
  std::vector<ConsumedRecord> Drain(LogConsumer* c, size_t want) {
    std::vector<ConsumedRecord> all;
    WaitFor(
        [&] {
          std::vector<ConsumedRecord> batch;
          Status s = c->Poll(1000, 100'000, {}, &batch);
          EXPECT_TRUE(s.ok()) << s.ToString();
          std::map<int32_t, int64_t> next;
          for (const auto& r : batch) next[r.partition] = r.offset + 1;
          std::vector<PartitionPosition> positions;
          for (auto [p, o] : next) positions.push_back({p, o});
          EXPECT_TRUE(c->Commit(positions).ok());
          all.insert(all.end(), batch.begin(), batch.end());
          return !s.ok() || all.size() >= want;
        },
        60);
    return all;
  }

  B backend_;
  std::unique_ptr<Log> log_;
};

using Backends = ::testing::Types<EmbeddedBackend, KafkaBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, EmbeddedBackend> ? "Embedded" : "Kafka";
  }
};
TYPED_TEST_SUITE(LogConformance, Backends, BackendNames);

TYPED_TEST(LogConformance, CreateTopicIsIdempotentAndRefusesAnotherPartitionCount) {
  Log* log = this->log_.get();
  this->backend_.PrepareTopic("t", 3);
  ASSERT_TRUE(log->CreateTopic("t", 3).ok());
  ASSERT_TRUE(log->CreateTopic("t", 3).ok());
  Status s = log->CreateTopic("t", 5);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), this->backend_.Mismatch("t", 3, 5));
  EXPECT_EQ(*log->ListTopics(), std::vector<std::string>{"t"});
  auto info = log->DescribeTopic("t");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->name, "t");
  ASSERT_EQ(info->partitions.size(), 3u);
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(info->partitions[p].partition, p);
    EXPECT_EQ(info->partitions[p].start_offset, 0);
    EXPECT_EQ(info->partitions[p].end_offset, 0);
  }
  EXPECT_EQ(log->DescribeTopic("nope").status().code(), StatusCode::kNotFound);
}

TYPED_TEST(LogConformance, AppendNumbersRecordsAndReadReturnsThemExactly) {
  Log* log = this->log_.get();
  this->backend_.PrepareTopic("t", 3);
  ASSERT_TRUE(log->CreateTopic("t", 3).ok());
  EXPECT_EQ(*log->Append("t", 1, Records(0, 3)), 0);
  EXPECT_EQ(*log->Append("t", 1, Records(3, 2)), 3);
  std::vector<std::vector<LogRecord>> by_partition(3);
  by_partition[0] = Records(100, 4);
  by_partition[2] = Records(200, 1);
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());

  auto all = this->Read(log, 1, 0, 100);
  ASSERT_EQ(all.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(all[i].partition, 1);
    EXPECT_EQ(all[i].offset, i);
    EXPECT_EQ(all[i].record.key, Records(i, 1)[0].key);
    EXPECT_EQ(all[i].record.value, Records(i, 1)[0].value);
    EXPECT_EQ(all[i].record.timestamp_us, Records(i, 1)[0].timestamp_us);
    EXPECT_EQ(all[i].record.headers, Records(i, 1)[0].headers);
    EXPECT_EQ(OutboxSeqOf(all[i].record), static_cast<uint64_t>(i));
    EXPECT_EQ(OriginOf(all[i].record), "conformance");
  }
  auto middle = this->Read(log, 1, 2, 2);  // from inside a batch, limited
  ASSERT_EQ(middle.size(), 2u);
  EXPECT_EQ(middle[0].offset, 2);
  EXPECT_EQ(middle[1].offset, 3);
  EXPECT_TRUE(this->Read(log, 1, 5, 10).empty());  // at the end: nothing, no wait
  EXPECT_EQ(this->Read(log, 0, 0, 100).size(), 4u);

  auto last = log->ReadLast("t", 1);
  ASSERT_TRUE(last.ok() && last->has_value()) << last.status().ToString();
  EXPECT_EQ((*last)->offset, 4);
  EXPECT_EQ((*last)->record.key, "key4");
  EXPECT_EQ((*log->ReadLast("t", 2))->record.key, "key200");
  ASSERT_TRUE(log->Append("t", 2, Records(201, 1)).ok());
  EXPECT_EQ((*log->ReadLast("t", 2))->offset, 1);

  auto info = log->DescribeTopic("t");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->partitions[0].end_offset, 4);
  EXPECT_EQ(info->partitions[1].end_offset, 5);
  EXPECT_EQ(info->partitions[2].end_offset, 2);
  for (const auto& p : info->partitions) EXPECT_EQ(p.start_offset, 0);

  // The same through a new handle (embedded: reopened; Kafka: a new client).
  this->log_.reset();
  auto again = this->Open(OpenMode::kReadWrite);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(this->Read(again.get(), 1, 0, 100).size(), 5u);
  EXPECT_EQ(*again->Append("t", 1, Records(5, 1)), 5);  // offsets continue
}

TYPED_TEST(LogConformance, ReadLastOfAnEmptyPartitionIsNothing) {
  this->backend_.PrepareTopic("t", 2);
  ASSERT_TRUE(this->log_->CreateTopic("t", 2).ok());
  auto last = this->log_->ReadLast("t", 0);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_FALSE(last->has_value());
  EXPECT_FALSE(this->log_->WaitForData("t", 0, 0, 50'000, {}));
  ASSERT_TRUE(this->log_->Append("t", 0, Records(0, 1)).ok());
  EXPECT_TRUE(this->log_->WaitForData("t", 0, 0, 10'000'000, {}));
}

// Seek by time: the first offset whose timestamp is >= t (Records(i) is at base + i ms).
TYPED_TEST(LogConformance, OffsetForTimeFindsTheFirstRecordAtOrAfterTheTime) {
  Log* log = this->log_.get();
  this->backend_.PrepareTopic("t", 2);
  ASSERT_TRUE(log->CreateTopic("t", 2).ok());
  ASSERT_TRUE(log->Append("t", 0, Records(0, 4)).ok());  // offsets 0..3, two batches
  ASSERT_TRUE(log->Append("t", 0, Records(4, 6)).ok());  // offsets 4..9
  const int64_t base = Records(0, 1)[0].timestamp_us;
  auto at = [&](int64_t t) {
    auto r = log->OffsetForTime("t", 0, t);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : -1;
  };
  EXPECT_EQ(at(base - 3'600'000'000), 0);  // an hour before the first: the start
  EXPECT_EQ(at(0), 0);
  EXPECT_EQ(at(base), 0);          // exactly the first
  EXPECT_EQ(at(base + 3000), 3);   // exactly record 3 (the last of the first batch)
  EXPECT_EQ(at(base + 4000), 4);   // exactly the first of the second batch
  EXPECT_EQ(at(base + 6500), 7);   // between 6 and 7
  EXPECT_EQ(at(base + 9000), 9);   // the last record
  EXPECT_EQ(at(base + 9001), 10);  // after it: the end offset
  EXPECT_EQ(at(base + 3'600'000'000), 10);
  // An empty partition: its end (0), whatever the time.
  auto empty = log->OffsetForTime("t", 1, base);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, 0);
  // Read-only (the inspection commands' and the server's handle) answers the same.
  auto ro = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(ro, nullptr);
  auto seek = ro->OffsetForTime("t", 0, base + 5000);
  ASSERT_TRUE(seek.ok()) << seek.status().ToString();
  EXPECT_EQ(*seek, 5);
  EXPECT_EQ(log->OffsetForTime("nope", 0, base).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(log->OffsetForTime("t", 2, base).status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(LogConformance, PartitionForIsStableAndSpreadsKeys) {
  this->backend_.PrepareTopic("t", 4);
  ASSERT_TRUE(this->log_->CreateTopic("t", 4).ok());
  std::vector<int32_t> first;
  std::set<int32_t> used;
  for (int i = 0; i < 200; ++i) {
    auto p = this->log_->PartitionFor("t", fmt::format("user-{}", i));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_GE(*p, 0);
    EXPECT_LT(*p, 4);
    first.push_back(*p);
    used.insert(*p);
  }
  EXPECT_EQ(used.size(), 4u);
  this->log_.reset();  // another handle (as another process would have) agrees
  auto other = this->Open(OpenMode::kReadWrite);
  ASSERT_NE(other, nullptr);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(*other->PartitionFor("t", fmt::format("user-{}", i)), first[i]) << i;
  }
}

TYPED_TEST(LogConformance, GroupOffsetsAreKeptPerGroupAndPartition) {
  this->backend_.PrepareTopic("t", 2);
  ASSERT_TRUE(this->log_->CreateTopic("t", 2).ok());
  ASSERT_TRUE(this->log_->Append("t", 0, Records(0, 10)).ok());
  EXPECT_EQ(*this->log_->GroupOffset("g", "t", 0), std::nullopt);
  ASSERT_TRUE(this->log_->CommitGroupOffset("g", "t", 0, 7).ok());
  ASSERT_TRUE(this->log_->CommitGroupOffset("h", "t", 0, 3).ok());
  EXPECT_EQ(*this->log_->GroupOffset("g", "t", 0), std::optional<int64_t>(7));
  EXPECT_EQ(*this->log_->GroupOffset("h", "t", 0), std::optional<int64_t>(3));
  EXPECT_EQ(*this->log_->GroupOffset("g", "t", 1), std::nullopt);
  this->log_.reset();
  auto again = this->Open(OpenMode::kReadWrite);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again->GroupOffset("g", "t", 0), std::optional<int64_t>(7));
  EXPECT_EQ(*again->GroupOffset("h", "t", 0), std::optional<int64_t>(3));
  // Every partition's at once (Kafka: one OffsetFetch), in partition order.
  ASSERT_TRUE(again->CommitGroupOffset("h", "t", 1, 9).ok());
  using Offsets = std::vector<std::optional<int64_t>>;
  auto g = again->GroupOffsets("g", "t", 2);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(*g, (Offsets{7, std::nullopt}));
  auto h = again->GroupOffsets("h", "t", 2);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(*h, (Offsets{3, 9}));
  EXPECT_EQ(*again->GroupOffsets("none", "t", 2), (Offsets{std::nullopt, std::nullopt}));
}

TYPED_TEST(LogConformance, ConsumerReadsEachPartitionInOrderFromTheLaterResumePoint) {
  Log* log = this->log_.get();
  this->backend_.PrepareTopic("t", 3);
  ASSERT_TRUE(log->CreateTopic("t", 3).ok());
  for (int batch = 0; batch < 4; ++batch) {
    std::vector<std::vector<LogRecord>> by_partition(3);
    for (int p = 0; p < 3; ++p) by_partition[p] = Records(p * 1000 + batch * 5, 5);
    ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
  }
  // Partition 1: the group committed 6; partition 2: the member's own store says 12.
  ASSERT_TRUE(log->CommitGroupOffset("g", "t", 1, 6).ok());
  Listener listener;
  listener.resume[1] = 3;  // earlier than the group's: the later one wins
  listener.resume[2] = 12;
  auto consumer = log->Subscribe("g", "t", &listener);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  auto got = this->Drain(consumer->get(), 20 + 14 + 8);
  ASSERT_EQ(got.size(), 42u);
  std::map<int32_t, std::vector<int64_t>> offsets;
  for (const auto& r : got) {
    offsets[r.partition].push_back(r.offset);
    EXPECT_EQ(r.record.key, fmt::format("key{}", r.partition * 1000 + r.offset));
  }
  auto range = [](int64_t from, int64_t to) {
    std::vector<int64_t> v;
    for (int64_t i = from; i < to; ++i) v.push_back(i);
    return v;
  };
  EXPECT_EQ(offsets[0], range(0, 20));
  EXPECT_EQ(offsets[1], range(6, 20));
  EXPECT_EQ(offsets[2], range(12, 20));
  EXPECT_TRUE(WaitFor([&] { return *(*consumer)->CaughtUp(); }, 30));
  EXPECT_EQ((*consumer)->Assignment(), (std::vector<int32_t>{0, 1, 2}));

  // Appends after the consumer caught up reach it, in order; then it is behind until commit.
  ASSERT_TRUE(log->Append("t", 0, Records(20, 3)).ok());
  std::vector<ConsumedRecord> more;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::vector<ConsumedRecord> batch;
        EXPECT_TRUE((*consumer)->Poll(100, 100'000, {}, &batch).ok());
        more.insert(more.end(), batch.begin(), batch.end());
        return more.size() >= 3;
      },
      30));
  ASSERT_EQ(more.size(), 3u);
  EXPECT_EQ(more[0].offset, 20);
  EXPECT_EQ(more[2].offset, 22);
  EXPECT_FALSE(*(*consumer)->CaughtUp());
  std::vector<PartitionPosition> done = {{0, 23}};
  ASSERT_TRUE((*consumer)->Commit(done).ok());
  EXPECT_TRUE(WaitFor([&] { return *(*consumer)->CaughtUp(); }, 30));
  ASSERT_TRUE((*consumer)->Close().ok());
  EXPECT_EQ(*log->GroupOffset("g", "t", 0), std::optional<int64_t>(23));
  EXPECT_EQ(*log->GroupOffset("g", "t", 2), std::optional<int64_t>(20));

  // A new member of the group resumes after the committed offsets: nothing is read twice.
  Listener fresh;
  auto next = log->Subscribe("g", "t", &fresh);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(log->Append("t", 2, Records(2020, 1)).ok());
  auto tail = this->Drain(next->get(), 1);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].partition, 2);
  EXPECT_EQ(tail[0].offset, 20);
  ASSERT_TRUE((*next)->Close().ok());
  EXPECT_TRUE(listener.lost.empty());
  EXPECT_TRUE(fresh.lost.empty());
}

TYPED_TEST(LogConformance, StartAppendTicketsAreAcknowledgedInOrder) {
  Log* log = this->log_.get();
  this->backend_.PrepareTopic("t", 2);
  ASSERT_TRUE(log->CreateTopic("t", 2).ok());
  std::vector<uint64_t> tickets;
  for (int i = 0; i < 5; ++i) {
    std::vector<std::vector<LogRecord>> by_partition(2);
    by_partition[i % 2] = Records(i * 10, 2);
    auto t = log->StartAppend("t", by_partition);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tickets.push_back(*t);
  }
  EXPECT_EQ(tickets, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  uint64_t acked = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto a = log->Acknowledged(100'000);
        EXPECT_TRUE(a.ok()) << a.status().ToString();
        acked = a.ok() ? *a : 0;
        return acked >= 5;
      },
      30));
  EXPECT_EQ(acked, 5u);
  auto p0 = this->Read(log, 0, 0, 100);
  ASSERT_EQ(p0.size(), 6u);  // tickets 1, 3, 5 in the order they were started
  EXPECT_EQ(p0[0].record.key, "key0");
  EXPECT_EQ(p0[2].record.key, "key20");
  EXPECT_EQ(p0[4].record.key, "key40");
  EXPECT_EQ(this->Read(log, 1, 0, 100).size(), 4u);
}

TYPED_TEST(LogConformance, ReadOnlyReadsAndRefusesAppends) {
  this->backend_.PrepareTopic("t", 2);
  ASSERT_TRUE(this->log_->CreateTopic("t", 2).ok());
  ASSERT_TRUE(this->log_->Append("t", 0, Records(0, 4)).ok());
  auto ro = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(ro, nullptr);
  EXPECT_EQ(this->Read(ro.get(), 0, 0, 100).size(), 4u);
  EXPECT_EQ(ro->DescribeTopic("t")->partitions[0].end_offset, 4);
  auto refused = ro->Append("t", 0, Records(9, 1));
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "the log is open read-only");
  EXPECT_EQ(this->log_->DescribeTopic("t")->partitions[0].end_offset, 4);
}

}  // namespace
}  // namespace dataforge
