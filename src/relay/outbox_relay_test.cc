#include "relay/outbox_relay.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "log/kafka/testing_mock_cluster.h"
#include "log/testing/forwarding_log.h"

namespace dataforge {
namespace {

class OutboxRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_relay_XXXXXX";
    dir_ = mkdtemp(tmpl);
    staging_ =
        std::move(OpenStaging("sqlite://" + dir_ + "/s.db", OpenMode::kReadWrite, true)).value();
    log_ = std::move(OpenLog("file://" + dir_ + "/log", OpenMode::kReadWrite, {})).value();
    ASSERT_TRUE(log_->CreateTopic("t", 3).ok());
    SourceBatch b;
    for (int i = 0; i < 10; ++i)
      b.records.push_back({fmt::format("key{}", i), fmt::format("{{\"i\":{}}}", i), 100 + i});
    b.position = "p";
    ASSERT_TRUE(staging_->Commit("src", b).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Every seq in the log, in partition order.
  std::vector<uint64_t> SeqsInLog() {
    std::vector<uint64_t> seqs;
    for (int p = 0; p < 3; ++p) {
      std::vector<ConsumedRecord> out;
      EXPECT_TRUE(log_->Read("t", p, 0, 100, &out).ok());
      for (auto& c : out) seqs.push_back(OutboxSeqOf(c.record));
    }
    std::sort(seqs.begin(), seqs.end());
    return seqs;
  }

  std::string dir_;
  std::unique_ptr<Staging> staging_;
  std::unique_ptr<Log> log_;
  RelayProbe probe_;
};

TEST_F(OutboxRelayTest, MovesRowsInOrderAndCommitsTheCursor) {
  OutboxRelay relay(staging_.get(), log_.get(), "t", 3, 4, &probe_);
  ASSERT_TRUE(relay.Recover().ok());
  EXPECT_EQ(*relay.RunOnce(), 4u);
  EXPECT_EQ(*relay.RunOnce(), 4u);
  EXPECT_EQ(*relay.RunOnce(), 2u);
  EXPECT_EQ(*relay.RunOnce(), 0u);
  EXPECT_EQ(SeqsInLog(), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  // The first batch committed the cursor; later ones wait for the interval or a flush.
  EXPECT_EQ(staging_->Counters()->relay_cursor, 4u);
  ASSERT_TRUE(relay.FlushCursor().ok());
  auto c = staging_->Counters();
  EXPECT_EQ(c->relay_cursor, 10u);
  EXPECT_EQ(c->streamed, 10u);
  // Keys land on their partition; values, timestamps and the seq header travel along.
  std::vector<ConsumedRecord> out;
  int32_t p = *log_->PartitionFor("t", "key3");
  ASSERT_TRUE(log_->Read("t", p, 0, 100, &out).ok());
  auto it = std::find_if(out.begin(), out.end(), [](auto& r) { return r.record.key == "key3"; });
  ASSERT_NE(it, out.end());
  EXPECT_EQ(it->record.value, "{\"i\":3}");
  EXPECT_EQ(it->record.timestamp_us, 103);
  EXPECT_EQ(OutboxSeqOf(it->record), 4u);
}

// A broadcast record (common/record.h) is appended to every partition, at its place in seq
// order there; it counts as one streamed row. A restart (Recover) does not append it again.
TEST_F(OutboxRelayTest, BroadcastRecordGoesToEveryPartitionInSeqOrder) {
  SourceBatch b;
  b.records.push_back({TruncateKey("public.t"), R"({"op":"truncate"})", 200});
  b.records.push_back({"key10", R"({"i":10})", 201});
  b.position = "p2";
  ASSERT_TRUE(staging_->Commit("src", b).ok());  // seqs 11 (broadcast) and 12
  for (int round = 0; round < 2; ++round) {
    OutboxRelay relay(staging_.get(), log_.get(), "t", 3, 5, &probe_);
    ASSERT_TRUE(relay.Recover().ok());
    while (*relay.RunOnce() > 0) {
    }
    ASSERT_TRUE(relay.FlushCursor().ok());
  }
  EXPECT_EQ(staging_->Counters()->streamed, 12u);
  for (int p = 0; p < 3; ++p) {
    std::vector<ConsumedRecord> out;
    ASSERT_TRUE(log_->Read("t", p, 0, 100, &out).ok());
    std::vector<uint64_t> seqs;
    for (auto& c : out) seqs.push_back(OutboxSeqOf(c.record));
    EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end())) << p;
    EXPECT_EQ(std::count(seqs.begin(), seqs.end(), 11u), 1) << p;
    auto it = std::find(seqs.begin(), seqs.end(), 11u);
    ASSERT_NE(it, seqs.end());
    EXPECT_EQ(out[it - seqs.begin()].record.key, TruncateKey("public.t"));
    EXPECT_EQ(out[it - seqs.begin()].record.value, R"({"op":"truncate"})");
  }
}

TEST_F(OutboxRelayTest, CrashBetweenAppendAndCursorCommitGivesNoDuplicates) {
  {
    OutboxRelay relay(staging_.get(), log_.get(), "t", 3, 4, &probe_);
    ASSERT_TRUE(relay.Recover().ok());
    ASSERT_EQ(*relay.RunOnce(), 4u);
  }
  // A relay that appended rows 5..7 and died before committing its cursor.
  std::vector<OutboxRow> rows;
  ASSERT_TRUE(staging_->ReadOutbox(4, 3, &rows).ok());
  for (auto& r : rows) {
    int32_t p = *log_->PartitionFor("t", r.key);
    LogRecord rec{r.key, r.raw, r.fetched_at_us, {{"seq", std::to_string(r.seq)}}};
    ASSERT_TRUE(log_->Append("t", p, std::vector<LogRecord>{rec}).ok());
  }
  OutboxRelay relay(staging_.get(), log_.get(), "t", 3, 100, &probe_);
  ASSERT_TRUE(relay.Recover().ok());
  while (*relay.RunOnce() > 0) {
  }
  ASSERT_TRUE(relay.FlushCursor().ok());
  EXPECT_EQ(SeqsInLog(), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(staging_->Counters()->streamed, 10u);
}

TEST_F(OutboxRelayTest, RowsLostFromTheLogAreStreamedAgain) {
  {
    OutboxRelay relay(staging_.get(), log_.get(), "t", 3, 100, &probe_);
    ASSERT_TRUE(relay.Recover().ok());
    ASSERT_EQ(*relay.RunOnce(), 10u);
  }
  // Lose partition 0 entirely (as a torn, truncated segment would).
  log_.reset();
  for (auto& e : std::filesystem::directory_iterator(dir_ + "/log/topics/t/0")) {
    std::filesystem::resize_file(e.path(), 0);
  }
  log_ = std::move(OpenLog("file://" + dir_ + "/log", OpenMode::kReadWrite, {})).value();
  OutboxRelay relay(staging_.get(), log_.get(), "t", 3, 100, &probe_);
  ASSERT_TRUE(relay.Recover().ok());
  while (*relay.RunOnce() > 0) {
  }
  ASSERT_TRUE(relay.FlushCursor().ok());
  EXPECT_EQ(SeqsInLog(), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(staging_->Counters()->streamed, 10u);  // not counted twice
}

// A staging that counts the relay's outbox reads.
class CountingStaging final : public Staging {
 public:
  explicit CountingStaging(Staging* s) : s_(s) {}
  Result<uint64_t> Commit(const std::string& n, const SourceBatch& b) override {
    return s_->Commit(n, b);
  }
  Result<std::string> SourcePosition(const std::string& n) override {
    return s_->SourcePosition(n);
  }
  Result<std::vector<std::pair<std::string, std::string>>> SourcePositions() override {
    return s_->SourcePositions();
  }
  Status ReadOutbox(uint64_t after, size_t max, std::vector<OutboxRow>* out) override {
    ++reads;
    return s_->ReadOutbox(after, max, out);
  }
  using Staging::CommitRelayCursor;
  Status CommitRelayCursor(uint64_t seq, uint64_t streamed,
                           const std::vector<DeadLetter>& dead) override {
    return s_->CommitRelayCursor(seq, streamed, dead);
  }
  Status CompleteView() override {
    ++completions;
    return s_->CompleteView();
  }
  Result<StagingCounters> Counters() override { return s_->Counters(); }
  Result<OutboxRow> Get(const std::string& key) override { return s_->Get(key); }
  Status ListDeadLetters(uint64_t after, size_t limit,
                         std::vector<StoredDeadLetter>* out) override {
    return s_->ListDeadLetters(after, limit, out);
  }
  int reads = 0;
  int completions = 0;

 private:
  Staging* s_;
};

// Commits `n` records and returns them as the outbox rows the staging assigned them.
std::vector<OutboxRow> CommitRows(Staging* staging, int from, int n) {
  SourceBatch b;
  for (int i = from; i < from + n; ++i) {
    b.records.push_back({fmt::format("key{}", i), fmt::format("{{\"i\":{}}}", i), 100 + i});
  }
  b.position = fmt::format("p{}", from);
  uint64_t last = *staging->Commit("src", b);
  std::vector<OutboxRow> rows;
  for (int i = 0; i < n; ++i) {
    auto& r = b.records[static_cast<size_t>(i)];
    rows.push_back({last - static_cast<uint64_t>(n - 1 - i), r.key, r.raw, r.fetched_at_us});
  }
  return rows;
}

// The SQLite view trails the cursor (here 5 new keys wait, fewer than an eighth of 80): a
// cursor commit leaves them out, a drain (FlushCursor) and a cursor someone waits for
// (CommitProgress(now)) bring the view up to the cursor; a periodic commit does not.
TEST_F(OutboxRelayTest, ADrainAndAWaitedForCursorCompleteTheUpsertView) {
  CountingStaging staging(staging_.get());
  OutboxRelay relay(&staging, log_.get(), "t", 3, 100, &probe_);
  ASSERT_TRUE(relay.Recover().ok());
  (void)CommitRows(staging_.get(), 10, 70);  // seqs 11..80
  while (*relay.RunOnce() > 0) {
  }
  ASSERT_TRUE(relay.FlushCursor().ok());
  EXPECT_EQ(staging.completions, 1);
  EXPECT_EQ(staging_->Counters()->distinct_keys, 80u);
  ASSERT_TRUE(relay.FlushCursor().ok());  // nothing new: no second completion
  EXPECT_EQ(staging.completions, 1);

  (void)CommitRows(staging_.get(), 80, 5);  // seqs 81..85
  while (*relay.RunOnce() > 0) {
  }
  ASSERT_TRUE(staging.CommitRelayCursor(85, 5).ok());  // as a periodic commit does
  EXPECT_EQ(staging_->Counters()->relay_cursor, 85u);
  EXPECT_EQ(staging_->Counters()->distinct_keys, 80u);  // the view trails
  EXPECT_EQ(staging_->Get("key84")->seq, 85u);          // Get() does not
  ASSERT_TRUE(relay.CommitProgress(/*now=*/true).ok());
  EXPECT_EQ(staging.completions, 2);
  EXPECT_EQ(staging_->Counters()->distinct_keys, 85u);
}

// Rows offered in memory are appended without reading the outbox; behind a dropped offer the
// relay reads the gap from the staging and then takes the offered rows again: every row once,
// in seq order, with its value.
TEST_F(OutboxRelayTest, OfferedRowsAreTakenFromMemoryAndGapsReadFromTheStaging) {
  CountingStaging staging(staging_.get());
  OutboxRelay relay(&staging, log_.get(), "t", 3, 4, &probe_);
  ASSERT_TRUE(relay.Recover().ok());
  while (*relay.RunOnce() > 0) {  // seqs 1..10, committed in SetUp: read from the outbox
  }
  EXPECT_EQ(staging.reads, 4);                     // 1-4, 5-8, 9-10, none
  relay.Offer(CommitRows(staging_.get(), 10, 4));  // seqs 11..14
  EXPECT_EQ(*relay.RunOnce(), 4u);
  EXPECT_EQ(staging.reads, 4);
  (void)CommitRows(staging_.get(), 14, 4);         // seqs 15..18, not offered
  relay.Offer(CommitRows(staging_.get(), 18, 3));  // seqs 19..21
  relay.Offer(CommitRows(staging_.get(), 21, 1));  // seq 22
  EXPECT_EQ(*relay.RunOnce(), 4u);                 // 15..18 from the outbox
  EXPECT_EQ(staging.reads, 5);
  EXPECT_EQ(*relay.RunOnce(), 4u);  // 19..22 from memory
  EXPECT_EQ(staging.reads, 5);
  // More than kMaxOfferedBatches batches waiting: the rest is dropped and read.
  for (int i = 0; i < 5; ++i) relay.Offer(CommitRows(staging_.get(), 22 + 4 * i, 4));  // 23..42
  size_t moved = 0;
  while (size_t n = *relay.RunOnce()) moved += n;
  EXPECT_EQ(moved, 20u);
  EXPECT_EQ(staging.reads, 7);  // 39..42, then none
  ASSERT_TRUE(relay.FlushCursor().ok());
  std::vector<uint64_t> all(42);
  std::iota(all.begin(), all.end(), 1);
  EXPECT_EQ(SeqsInLog(), all);
  EXPECT_EQ(staging_->Counters()->streamed, 42u);
  std::vector<ConsumedRecord> out;
  ASSERT_TRUE(log_->Read("t", *log_->PartitionFor("t", "key20"), 0, 100, &out).ok());
  auto it = std::find_if(out.begin(), out.end(), [](auto& r) { return r.record.key == "key20"; });
  ASSERT_NE(it, out.end());
  EXPECT_EQ(it->record.value, "{\"i\":20}");
  EXPECT_EQ(it->record.timestamp_us, 120);
  EXPECT_EQ(OutboxSeqOf(it->record), 21u);
}

}  // namespace
}  // namespace dataforge

namespace dataforge {
namespace {

// A clock that never advances: the relay's cursor interval never passes.
class StoppedClock : public Clock {
 public:
  int64_t NowMicros() override { return Clock::Real()->NowMicros(); }
  int64_t MonotonicMicros() override { return 1; }
  bool SleepFor(int64_t micros, std::stop_token stop) override {
    return Clock::Real()->SleepFor(micros, stop);
  }
};

// The embedded log with acknowledgements that come only when the test releases them: a Kafka
// producer's slow round trip, which the embedded log (it acknowledges every append at once) and
// the mock brokers (no way to hold one acknowledgement and count the appends behind it) cannot
// show. Every call goes to the real log; only Acknowledged() is held back.
class HeldAcksLog : public testing::ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  uint64_t started() const { return started_.load(); }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = started_.load();
    cv_.notify_all();
  }

