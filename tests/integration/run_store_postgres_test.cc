// The orchestrator's run store on a real throwaway PostgreSQL 15: the same semantics as on
// SQLite, and what several schedulers sharing one database rely on: each ready attempt claimed
// once, max_active_runs across schedulers, one run per logical date, migration 2 applied once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "integration/pg_server.h"
#include "integration/subprocess.h"
#include "orchestrate/state/run_store.h"

namespace dataforge::testing {
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

// One server for the suite; each test gets a database of its own.
class RunStorePostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new PostgresServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    db_ = fmt::format("rs_{}", ++databases_);
    server_->Psql("CREATE DATABASE " + db_, "postgres");
    url_ = server_->Url(db_);
    store_ = Open();
  }

  std::unique_ptr<RunStore> Open(OpenMode mode = OpenMode::kReadWrite) {
    auto s = OpenRunStore(url_, mode);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  std::string Psql(const std::string& sql) { return server_->Psql(sql, db_); }

  int64_t Create(RunStore* store, const DagRun& run,
                 const std::vector<std::pair<std::string, int>>& tasks) {
    auto r = store->CreateRun(run, tasks);
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

  static PostgresServer* server_;
  static int databases_;
  std::string db_, url_;
  std::unique_ptr<RunStore> store_;
};

PostgresServer* RunStorePostgresTest::server_ = nullptr;
int RunStorePostgresTest::databases_ = 0;

TEST_F(RunStorePostgresTest, DagsRunsAndUniquenessPerLogicalDate) {
  ASSERT_NE(store_, nullptr);
  ASSERT_TRUE(store_->RegisterDags({{"a", false}, {"b", true}}).ok());
  ASSERT_TRUE(store_->SetPaused("a", true).ok());
  ASSERT_TRUE(store_->RegisterDags({{"a", false}, {"b", false}, {"c\"quoted,name", false}}).ok());
  auto dags = store_->ListDags();
  ASSERT_TRUE(dags.ok()) << dags.status().ToString();
  ASSERT_EQ(dags->size(), 3u);
  EXPECT_TRUE((*dags)[0].paused);
  EXPECT_TRUE((*dags)[1].paused);
  EXPECT_EQ((*dags)[2].dag_id, "c\"quoted,name");
  EXPECT_EQ((*dags)[0].last_scheduled_start_us, std::nullopt);
  EXPECT_EQ(store_->SetPaused("nope", true).code(), StatusCode::kNotFound);

  int64_t id = Create(store_.get(), MakeRun("etl", 10 * kHour), {{"extract", 1}, {"lo\\ad", 2}});
  auto got = store_->GetRun(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->state, RunState::kQueued);
  EXPECT_EQ(got->conf_json, R"({"k":1})");
  EXPECT_EQ(got->interval_end_us, 11 * kHour);
  auto tasks = store_->ListTasks(id);
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[1].task_id, "lo\\ad");
  EXPECT_EQ((*tasks)[1].max_tries, 2);
  EXPECT_EQ((*tasks)[1].state, TaskState::kNone);
  auto second = store_->CreateRun(MakeRun("etl", 10 * kHour, RunType::kManual), {{"x", 1}});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, std::nullopt);
  EXPECT_EQ(Psql("SELECT count(*) FROM dataforge.task_instances"), "2");
  EXPECT_EQ(store_->GetRun(id + 100).status().code(), StatusCode::kNotFound);

  auto last = [&] {
    auto dags = store_->ListDags();
    EXPECT_TRUE(dags.ok()) << dags.status().ToString();
    for (const auto& d : *dags) {
      if (d.dag_id == "etl") return d.last_scheduled_start_us;
    }
    return std::optional<int64_t>(-1);
  };
  EXPECT_EQ(last(), 10 * kHour);
  Create(store_.get(), MakeRun("etl", 5 * kHour, RunType::kBackfill), {});
  EXPECT_EQ(last(), 10 * kHour);
  Create(store_.get(), MakeRun("etl", 50 * kHour, RunType::kManual), {});
  EXPECT_EQ(last(), 10 * kHour);
  int64_t newest = Create(store_.get(), MakeRun("etl", 12 * kHour, RunType::kBackfill), {});
  EXPECT_EQ(last(), 12 * kHour);

  auto runs = store_->ListRuns("etl", 2);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].logical_us, 50 * kHour);
  EXPECT_EQ((*runs)[1].run_id, newest);
  EXPECT_EQ(store_->ListRuns("", 100)->size(), 4u);
  EXPECT_EQ(store_->ActiveRuns()->size(), 4u);
  EXPECT_EQ(store_->ActiveRuns()->front().logical_us, 5 * kHour);  // oldest first
}

