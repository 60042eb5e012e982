// The orchestrator's run store contract (orchestrate/state/run_store.h), checked for every
// backend: SQLite, and PostgreSQL on a real throwaway server (shared_postgres.h).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "conformance/shared_postgres.h"
#include "integration/subprocess.h"
#include "orchestrate/state/run_store.h"

namespace dataforge {
namespace {

constexpr int64_t kHour = 3'600'000'000;

DagRun MakeRun(const std::string& dag, int64_t logical_us, RunType type = RunType::kScheduled) {
  DagRun r;
  r.dag_id = dag;
  r.type = type;
  r.logical_us = logical_us;
  r.interval_start_us = logical_us;
  r.interval_end_us = logical_us + kHour;
  r.created_us = logical_us + kHour;
  r.conf_json = R"({"k":1})";
  return r;
}

struct SqliteBackend {
  testing::TempDir dir;
  std::string url() { return "sqlite://" + dir.Sub("staging.db"); }
};

struct PostgresBackend {
  std::string db = testing::FreshPostgresDatabase();
  std::string url() { return db; }
};

template <typename B>
class RunStoreConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = backend_.url();
    store_ = Open();
  }

  std::unique_ptr<RunStore> Open(OpenMode mode = OpenMode::kReadWrite) {
    auto s = OpenRunStore(url_, mode);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  int64_t Create(const DagRun& run,
                 std::vector<std::pair<std::string, int>> tasks = {{"extract", 1}, {"load", 2}}) {
    auto r = store_->CreateRun(run, tasks);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : 0;
  }

  TaskInstance Task(int64_t run_id, const std::string& task_id) {
    auto tasks = store_->ListTasks(run_id);
    EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
    for (auto& t : *tasks) {
      if (t.task_id == task_id) return t;
    }
    ADD_FAILURE() << "no task " << task_id << " in run " << run_id;
    return {};
  }

  B backend_;
  std::string url_;
  std::unique_ptr<RunStore> store_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteBackend> ? "Sqlite" : "Postgres";
  }
};
TYPED_TEST_SUITE(RunStoreConformance, Backends, BackendNames);

TYPED_TEST(RunStoreConformance, RegisterDagsKeepsPauseStateAndSetPausedNeedsARow) {
  ASSERT_TRUE(this->store_->RegisterDags({{"a", false}, {"b", true}}).ok());
  ASSERT_TRUE(this->store_->SetPaused("a", true).ok());
  // Registering again (paused_on_create false) changes nothing for existing rows.
  ASSERT_TRUE(this->store_->RegisterDags({{"a", false}, {"b", false}, {"c", false}}).ok());
  auto dags = this->store_->ListDags();
  ASSERT_TRUE(dags.ok()) << dags.status().ToString();
  ASSERT_EQ(dags->size(), 3u);
  EXPECT_EQ((*dags)[0].dag_id, "a");
  EXPECT_TRUE((*dags)[0].paused);
  EXPECT_TRUE((*dags)[1].paused);
  EXPECT_FALSE((*dags)[2].paused);
  EXPECT_EQ((*dags)[0].last_scheduled_start_us, std::nullopt);
  ASSERT_TRUE(this->store_->SetPaused("b", false).ok());
  EXPECT_FALSE((*this->store_->ListDags())[1].paused);
  EXPECT_EQ(this->store_->SetPaused("nope", true).code(), StatusCode::kNotFound);
}

