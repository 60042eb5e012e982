#include "orchestrate/scheduler.h"

#include <pthread.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "orchestrate/task_runner.h"

namespace dataforge {
namespace {

constexpr size_t kCatchupBatch = 100;  // runs created per DAG per pass

std::vector<std::pair<std::string, int>> TaskTries(const DagSpec& dag) {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& t : dag.tasks) out.emplace_back(t.id, t.retries + 1);
  return out;
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (s.size() > 500) s = s.substr(0, 500) + "...";
  return s;
}

}  // namespace

int64_t RetryDelayUs(const TaskSpec& task, int try_number) {
  int64_t delay = task.retry_delay_us;
  if (task.retry_exponential) {
    for (int i = 1; i < try_number && delay < task.max_retry_delay_us; ++i) delay *= 2;
  }
  return std::min(delay, task.max_retry_delay_us);
}

std::vector<std::string> TaskAndDownstream(const DagSpec& dag, const std::string& task_id) {
  std::set<std::string> hit = {task_id};
  // Tasks are not necessarily in topological order in the file: iterate to a fixed point.
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& t : dag.tasks) {
      if (hit.count(t.id)) continue;
      for (const auto& up : t.depends_on) {
        if (hit.count(up)) {
          hit.insert(t.id);
          grew = true;
          break;
        }
      }
    }
  }
  std::vector<std::string> out;
  for (const auto& t : dag.tasks) {
    if (hit.count(t.id)) out.push_back(t.id);
  }
  return out;
}

Scheduler::Scheduler(std::vector<DagSpec> dags, SchedulerConfig config, RunStore* store,
                     TaskEnvironment* env, Clock* clock, std::string owner,
                     std::string previous_owner_prefix)
    : config_(config),
      store_(store),
      env_(env),
      clock_(clock),
      owner_(std::move(owner)),
      previous_owner_prefix_(std::move(previous_owner_prefix)) {
  for (auto& d : dags) {
    DagState s;
    auto schedule = Schedule::Parse(d.schedule, d.time_zone);
    if (schedule.ok()) s.schedule = std::move(schedule).value();  // checked by the config
    std::string id = d.id;
    s.spec = std::move(d);
    dags_.emplace(id, std::move(s));
  }
}

Scheduler::~Scheduler() {
  Shutdown();
}

const DagSpec* Scheduler::FindDag(const std::string& id) const {
  auto it = dags_.find(id);
  return it == dags_.end() ? nullptr : &it->second.spec;
}

Status Scheduler::Start() {
  std::vector<std::pair<std::string, bool>> ids;
  for (const auto& [id, d] : dags_) ids.emplace_back(id, d.spec.paused_on_create);
  DF_RETURN_IF_ERROR(store_->RegisterDags(ids));
  DF_RETURN_IF_ERROR(RefreshDags());
  for (int i = 0; i < config_.parallelism; ++i) {
    workers_.emplace_back([this](std::stop_token stop) {
      pthread_setname_np(pthread_self(), "df-task");
      Worker(stop);
    });
  }
  return Status::OK();
}

int64_t Scheduler::NextDueUs() const {
  int64_t next = INT64_MAX;
  for (const auto& [id, d] : dags_) {
    if (!d.paused) next = std::min(next, d.next_due_us);
  }
  return next;
}

Status Scheduler::RefreshDags() {
  DF_ASSIGN_OR_RETURN(auto rows, store_->ListDags());
  for (const auto& row : rows) {
    auto it = dags_.find(row.dag_id);
    if (it == dags_.end()) continue;
    DagState& d = it->second;
    d.paused = row.paused;
    d.last_start_us = row.last_scheduled_start_us;
    if (d.schedule) {
      d.next_due_us = NextDueAt(*d.schedule, d.spec.start_us, d.last_start_us).value_or(INT64_MAX);
    }
  }
  return Status::OK();
}