TEST_F(RunStorePostgresTest, StartQueuedRunsAndFinishRun) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(Create(store_.get(), MakeRun("etl", (10 - i) * kHour), {}));
  auto started = store_->StartQueuedRuns("etl", 2, 1000);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(*started, (std::vector<int64_t>{ids[3], ids[4]}));
  EXPECT_TRUE(store_->StartQueuedRuns("etl", 2, 1001)->empty());
  EXPECT_EQ(store_->GetRun(ids[4])->started_us, 1000);
  ASSERT_TRUE(*store_->FinishRun(ids[4], RunState::kFailed, 2000));
  EXPECT_FALSE(*store_->FinishRun(ids[4], RunState::kSuccess, 2001));
  EXPECT_FALSE(*store_->FinishRun(ids[0], RunState::kSuccess, 2001));
  EXPECT_EQ(store_->GetRun(ids[4])->ended_us, 2000);
  EXPECT_EQ(*store_->StartQueuedRuns("etl", 2, 3000), (std::vector<int64_t>{ids[2]}));
  EXPECT_TRUE(store_->StartQueuedRuns("unknown", 2, 3000)->empty());
  EXPECT_EQ(store_->StartQueuedRuns("etl", 0, 3000).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RunStorePostgresTest, ClaimRenewFinishAndLostLeases) {
  int64_t run =
      Create(store_.get(), MakeRun("etl", kHour), {{"a", 2}, {"b", 2}, {"c", 1}, {"d", 1}});
  ASSERT_TRUE(store_->PromoteTasks(run, {"b"}, {"d"}, 500).ok());
  ASSERT_TRUE(store_->PromoteTasks(run, {"a"}, {}, 600).ok());
  ASSERT_TRUE(store_->PromoteTasks(run, {"b"}, {"a"}, 700).ok());  // idempotent
  EXPECT_EQ(Task(run, "b").ready_us, 500);
  EXPECT_EQ(Task(run, "a").state, TaskState::kScheduled);
  EXPECT_EQ(Task(run, "d").state, TaskState::kUpstreamFailed);
  EXPECT_EQ(Task(run, "d").ended_us, 500);
  EXPECT_EQ(Task(run, "c").state, TaskState::kNone);

  auto claimed = store_->ClaimTasks("host1:1:x", 1000, 500, 1);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].task_id, "b");
  EXPECT_EQ((*claimed)[0].try_number, 1);
  EXPECT_EQ((*claimed)[0].lease_expires_us, 1500);
  EXPECT_EQ((*claimed)[0].started_us, 1000);
  claimed = store_->ClaimTasks("host_%:2:y", 1000, 100'000, 10);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].task_id, "a");
  EXPECT_TRUE(store_->ClaimTasks("s3", 1000, 100, 10)->empty());

  EXPECT_EQ(*store_->RenewLeases("host1:1:x", 1100, 500), 1u);
  EXPECT_EQ(Task(run, "b").lease_expires_us, 1600);
  EXPECT_EQ(*store_->RenewLeases("nobody", 1100, 500), 0u);

  EXPECT_TRUE(store_->ExpiredAttempts(1600, "")->empty());
  auto expired = store_->ExpiredAttempts(1601, "");
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].task_id, "b");
  EXPECT_EQ(store_->ExpiredAttempts(0, "host_%:")->size(), 1u);
  EXPECT_EQ(store_->ExpiredAttempts(0, "host_")->size(), 1u);  // no LIKE wildcards
  EXPECT_TRUE(store_->ExpiredAttempts(0, "host%")->empty());
  EXPECT_EQ(store_->ExpiredAttempts(0, "host")->size(), 2u);

  // The reaper ends b as the owner it saw (a retry); the owner's FinishTask then misses.
  TaskOutcome retry;
  retry.state = TaskState::kUpForRetry;
  retry.next_try_us = 9000;
  retry.ended_us = 1700;
  retry.error = "lease expired";
  EXPECT_FALSE(*store_->FinishTask(run, "b", 1, "someone-else", retry));
  EXPECT_FALSE(*store_->FinishTask(run, "b", 2, "host1:1:x", retry));
  ASSERT_TRUE(*store_->FinishTask(run, "b", 1, "host1:1:x", retry));
  TaskOutcome ok;
  ok.ended_us = 1800;
  EXPECT_FALSE(*store_->FinishTask(run, "b", 1, "host1:1:x", ok));
  TaskInstance b = Task(run, "b");
  EXPECT_EQ(b.state, TaskState::kUpForRetry);
  EXPECT_EQ(b.ready_us, 9000);
  EXPECT_EQ(b.last_error, "lease expired");
  EXPECT_TRUE(store_->ClaimTasks("host2:1:z", 8999, 500, 10)->empty());
  claimed = store_->ClaimTasks("host2:1:z", 9000, 500, 10);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].try_number, 2);
  EXPECT_FALSE(*store_->FinishTask(run, "b", 1, "host1:1:x", ok));
  EXPECT_EQ(*store_->RenewLeases("host1:1:x", 9000, 500), 0u);
  ASSERT_TRUE(*store_->FinishTask(run, "b", 2, "host2:1:z", ok));
  EXPECT_EQ(Task(run, "b").state, TaskState::kSuccess);

  // Output and errors are stored sanitized, as on SQLite.
  TaskOutcome failed;
  failed.state = TaskState::kFailed;
  failed.error = std::string("bad\0byte", 8);
  failed.output = "caf\xC3\xA9 \xFF\xFE end";
  ASSERT_TRUE(*store_->FinishTask(run, "a", 1, "host_%:2:y", failed));
  TaskInstance a = Task(run, "a");
  EXPECT_EQ(a.state, TaskState::kFailed);
  EXPECT_EQ(a.last_error,
            "bad\xEF\xBF\xBD"
            "byte");
  EXPECT_EQ(a.output, "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD end");

  TaskOutcome bad;
  bad.state = TaskState::kNone;
  EXPECT_EQ(store_->FinishTask(run, "c", 1, "x", bad).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(RunStorePostgresTest, ClearTasksAndPreviousTaskState) {
  int64_t r1 = Create(store_.get(), MakeRun("etl", 1 * kHour), {{"a", 1}, {"b", 1}, {"c", 1}});
  int64_t r2 = Create(store_.get(), MakeRun("etl", 2 * kHour), {{"a", 1}});
  ASSERT_EQ(store_->StartQueuedRuns("etl", 1, 10)->size(), 1u);
  ASSERT_TRUE(store_->PromoteTasks(r1, {"a", "c"}, {"b"}, 100).ok());
  ASSERT_EQ(store_->ClaimTasks("s", 200, 1000, 1)->size(), 1u);  // a
  TaskOutcome failed;
  failed.state = TaskState::kFailed;
  failed.ended_us = 300;
  ASSERT_TRUE(*store_->FinishTask(r1, "a", 1, "s", failed));
  ASSERT_EQ(store_->ClaimTasks("s", 400, 1000, 1)->size(), 1u);  // c, left running
  ASSERT_TRUE(*store_->FinishRun(r1, RunState::kFailed, 500));

  EXPECT_EQ(*store_->PreviousTaskState("etl", "a", 2 * kHour), TaskState::kFailed);
  EXPECT_EQ(*store_->PreviousTaskState("etl", "a", 1 * kHour), std::nullopt);
  EXPECT_EQ(*store_->PreviousTaskState("etl", "b", 3 * kHour), std::nullopt);  // not in r2
  EXPECT_EQ(*store_->PreviousTaskState("etl", "a", 3 * kHour), TaskState::kNone);
  EXPECT_EQ(*store_->PreviousTaskState("other", "a", 3 * kHour), std::nullopt);

  auto reset = store_->ClearTasks(r1, {"a", "b", "c", "missing", "a"}, {2, 0, 0, 0, 7});
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  EXPECT_EQ(*reset, 2u);
  EXPECT_EQ(Task(r1, "a").state, TaskState::kNone);
  EXPECT_EQ(Task(r1, "a").try_number, 1);
  EXPECT_EQ(Task(r1, "a").max_tries, 4);
  EXPECT_EQ(Task(r1, "b").state, TaskState::kNone);
  EXPECT_EQ(Task(r1, "c").state, TaskState::kRunning);
  EXPECT_EQ(store_->GetRun(r1)->state, RunState::kRunning);
  EXPECT_EQ(store_->GetRun(r1)->ended_us, 0);
  EXPECT_EQ(*store_->ClearTasks(r2, {"a"}, {0}), 1u);
  EXPECT_EQ(store_->GetRun(r2)->state, RunState::kQueued);
  EXPECT_EQ(store_->ClearTasks(r2 + 50, {"a"}, {0}).status().code(), StatusCode::kNotFound);

  auto both = store_->ListTasksOfRuns({r2, r1});
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  ASSERT_EQ(both->size(), 4u);
  EXPECT_EQ((*both)[0].run_id, r1);
  EXPECT_EQ((*both)[3].run_id, r2);
}

TEST_F(RunStorePostgresTest, MigratedDatabaseReopensAndReadOnlyNeverWrites) {
  // Read-only before any migration: an error, and nothing created.
  std::string fresh = "rs_fresh";
  server_->Psql("CREATE DATABASE " + fresh, "postgres");
  auto ro = OpenRunStore(server_->Url(fresh), OpenMode::kReadOnly);
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.status().code(), StatusCode::kNotFound) << ro.status().ToString();
  EXPECT_EQ(server_->Psql("SELECT count(*) FROM pg_namespace WHERE nspname='dataforge'", fresh),
            "0");

  int64_t run = Create(store_.get(), MakeRun("etl", kHour), {{"a", 1}});
  store_ = Open();
  ASSERT_NE(store_, nullptr);
  auto again = Open();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM "
                 "dataforge.schema_migrations"),
            "1,2,3,4");
  EXPECT_EQ(store_->GetRun(run)->dag_id, "etl");
  auto reader = Open(OpenMode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->ListTasks(run)->size(), 1u);
  EXPECT_EQ(reader->RegisterDags({{"x", false}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->ClaimTasks("s", 1, 1, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Psql("SELECT count(*) FROM dataforge.dags"), "1");
  // The staging tables of migration 1 are there too.
  EXPECT_EQ(Psql("SELECT to_regclass('dataforge.outbox') IS NOT NULL"), "t");
}

TEST_F(RunStorePostgresTest, ClaimUsesThePartialIndexWithManyFinishedRows) {
  int64_t run = Create(store_.get(), MakeRun("etl", kHour), {{"a", 1}});
  Psql(
      fmt::format("INSERT INTO dataforge.task_instances(run_id, task_id, state, ended_us) "
                  "SELECT {}, 'done' || i, 'success', 1 FROM generate_series(1, 100000) i; "
                  "ANALYZE dataforge.task_instances",
                  run));
  ASSERT_TRUE(store_->PromoteTasks(run, {"a"}, {}, 5).ok());
  std::string plan = Psql(
      "EXPLAIN SELECT run_id, task_id FROM dataforge.task_instances WHERE state IN "
      "('scheduled','up_for_retry') AND (state = 'scheduled' OR next_try_us <= 10) "
      "ORDER BY ready_us, run_id, task_id LIMIT 10 FOR UPDATE SKIP LOCKED");
  EXPECT_NE(plan.find("task_instances_claimable"), std::string::npos) << plan;
  auto claimed = store_->ClaimTasks("s", 10, 100, 10);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].task_id, "a");
}

