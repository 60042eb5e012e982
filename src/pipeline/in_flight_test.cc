// tuning.max_in_flight_batches: over the embedded log, the source fetches only while at most
// that many batches are between its staging commit and the store.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "config/pipeline_file.h"
#include "pipeline/pipeline.h"

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

  // Runs the default pipeline for kRecords with batches of kBatch and the bound `batches`,
  // sampling the stages' probes while it runs; the largest number of records seen between the
  // staging commit and the store.
  uint64_t RunAndSample(int batches, RunSummary* summary) {
    PipelineConfig c = DefaultPipelineConfig();
    c.source.seed = "in-flight-test";
    c.source.results_per_page = kBatch;
    c.tuning.batch_records = kBatch;
    c.tuning.max_in_flight_batches = batches;
    c.dags.clear();
    RunOptions o;
    o.data_dir = (root_ / "data").string();
    o.max_records = kRecords;
    auto p = Pipeline::Open(c, o, Clock::Real());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return 0;
    std::atomic<bool> done{false};
    Result<RunSummary> result = Status::Cancelled("not run");
    std::thread run([&] {
      result = (*p)->Run();
      done = true;
    });
    const StageProbes& probes = (*p)->probes();
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

}  // namespace
}  // namespace dataforge