Result<size_t> Scheduler::CreateDueRuns(int64_t now_us) {
  size_t created_total = 0;
  for (auto& [id, d] : dags_) {
    if (d.paused || !d.schedule || d.next_due_us > now_us) continue;
    auto intervals = DueIntervals(*d.schedule, d.spec.start_us, d.last_start_us, now_us,
                                  d.spec.catchup, kCatchupBatch);
    for (const auto& iv : intervals) {
      DagRun run;
      run.dag_id = id;
      run.type = RunType::kScheduled;
      run.logical_us = iv.start_us;
      run.interval_start_us = iv.start_us;
      run.interval_end_us = iv.end_us;
      run.created_us = now_us;
      DF_ASSIGN_OR_RETURN(auto created, store_->CreateRun(run, TaskTries(d.spec)));
      if (created) {
        probe_.runs_created += 1;
        created_total += 1;
        spdlog::info("DAG {}: run {} created for {} .. {}", id, *created,
                     FormatIso8601(iv.start_us, d.spec.time_zone),
                     FormatIso8601(iv.end_us, d.spec.time_zone));
      }
      d.last_start_us = iv.start_us;
    }
    d.next_due_us = NextDueAt(*d.schedule, d.spec.start_us, d.last_start_us).value_or(INT64_MAX);
  }
  return created_total;
}

Status Scheduler::AdvanceRuns(bool full, int64_t now_us, bool* finished_any) {
  std::set<int64_t> dirty;
  {
    std::lock_guard lock(mu_);
    dirty.swap(dirty_runs_);
  }
  if (!full && dirty.empty()) return Status::OK();
  DF_ASSIGN_OR_RETURN(auto active, store_->ActiveRuns());
  std::set<std::string> queued_dags;
  for (const auto& r : active) {
    const DagSpec* dag = FindDag(r.dag_id);
    if (r.state == RunState::kQueued && dag && !dags_.at(r.dag_id).paused) {
      queued_dags.insert(r.dag_id);
    }
  }
  bool started = false;
  for (const auto& id : queued_dags) {
    DF_ASSIGN_OR_RETURN(auto ids,
                        store_->StartQueuedRuns(id, dags_.at(id).spec.max_active_runs, now_us));
    started |= !ids.empty();
    for (int64_t run_id : ids) dirty.insert(run_id);
  }
  if (started) {
    DF_ASSIGN_OR_RETURN(active, store_->ActiveRuns());
  }
  std::vector<int64_t> ids;
  std::map<int64_t, const DagRun*> runs;
  for (const auto& r : active) {
    if (r.state != RunState::kRunning) continue;
    if (!full && !dirty.count(r.run_id)) continue;
    const DagSpec* dag = FindDag(r.dag_id);
    if (!dag || dags_.at(r.dag_id).paused) continue;
    ids.push_back(r.run_id);
    runs[r.run_id] = &r;
  }
  if (ids.empty()) return Status::OK();
  DF_ASSIGN_OR_RETURN(auto tis, store_->ListTasksOfRuns(ids));
  std::map<int64_t, std::vector<TaskInstance>> by_run;
  for (auto& ti : tis) by_run[ti.run_id].push_back(std::move(ti));
  for (const auto& [run_id, run] : runs) {
    DF_ASSIGN_OR_RETURN(bool finished, AdvanceRun(*run, by_run[run_id], now_us));
    *finished_any |= finished;
  }
  return Status::OK();
}

