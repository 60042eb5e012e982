// PipelineStatusCollector's row count (dataforge_store_rows): it runs beside the scrape, which
// waits for it at most `count_wait`; a failed count keeps the last value and the store up.
// A real RocksDB store and embedded log; the store is wrapped only to hold a count back or fail
// it (a COUNT over a table too large to count in a scrape, or one that times out, cannot be made
// here otherwise).
#include "metrics/status_collector.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <optional>
#include <thread>

#include "log/embedded/embedded_log.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/testing/forwarding_store.h"

namespace dataforge::metrics {
namespace {

// Delegates to `inner`; Count() waits until Release() and then counts, or fails when told to.
class GatedCountStore final : public dataforge::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;

  void Hold() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void Release() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void FailCounts(bool fail) {
    std::lock_guard lock(mu_);
    fail_ = fail;
  }
  // Waits until `n` counts have ended.
  void AwaitCountsEnded(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return ended_ >= n; });
  }
  int started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  int ended() {
    std::lock_guard lock(mu_);
    return ended_;
  }

  Result<uint64_t> Count(const std::string& table) override {
    std::unique_lock lock(mu_);
    ++started_;
    cv_.wait(lock, [&] { return open_; });
    bool fail = fail_;
    lock.unlock();
    Result<uint64_t> r = fail ? Result<uint64_t>(Status::Unavailable("read timed out (the test's)"))
                              : inner_->Count(table);
    lock.lock();
    ++ended_;
    cv_.notify_all();
    return r;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;   // GUARDED_BY(mu_)
  bool fail_ = false;  // GUARDED_BY(mu_)
  int started_ = 0;    // GUARDED_BY(mu_)
  int ended_ = 0;      // GUARDED_BY(mu_)
};

// The value of `family`'s one series, or nullopt when the scrape left the family out.
std::optional<double> Value(const std::vector<prometheus::MetricFamily>& families,
                            const std::string& family, const std::string& label_value = "") {
  for (const auto& f : families) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      bool match = label_value.empty();
      for (const auto& l : m.label) match = match || l.value == label_value;
      if (match) return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return std::nullopt;
}

class StatusCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_status_collector_XXXXXX";
    dir_ = mkdtemp(tmpl);
    StoreOptions so;
    so.sync = false;  // nothing here is about durability
    auto s = RocksDbStore::Open(dir_ + "/store", OpenMode::kReadWrite, so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto l = EmbeddedLog::Open(dir_ + "/log", OpenMode::kReadWrite, LogOptions{});
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    log_ = std::move(l).value();
    gated_ = std::make_unique<GatedCountStore>(store_.get());
  }
  void TearDown() override {
    gated_->Release();
    collector_.reset();
    gated_.reset();
    log_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void MakeCollector() {
    StatusSources sources;
    sources.config = &config_;
    sources.log = log_.get();
    sources.store = gated_.get();
    sources.data_dir = dir_;
    sources.role = "process";
    collector_ = std::make_unique<PipelineStatusCollector>(std::move(sources),
                                                           std::chrono::milliseconds(50));
  }
  // Writes rows `first`..`last` (keys "k<i>") into the pipeline's table as one counted batch.
  void Store(int first, int last) {
    StoreBatch b;
    b.table = config_.process.table;
    b.group = config_.process.group;
    for (int i = first; i <= last; ++i) {
      b.rows.push_back(RowWrite{"k" + std::to_string(i), R"({"n":1})"});
    }
    ASSERT_TRUE(store_->Apply(b).ok());
  }

  std::string dir_;
  PipelineConfig config_;
  std::unique_ptr<dataforge::Store> store_;
  std::unique_ptr<Log> log_;
  std::unique_ptr<GatedCountStore> gated_;
  std::unique_ptr<PipelineStatusCollector> collector_;
};

TEST_F(StatusCollectorTest, ACountLongerThanTheWaitIsReportedByTheScrapeAfterItEnds) {
  Store(1, 3);
  MakeCollector();
  const std::string& table = config_.process.table;
  gated_->Hold();
  // The count is held back: this scrape answers without it (and cannot have waited for it).
  auto first = collector_->Collect();
  EXPECT_EQ(gated_->started(), 1);
  EXPECT_EQ(Value(first, "dataforge_store_rows"), std::nullopt);
  EXPECT_EQ(Value(first, "dataforge_backend_up", "store"), 1);
  EXPECT_EQ(Value(first, "dataforge_records_total", "stored"), 3);
  // Still held: no second count starts beside the first.
  auto second = collector_->Collect();
  EXPECT_EQ(gated_->started(), 1);
  EXPECT_EQ(Value(second, "dataforge_store_rows"), std::nullopt);

  gated_->Release();
  gated_->AwaitCountsEnded(1);
  auto third = collector_->Collect();
  EXPECT_EQ(Value(third, "dataforge_store_rows", table), 3);
  EXPECT_EQ(gated_->started(), 1);  // the total has not moved since the count began
}

TEST_F(StatusCollectorTest, AFailedCountKeepsTheLastValueAndTheStoreUp) {
  Store(1, 3);
  MakeCollector();
  const std::string& table = config_.process.table;
  EXPECT_EQ(Value(collector_->Collect(), "dataforge_store_rows", table), 3);

  // The total moves: the scrape repeats the last count (the next is 15 s away).
  Store(4, 5);
  auto moving = collector_->Collect();
  EXPECT_EQ(gated_->started(), 1);
  EXPECT_EQ(Value(moving, "dataforge_store_rows", table), 3);
  EXPECT_EQ(Value(moving, "dataforge_records_total", "stored"), 5);

  // It holds still for a scrape: counted again, and that count fails.
  gated_->FailCounts(true);
  auto failed = collector_->Collect();
  gated_->AwaitCountsEnded(2);
  EXPECT_EQ(gated_->started(), 2);
  auto after = collector_->Collect();
  for (const auto* scrape : {&failed, &after}) {
    EXPECT_EQ(Value(*scrape, "dataforge_store_rows", table), 3);
    EXPECT_EQ(Value(*scrape, "dataforge_backend_up", "store"), 1);
  }
  // A failed count waits as a successful one does before the next (not at every scrape).
  EXPECT_EQ(gated_->started(), 2);
}

TEST_F(StatusCollectorTest, TheCollectorWaitsForACountInFlightWhenDestroyed) {
  Store(1, 2);
  MakeCollector();
  gated_->Hold();
  collector_->Collect();
  EXPECT_EQ(gated_->started(), 1);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    gated_->Release();
  });
  collector_.reset();  // returns once the count has ended, not before
  EXPECT_EQ(gated_->ended(), 1);
  release.join();
}

}  // namespace
}  // namespace dataforge::metrics
