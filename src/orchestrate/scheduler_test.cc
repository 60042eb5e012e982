// The scheduler against a real SQLite run store, with an injected wall clock: catchup windows,
// max_active_runs, retries with exponential backoff, depends_on_past, month ends and DST.
#include "orchestrate/scheduler.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "schedule/schedule.h"

namespace dataforge {
namespace {

class FakeClock final : public Clock {
 public:
  int64_t NowMicros() override { return now_; }
  int64_t MonotonicMicros() override { return Clock::Real()->MonotonicMicros(); }
  bool SleepFor(int64_t micros, std::stop_token stop) override {
    return Clock::Real()->SleepFor(std::min<int64_t>(micros, 10'000), stop);
  }
  void Set(int64_t us) { now_ = us; }
  void Advance(int64_t us) { now_ += us; }

 private:
  int64_t now_ = 0;
};

class NoEnvironment final : public TaskEnvironment {
 public:
  Result<IngestOutcome> Ingest(const IngestRequest&, std::stop_token) override {
    return Status::FailedPrecondition("no pipeline in this test");
  }
  Result<std::string> Compact(bool, bool, std::stop_token) override {
    return Status::FailedPrecondition("no pipeline in this test");
  }
  std::string staging_url() const override { return ""; }
  Result<std::unique_ptr<Store>> OpenStoreForReading() override {
    return Status::FailedPrecondition("no store in this test");
  }
};

int64_t At(const char* text, const char* tz = "UTC") {
  auto t = ParseDateTime(text, tz);
  EXPECT_TRUE(t.ok()) << text;
  return t.ok() ? *t : 0;
}

TaskSpec Shell(const std::string& id, const std::string& command) {
  TaskSpec t;
  t.id = id;
  t.type = "shell";
  t.command = command;
  return t;
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("df_sched_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = OpenRunStore("sqlite://" + (dir_ / "staging.db").string(), OpenMode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    scheduler_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  DagSpec Dag(const std::string& schedule, const char* start, bool catchup,
              std::vector<TaskSpec> tasks, const char* tz = "UTC") {
    DagSpec d;
    d.id = "d";
    d.schedule = schedule;
    d.time_zone = tz;
    d.start_us = At(start, tz);
    d.catchup = catchup;
    d.tasks = std::move(tasks);
    return d;
  }

  void Start(DagSpec dag) {
    SchedulerConfig config;
    config.parallelism = 4;
    scheduler_ = std::make_unique<Scheduler>(std::vector<DagSpec>{dag}, config, store_.get(), &env_,
                                             &clock_, "test:owner", "");
    ASSERT_TRUE(scheduler_->Start().ok());
  }

  // Ticks until no attempt is in flight and a tick starts nothing new.
  void Settle() {
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(scheduler_->Tick(true).ok());
      scheduler_->WaitIdle();
      auto before = scheduler_->probe().attempts_started.load();
      ASSERT_TRUE(scheduler_->Tick(true).ok());
      scheduler_->WaitIdle();
      if (scheduler_->probe().attempts_started.load() == before) return;
    }
    FAIL() << "never settled";
  }

  std::vector<DagRun> Runs() {
    auto runs = store_->ListRuns("d", 1000);
    EXPECT_TRUE(runs.ok());
    auto out = runs.ok() ? *runs : std::vector<DagRun>{};
    std::reverse(out.begin(), out.end());  // oldest first
    return out;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  NoEnvironment env_;
  std::unique_ptr<RunStore> store_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, CatchupCreatesEveryMissedIntervalOnceThenFollowsTheClock) {
  clock_.Set(At("2026-01-31T10:00:00Z"));
  auto dag = Dag("@daily", "2026-01-01", true, {Shell("a", "true")});
  dag.max_active_runs = 100;
  Start(dag);
  Settle();
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 30u);
  EXPECT_EQ(runs.front().logical_us, At("2026-01-01"));
  EXPECT_EQ(runs.back().interval_end_us, At("2026-01-31"));
  for (const auto& r : runs) EXPECT_EQ(r.state, RunState::kSuccess) << r.run_id;
  EXPECT_EQ(scheduler_->NextDueUs(), At("2026-02-01"));
  clock_.Set(At("2026-01-31T23:59:59Z"));
  Settle();
  EXPECT_EQ(Runs().size(), 30u);
  clock_.Set(At("2026-02-01T00:00:00Z"));
  Settle();
  runs = Runs();
  ASSERT_EQ(runs.size(), 31u);
  EXPECT_EQ(runs.back().logical_us, At("2026-01-31"));
  // A second scheduler on the same store creates nothing again.
  SchedulerConfig config;
  Scheduler other({dag}, config, store_.get(), &env_, &clock_, "test:other", "");
  ASSERT_TRUE(other.Start().ok());
  ASSERT_TRUE(other.Tick(true).ok());
  other.WaitIdle();
  EXPECT_EQ(Runs().size(), 31u);
}

TEST_F(SchedulerTest, WithoutCatchupOnlyTheNewestIntervalRuns) {
  clock_.Set(At("2026-01-31T10:00:00Z"));
  Start(Dag("@daily", "2026-01-01", false, {Shell("a", "true")}));
  Settle();
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].interval_start_us, At("2026-01-30"));
  EXPECT_EQ(runs[0].interval_end_us, At("2026-01-31"));
}

TEST_F(SchedulerTest, MaxActiveRunsBoundsRunningRuns) {
  clock_.Set(At("2026-01-11T00:00:00Z"));
  auto dag = Dag("@daily", "2026-01-01", true, {Shell("a", "sleep 0.2")});
  dag.max_active_runs = 2;
  Start(dag);
  ASSERT_TRUE(scheduler_->Tick(true).ok());
  auto active = store_->ActiveRuns();
  ASSERT_TRUE(active.ok());
  int running = 0, queued = 0;
  for (const auto& r : *active) (r.state == RunState::kRunning ? running : queued) += 1;
  EXPECT_EQ(running, 2);
  EXPECT_EQ(queued, 8);
  Settle();
  for (const auto& r : Runs()) EXPECT_EQ(r.state, RunState::kSuccess);
}

// Stopping the scheduler (Ctrl-C) interrupts a running attempt: it is not the task's fault, so
// the try is given back and the next start runs it as the same try, even with no retries left.
TEST_F(SchedulerTest, AnAttemptTheSchedulerStopsRunsAgainAsTheSameTry) {
  clock_.Set(At("2026-01-02T00:00:00Z"));
  std::string flag = (dir_ / "started").string();
  auto dag = Dag("@daily", "2026-01-01", true,
                 {Shell("a", "if [ -f " + flag + " ]; then echo again; else touch " + flag +
                                 "; sleep 60; fi")});
  Start(dag);
  ASSERT_TRUE(scheduler_->Tick(true).ok());
  for (int i = 0; i < 1000 && !std::filesystem::exists(flag); ++i) ::usleep(10'000);
  ASSERT_TRUE(std::filesystem::exists(flag));
  scheduler_->Shutdown();
  const int64_t run_id = Runs().at(0).run_id;
  auto tasks = store_->ListTasks(run_id);
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].state, TaskState::kUpForRetry);
  EXPECT_EQ((*tasks)[0].try_number, 0);
  EXPECT_EQ((*tasks)[0].max_tries, 1);
  EXPECT_EQ((*tasks)[0].last_error, "interrupted: the scheduler stopped while it ran");
  scheduler_.reset();
  Start(dag);
  Settle();
  tasks = store_->ListTasks(run_id);
  ASSERT_TRUE(tasks.ok());
  EXPECT_EQ((*tasks)[0].state, TaskState::kSuccess);
  EXPECT_EQ((*tasks)[0].try_number, 1);
  EXPECT_EQ((*tasks)[0].output, "again\n");
  EXPECT_EQ(Runs().at(0).state, RunState::kSuccess);
}