Result<bool> Scheduler::AdvanceRun(const DagRun& run, const std::vector<TaskInstance>& tis,
                                   int64_t now_us) {
  const DagSpec& dag = *FindDag(run.dag_id);
  std::map<std::string, TaskState> state;
  for (const auto& ti : tis) state[ti.task_id] = ti.state;
  std::vector<std::string> ready, blocked;
  for (const auto& task : dag.tasks) {
    auto it = state.find(task.id);
    if (it == state.end() || it->second != TaskState::kNone) continue;
    bool all_ok = true, failed = false;
    for (const auto& up : task.depends_on) {
      auto u = state.find(up);
      TaskState s = u == state.end() ? TaskState::kSuccess : u->second;
      if (s == TaskState::kFailed || s == TaskState::kUpstreamFailed) failed = true;
      if (s != TaskState::kSuccess) all_ok = false;
    }
    if (failed) {
      blocked.push_back(task.id);
      it->second = TaskState::kUpstreamFailed;
      continue;
    }
    if (!all_ok) continue;
    if (task.depends_on_past) {
      DF_ASSIGN_OR_RETURN(auto prev, store_->PreviousTaskState(dag.id, task.id, run.logical_us));
      if (prev && *prev != TaskState::kSuccess) continue;  // waits for the earlier run
    }
    ready.push_back(task.id);
    it->second = TaskState::kScheduled;
  }
  if (!ready.empty() || !blocked.empty()) {
    DF_RETURN_IF_ERROR(store_->PromoteTasks(run.run_id, ready, blocked, now_us));
  }
  bool done = !state.empty();
  bool ok = true;
  for (const auto& [id, s] : state) {
    if (!IsTerminal(s)) done = false;
    if (s != TaskState::kSuccess) ok = false;
  }
  if (done) {
    DF_ASSIGN_OR_RETURN(
        bool finished,
        store_->FinishRun(run.run_id, ok ? RunState::kSuccess : RunState::kFailed, now_us));
    if (finished) {
      if (run.started_us > 0) probe_.run_duration_us.Record(now_us - run.started_us);
      spdlog::info("DAG {}: run {} {}", run.dag_id, run.run_id, ok ? "succeeded" : "failed");
    }
    return finished;
  }
  return false;
}

Status Scheduler::ReapExpired(int64_t now_us) {
  DF_ASSIGN_OR_RETURN(auto expired, store_->ExpiredAttempts(now_us, previous_owner_prefix_));
  previous_owner_prefix_.clear();  // earlier lives are reaped once, at the first pass
  for (const auto& ti : expired) {
    if (ti.lease_owner == owner_) continue;  // ours, running here: the heartbeat renews it
    TaskOutcome out;
    out.ended_us = now_us;
    out.error = fmt::format(
        "attempt {} was running on scheduler {}, which stopped (its lease "
        "expired)",
        ti.try_number, ti.lease_owner);
    const TaskSpec* task = nullptr;
    DF_ASSIGN_OR_RETURN(DagRun run, store_->GetRun(ti.run_id));
    if (const DagSpec* d = FindDag(run.dag_id)) {
      for (const auto& t : d->tasks) {
        if (t.id == ti.task_id) task = &t;
      }
    }
    if (ti.try_number < ti.max_tries) {
      out.state = TaskState::kUpForRetry;
      out.next_try_us = now_us + (task ? RetryDelayUs(*task, ti.try_number) : 0);
    } else {
      out.state = TaskState::kFailed;
    }
    DF_ASSIGN_OR_RETURN(
        bool done, store_->FinishTask(ti.run_id, ti.task_id, ti.try_number, ti.lease_owner, out));
    if (done) {
      probe_.reaped += 1;
      spdlog::warn("DAG {}: task {} of run {}: {}; {}", run.dag_id, ti.task_id, ti.run_id,
                   out.error,
                   out.state == TaskState::kUpForRetry ? "retrying" : "no tries left: failed");
      std::lock_guard lock(mu_);
      dirty_runs_.insert(ti.run_id);
    }
  }
  return Status::OK();
}

Status Scheduler::ClaimAndDispatch(int64_t now_us) {
  size_t free;
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return Status::OK();
    free = static_cast<size_t>(std::max(0, config_.parallelism - inflight_));
  }
  if (free == 0) return Status::OK();
  DF_ASSIGN_OR_RETURN(auto claimed, store_->ClaimTasks(owner_, now_us, config_.lease_us, free));
  if (claimed.empty()) return Status::OK();
  std::lock_guard lock(mu_);
  for (auto& ti : claimed) {
    auto r = std::make_unique<Running>();
    r->ti = std::move(ti);
    running_[{r->ti.run_id, r->ti.task_id}] = r.get();
    queue_.push_back(std::move(r));
    inflight_ += 1;
  }
  work_cv_.notify_all();
  return Status::OK();
}

