#include "log/kafka/kafka_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "log/kafka/kafka_client.h"
#include "log/kafka/testing_mock_cluster.h"

namespace dataforge {
namespace {

using testing::InProcessKafka;

TEST(KafkaUrlTest, ParsesBrokersAndProperties) {
  auto u = ParseKafkaUrl(
      "kafka://a:9092,b.example:19092/?security.protocol=ssl&ssl.ca.location=%2Fca.pem");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->bootstrap, "a:9092,b.example:19092");
  ASSERT_EQ(u->properties.size(), 2u);
  EXPECT_EQ(u->properties[0], (std::pair<std::string, std::string>{"security.protocol", "ssl"}));
  EXPECT_EQ(u->properties[1], (std::pair<std::string, std::string>{"ssl.ca.location", "/ca.pem"}));
}

TEST(KafkaUrlTest, RejectsWhatIsNotHostPort) {
  const char* usage = "; expected kafka://host:port[,host:port...][?property=value&...]";
  EXPECT_EQ(ParseKafkaUrl("kafka://").status().message(),
            std::string("log url 'kafka://': no broker address") + usage);
  EXPECT_EQ(ParseKafkaUrl("kafka://a:1,b").status().message(),
            std::string("log url 'kafka://a:1,b': broker 'b' is not host:port") + usage);
  EXPECT_EQ(ParseKafkaUrl("kafka://a:1?x").status().message(),
            std::string("log url 'kafka://a:1?x': query part 'x' is not property=value") + usage);
  EXPECT_EQ(ParseKafkaUrl("kafka://a:1").status().code(), StatusCode::kOk);
}

class KafkaLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> Open(OpenMode mode = OpenMode::kReadWrite) {
    LogOptions options;
    options.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    auto log = OpenLog(kafka_.url(), mode, options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  static std::vector<LogRecord> Records(int from, int n) {
    std::vector<LogRecord> v;
    for (int i = from; i < from + n; ++i) {
      v.push_back({fmt::format("key{}", i),
                   fmt::format("{{\"i\":{}}}", i),
                   1'700'000'000'123'000,
                   {{"seq", std::to_string(i)}}});
    }
    return v;
  }
  // Batch `b` of 100 records of 1 KB (keys k<b*100>...) appended to partition 0 of `topic`.
  static Status AppendKilobyteBatch(Log& log, const std::string& topic, int b) {
    std::vector<LogRecord> batch;
    for (int i = 0; i < 100; ++i) {
      batch.push_back({fmt::format("k{}", b * 100 + i), std::string(1000, 'x'), 1, {}});
    }
    return log.Append(topic, 0, batch).status();
  }
  InProcessKafka kafka_;
};

TEST_F(KafkaLogTest, AppendsReadsBackAndDescribes) {
  auto log = Open();
  kafka_.CreateTopic("t", 3);
  ASSERT_TRUE(log->CreateTopic("t", 3).ok());
  auto mismatch = log->CreateTopic("t", 4);
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(mismatch.message(),
            fmt::format("topic 't' has 3 partitions in Kafka at {}, the pipeline file says 4: "
                        "set log.partitions: 3 (or use another log.topic)",
                        kafka_.bootstrap()));
  std::vector<std::vector<LogRecord>> by_partition(3);
  by_partition[0] = Records(0, 5);
  by_partition[2] = Records(5, 2);
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
  auto base = log->Append("t", 2, Records(7, 1));
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  EXPECT_EQ(*base, 2);

  auto info = log->DescribeTopic("t");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->partitions.size(), 3u);
  EXPECT_EQ(info->partitions[0].end_offset, 5);
  EXPECT_EQ(info->partitions[1].end_offset, 0);
  EXPECT_EQ(info->partitions[2].end_offset, 3);

  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log->Read("t", 0, 1, 3, &out).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].offset, 1);
  EXPECT_EQ(out[0].record.key, "key1");
  EXPECT_EQ(out[0].record.value, "{\"i\":1}");
  EXPECT_EQ(out[0].record.timestamp_us, 1'700'000'000'123'000);
  EXPECT_EQ(out[0].record.headers,
            (std::vector<std::pair<std::string, std::string>>{{"seq", "1"}}));
  out.clear();
  ASSERT_TRUE(log->Read("t", 1, 0, 10, &out).ok());  // empty partition: nothing, no wait
  EXPECT_TRUE(out.empty());
  auto last = log->ReadLast("t", 2);
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->offset, 2);
  EXPECT_EQ((*last)->record.key, "key7");
  EXPECT_FALSE(log->ReadLast("t", 1)->has_value());
  EXPECT_EQ(*log->ListTopics(), std::vector<std::string>{"t"});
  EXPECT_EQ(log->DescribeTopic("nope").status().code(), StatusCode::kNotFound);
}