TEST_F(SchedulerTest, RetriesWaitForTheirExponentialBackoff) {
  TaskSpec t = Shell("a", "echo nope; exit 1");
  t.retries = 2;
  t.retry_delay_us = 60'000'000;
  EXPECT_EQ(RetryDelayUs(t, 1), 60'000'000);
  EXPECT_EQ(RetryDelayUs(t, 2), 120'000'000);
  t.max_retry_delay_us = 90'000'000;
  EXPECT_EQ(RetryDelayUs(t, 2), 90'000'000);
  t.max_retry_delay_us = 3'600'000'000;
  clock_.Set(At("2026-01-02T00:00:00Z"));
  Start(Dag("@daily", "2026-01-01", true, {t}));
  Settle();
  auto tasks = store_->ListTasks(Runs().at(0).run_id);
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].state, TaskState::kUpForRetry);
  EXPECT_EQ((*tasks)[0].try_number, 1);
  EXPECT_EQ((*tasks)[0].next_try_us, At("2026-01-02T00:01:00Z"));
  EXPECT_EQ((*tasks)[0].last_error, "the command exited with code 1: nope");
  clock_.Set(At("2026-01-02T00:00:59Z"));
  Settle();
  EXPECT_EQ((*store_->ListTasks(Runs().at(0).run_id))[0].try_number, 1);
  clock_.Set(At("2026-01-02T00:01:00Z"));
  Settle();
  auto second = (*store_->ListTasks(Runs().at(0).run_id))[0];
  EXPECT_EQ(second.try_number, 2);
  EXPECT_EQ(second.next_try_us, At("2026-01-02T00:03:00Z"));  // 2 min after the second try
  clock_.Set(At("2026-01-02T00:03:00Z"));
  Settle();
  auto third = (*store_->ListTasks(Runs().at(0).run_id))[0];
  EXPECT_EQ(third.try_number, 3);
  EXPECT_EQ(third.state, TaskState::kFailed);
  EXPECT_EQ(Runs().at(0).state, RunState::kFailed);
}