TYPED_TEST(RunStoreConformance, CreateRunIsUniquePerLogicalDate) {
  DagRun run = MakeRun("etl", 10 * kHour);
  int64_t id = this->Create(run);
  ASSERT_GT(id, 0);
  auto got = this->store_->GetRun(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->dag_id, "etl");
  EXPECT_EQ(got->state, RunState::kQueued);
  EXPECT_EQ(got->type, RunType::kScheduled);
  EXPECT_EQ(got->logical_us, 10 * kHour);
  EXPECT_EQ(got->interval_end_us, 11 * kHour);
  EXPECT_EQ(got->conf_json, R"({"k":1})");
  EXPECT_EQ(got->created_us, 11 * kHour);
  EXPECT_EQ(got->started_us, 0);
  auto tasks = this->store_->ListTasks(id);
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[0].task_id, "extract");
  EXPECT_EQ((*tasks)[0].state, TaskState::kNone);
  EXPECT_EQ((*tasks)[0].try_number, 0);
  EXPECT_EQ((*tasks)[1].max_tries, 2);

  // The same logical date again (another scheduler, another type): nothing changes.
  DagRun again = MakeRun("etl", 10 * kHour, RunType::kManual);
  auto second = this->store_->CreateRun(again, {{"extract", 1}, {"load", 1}, {"extra", 1}});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, std::nullopt);
  EXPECT_EQ(this->store_->ListTasks(id)->size(), 2u);
  auto runs = this->store_->ListRuns("etl", 10);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->size(), 1u);

  // CreateRun registered the DAG (not paused), and moved last_scheduled_start_us.
  auto dags = this->store_->ListDags();
  ASSERT_EQ(dags->size(), 1u);
  EXPECT_FALSE((*dags)[0].paused);
  EXPECT_EQ((*dags)[0].last_scheduled_start_us, 10 * kHour);
  // Forward with a backfill? Only forward: an older backfill leaves it; a manual run too.
  this->Create(MakeRun("etl", 5 * kHour, RunType::kBackfill));
  EXPECT_EQ((*this->store_->ListDags())[0].last_scheduled_start_us, 10 * kHour);
  this->Create(MakeRun("etl", 50 * kHour, RunType::kManual));
  EXPECT_EQ((*this->store_->ListDags())[0].last_scheduled_start_us, 10 * kHour);
  this->Create(MakeRun("etl", 12 * kHour, RunType::kBackfill));
  EXPECT_EQ((*this->store_->ListDags())[0].last_scheduled_start_us, 12 * kHour);

  EXPECT_EQ(this->store_->GetRun(id + 1000).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->CreateRun(MakeRun("", 1), {}).status().code(),
            StatusCode::kInvalidArgument);
}

TYPED_TEST(RunStoreConformance, ListRunsAndActiveRuns) {
  int64_t a1 = this->Create(MakeRun("a", 1 * kHour));
  int64_t b1 = this->Create(MakeRun("b", 2 * kHour));
  int64_t a2 = this->Create(MakeRun("a", 3 * kHour));
  auto all = this->store_->ListRuns("", 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].run_id, a2);  // newest first
  EXPECT_EQ((*all)[2].run_id, a1);
  auto a = this->store_->ListRuns("a", 1);
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ((*a)[0].run_id, a2);
  auto started = this->store_->StartQueuedRuns("a", 5, 100);
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(*started, (std::vector<int64_t>{a1, a2}));
  auto ended = this->store_->FinishRun(a1, RunState::kSuccess, 200);
  ASSERT_TRUE(ended.ok());
  EXPECT_TRUE(*ended);
  auto active = this->store_->ActiveRuns();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 2u);  // oldest first
  EXPECT_EQ((*active)[0].run_id, b1);
  EXPECT_EQ((*active)[0].state, RunState::kQueued);
  EXPECT_EQ((*active)[1].run_id, a2);
  EXPECT_EQ((*active)[1].state, RunState::kRunning);
  EXPECT_EQ((*active)[1].started_us, 100);
  auto tasks = this->store_->ListTasksOfRuns({a1, b1});
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 4u);
  EXPECT_EQ((*tasks)[0].run_id, a1);
  EXPECT_EQ((*tasks)[3].run_id, b1);
  EXPECT_TRUE(this->store_->ListTasksOfRuns({})->empty());
}

TYPED_TEST(RunStoreConformance, CountRunsByState) {
  auto none = this->store_->CountRunsByState();
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
  int64_t b1 = this->Create(MakeRun("b", 1 * kHour));
  int64_t a1 = this->Create(MakeRun("a", 1 * kHour));
  int64_t a2 = this->Create(MakeRun("a", 2 * kHour));
  int64_t a3 = this->Create(MakeRun("a", 3 * kHour));
  this->Create(MakeRun("b", 2 * kHour));
  ASSERT_EQ(*this->store_->StartQueuedRuns("a", 5, 100), (std::vector<int64_t>{a1, a2, a3}));
  ASSERT_TRUE(*this->store_->FinishRun(a1, RunState::kFailed, 200));
  ASSERT_EQ(*this->store_->StartQueuedRuns("b", 1, 100), (std::vector<int64_t>{b1}));
  ASSERT_TRUE(*this->store_->FinishRun(b1, RunState::kSuccess, 200));
  auto counts = this->store_->CountRunsByState();
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  std::vector<std::string> got;
  for (const auto& c : *counts) {
    got.push_back(fmt::format("{} {} {}", c.dag_id, RunStateName(c.state), c.runs));
  }
  EXPECT_EQ(got,
            (std::vector<std::string>{"a running 2", "a failed 1", "b queued 1", "b success 1"}));
}