// A tombstone goes to Kafka as a null value and reads back as one; an empty value stays empty.
TEST_F(KafkaLogTest, TombstoneIsANullValueAndAnEmptyValueIsNot) {
  auto log = Open();
  kafka_.CreateTopic("tomb", 1);
  std::vector<LogRecord> records(2);
  records[0].key = "gone";
  records[0].tombstone = true;
  records[0].timestamp_us = 1'700'000'000'000'000;
  records[1].key = "empty";
  records[1].timestamp_us = 1'700'000'000'000'000;
  ASSERT_TRUE(log->Append("tomb", 0, records).ok());
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log->Read("tomb", 0, 0, 10, &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].record.key, "gone");
  EXPECT_TRUE(out[0].record.tombstone);
  EXPECT_EQ(out[0].record.value, "");
  EXPECT_EQ(out[1].record.key, "empty");
  EXPECT_FALSE(out[1].record.tombstone);
  EXPECT_EQ(out[1].record.value, "");
}

// A topic's identity (Log::LogId) is its first record's fingerprint: "" while partition 0 is
// empty, then the same for every process, and another for a topic of the same name made again
// (another cluster here: librdkafka's mock brokers cannot delete a topic).
TEST_F(KafkaLogTest, TopicIdentityIsItsFirstRecord) {
  auto log = Open();
  kafka_.CreateTopic("t", 2);
  ASSERT_TRUE(log->CreateTopic("t", 2).ok());
  EXPECT_EQ(log->LogId("nosuch").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(log->Append("t", 1, Records(0, 3)).ok());
  EXPECT_EQ(*log->LogId("t"), "");  // partition 0 has no record yet
  ASSERT_TRUE(log->Append("t", 0, Records(3, 2)).ok());
  auto id = log->LogId("t");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->rfind("kafka:1700000000123:", 0), 0u) << *id;
  EXPECT_EQ(id->size(), std::string("kafka:1700000000123:").size() + 16) << *id;
  ASSERT_TRUE(log->Append("t", 0, Records(5, 2)).ok());
  EXPECT_EQ(*log->LogId("t"), *id);  // later records do not change it
  EXPECT_EQ(*Open(OpenMode::kReadOnly)->LogId("t"), *id);

  // The same name with other first records: another log.
  InProcessKafka again(1);
  again.CreateTopic("t", 2);
  auto other = OpenLog(again.url(), OpenMode::kReadWrite, {});
  ASSERT_TRUE(other.ok());
  std::vector<LogRecord> first = Records(3, 1);
  first[0].timestamp_us += 1000;  // made a millisecond later
  ASSERT_TRUE((*other)->Append("t", 0, first).ok());
  auto other_id = (*other)->LogId("t");
  ASSERT_TRUE(other_id.ok()) << other_id.status().ToString();
  EXPECT_NE(*other_id, *id);
  EXPECT_EQ(other_id->rfind("kafka:1700000000124:", 0), 0u) << *other_id;
}