Status Scheduler::Tick(bool full) {
  probe_.passes += 1;
  int64_t now = clock_->NowMicros();
  if (full) DF_RETURN_IF_ERROR(RefreshDags());
  if (create_scheduled_runs_) {
    DF_ASSIGN_OR_RETURN(size_t created, CreateDueRuns(now));
    full |= created > 0;  // start the new runs and their first tasks in this pass
  }
  if (full || !previous_owner_prefix_.empty()) DF_RETURN_IF_ERROR(ReapExpired(now));
  // A run that ends frees a max_active_runs slot: start the next one in the same pass.
  for (int i = 0; i < 3; ++i) {
    bool finished_any = false;
    DF_RETURN_IF_ERROR(AdvanceRuns(full || i > 0, now, &finished_any));
    if (!finished_any) break;
  }
  DF_RETURN_IF_ERROR(ClaimAndDispatch(now));
  int64_t mono = clock_->MonotonicMicros();
  if (mono >= next_heartbeat_us_) {
    DF_RETURN_IF_ERROR(store_->RenewLeases(owner_, now, config_.lease_us).status());
    next_heartbeat_us_ = mono + config_.lease_us / 3;
  }
  return Status::OK();
}

Status Scheduler::Run(std::stop_token stop) {
  int64_t next_full = 0;
  int64_t last_warning = 0;
  std::stop_callback on_stop(stop, [this] { RequestWake(); });
  while (!stop.stop_requested()) {
    int64_t mono = clock_->MonotonicMicros();
    bool full = mono >= next_full;
    Status s = Tick(full);
    if (!s.ok()) {
      if (mono - last_warning > 5'000'000) {
        spdlog::warn("scheduler: {} (retrying)", s.ToString());
        last_warning = mono;
      }
      clock_->SleepFor(config_.poll_us, stop);
      continue;
    }
    if (full) next_full = clock_->MonotonicMicros() + config_.poll_us;
    int64_t wait = next_full - clock_->MonotonicMicros();
    int64_t due = create_scheduled_runs_ ? NextDueUs() : INT64_MAX;
    if (due != INT64_MAX) wait = std::min(wait, due - clock_->NowMicros() + 1000);
    wait = std::min(wait, config_.lease_us / 3);
    if (wait <= 0) continue;
    std::unique_lock lock(mu_);
    wake_cv_.wait_for(lock, std::chrono::microseconds(wait),
                      [&] { return wake_ || !dirty_runs_.empty(); });
    wake_ = false;
  }
  Shutdown();
  return Status::OK();
}

void Scheduler::RequestWake() {
  std::lock_guard lock(mu_);
  wake_ = true;
  wake_cv_.notify_all();
}

void Scheduler::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return inflight_ == 0; });
}

void Scheduler::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (shutting_down_ && workers_.empty()) return;
    shutting_down_ = true;
    for (auto& [key, r] : running_) r->cancel.request_stop();
    work_cv_.notify_all();
  }
  for (auto& w : workers_) w.request_stop();
  {
    std::lock_guard lock(mu_);
    work_cv_.notify_all();
  }
  workers_.clear();  // joins; queued attempts are ended by the workers as interrupted
}

void Scheduler::Worker(std::stop_token stop) {
  while (true) {
    std::unique_ptr<Running> r;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return !queue_.empty() || stop.stop_requested(); });
      if (queue_.empty()) return;
      r = std::move(queue_.front());
      queue_.pop_front();
      if (shutting_down_) r->cancel.request_stop();
    }
    Execute(r.get());
    std::lock_guard lock(mu_);
    running_.erase({r->ti.run_id, r->ti.task_id});
    dirty_runs_.insert(r->ti.run_id);
    inflight_ -= 1;
    wake_cv_.notify_all();
    if (inflight_ == 0) idle_cv_.notify_all();
  }
}