TEST_F(SchedulerTest, DependsOnPastWaitsForThePreviousRunsSuccess) {
  clock_.Set(At("2026-01-03T00:00:00Z"));
  TaskSpec t = Shell("a", "test {{ ds }} != 2026-01-01");
  t.depends_on_past = true;
  TaskSpec b = Shell("b", "true");
  b.depends_on = {"a"};
  Start(Dag("@daily", "2026-01-01", true, {t, b}));
  Settle();
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].state, RunState::kFailed);
  auto first = *store_->ListTasks(runs[0].run_id);
  auto second = *store_->ListTasks(runs[1].run_id);
  std::map<std::string, TaskState> s1, s2;
  for (const auto& ti : first) s1[ti.task_id] = ti.state;
  for (const auto& ti : second) s2[ti.task_id] = ti.state;
  EXPECT_EQ(s1["a"], TaskState::kFailed);
  EXPECT_EQ(s1["b"], TaskState::kUpstreamFailed);
  EXPECT_EQ(s2["a"], TaskState::kNone);  // waits: the previous run's a did not succeed
  EXPECT_EQ(runs[1].state, RunState::kRunning);
}

TEST_F(SchedulerTest, MonthEndCronRunsOnlyInLongMonths) {
  clock_.Set(At("2026-08-01T00:00:00Z"));
  auto dag = Dag("0 0 31 * *", "2026-01-01", true, {Shell("a", "true")});
  dag.max_active_runs = 10;
  Start(dag);
  Settle();
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 3u);  // [Jan 31, Mar 31), [Mar 31, May 31), [May 31, Jul 31)
  EXPECT_EQ(runs[0].interval_start_us, At("2026-01-31"));
  EXPECT_EQ(runs[0].interval_end_us, At("2026-03-31"));
  EXPECT_EQ(runs[2].interval_end_us, At("2026-07-31"));
}

TEST_F(SchedulerTest, DailyInBerlinFollowsLocalMidnightAcrossDst) {
  clock_.Set(At("2026-03-31T00:00:00Z"));
  auto dag = Dag("@daily", "2026-03-27", true, {Shell("a", "true")}, "Europe/Berlin");
  dag.max_active_runs = 10;
  Start(dag);
  Settle();
  auto runs = Runs();
  ASSERT_EQ(runs.size(), 4u);  // local days Mar 27, 28, 29 (23 h: clocks spring forward), 30
  EXPECT_EQ(runs[0].interval_start_us, At("2026-03-26T23:00:00Z"));
  EXPECT_EQ(runs[1].interval_end_us - runs[1].interval_start_us, 24LL * 3600 * 1'000'000);
  EXPECT_EQ(runs[2].interval_end_us - runs[2].interval_start_us, 23LL * 3600 * 1'000'000);
  EXPECT_EQ(runs[3].interval_start_us, At("2026-03-29T22:00:00Z"));
  EXPECT_EQ(runs[3].interval_end_us, At("2026-03-30T22:00:00Z"));
}

}  // namespace
}  // namespace dataforge