TEST_F(KafkaLogTest, PartitionForIsTheJavaClientsMurmur2) {
  auto log = Open();
  kafka_.CreateTopic("t", 6);
  ASSERT_TRUE(log->CreateTopic("t", 6).ok());
  // librdkafka's own murmur2 partitioner, used by a separate producer with no explicit
  // partition, puts each key where PartitionFor() says.
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", kafka_.bootstrap().c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "partitioner", "murmur2", err, sizeof err);
  std::map<std::string, int32_t> delivered;
  rd_kafka_conf_set_opaque(conf, &delivered);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* d = static_cast<std::map<std::string, int32_t>*>(opaque);
    (*d)[std::string(static_cast<const char*>(m->key), m->key_len)] = m->partition;
  });
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  ASSERT_NE(producer, nullptr) << err;
  std::set<int32_t> used;
  for (int i = 0; i < 40; ++i) {
    std::string key = fmt::format("{:08x}-0000-4000-8000-000000000000", i * 7919);
    rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_KEY(key.data(), key.size()),
                      RD_KAFKA_V_VALUE(const_cast<char*>("v"), 1),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  }
  rd_kafka_flush(producer, 10000);
  rd_kafka_destroy(producer);
  ASSERT_EQ(delivered.size(), 40u);
  for (const auto& [key, partition] : delivered) {
    EXPECT_EQ(*log->PartitionFor("t", key), partition) << key;
    used.insert(partition);
  }
  EXPECT_GT(used.size(), 3u);
}

class CountingListener : public ConsumerListener {
 public:
  Result<std::optional<int64_t>> ResumeOffset(int32_t partition) override {
    auto it = resume.find(partition);
    return it == resume.end() ? std::optional<int64_t>() : std::optional<int64_t>(it->second);
  }
  void OnRecordsLost(const LostRange& range) override { lost.push_back(range); }
  std::map<int32_t, int64_t> resume;
  std::vector<LostRange> lost;
};

// How long a test waits for the mock cluster (a rebalance, a fetch) before it fails: far beyond
// the session timeout, since under ASan with tests in parallel a rebalance can take many
// heartbeats. Loops wait on the condition itself, never on a number of polls.
class Deadline {
 public:
  explicit Deadline(int seconds)
      : at_(std::chrono::steady_clock::now() + std::chrono::seconds(seconds)) {}
  bool Passed() const { return std::chrono::steady_clock::now() >= at_; }

 private:
  std::chrono::steady_clock::time_point at_;
};