void Scheduler::Execute(Running* r) {
  const TaskInstance& ti = r->ti;
  TaskOutcome out;
  auto run = store_->GetRun(ti.run_id);
  const DagSpec* dag = run.ok() ? FindDag(run->dag_id) : nullptr;
  const TaskSpec* task = nullptr;
  if (dag) {
    for (const auto& t : dag->tasks) {
      if (t.id == ti.task_id) task = &t;
    }
  }
  // Due: a first task when its run could start (the interval's end, or the run's creation if
  // later: a catchup or manual run), a downstream task when its upstream tasks were done.
  int64_t due = ti.ready_us;
  if (run.ok() && task && task->depends_on.empty() && ti.try_number == 1) {
    due = std::max(run->created_us,
                   run->type == RunType::kScheduled ? run->interval_end_us : run->created_us);
  }
  probe_.start_latency_us.Record(std::max<int64_t>(0, ti.started_us - due));
  probe_.attempts_started += 1;
  probe_.running += 1;
  TaskResult result;
  int64_t t0 = clock_->MonotonicMicros();
  if (!run.ok()) {
    result.status = run.status();
  } else if (!task) {
    result.status = Status::ConfigError(fmt::format(
        "task '{}' of DAG '{}' is not in this scheduler's pipeline file", ti.task_id, run->dag_id));
  } else {
    TaskAttempt attempt{dag, task, *run, ti.try_number};
    spdlog::info("DAG {}: task {} of run {} started (try {} of {})", dag->id, task->id, ti.run_id,
                 ti.try_number, ti.max_tries);
    // Timeouts are real durations whatever clock schedules (the task runner watches the real
    // monotonic clock).
    result = RunTask(attempt, *env_, config_.max_output_bytes,
                     Clock::Real()->MonotonicMicros() + task->timeout_us, clock_->NowMicros(),
                     r->cancel.get_token());
  }
  probe_.running -= 1;
  probe_.task_duration_us.Record(clock_->MonotonicMicros() - t0);
  double seconds = static_cast<double>(clock_->MonotonicMicros() - t0) / 1e6;
  out.ended_us = clock_->NowMicros();
  out.output = std::move(result.output);
  bool interrupted = false;
  {
    std::lock_guard lock(mu_);
    interrupted = shutting_down_ && result.status.code() == StatusCode::kCancelled;
  }
  std::string where =
      fmt::format("DAG {}: task {} of run {}", run.ok() ? run->dag_id : "?", ti.task_id, ti.run_id);
  if (result.status.ok()) {
    out.state = TaskState::kSuccess;
    probe_.succeeded += 1;
    spdlog::info("{} succeeded in {:.2f} s", where, seconds);
  } else if (interrupted) {
    // Not the task's fault: it runs again at once on the next start, as the same try.
    out.state = TaskState::kUpForRetry;
    out.next_try_us = out.ended_us;
    out.give_back_try = true;
    out.error = "interrupted: the scheduler stopped while it ran";
    spdlog::info("{}: interrupted, will run again", where);
  } else {
    probe_.failed += 1;
    out.error = OneLine(result.status.message());
    if (ti.try_number < ti.max_tries && task && result.status.code() != StatusCode::kConfigError) {
      out.state = TaskState::kUpForRetry;
      int64_t delay = RetryDelayUs(*task, ti.try_number);
      out.next_try_us = out.ended_us + delay;
      spdlog::warn("{} failed (try {} of {}): {}; retrying in {}", where, ti.try_number,
                   ti.max_tries, out.error, FormatDuration(delay));
    } else {
      out.state = TaskState::kFailed;
      spdlog::error("{} failed (try {} of {}): {}", where, ti.try_number, ti.max_tries, out.error);
    }
  }
  for (int attempt = 0;; ++attempt) {
    auto finished = store_->FinishTask(ti.run_id, ti.task_id, ti.try_number, owner_, out);
    if (finished.ok()) {
      if (!*finished) {
        spdlog::warn(
            "{}: its lease was lost (another scheduler took the attempt over); this "
            "result is dropped",
            where);
      }
      break;
    }
    if (attempt % 50 == 0) {
      spdlog::warn("{}: recording the result: {} (retrying)", where, finished.status().ToString());
    }
    // The store is unreachable: keep the result until it is back; the lease keeps the attempt
    // ours only until it expires, after which another scheduler may run it again.
    if (!clock_->SleepFor(100'000, {})) break;
    if (attempt > 3000) break;
  }
}

}  // namespace dataforge
