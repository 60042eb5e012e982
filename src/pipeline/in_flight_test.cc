// tuning.max_in_flight_batches: over the embedded log, the source fetches only while at most
// that many batches are between its staging commit and the store.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "config/pipeline_file.h"
#include "pipeline/pipeline.h"
#include "staging/sqlite/sqlite_db.h"

namespace dataforge {
namespace {

namespace fs = std::filesystem;

constexpr int kBatch = 100;
constexpr uint64_t kRecords = 20000;

class InFlightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            fmt::format("in_flight_test_{}_{}", ::getpid(),
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // The default pipeline on root_/data with batches of kBatch, the bound `batches` and
  // `records` to fetch; null (a recorded failure) when it does not open.
  std::unique_ptr<Pipeline> OpenPipeline(int batches, uint64_t records) {
    PipelineConfig c = DefaultPipelineConfig();
    c.source.seed = "in-flight-test";
    c.source.results_per_page = kBatch;
    c.tuning.batch_records = kBatch;
    c.tuning.max_in_flight_batches = batches;
    c.dags.clear();
    RunOptions o;
    o.data_dir = (root_ / "data").string();
    o.max_records = records;
    auto p = Pipeline::Open(c, o, Clock::Real());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  // Runs the default pipeline for kRecords with batches of kBatch and the bound `batches`,
  // sampling the stages' probes while it runs; the largest number of records seen between the
  // staging commit and the store.
  uint64_t RunAndSample(int batches, RunSummary* summary) {
    auto p = OpenPipeline(batches, kRecords);
    if (!p) return 0;
    std::atomic<bool> done{false};
    Result<RunSummary> result = Status::Cancelled("not run");
    std::thread run([&] {
      result = p->Run();
      done = true;
    });
    const StageProbes& probes = p->probes();
    uint64_t largest = 0;
    while (!done) {
      // What the fetch thread compares with the bound (stage_probes.h).
      largest = std::max(largest, RecordsInFlight(probes));
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    run.join();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    if (result.ok()) *summary = *result;
    return largest;
  }

  // Runs the default pipeline with batches of kBatch and the bound `batches` for `records`;
  // stops its source after `seconds` if it has not finished by then. The summary.
  RunSummary RunFor(int batches, uint64_t records, int seconds) {
    auto p = OpenPipeline(batches, records);
    if (!p) return {};
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Result<RunSummary> result = Status::Cancelled("not run");
    std::thread run([&] {
      auto r = p->Run();
      std::lock_guard lock(mu);
      result = std::move(r);
      done = true;
      cv.notify_all();
    });
    {
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, std::chrono::seconds(seconds), [&] { return done; })) {
        ADD_FAILURE() << "the run did not finish in " << seconds << " s: stopping its source";
        p->RequestStop();
      }
    }
    run.join();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : RunSummary{};
  }

  fs::path root_;
};

TEST_F(InFlightTest, TheSourceFetchesOnlyWhileAtMostTheBoundIsOnItsWayToTheStore) {
  RunSummary summary;
  const uint64_t largest = RunAndSample(/*batches=*/1, &summary);
  EXPECT_EQ(summary.run.fetched, kRecords);
  EXPECT_EQ(summary.run.stored, kRecords);
  EXPECT_EQ(summary.in_flight, 0u);
  // The bound when the source last looked, plus the batches it fetched and committed after
  // that look: one being committed, one waiting for the commit, one being fetched; and one for
  // the samples' skew.
  EXPECT_LE(largest, static_cast<uint64_t>((1 + 3 + 1) * kBatch));
  RecordProperty("largest_in_flight", static_cast<int>(largest));
}

TEST_F(InFlightTest, NoBoundStillDrainsEveryRecord) {
  RunSummary summary;
  const uint64_t largest = RunAndSample(/*batches=*/0, &summary);
  EXPECT_EQ(summary.run.stored, kRecords);
  EXPECT_EQ(summary.in_flight, 0u);
  RecordProperty("largest_in_flight", static_cast<int>(largest));
}

// A kill -9 between the processor storing records and the relay committing its cursor leaves
// rows in the log past the committed cursor, already stored. The next run's relay skips them
// (they are in the log) and the processor never reads them again: the bound must not count
// them as on their way, or the source waits for them forever (it did: the crash test stalled).
TEST_F(InFlightTest, RowsAnEarlierRunLeftInTheLogAndStoredDoNotHoldTheSourceBack) {
  RunSummary first = RunFor(/*batches=*/1, 2000, 60);
  ASSERT_EQ(first.run.stored, 2000u);
  {
    // The crash window: the staging's cursor 600 rows behind the log and the store.
    auto db = SqliteDb::Open((root_ / "data" / "staging.db").string(), false);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)
                    ->Exec("UPDATE counters SET value = value - 600 WHERE name IN "
                           "('relay_cursor', 'streamed')")
                    .ok());
  }
  // Stalled, the source fetched ~100 records and then waited until it was stopped.
  RunSummary second = RunFor(/*batches=*/1, 3000, 20);
  EXPECT_EQ(second.run.fetched, 3000u);
  EXPECT_EQ(second.run.stored, 3000u);
  EXPECT_EQ(second.in_flight, 0u);
  EXPECT_TRUE(second.drained);
}

}  // namespace
}  // namespace dataforge