TYPED_TEST(RunStoreConformance, StartQueuedRunsHonorsMaxActiveRuns) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(this->Create(MakeRun("etl", (10 - i) * kHour)));
  this->Create(MakeRun("other", kHour));
  auto started = this->store_->StartQueuedRuns("etl", 2, 1000);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  // The oldest logical dates first: the last two created.
  EXPECT_EQ(*started, (std::vector<int64_t>{ids[3], ids[4]}));
  EXPECT_TRUE(this->store_->StartQueuedRuns("etl", 2, 1001)->empty());
  EXPECT_EQ(this->store_->GetRun(ids[4])->state, RunState::kRunning);
  EXPECT_EQ(this->store_->GetRun(ids[4])->started_us, 1000);
  ASSERT_TRUE(*this->store_->FinishRun(ids[4], RunState::kFailed, 2000));
  EXPECT_FALSE(*this->store_->FinishRun(ids[4], RunState::kSuccess, 2001));  // once
  EXPECT_FALSE(*this->store_->FinishRun(ids[0], RunState::kSuccess, 2001));  // not running
  EXPECT_EQ(this->store_->GetRun(ids[4])->state, RunState::kFailed);
  EXPECT_EQ(this->store_->GetRun(ids[4])->ended_us, 2000);
  EXPECT_EQ(*this->store_->StartQueuedRuns("etl", 2, 3000), (std::vector<int64_t>{ids[2]}));
  EXPECT_EQ(*this->store_->StartQueuedRuns("etl", 4, 3000), (std::vector<int64_t>{ids[0], ids[1]}));
  EXPECT_TRUE(this->store_->StartQueuedRuns("never_registered", 4, 3000)->empty());
  EXPECT_EQ(this->store_->StartQueuedRuns("etl", 0, 3000).status().code(),
            StatusCode::kInvalidArgument);
}