// Polls until `want` records arrived or 120 s passed; commits each batch.
std::vector<ConsumedRecord> Drain(LogConsumer* c, size_t want) {
  std::vector<ConsumedRecord> all;
  for (Deadline d(120); !d.Passed() && all.size() < want;) {
    std::vector<ConsumedRecord> batch;
    EXPECT_TRUE(c->Poll(1000, 100'000, {}, &batch).ok());
    std::map<int32_t, int64_t> next;
    for (const auto& r : batch) next[r.partition] = r.offset + 1;
    std::vector<PartitionPosition> positions;
    for (auto [p, o] : next) positions.push_back({p, o});
    EXPECT_TRUE(c->Commit(positions).ok());
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

// librdkafka 2.0 stops fetching once its pre-fetch queue is full (queued.max.messages.kbytes)
// and looks again only when a broker thread wakes, up to a second later, however soon the queue
// is drained. Here every fetch fills the queue (1 KB; each fetch returns one batch of 100 records
// of 1 KB), so reading 40 batches waited ~40 such pauses (35 s) until Poll woke the fetchers when
// it found the queue empty with records left to read.
TEST_F(KafkaLogTest, AFullPrefetchQueueDoesNotPauseReading) {
  auto log = Open();
  kafka_.CreateTopic("t", 1);
  ASSERT_TRUE(log->CreateTopic("t", 1).ok());
  for (int b = 0; b < 40; ++b) ASSERT_TRUE(AppendKilobyteBatch(*log, "t", b).ok());
  LogOptions options;
  options.properties = {{"queued.max.messages.kbytes", "1"}, {"max.partition.fetch.bytes", "1"}};
  auto reader = OpenLog(kafka_.url(), OpenMode::kReadWrite, options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  CountingListener listener;
  auto c = (*reader)->Subscribe("g", "t", &listener);
  ASSERT_TRUE(c.ok());
  std::vector<ConsumedRecord> first;
  for (Deadline d(120); !d.Passed() && first.empty();) {
    ASSERT_TRUE((*c)->Poll(100, 100'000, {}, &first).ok());  // joined, and fetching
  }
  ASSERT_FALSE(first.empty());
  auto start = std::chrono::steady_clock::now();
  std::vector<ConsumedRecord> rest = Drain(c->get(), 4000 - first.size());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(first.size() + rest.size(), 4000u);
  EXPECT_EQ(rest.back().offset, 3999);
  // ~4 s here (a wake-up at most every 50 ms); ~35 s when the fetchers pause at each full queue.
  EXPECT_LT(seconds, 20.0) << "the fetchers paused at each full queue";
  ASSERT_TRUE((*c)->Close().ok());
}

TEST_F(KafkaLogTest, GroupMembersShareThePartitionsAndResumeAtTheLaterOffset) {
  auto log = Open();
  kafka_.CreateTopic("t", 4);
  ASSERT_TRUE(log->CreateTopic("t", 4).ok());
  std::vector<std::vector<LogRecord>> by_partition(4);
  for (int p = 0; p < 4; ++p) by_partition[p] = Records(p * 100, 10);
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());

  // Member A alone: every partition; its store says partition 3 is done up to offset 4.
  CountingListener listener_a;
  listener_a.resume[3] = 4;
  auto a = log->Subscribe("g", "t", &listener_a);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto got = Drain(a->get(), 36);
  ASSERT_EQ(got.size(), 36u);  // 4 x 10, less the 4 below the store offset
  std::set<std::pair<int32_t, int64_t>> seen;
  for (const auto& r : got) EXPECT_TRUE(seen.insert({r.partition, r.offset}).second);
  EXPECT_FALSE(seen.count({3, 3}));  // below the store's offset: never returned
  EXPECT_TRUE(seen.count({3, 4}));
  EXPECT_TRUE(*(*a)->CaughtUp());
  EXPECT_EQ((*a)->Assignment(), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(*log->GroupOffset("g", "t", 0), std::optional<int64_t>(10));

  // Member B joins: the partitions are split between them.
  CountingListener listener_b;
  auto b = log->Subscribe("g", "t", &listener_b);
  ASSERT_TRUE(b.ok());
  for (Deadline d(120);
       ((*a)->Assignment().empty() || (*b)->Assignment().empty()) && !d.Passed();) {
    std::vector<ConsumedRecord> none;
    ASSERT_TRUE((*a)->Poll(100, 50'000, {}, &none).ok());
    ASSERT_TRUE((*b)->Poll(100, 50'000, {}, &none).ok());
    EXPECT_TRUE(none.empty());  // everything was committed: nothing is read twice
  }
  ASSERT_FALSE((*a)->Assignment().empty() || (*b)->Assignment().empty())
      << "no rebalance within 120 s: A owns " << (*a)->Assignment().size() << ", B owns "
      << (*b)->Assignment().size() << " partitions";
  auto pa = (*a)->Assignment(), pb = (*b)->Assignment();
  EXPECT_EQ(pa.size() + pb.size(), 4u);
  std::set<int32_t> both(pa.begin(), pa.end());
  both.insert(pb.begin(), pb.end());
  EXPECT_EQ(both.size(), 4u);

  // New records reach whichever member owns their partition, exactly once.
  for (int p = 0; p < 4; ++p) by_partition[p] = Records(1000 + p, 1);
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
  std::vector<ConsumedRecord> more;
  for (Deadline d(120); more.size() < 4 && !d.Passed();) {
    for (auto* c : {a->get(), b->get()}) {
      std::vector<ConsumedRecord> batch;
      ASSERT_TRUE(c->Poll(100, 20'000, {}, &batch).ok());
      for (const auto& r : batch) {
        EXPECT_TRUE(std::find(c->Assignment().begin(), c->Assignment().end(), r.partition) !=
                    c->Assignment().end());
      }
      more.insert(more.end(), batch.begin(), batch.end());
    }
  }
  EXPECT_EQ(more.size(), 4u);
  ASSERT_TRUE((*a)->Close().ok());
  ASSERT_TRUE((*b)->Close().ok());
}

// The mock brokers keep about 5 MB per partition: 7 MB of records make them delete the oldest,
// as a broker's retention would. A new group starts at offset 0 and is told what it cannot read.
TEST_F(KafkaLogTest, ANewGroupIsToldOfRecordsRetentionDeleted) {
  auto log = Open();
  kafka_.CreateTopic("t", 1);
  ASSERT_TRUE(log->CreateTopic("t", 1).ok());
  for (int b = 0; b < 70; ++b) ASSERT_TRUE(AppendKilobyteBatch(*log, "t", b).ok());
  auto info = log->DescribeTopic("t");
  ASSERT_TRUE(info.ok());
  int64_t start = info->partitions[0].start_offset;
  ASSERT_GT(start, 0);
  ASSERT_EQ(info->partitions[0].end_offset, 7000);
  CountingListener listener;
  auto c = log->Subscribe("g", "t", &listener);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*(*c)->CaughtUp());
  std::vector<ConsumedRecord> first;
  for (Deadline d(120); !d.Passed() && first.empty();) {
    ASSERT_TRUE((*c)->Poll(10, 100'000, {}, &first).ok());
  }
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.front().offset, start);
  ASSERT_EQ(listener.lost.size(), 1u);
  EXPECT_EQ(listener.lost[0].cause, LostRange::Cause::kDeleted);
  EXPECT_EQ(listener.lost[0].expected, 0);
  EXPECT_EQ(listener.lost[0].resume_at, start);
  EXPECT_EQ(listener.lost[0].records, static_cast<uint64_t>(start));
  ASSERT_TRUE((*c)->Close().ok());
}

// A group that starts behind a retention edge that keeps moving (the brokers delete a batch while
// the consumer's reset to the oldest offset waits to fetch it) still reads, and is told what it
// lost. With librdkafka's default 500 ms fetch.error.backoff.ms every reset landed on a record
// that was gone by the time it was fetched: nothing read, nothing counted lost, for ever.
TEST_F(KafkaLogTest, AGroupBehindAMovingRetentionEdgeStillReads) {
  auto log = Open();
  kafka_.CreateTopic("t", 1);
  ASSERT_TRUE(log->CreateTopic("t", 1).ok());
  int b = 0;
  for (; b < 70; ++b) ASSERT_TRUE(AppendKilobyteBatch(*log, "t", b).ok());  // the edge moves
  Status producer_status;
  // A jthread: an assertion that returns early still stops and joins it.
  std::jthread producer([&](std::stop_token stop) {
    for (int n = b; !stop.stop_requested(); ++n) {  // a batch (one message set) every 100 ms
      if (Status s = AppendKilobyteBatch(*log, "t", n); !s.ok()) {
        producer_status = s;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  CountingListener listener;
  auto c = log->Subscribe("g", "t", &listener);
  ASSERT_TRUE(c.ok());
  std::vector<ConsumedRecord> read;
  for (Deadline d(60); !d.Passed() && read.empty();) {
    ASSERT_TRUE((*c)->Poll(10, 100'000, {}, &read).ok());
  }
  producer.request_stop();
  producer.join();
  ASSERT_TRUE(producer_status.ok()) << producer_status.ToString();
  ASSERT_FALSE(read.empty()) << "no record read in 60 s";
  ASSERT_EQ(listener.lost.size(), 1u);
  EXPECT_EQ(listener.lost[0].cause, LostRange::Cause::kDeleted);
  EXPECT_EQ(listener.lost[0].expected, 0);
  EXPECT_EQ(listener.lost[0].resume_at, read.front().offset);
  EXPECT_EQ(listener.lost[0].records, static_cast<uint64_t>(read.front().offset));
  ASSERT_TRUE((*c)->Close().ok());
}

// A position past the partition's end (the topic was made again): reading starts over at 0.
TEST_F(KafkaLogTest, APositionPastTheEndIsReportedAsOffsetsGoingBack) {
  auto log = Open();
  kafka_.CreateTopic("t", 1);
  ASSERT_TRUE(log->CreateTopic("t", 1).ok());
  ASSERT_TRUE(log->Append("t", 0, Records(0, 10)).ok());
  CountingListener listener;
  listener.resume[0] = 500;
  auto c = log->Subscribe("g", "t", &listener);
  ASSERT_TRUE(c.ok());
  auto got = Drain(c->get(), 10);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(got.front().offset, 0);
  ASSERT_EQ(listener.lost.size(), 1u);
  EXPECT_EQ(listener.lost[0].cause, LostRange::Cause::kOffsetsWentBack);
  EXPECT_EQ(listener.lost[0].expected, 500);
  EXPECT_EQ(listener.lost[0].resume_at, 0);
  EXPECT_EQ(listener.lost[0].records, 0u);
  ASSERT_TRUE((*c)->Close().ok());
}

// Polls `c` (committing nothing new) until the group's offset of every partition in `want` is
// reached or 120 s passed; returns the records the polls returned.
std::vector<ConsumedRecord> PollUntilCommitted(Log* log, LogConsumer* c,
                                               const std::map<int32_t, int64_t>& want) {
  std::vector<ConsumedRecord> got;
  for (Deadline d(120); !d.Passed();) {
    bool done = true;
    for (auto [p, o] : want) {
      auto at = log->GroupOffset("g", "t", p);
      if (!at.ok() || *at != std::optional<int64_t>(o)) done = false;
    }
    if (done) break;
    std::vector<ConsumedRecord> batch;
    EXPECT_TRUE(c->Poll(1000, 100'000, {}, &batch).ok());
    got.insert(got.end(), batch.begin(), batch.end());
  }
  return got;
}

// OffsetCommit fails once with REBALANCE_IN_PROGRESS: the commit is sent again and the group's
// offset reaches the member's position; nothing is read twice.
TEST_F(KafkaLogTest, AFailedCommitIsSentAgain) {
  auto log = Open();
  kafka_.CreateTopic("t", 2);
  ASSERT_TRUE(log->CreateTopic("t", 2).ok());
  std::vector<std::vector<LogRecord>> by_partition = {Records(0, 10), Records(100, 10)};
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
  CountingListener listener;
  auto a = log->Subscribe("g", "t", &listener);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(Drain(a->get(), 20).size(), 20u);
  EXPECT_TRUE(PollUntilCommitted(log.get(), a->get(), {{0, 10}, {1, 10}}).empty());
  EXPECT_EQ(*log->GroupOffset("g", "t", 1), std::optional<int64_t>(10));

  rd_kafka_mock_push_request_errors(kafka_.cluster(), 8 /* OffsetCommit */, 1,
                                    RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS);
  by_partition = {Records(10, 5), Records(110, 5)};
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
  ASSERT_EQ(Drain(a->get(), 10).size(), 10u);
  auto again = PollUntilCommitted(log.get(), a->get(), {{0, 15}, {1, 15}});
  EXPECT_EQ(again.size(), 0u);  // resumed at its own position, not at the failed commit's
  EXPECT_EQ(*log->GroupOffset("g", "t", 0), std::optional<int64_t>(15));
  EXPECT_EQ(*log->GroupOffset("g", "t", 1), std::optional<int64_t>(15));
  ASSERT_TRUE((*a)->Close().ok());
}

// Two members, one partition each. B's last commit fails and so does its commit on leaving:
// A takes B's partition over and re-processes exactly B's last batch (5 records), nothing of its
// own partition; then the group's offsets reach the end.
TEST_F(KafkaLogTest, WhenAMemberLeavesTheOtherReprocessesAtMostItsLastBatch) {
  auto log = Open();
  kafka_.CreateTopic("t", 2);
  ASSERT_TRUE(log->CreateTopic("t", 2).ok());
  CountingListener la, lb;
  auto a = log->Subscribe("g", "t", &la);
  auto b = log->Subscribe("g", "t", &lb);
  ASSERT_TRUE(a.ok() && b.ok());
  for (Deadline d(120); !d.Passed();) {
    std::vector<ConsumedRecord> none;
    ASSERT_TRUE((*a)->Poll(100, 50'000, {}, &none).ok());
    ASSERT_TRUE((*b)->Poll(100, 50'000, {}, &none).ok());
    if ((*a)->Assignment().size() == 1 && (*b)->Assignment().size() == 1) break;
  }
  ASSERT_EQ((*a)->Assignment().size(), 1u);
  ASSERT_EQ((*b)->Assignment().size(), 1u);
  int32_t pa = (*a)->Assignment()[0], pb = (*b)->Assignment()[0];
  std::vector<std::vector<LogRecord>> by_partition = {Records(0, 10), Records(100, 10)};
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
  ASSERT_EQ(Drain(a->get(), 10).size(), 10u);
  ASSERT_EQ(Drain(b->get(), 10).size(), 10u);
  EXPECT_TRUE(PollUntilCommitted(log.get(), a->get(), {{pa, 10}}).empty());
  EXPECT_TRUE(PollUntilCommitted(log.get(), b->get(), {{pb, 10}}).empty());

  by_partition = {Records(10, 5), Records(110, 5)};
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
  ASSERT_EQ(Drain(a->get(), 5).size(), 5u);
  EXPECT_TRUE(PollUntilCommitted(log.get(), a->get(), {{pa, 15}}).empty());
  // B's batch commit and its commit on leaving both fail.
  rd_kafka_mock_push_request_errors(kafka_.cluster(), 8 /* OffsetCommit */, 2,
                                    RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
                                    RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION);
  ASSERT_EQ(Drain(b->get(), 5).size(), 5u);
  ASSERT_TRUE((*b)->Close().ok());
  EXPECT_EQ(*log->GroupOffset("g", "t", pb), std::optional<int64_t>(10));

  // A owns both partitions now and re-processes B's uncommitted batch only.
  std::vector<ConsumedRecord> again;
  for (Deadline d(120); !d.Passed() && again.size() < 5;) {
    std::vector<ConsumedRecord> batch;
    ASSERT_TRUE((*a)->Poll(1000, 100'000, {}, &batch).ok());
    std::map<int32_t, int64_t> next;
    for (const auto& r : batch) next[r.partition] = r.offset + 1;
    std::vector<PartitionPosition> positions;
    for (auto [p, o] : next) positions.push_back({p, o});
    ASSERT_TRUE((*a)->Commit(positions).ok());
    again.insert(again.end(), batch.begin(), batch.end());
  }
  EXPECT_TRUE(PollUntilCommitted(log.get(), a->get(), {{pa, 15}, {pb, 15}}).empty());
  ASSERT_EQ(again.size(), 5u);
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].partition, pb);
    EXPECT_EQ(again[i].offset, static_cast<int64_t>(10 + i));
  }
  EXPECT_EQ((*a)->Assignment(), (std::vector<int32_t>{0, 1}));
  ASSERT_TRUE((*a)->Close().ok());
}

// A's commit fails with REBALANCE_IN_PROGRESS and its commit on giving the partitions up fails
// too, as B joins. The partition A keeps resumes at A's own position (nothing read again) and
// the commit is sent again; B starts its partition at the group's commit: exactly the one batch
// A could not commit there is read again (5 records).
TEST_F(KafkaLogTest, AFailedCommitIsSentAgainAfterTheRebalanceForThePartitionKept) {
  auto log = Open();
  kafka_.CreateTopic("t", 2);
  ASSERT_TRUE(log->CreateTopic("t", 2).ok());
  std::vector<std::vector<LogRecord>> by_partition = {Records(0, 10), Records(100, 10)};
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
  CountingListener la, lb;
  auto a = log->Subscribe("g", "t", &la);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(Drain(a->get(), 20).size(), 20u);
  EXPECT_TRUE(PollUntilCommitted(log.get(), a->get(), {{0, 10}, {1, 10}}).empty());

  by_partition = {Records(10, 5), Records(110, 5)};
  ASSERT_TRUE(log->AppendAll("t", by_partition).ok());
  // Every OffsetCommit until the rebalance is over fails (the first with REBALANCE_IN_PROGRESS).
  rd_kafka_mock_push_request_errors(
      kafka_.cluster(), 8 /* OffsetCommit */, 4, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
      RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
      RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION);
  ASSERT_EQ(Drain(a->get(), 10).size(), 10u);
  auto b = log->Subscribe("g", "t", &lb);
  ASSERT_TRUE(b.ok());
  std::vector<ConsumedRecord> read_a, read_b;
  for (Deadline d(120); !d.Passed();) {
    for (auto [c, read] : {std::pair{a->get(), &read_a}, std::pair{b->get(), &read_b}}) {
      std::vector<ConsumedRecord> batch;
      ASSERT_TRUE(c->Poll(100, 50'000, {}, &batch).ok());
      std::map<int32_t, int64_t> next;
      for (const auto& r : batch) next[r.partition] = r.offset + 1;
      std::vector<PartitionPosition> positions;
      for (auto [p, o] : next) positions.push_back({p, o});
      ASSERT_TRUE(c->Commit(positions).ok());
      read->insert(read->end(), batch.begin(), batch.end());
    }
    auto o0 = log->GroupOffset("g", "t", 0), o1 = log->GroupOffset("g", "t", 1);
    if ((*a)->Assignment().size() == 1 && (*b)->Assignment().size() == 1 && o0.ok() &&
        *o0 == std::optional<int64_t>(15) && o1.ok() && *o1 == std::optional<int64_t>(15)) {
      break;
    }
  }
  ASSERT_EQ((*a)->Assignment().size(), 1u);
  ASSERT_EQ((*b)->Assignment().size(), 1u);
  int32_t pb = (*b)->Assignment()[0];
  EXPECT_EQ(read_a.size(), 0u);  // A resumed at its own position, 15
  ASSERT_EQ(read_b.size(), 5u);  // B: the batch whose commit failed
  for (size_t i = 0; i < read_b.size(); ++i) {
    EXPECT_EQ(read_b[i].partition, pb);
    EXPECT_EQ(read_b[i].offset, static_cast<int64_t>(10 + i));
  }
  EXPECT_EQ(*log->GroupOffset("g", "t", 0), std::optional<int64_t>(15));
  EXPECT_EQ(*log->GroupOffset("g", "t", 1), std::optional<int64_t>(15));
  ASSERT_TRUE((*a)->Close().ok());
  ASSERT_TRUE((*b)->Close().ok());
}

// A member whose store is ahead of the group's commit (its records were stored, their commit
// was lost with a hand-over) gives that position to the group (with its next poll's commits, or
// at the latest when it hands the partition over): the group's lag is the truth.
TEST_F(KafkaLogTest, StoreAheadOfTheGroupIsCommittedAtTheHandOver) {
  auto log = Open();
  kafka_.CreateTopic("u", 1);
  ASSERT_TRUE(log->CreateTopic("u", 1).ok());
  std::vector<std::vector<LogRecord>> records = {Records(0, 10)};
  ASSERT_TRUE(log->AppendAll("u", records).ok());
  CountingListener listener;
  listener.resume[0] = 10;  // the store has all ten
  auto c = log->Subscribe("g3", "u", &listener);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (Deadline d(120); !d.Passed() && (*c)->Assignment().empty();) {
    std::vector<ConsumedRecord> none;
    ASSERT_TRUE((*c)->Poll(100, 50'000, {}, &none).ok());
    EXPECT_TRUE(none.empty());  // nothing below the store's offset is read
  }
  ASSERT_EQ((*c)->Assignment(), (std::vector<int32_t>{0}));
  ASSERT_TRUE((*c)->Close().ok());
  EXPECT_EQ(*log->GroupOffset("g3", "u", 0), std::optional<int64_t>(10));
}

}  // namespace
}  // namespace dataforge