TEST_F(RunStorePostgresTest, PausedDagsTasksAreNotClaimed) {
  int64_t run = Create(store_.get(), MakeRun("etl", kHour), {{"a", 1}});
  ASSERT_TRUE(store_->PromoteTasks(run, {"a"}, {}, 5).ok());
  ASSERT_TRUE(store_->SetPaused("etl", true).ok());
  EXPECT_TRUE(store_->ClaimTasks("s", 10, 100, 10)->empty());
  EXPECT_EQ(Task(run, "a").state, TaskState::kScheduled);
  ASSERT_TRUE(store_->SetPaused("etl", false).ok());
  auto claimed = store_->ClaimTasks("s", 11, 100, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].task_id, "a");
}

// Four schedulers (own connections) claim 2,000 ready attempts concurrently.
TEST_F(RunStorePostgresTest, ConcurrentClaimsClaimEachAttemptExactlyOnce) {
  constexpr int kRuns = 20, kTasksPerRun = 100, kThreads = 4;
  std::vector<std::pair<std::string, int>> tasks;
  std::vector<std::string> ids;
  for (int t = 0; t < kTasksPerRun; ++t) {
    tasks.emplace_back(fmt::format("t{:03}", t), 1);
    ids.push_back(fmt::format("t{:03}", t));
  }
  for (int r = 0; r < kRuns; ++r) {
    int64_t run = Create(store_.get(), MakeRun("etl", (r + 1) * kHour), tasks);
    ASSERT_TRUE(store_->PromoteTasks(run, ids, {}, r).ok());
  }
  std::vector<std::unique_ptr<RunStore>> stores;
  for (int i = 0; i < kThreads; ++i) stores.push_back(Open());
  std::mutex mu;
  std::map<std::pair<int64_t, std::string>, int> claims;
  std::vector<int> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      RunStore* store = stores[i].get();
      std::string owner = fmt::format("sched-{}", i);
      while (true) {
        auto c = store->ClaimTasks(owner, 1000, 60'000'000, 16);
        if (!c.ok()) {
          ADD_FAILURE() << c.status().ToString();
          return;
        }
        if (c->empty()) return;
        for (const auto& t : *c) {
          EXPECT_EQ(t.lease_owner, owner);
          EXPECT_EQ(t.try_number, 1);
          TaskOutcome ok;
          ok.ended_us = 2000;
          auto f = store->FinishTask(t.run_id, t.task_id, t.try_number, owner, ok);
          EXPECT_TRUE(f.ok() && *f) << t.task_id;
          std::lock_guard lock(mu);
          ++claims[{t.run_id, t.task_id}];
          ++per_thread[i];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claims.size(), static_cast<size_t>(kRuns * kTasksPerRun));
  int twice = 0;
  for (const auto& [key, n] : claims) twice += n != 1;
  EXPECT_EQ(twice, 0);
  EXPECT_EQ(Psql("SELECT count(*), min(try_number), max(try_number) FROM "
                 "dataforge.task_instances WHERE state='success'"),
            fmt::format("{}|1|1", kRuns * kTasksPerRun));
  for (int i = 0; i < kThreads; ++i) RecordProperty(fmt::format("claimed_by_{}", i), per_thread[i]);
}

// Four schedulers start queued runs of one DAG concurrently while finishing them: never more
// than max_active_runs running, each run started once.
TEST_F(RunStorePostgresTest, ConcurrentStartQueuedRunsNeverExceedMaxActiveRuns) {
  constexpr int kRuns = 40, kMaxActive = 3, kThreads = 4;
  for (int r = 0; r < kRuns; ++r) Create(store_.get(), MakeRun("etl", (r + 1) * kHour), {});
  std::vector<std::unique_ptr<RunStore>> stores;
  for (int i = 0; i < kThreads; ++i) stores.push_back(Open());
  std::mutex mu;
  std::map<int64_t, int> starts;
  std::atomic<int> finished{0};
  std::atomic<bool> done{false};
  std::atomic<int64_t> max_seen{0};
  std::atomic<bool> held{false};  // the first batch started waits for the watcher to see it
  // A watcher samples the number of running runs. The first batch started stays running until it
  // has seen it (or 30 s): under a loaded ASan build the whole workload could otherwise pass
  // between two samples, or before the watcher's first.
  std::thread watcher([&] {
    auto store = Open();
    while (!done) {
      auto active = store->ActiveRuns();
      if (!active.ok()) {
        ADD_FAILURE() << active.status().ToString();
        return;
      }
      int64_t running = 0;
      for (const auto& r : *active) running += r.state == RunState::kRunning;
      if (running > max_seen) max_seen = running;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      RunStore* store = stores[i].get();
      int64_t now = 1000;
      while (finished < kRuns) {
        auto started = store->StartQueuedRuns("etl", kMaxActive, ++now);
        if (!started.ok()) {
          ADD_FAILURE() << started.status().ToString();
          return;
        }
        {
          std::lock_guard lock(mu);
          for (int64_t id : *started) ++starts[id];
        }
        if (!started->empty() && !held.exchange(true)) {
          WaitFor([&] { return max_seen.load() > 0; }, 30);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        for (int64_t id : *started) {
          auto f = store->FinishRun(id, RunState::kSuccess, ++now);
          EXPECT_TRUE(f.ok() && *f);
          ++finished;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  done = true;
  watcher.join();
  EXPECT_LE(max_seen.load(), kMaxActive);
  EXPECT_GT(max_seen.load(), 0);
  EXPECT_EQ(starts.size(), static_cast<size_t>(kRuns));
  for (const auto& [id, n] : starts) EXPECT_EQ(n, 1) << "run " << id;
  EXPECT_EQ(Psql("SELECT count(*) FROM dataforge.dag_runs WHERE state='success'"),
            std::to_string(kRuns));
}

// Four schedulers create the runs of the same 50 logical dates at once: one run each.
TEST_F(RunStorePostgresTest, CreateRunRacesMakeExactlyOneRun) {
  constexpr int kDates = 50, kThreads = 4;
  std::vector<std::unique_ptr<RunStore>> stores;
  for (int i = 0; i < kThreads; ++i) stores.push_back(Open());
  std::mutex mu;
  std::map<int64_t, std::vector<int64_t>> created;  // logical date -> run ids returned
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int d = 0; d < kDates; ++d) {
        DagRun run = MakeRun("race", (d + 1) * kHour);
        run.created_us += i;  // each scheduler's own clock
        auto r = stores[i]->CreateRun(run, {{"a", 1}, {"b", 1}});
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          return;
        }
        if (r->has_value()) {
          std::lock_guard lock(mu);
          created[run.logical_us].push_back(**r);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.size(), static_cast<size_t>(kDates));
  for (const auto& [date, runs] : created) EXPECT_EQ(runs.size(), 1u) << date;
  EXPECT_EQ(Psql("SELECT count(*) FROM dataforge.dag_runs"), std::to_string(kDates));
  EXPECT_EQ(Psql("SELECT count(*) FROM dataforge.task_instances"), std::to_string(2 * kDates));
  EXPECT_EQ(Psql("SELECT last_scheduled_start_us FROM dataforge.dags WHERE dag_id='race'"),
            std::to_string(kDates * kHour));
}

// Last: restarts the suite's server. Calls wait for it and go on.
TEST_F(RunStorePostgresTest, SurvivesAServerRestart) {
  int64_t run = Create(store_.get(), MakeRun("etl", kHour), {{"a", 1}});
  ASSERT_TRUE(store_->PromoteTasks(run, {"a"}, {}, 1).ok());
  server_->Restart();
  auto claimed = store_->ClaimTasks("s", 10, 1000, 5);
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  TaskOutcome ok;
  ok.ended_us = 20;
  server_->Restart();
  auto f = store_->FinishTask(run, "a", 1, "s", ok);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(*f);
  EXPECT_EQ(Task(run, "a").state, TaskState::kSuccess);
}

}  // namespace
}  // namespace dataforge::testing