TYPED_TEST(RunStoreConformance, PromoteClaimRenewFinish) {
  int64_t run = this->Create(MakeRun("etl", kHour), {{"a", 1}, {"b", 2}, {"c", 1}, {"d", 1}});
  ASSERT_TRUE(this->store_->PromoteTasks(run, {"b"}, {"d"}, 500).ok());
  ASSERT_TRUE(this->store_->PromoteTasks(run, {"a"}, {}, 600).ok());
  // Idempotent: rows no longer in state none do not change.
  ASSERT_TRUE(this->store_->PromoteTasks(run, {"b"}, {"a"}, 700).ok());
  EXPECT_EQ(this->Task(run, "b").state, TaskState::kScheduled);
  EXPECT_EQ(this->Task(run, "b").ready_us, 500);
  EXPECT_EQ(this->Task(run, "a").state, TaskState::kScheduled);
  EXPECT_EQ(this->Task(run, "d").state, TaskState::kUpstreamFailed);
  EXPECT_EQ(this->Task(run, "c").state, TaskState::kNone);

  auto claimed = this->store_->ClaimTasks("s1", 1000, 30'000'000, 1);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  const TaskInstance& b = (*claimed)[0];  // oldest ready first
  EXPECT_EQ(b.task_id, "b");
  EXPECT_EQ(b.state, TaskState::kRunning);
  EXPECT_EQ(b.try_number, 1);
  EXPECT_EQ(b.lease_owner, "s1");
  EXPECT_EQ(b.lease_expires_us, 30'001'000);
  EXPECT_EQ(b.started_us, 1000);
  claimed = this->store_->ClaimTasks("s2", 1001, 30'000'000, 10);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].task_id, "a");
  EXPECT_TRUE(this->store_->ClaimTasks("s3", 1002, 30'000'000, 10)->empty());

  auto held = this->store_->RenewLeases("s1", 2000, 60'000'000);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(*held, 1u);
  EXPECT_EQ(this->Task(run, "b").lease_expires_us, 60'002'000);
  EXPECT_EQ(*this->store_->RenewLeases("nobody", 2000, 60'000'000), 0u);

  // Only the holder of (owner, try) may finish it.
  TaskOutcome retry;
  retry.state = TaskState::kUpForRetry;
  retry.next_try_us = 9000;
  retry.ended_us = 3000;
  retry.error = "exit code 1";
  retry.output = "line 1\nline 2\n";
  EXPECT_FALSE(*this->store_->FinishTask(run, "b", 1, "s2", retry));
  EXPECT_FALSE(*this->store_->FinishTask(run, "b", 2, "s1", retry));
  auto done = this->store_->FinishTask(run, "b", 1, "s1", retry);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(*done);
  EXPECT_FALSE(*this->store_->FinishTask(run, "b", 1, "s1", retry));  // once
  TaskInstance t = this->Task(run, "b");
  EXPECT_EQ(t.state, TaskState::kUpForRetry);
  EXPECT_EQ(t.next_try_us, 9000);
  EXPECT_EQ(t.ready_us, 9000);
  EXPECT_EQ(t.ended_us, 3000);
  EXPECT_EQ(t.last_error, "exit code 1");
  EXPECT_EQ(t.output, "line 1\nline 2\n");
  EXPECT_EQ(*this->store_->RenewLeases("s1", 3000, 1), 0u);

  // Not claimable before next_try_us; then it is, as try 2.
  EXPECT_TRUE(this->store_->ClaimTasks("s1", 8999, 1000, 10)->empty());
  claimed = this->store_->ClaimTasks("s1", 9000, 1000, 10);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].try_number, 2);
  EXPECT_EQ((*claimed)[0].last_error, "exit code 1");  // the last attempt's, until this one ends
  TaskOutcome ok;
  ok.state = TaskState::kSuccess;
  ok.ended_us = 9500;
  ASSERT_TRUE(*this->store_->FinishTask(run, "b", 2, "s1", ok));
  t = this->Task(run, "b");
  EXPECT_EQ(t.state, TaskState::kSuccess);
  EXPECT_EQ(t.last_error, "");
  EXPECT_EQ(t.output, "");
  EXPECT_EQ(t.ready_us, 9000);

  TaskOutcome bad;
  bad.state = TaskState::kRunning;
  EXPECT_EQ(this->store_->FinishTask(run, "a", 1, "s2", bad).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->ClaimTasks("", 1, 1, 1).status().code(), StatusCode::kInvalidArgument);
}

// An interrupted attempt (give_back_try) ends up_for_retry with its try taken back: the next
// claim is the same try again. Only an up_for_retry outcome gives a try back.
TYPED_TEST(RunStoreConformance, AnInterruptedAttemptGivesItsTryBack) {
  int64_t run = this->Create(MakeRun("etl", kHour), {{"a", 1}});
  ASSERT_TRUE(this->store_->PromoteTasks(run, {"a"}, {}, 500).ok());
  auto claimed = this->store_->ClaimTasks("s1", 1000, 30'000'000, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].try_number, 1);
  TaskOutcome interrupted;
  interrupted.state = TaskState::kUpForRetry;
  interrupted.next_try_us = 2000;
  interrupted.ended_us = 2000;
  interrupted.error = "interrupted: the scheduler stopped while it ran";
  interrupted.give_back_try = true;
  auto done = this->store_->FinishTask(run, "a", 1, "s1", interrupted);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(*done);
  TaskInstance t = this->Task(run, "a");
  EXPECT_EQ(t.state, TaskState::kUpForRetry);
  EXPECT_EQ(t.try_number, 0);
  EXPECT_EQ(t.last_error, "interrupted: the scheduler stopped while it ran");
  EXPECT_FALSE(*this->store_->FinishTask(run, "a", 1, "s1", interrupted));  // once
  claimed = this->store_->ClaimTasks("s2", 2000, 30'000'000, 10);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].try_number, 1);
  // A success never gives a try back.
  TaskOutcome ok;
  ok.state = TaskState::kSuccess;
  ok.ended_us = 2500;
  ok.give_back_try = true;
  ASSERT_TRUE(*this->store_->FinishTask(run, "a", 1, "s2", ok));
  t = this->Task(run, "a");
  EXPECT_EQ(t.state, TaskState::kSuccess);
  EXPECT_EQ(t.try_number, 1);
}

TYPED_TEST(RunStoreConformance, PausedDagsTasksAreNotClaimed) {
  int64_t run = this->Create(MakeRun("etl", kHour), {{"a", 1}});
  ASSERT_TRUE(this->store_->PromoteTasks(run, {"a"}, {}, 500).ok());
  ASSERT_TRUE(this->store_->SetPaused("etl", true).ok());
  EXPECT_TRUE(this->store_->ClaimTasks("s1", 1000, 30'000'000, 10)->empty());
  EXPECT_EQ(this->Task(run, "a").state, TaskState::kScheduled);
  ASSERT_TRUE(this->store_->SetPaused("etl", false).ok());
  auto claimed = this->store_->ClaimTasks("s1", 1001, 30'000'000, 10);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].task_id, "a");
}

TYPED_TEST(RunStoreConformance, ExpiredLeaseIsReapedAndTheOwnerLosesIt) {
  int64_t run = this->Create(MakeRun("etl", kHour), {{"a", 2}, {"b", 1}});
  ASSERT_TRUE(this->store_->PromoteTasks(run, {"a", "b"}, {}, 100).ok());
  ASSERT_EQ(this->store_->ClaimTasks("host1:111:aaa", 1000, 500, 1)->size(), 1u);      // a
  ASSERT_EQ(this->store_->ClaimTasks("host_%:222:bbb", 1000, 10'000, 1)->size(), 1u);  // b
  EXPECT_TRUE(this->store_->ExpiredAttempts(1500, "")->empty());  // not before it expires
  auto expired = this->store_->ExpiredAttempts(1501, "");
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].task_id, "a");
  EXPECT_EQ((*expired)[0].lease_owner, "host1:111:aaa");
  // By owner prefix (a previous life of a scheduler), whatever the lease; no LIKE wildcards.
  expired = this->store_->ExpiredAttempts(0, "host_%:");
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].task_id, "b");
  EXPECT_TRUE(this->store_->ExpiredAttempts(0, "host_")->size() == 1u);
  EXPECT_TRUE(this->store_->ExpiredAttempts(0, "hostX")->empty());
  EXPECT_TRUE(this->store_->ExpiredAttempts(0, "host%")->empty());
  EXPECT_EQ(this->store_->ExpiredAttempts(0, "host")->size(), 2u);

  // The reaper ends `a` as the owner it saw; the owner's own FinishTask then misses.
  TaskOutcome retry;
  retry.state = TaskState::kUpForRetry;
  retry.next_try_us = 2000;
  retry.ended_us = 1600;
  retry.error = "lease expired";
  ASSERT_TRUE(*this->store_->FinishTask(run, "a", 1, "host1:111:aaa", retry));
  TaskOutcome ok;
  ok.ended_us = 1700;
  EXPECT_FALSE(*this->store_->FinishTask(run, "a", 1, "host1:111:aaa", ok));
  // Re-claimed by another scheduler as try 2: the old owner cannot touch it.
  auto again = this->store_->ClaimTasks("host2:1:ccc", 2000, 500, 10);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].try_number, 2);
  EXPECT_FALSE(*this->store_->FinishTask(run, "a", 1, "host1:111:aaa", ok));
  EXPECT_EQ(*this->store_->RenewLeases("host1:111:aaa", 2000, 500), 0u);
  EXPECT_TRUE(*this->store_->FinishTask(run, "a", 2, "host2:1:ccc", ok));
  EXPECT_EQ(this->Task(run, "a").state, TaskState::kSuccess);
}

TYPED_TEST(RunStoreConformance, ClearTasksResetsThemAndTheRun) {
  int64_t run = this->Create(MakeRun("etl", kHour), {{"a", 1}, {"b", 1}, {"c", 1}});
  ASSERT_EQ(this->store_->StartQueuedRuns("etl", 1, 10)->size(), 1u);
  ASSERT_TRUE(this->store_->PromoteTasks(run, {"a", "c"}, {}, 100).ok());
  ASSERT_EQ(this->store_->ClaimTasks("s", 200, 1000, 1)->size(), 1u);  // a
  TaskOutcome failed;
  failed.state = TaskState::kFailed;
  failed.ended_us = 300;
  failed.error = "boom";
  ASSERT_TRUE(*this->store_->FinishTask(run, "a", 1, "s", failed));
  ASSERT_TRUE(this->store_->PromoteTasks(run, {}, {"b"}, 300).ok());
  ASSERT_EQ(this->store_->ClaimTasks("s", 400, 1000, 1)->size(), 1u);  // c, left running
  ASSERT_TRUE(*this->store_->FinishRun(run, RunState::kFailed, 500));

  auto reset = this->store_->ClearTasks(run, {"a", "b", "c", "missing", "a"}, {2, 0, 0, 0, 5});
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  EXPECT_EQ(*reset, 2u);  // a and b; c is running, "missing" does not exist
  TaskInstance a = this->Task(run, "a");
  EXPECT_EQ(a.state, TaskState::kNone);
  EXPECT_EQ(a.try_number, 1);  // kept
  EXPECT_EQ(a.max_tries, 1 + 2 + 1);
  EXPECT_EQ(this->Task(run, "b").state, TaskState::kNone);
  EXPECT_EQ(this->Task(run, "b").max_tries, 1);
  EXPECT_EQ(this->Task(run, "c").state, TaskState::kRunning);
  auto r = this->store_->GetRun(run);
  EXPECT_EQ(r->state, RunState::kRunning);
  EXPECT_EQ(r->ended_us, 0);
  // `a` runs again as try 2.
  ASSERT_TRUE(this->store_->PromoteTasks(run, {"a"}, {}, 600).ok());
  auto claimed = this->store_->ClaimTasks("s", 700, 1000, 5);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].try_number, 2);
  EXPECT_EQ(this->store_->ClearTasks(run + 99, {"a"}, {0}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->ClearTasks(run, {"a"}, {}).status().code(), StatusCode::kInvalidArgument);
  // A queued run stays queued.
  int64_t queued = this->Create(MakeRun("etl", 2 * kHour));
  EXPECT_EQ(*this->store_->ClearTasks(queued, {"extract"}, {0}), 1u);
  EXPECT_EQ(this->store_->GetRun(queued)->state, RunState::kQueued);
}

TYPED_TEST(RunStoreConformance, PreviousTaskState) {
  EXPECT_EQ(*this->store_->PreviousTaskState("etl", "a", 5 * kHour), std::nullopt);
  int64_t r1 = this->Create(MakeRun("etl", 1 * kHour), {{"a", 1}});
  int64_t r2 = this->Create(MakeRun("etl", 2 * kHour), {{"a", 1}, {"b", 1}});
  this->Create(MakeRun("other", 3 * kHour), {{"a", 1}});
  ASSERT_TRUE(this->store_->PromoteTasks(r1, {}, {"a"}, 1).ok());
  ASSERT_TRUE(this->store_->PromoteTasks(r2, {"a"}, {}, 1).ok());
  EXPECT_EQ(*this->store_->PreviousTaskState("etl", "a", 1 * kHour),
            std::nullopt);  // strictly before
  EXPECT_EQ(*this->store_->PreviousTaskState("etl", "a", 2 * kHour), TaskState::kUpstreamFailed);
  EXPECT_EQ(*this->store_->PreviousTaskState("etl", "a", 5 * kHour), TaskState::kScheduled);
  EXPECT_EQ(*this->store_->PreviousTaskState("etl", "b", 5 * kHour), TaskState::kNone);
  // The newest earlier run has no such task.
  EXPECT_EQ(*this->store_->PreviousTaskState("etl", "b", 2 * kHour), std::nullopt);
}

TYPED_TEST(RunStoreConformance, OutputAndErrorAreStoredSanitized) {
  int64_t run = this->Create(MakeRun("etl", kHour), {{"a", 1}});
  ASSERT_TRUE(this->store_->PromoteTasks(run, {"a"}, {}, 1).ok());
  ASSERT_EQ(this->store_->ClaimTasks("s", 2, 100, 1)->size(), 1u);
  TaskOutcome out;
  out.state = TaskState::kFailed;
  out.error = std::string("bad\0byte", 8);
  out.output = "caf\xC3\xA9 \xFF\xFE end";
  ASSERT_TRUE(*this->store_->FinishTask(run, "a", 1, "s", out));
  TaskInstance t = this->Task(run, "a");
  EXPECT_EQ(t.last_error, SanitizeText(out.error));
  EXPECT_EQ(t.last_error,
            "bad\xEF\xBF\xBD"
            "byte");
  EXPECT_EQ(t.output, "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD end");
}

TYPED_TEST(RunStoreConformance, ReopensWithItsState) {
  int64_t run = this->Create(MakeRun("etl", kHour));
  this->store_ = this->Open();
  EXPECT_EQ(this->store_->GetRun(run)->dag_id, "etl");
  EXPECT_FALSE(this->store_->CreateRun(MakeRun("etl", kHour), {})->has_value());
}

// Two stores (two connections, as two processes would have) and four threads claiming
// concurrently: every ready attempt is claimed exactly once.
TYPED_TEST(RunStoreConformance, ConcurrentClaimsFromTwoStoresClaimEachAttemptOnce) {
  constexpr int kRuns = 10, kTasksPerRun = 60;
  std::vector<std::pair<std::string, int>> tasks;
  std::vector<std::string> ids;
  for (int t = 0; t < kTasksPerRun; ++t) {
    tasks.emplace_back("t" + std::to_string(t), 1);
    ids.push_back("t" + std::to_string(t));
  }
  for (int r = 0; r < kRuns; ++r) {
    int64_t run = this->Create(MakeRun("etl", (r + 1) * kHour), tasks);
    ASSERT_TRUE(this->store_->PromoteTasks(run, ids, {}, r).ok());
  }
  auto second = this->Open();
  ASSERT_NE(second, nullptr);
  std::mutex mu;
  std::map<std::pair<int64_t, std::string>, int> claims;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    RunStore* store = i % 2 == 0 ? this->store_.get() : second.get();
    threads.emplace_back([&, store, i] {
      std::string owner = "s" + std::to_string(i);
      while (true) {
        auto c = store->ClaimTasks(owner, 1000, 1'000'000, 7);
        if (!c.ok()) {
          ADD_FAILURE() << c.status().ToString();
          ++errors;
          return;
        }
        if (c->empty()) return;
        for (const auto& t : *c) {
          EXPECT_EQ(t.lease_owner, owner);
          EXPECT_EQ(t.try_number, 1);
          TaskOutcome ok;
          ok.ended_us = 2000;
          auto f = store->FinishTask(t.run_id, t.task_id, t.try_number, owner, ok);
          EXPECT_TRUE(f.ok() && *f);
          std::lock_guard lock(mu);
          ++claims[{t.run_id, t.task_id}];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(claims.size(), static_cast<size_t>(kRuns * kTasksPerRun));
  for (const auto& [key, n] : claims) EXPECT_EQ(n, 1) << key.first << "/" << key.second;
}

TYPED_TEST(RunStoreConformance, ReadOnlyReadsAndRefusesWrites) {
  int64_t run = this->Create(MakeRun("etl", kHour));
  auto ro = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(ro, nullptr);
  auto got = ro->GetRun(run);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->dag_id, "etl");
  EXPECT_EQ(ro->ListTasks(run)->size(), 2u);
  Status refused = ro->RegisterDags({{"x", false}});
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.message(), "the run store is open read-only");
  auto claim = ro->ClaimTasks("s", 1, 1, 1);
  EXPECT_EQ(claim.status().code(), StatusCode::kInvalidArgument);
  auto create = ro->CreateRun(MakeRun("etl", 2 * kHour), {{"a", 1}});
  EXPECT_EQ(create.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ro->ListDags()->size(), 1u);
  EXPECT_EQ(this->store_->ListRuns("", 10)->size(), 1u);
}

}  // namespace
}  // namespace dataforge