  Result<uint64_t> StartAppend(const std::string& topic,
                               std::span<const std::vector<LogRecord>> by_partition) override {
    DF_RETURN_IF_ERROR(inner_->AppendAll(topic, by_partition));
    return ++started_;
  }
  Result<uint64_t> Acknowledged(int64_t timeout_us) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::microseconds(timeout_us),
                 [&] { return released_ == started_.load(); });
    return released_;
  }

 private:
  std::atomic<uint64_t> started_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t released_ = 0;  // guarded by mu_
};

// While the log has acknowledged nothing, the relay hands it at most kMaxInFlight batches of
// small records (then waits with one more started), and of large ones only as many as
// kMaxInFlightBytes holds; released, it goes on to the end.
TEST(OutboxRelayBoundTest, BatchesInFlightAreBoundedByCountAndByBytes) {
  struct Case {
    size_t value_bytes;
    size_t batches;
    uint64_t started_while_held;
  };
  constexpr size_t kPerBatch = 16;
  constexpr size_t kMiB = 1u << 20;
  // Just under 16 MiB a batch: three fit in the 48 MiB, the 4th starts and then the relay waits.
  static_assert(OutboxRelay::kMaxInFlightBytes == 48 * kMiB);
  const Case cases[] = {
      {100, OutboxRelay::kMaxInFlight + 8, OutboxRelay::kMaxInFlight + 1},
      {kMiB - 1024, 5, 4},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(fmt::format("values of {} bytes", c.value_bytes));
    char tmpl[] = "/tmp/df_relay_bound_XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    auto staging =
        std::move(OpenStaging("sqlite://" + dir + "/s.db", OpenMode::kReadWrite, true)).value();
    auto log = std::move(OpenLog("file://" + dir + "/log", OpenMode::kReadWrite, {})).value();
    ASSERT_TRUE(log->CreateTopic("t", 3).ok());
    const size_t rows = c.batches * kPerBatch;
    SourceBatch b;
    for (size_t i = 0; i < rows; ++i) {
      // A JSON string of exactly value_bytes.
      b.records.push_back({fmt::format("key{}", i),
                           "\"" + std::string(c.value_bytes - 2, 'x') + "\"",
                           static_cast<int64_t>(i)});
    }
    b.position = "p";
    ASSERT_TRUE(staging->Commit("src", b).ok());
    b = {};
    HeldAcksLog held(log.get());
    RelayProbe probe;
    OutboxRelay relay(staging.get(), &held, "t", 3, kPerBatch, &probe);
    ASSERT_TRUE(relay.Recover().ok());
    std::atomic<size_t> relayed{0};
    std::atomic<bool> done{false};
    std::thread pump([&] {
      while (true) {
        auto n = relay.RunOnce();
        if (!n.ok() || *n == 0) break;
        relayed += *n;
      }
      done = true;
    });
    // It stops at the bound: no more appends start while nothing is acknowledged.
    for (int i = 0; i < 5000 && held.started() < c.started_while_held; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(held.started(), c.started_while_held);
    while (!done) {
      held.Release();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    pump.join();
    EXPECT_EQ(relayed.load(), rows);
    EXPECT_EQ(held.started(), c.batches);
    uint64_t in_log = 0;
    auto info = log->DescribeTopic("t");
    ASSERT_TRUE(info.ok());
    for (const auto& p : info->partitions) in_log += static_cast<uint64_t>(p.end_offset);
    EXPECT_EQ(in_log, rows);
    std::filesystem::remove_all(dir);
  }
}

// Over Kafka (librdkafka's mock brokers, in process): the crash window between the broker's
// acknowledgement and the cursor commit, with this relay's and another ingest's records.
TEST(OutboxRelayKafkaTest, RecoversFromTheTopicsTailAndIgnoresOtherOrigins) {
  testing::InProcessKafka kafka;
  kafka.CreateTopic("t", 3);
  char tmpl[] = "/tmp/df_relayk_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto staging =
      std::move(OpenStaging("sqlite://" + dir + "/s.db", OpenMode::kReadWrite, true)).value();
  auto log = std::move(OpenLog(kafka.url(), OpenMode::kReadWrite, {})).value();
  ASSERT_TRUE(log->CreateTopic("t", 3).ok());
  SourceBatch b;
  for (int i = 0; i < 30; ++i)
    b.records.push_back({fmt::format("key{}", i), fmt::format("{{\"i\":{}}}", i), 100 + i});
  b.position = "p";
  ASSERT_TRUE(staging->Commit("src", b).ok());
  auto total = [&] {
    int64_t n = 0;
    auto info = log->DescribeTopic("t");
    EXPECT_TRUE(info.ok());
    for (const auto& p : info->partitions) n += p.end_offset;
    return n;
  };
  auto acked = [&](uint64_t ticket) {
    for (int i = 0; i < 100; ++i) {
      auto a = log->Acknowledged(100'000);
      ASSERT_TRUE(a.ok());
      if (*a >= ticket) return;
    }
    FAIL() << "append " << ticket << " not acknowledged";
  };
  RelayProbe probe;
  StoppedClock still;  // the cursor is committed only by FlushCursor()
  constexpr int64_t kNever = 3'600'000'000;
  {
    OutboxRelay relay(staging.get(), log.get(), "t", 3, 100, &probe, &still, kNever, "host:/a");
    ASSERT_TRUE(relay.Recover().ok());
    EXPECT_EQ(*relay.RunOnce(), 30u);
    acked(1);
    // "Crash" after the brokers acknowledged: the cursor was never committed.
  }
  EXPECT_EQ(staging->Counters()->relay_cursor, 0u);
  EXPECT_EQ(total(), 30);
  {
    OutboxRelay relay(staging.get(), log.get(), "t", 3, 100, &probe, &still, kNever, "host:/a");
    ASSERT_TRUE(relay.Recover().ok());
    EXPECT_EQ(*relay.RunOnce(), 30u);  // read again from the outbox ...
    acked(2);
    EXPECT_EQ(total(), 30);  // ... but every row was in Kafka: nothing sent twice
  }
  // Another ingest writes last to partition 0: its seq says nothing about ours, so that
  // partition resumes at the committed cursor (0) and its rows go again; the others do not.
  int32_t p0_rows = 0;
  for (int i = 0; i < 30; ++i) p0_rows += *log->PartitionFor("t", fmt::format("key{}", i)) == 0;
  ASSERT_TRUE(log->Append("t", 0,
                          std::vector<LogRecord>{
                              {"other", "{}", 1, {{"seq", "999"}, {"origin", "host:/b"}}}})
                  .ok());
  {
    auto last = log->ReadLast("t", 0);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    ASSERT_TRUE(last->has_value());
    EXPECT_EQ((*last)->record.key, "other");
    OutboxRelay relay(staging.get(), log.get(), "t", 3, 100, &probe, &still, kNever, "host:/a");
    ASSERT_TRUE(relay.Recover().ok());
    EXPECT_EQ(*relay.RunOnce(), 30u);
    ASSERT_TRUE(relay.FlushCursor().ok());
  }
  EXPECT_EQ(total(), 31 + p0_rows);
  EXPECT_EQ(staging->Counters()->relay_cursor, 30u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge
