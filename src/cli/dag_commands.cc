// `dags`, `runs` and `tasks`: the orchestrator's CLI. State comes from the run store in the
// staging database; DAG definitions from the pipeline file.
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/read_only_backends.h"
#include "cli/scheduler_host.h"
#include "cli/signal_waiter.h"
#include "common/redact.h"
#include "orchestrate/dag_report.h"
#include "pipeline/data_dir.h"
#include "pipeline/task_environments.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

Status UnknownDag(const PipelineConfig& c, const std::string& id) {
  return Status::ConfigError(UnknownDagMessage(c, id));
}

Result<std::unique_ptr<RunStore>> StoreForReading(const CliContext& ctx, const PipelineConfig& c) {
  return OpenRunStoreForReading(ctx, c);
}

Result<std::unique_ptr<RunStore>> StoreForWriting(const CliContext& ctx, const PipelineConfig& c) {
  DF_RETURN_IF_ERROR(PrepareDataDir(ctx.data_dir, /*create=*/true));
  DF_ASSIGN_OR_RETURN(auto store,
                      OpenRunStore(ResolveUrls(c, ctx.data_dir).staging, OpenMode::kReadWrite));
  std::vector<std::pair<std::string, bool>> ids;
  for (const auto& d : c.dags) ids.emplace_back(d.id, d.paused_on_create);
  DF_RETURN_IF_ERROR(store->RegisterDags(ids));
  return store;
}

std::string Time(int64_t us) {
  return RunTime(us);
}

std::string Duration(int64_t from, int64_t to) {
  if (from == 0 || to == 0 || to < from) return "-";
  return fmt::format("{:.1f}s", static_cast<double>(to - from) / 1e6);
}

// Runs the scheduler here (when this data dir is free) until `run_ids` are all done, drawing
// progress; otherwise waits for the scheduler that holds the data dir. Returns the runs.
Result<std::vector<DagRun>> ExecuteAndWait(const CliContext& ctx, const PipelineConfig& config,
                                           RunStore& store, const std::vector<int64_t>& run_ids,
                                           bool progress, const char* what) {
  SignalWaiter signals;
  std::unique_ptr<DataDirLock> lock;
  std::unique_ptr<StandaloneTaskEnvironment> env;
  std::unique_ptr<SchedulerHost> host;
  auto locked = DataDirLock::Acquire(ctx.data_dir);
  if (locked.ok()) {
    lock = std::move(locked).value();
    env = std::make_unique<StandaloneTaskEnvironment>(config, ctx.data_dir, Clock::Real());
    DF_ASSIGN_OR_RETURN(host, SchedulerHost::Open(config, ctx.data_dir, env.get(), Clock::Real()));
    host->scheduler().set_create_scheduled_runs(false);
    DF_ASSIGN_OR_RETURN(auto active, store.ActiveRuns());
    std::vector<std::string> others;
    for (const DagRun& r : active) {
      if (std::find(run_ids.begin(), run_ids.end(), r.run_id) != run_ids.end()) continue;
      others.push_back(fmt::format("run {} of DAG {} ({}, logical date {})", r.run_id, r.dag_id,
                                   RunTypeName(r.type), Time(r.logical_us)));
    }
    if (!others.empty()) {
      // They hold max_active_runs and would block this one: the scheduler here runs them too.
      fmt::print(stderr, "dataforge: the scheduler here also runs {} left unfinished before: {}\n",
                 others.size() == 1 ? "a run" : fmt::format("{} runs", others.size()),
                 fmt::join(others, "; "));
    }
    DF_RETURN_IF_ERROR(host->Start());
  } else {
    fmt::print(stderr, "dataforge: {}: the scheduler running there executes the {}\n",
               locked.status().message(), what);
  }
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  auto on_signal = [&] {
    std::lock_guard l(mu);
    stop = true;
    cv.notify_all();
  };
  signals.Start(on_signal, on_signal, "stopping; queued runs stay queued for the next scheduler");
  bool tty = progress && isatty(STDERR_FILENO);
  std::vector<DagRun> runs;
  while (true) {
    runs.clear();
    size_t done = 0, ok = 0;
    for (int64_t id : run_ids) {
      DF_ASSIGN_OR_RETURN(DagRun r, store.GetRun(id));
      if (r.state == RunState::kSuccess || r.state == RunState::kFailed) ++done;
      if (r.state == RunState::kSuccess) ++ok;
      runs.push_back(std::move(r));
    }
    if (tty) {
      size_t width = 30;
      size_t filled = run_ids.empty() ? width : done * width / run_ids.size();
      fmt::print(stderr, "\r[{}{}] {}/{} runs done ({} succeeded, {} failed)\033[K",
                 std::string(filled, '#'), std::string(width - filled, '-'), done, run_ids.size(),
                 ok, done - ok);
    }
    if (done == run_ids.size()) break;
    std::unique_lock l(mu);
    if (cv.wait_for(l, std::chrono::milliseconds(200), [&] { return stop; })) break;
  }
  if (tty) fmt::print(stderr, "\n");
  if (host) host->Stop();
  return runs;
}

void AddDagsCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* dags = app.add_subcommand("dags", "Scheduled DAGs: list, trigger, backfill, pause");
  dags->require_subcommand(1);

  auto json = std::make_shared<bool>(false);
  auto* list = dags->add_subcommand("list", "List the pipeline file's DAGs with their state");
  list->add_flag("--json", *json, "One JSON object per line");
  list->callback([&ctx, exit_code, json] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto store, StoreForReading(ctx, c));
      std::map<std::string, DagRow> rows;
      if (store) {
        DF_ASSIGN_OR_RETURN(auto list, store->ListDags());
        for (auto& r : list) rows[r.dag_id] = r;
      }
      if (!*json) {
        fmt::print("{:<24} {:<16} {:<7} {:<26} {:<10} {}\n", "DAG", "SCHEDULE", "PAUSED",
                   "NEXT RUN DUE", "LAST RUN", "TASKS");
      }
      for (const auto& d : c.dags) {
        std::optional<DagRow> row;
        if (rows.count(d.id)) row = rows[d.id];
        bool paused = row ? row->paused : d.paused_on_create;
        std::string last_state = "-";
        if (store) {
          DF_ASSIGN_OR_RETURN(auto runs, store->ListRuns(d.id, 1));
          if (!runs.empty()) last_state = RunStateName(runs[0].state);
        }
        int64_t now = Clock::Real()->NowMicros();
        if (*json) {
          fmt::print("{}\n", DagJson(d, row, last_state == "-" ? "" : last_state, now));
        } else {
          auto next = NextRunDue(d, row, now);
          fmt::print("{:<24} {:<16} {:<7} {:<26} {:<10} {}\n", d.id, d.schedule,
                     paused ? "yes" : "no", next ? FormatIso8601(*next, d.time_zone) : "never",
                     last_state, d.tasks.size());
        }
      }
      return Status::OK();
    });
  });

  auto dag = std::make_shared<std::string>();
  auto conf = std::make_shared<std::string>("{}");
  auto wait = std::make_shared<bool>(false);
  auto* trigger = dags->add_subcommand(
      "trigger", "Queue a manual run of DAG now (the running scheduler starts it)");
  trigger->add_option("DAG", *dag, "DAG id")->required();
  trigger->add_option("--conf", *conf,
                      "JSON object passed to the run; tasks read it as {{ conf.KEY }}");
  trigger->add_flag("--wait", *wait, "Run it here and wait for it to finish (exit 1 if it fails)");
  HandleStopSignals(ctx, trigger, [wait] { return *wait; });
  trigger->callback([&ctx, exit_code, dag, conf, wait] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      const DagSpec* d = FindDag(c, *dag);
      if (!d) return UnknownDag(c, *dag);
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      if (parser.parse(*conf).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
        return Status::ConfigError(fmt::format(
            "--conf '{}' is not a JSON object; write e.g. --conf '{{\"table\": \"users\"}}'",
            *conf));
      }
      DF_ASSIGN_OR_RETURN(auto store, StoreForWriting(ctx, c));
      if (*wait) DF_RETURN_IF_ERROR(RefuseIfPaused(*store, d->id));
      int64_t now = Clock::Real()->NowMicros();
      DF_ASSIGN_OR_RETURN(auto run, QueueManualRun(*store, *d, simdjson::minify(doc), now));
      if (!run) return Status::Internal("a run for this instant exists already; trigger again");
      int64_t id = run->run_id;
      fmt::print("run {} of DAG {} queued (logical date {})\n", id, d->id, Time(now));
      if (!*wait) return Status::OK();
      DF_ASSIGN_OR_RETURN(auto runs, ExecuteAndWait(ctx, c, *store, {id}, false, "run"));
      const DagRun& r = runs.at(0);
      fmt::print("run {}: {}\n", r.run_id, RunStateName(r.state));
      if (r.state == RunState::kFailed) {
        return Status::Internal(fmt::format("run {} of DAG {} failed; see: dataforge runs show {}",
                                            r.run_id, d->id, r.run_id));
      }
      if (r.state != RunState::kSuccess) {
        return Status::Cancelled(
            fmt::format("run {} is still {}", r.run_id, RunStateName(r.state)));
      }
      return Status::OK();
    });
  });

  auto from = std::make_shared<std::string>();
  auto to = std::make_shared<std::string>();
  auto no_progress = std::make_shared<bool>(false);
  auto* backfill = dags->add_subcommand(
      "backfill",
      "Create and run the DAG's scheduled runs whose intervals start between --from and --to "
      "(inclusive; dates in the DAG's time zone). Runs that exist already are left alone.");
  HandleStopSignals(ctx, backfill);
  backfill->add_option("DAG", *dag, "DAG id")->required();
  backfill->add_option("--from", *from, "First date, e.g. 2026-01-01")->required();
  backfill->add_option("--to", *to, "Last date, e.g. 2026-01-30")->required();
  backfill->add_flag("--no-progress", *no_progress, "Do not draw the progress bar");
  backfill->callback([&ctx, exit_code, dag, from, to, no_progress] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      const DagSpec* d = FindDag(c, *dag);
      if (!d) return UnknownDag(c, *dag);
      auto from_us = ParseDateTime(*from, d->time_zone);
      if (!from_us.ok()) {
        return Status::ConfigError(
            fmt::format("--from '{}': {}", *from, from_us.status().message()));
      }
      auto to_us = ParseDateTime(*to, d->time_zone);
      if (!to_us.ok()) {
        return Status::ConfigError(fmt::format("--to '{}': {}", *to, to_us.status().message()));
      }
      if (*to_us < *from_us) {
        return Status::ConfigError(fmt::format("--to {} is before --from {}", *to, *from));
      }
      DF_ASSIGN_OR_RETURN(auto schedule, Schedule::Parse(d->schedule, d->time_zone));
      auto intervals = IntervalsStartingIn(schedule, d->start_us, *from_us, *to_us);
      if (intervals.empty()) {
        return Status::ConfigError(
            fmt::format("no interval of DAG {} ('{}', start_date {}) starts between {} and {}",
                        d->id, d->schedule, FormatIso8601(d->start_us, d->time_zone), *from, *to));
      }
      DF_ASSIGN_OR_RETURN(auto store, StoreForWriting(ctx, c));
      DF_RETURN_IF_ERROR(RefuseIfPaused(*store, d->id));
      std::vector<std::pair<std::string, int>> tries;
      for (const auto& t : d->tasks) tries.emplace_back(t.id, t.retries + 1);
      std::vector<int64_t> ids;
      size_t existed = 0;
      int64_t now = Clock::Real()->NowMicros();
      for (const auto& iv : intervals) {
        DagRun run;
        run.dag_id = d->id;
        run.type = RunType::kBackfill;
        run.logical_us = iv.start_us;
        run.interval_start_us = iv.start_us;
        run.interval_end_us = iv.end_us;
        run.created_us = now;
        DF_ASSIGN_OR_RETURN(auto id, store->CreateRun(run, tries));
        if (id) {
          ids.push_back(*id);
        } else {
          ++existed;
        }
      }
      fmt::print("backfill {}: {} intervals from {} to {}: {} runs created, {} existed already\n",
                 d->id, intervals.size(), FormatDate(intervals.front().start_us, d->time_zone),
                 FormatDate(intervals.back().start_us, d->time_zone), ids.size(), existed);
      std::fflush(stdout);
      if (ids.empty()) return Status::OK();
      int64_t t0 = Clock::Real()->MonotonicMicros();
      DF_ASSIGN_OR_RETURN(auto runs,
                          ExecuteAndWait(ctx, c, *store, ids, !*no_progress, "backfill"));
      size_t ok = 0, failed = 0;
      std::vector<std::string> failed_ids;
      for (const auto& r : runs) {
        if (r.state == RunState::kSuccess) ++ok;
        if (r.state == RunState::kFailed) {
          ++failed;
          failed_ids.push_back(std::to_string(r.run_id));
        }
      }
      fmt::print("backfill {}: {} of {} runs succeeded, {} failed, {} not finished, in {:.1f} s\n",
                 d->id, ok, runs.size(), failed, runs.size() - ok - failed,
                 static_cast<double>(Clock::Real()->MonotonicMicros() - t0) / 1e6);
      if (failed > 0) {
        return Status::Internal(
            fmt::format("backfill {}: runs {} failed; see: dataforge runs "
                        "show RUN",
                        d->id, fmt::join(failed_ids, ", ")));
      }
      if (ok != runs.size()) return Status::Cancelled("backfill interrupted; the rest stay queued");
      return Status::OK();
    });
  });

  for (bool pause : {true, false}) {
    auto* cmd = dags->add_subcommand(pause ? "pause" : "unpause",
                                     pause ? "Stop creating and starting runs of DAG"
                                           : "Resume creating and starting runs of DAG");
    cmd->add_option("DAG", *dag, "DAG id")->required();
    cmd->callback([&ctx, exit_code, dag, pause] {
      WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
        if (!FindDag(c, *dag)) return UnknownDag(c, *dag);
        DF_ASSIGN_OR_RETURN(auto store, StoreForWriting(ctx, c));
        DF_RETURN_IF_ERROR(SetDagPaused(*store, c, *dag, pause));
        fmt::print("DAG {} {}\n", *dag, pause ? "paused" : "unpaused");
        return Status::OK();
      });
    });
  }
}

void AddRunsCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* runs = app.add_subcommand("runs", "DAG runs: list, show");
  runs->require_subcommand(1);
  auto dag = std::make_shared<std::string>();
  auto limit = std::make_shared<size_t>(20);
  auto json = std::make_shared<bool>(false);
  auto* list = runs->add_subcommand("list", "List runs, newest first");
  list->add_option("DAG", *dag, "Only this DAG's runs");
  list->add_option("--limit", *limit, "At most this many")->capture_default_str();
  list->add_flag("--json", *json, "One JSON object per line");
  list->callback([&ctx, exit_code, dag, limit, json] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto store, StoreForReading(ctx, c));
      std::vector<DagRun> rows;
      if (store) {
        DF_ASSIGN_OR_RETURN(rows, store->ListRuns(*dag, *limit));
      }
      if (rows.empty()) {
        // Not an error: a pipeline that ran without its scheduler has no runs.
        if (!*json) {
          fmt::print(
              "no runs yet{}; `dataforge dags trigger DAG` queues one, and the scheduler "
              "in `dataforge run` starts scheduled ones\n",
              dag->empty() ? "" : fmt::format(" of DAG {}", *dag));
        }
        return Status::OK();
      }
      if (!*json) {
        fmt::print("{:>6}  {:<22} {:<9} {:<32} {:<8} {:>9}\n", "RUN", "DAG", "TYPE", "LOGICAL DATE",
                   "STATE", "DURATION");
      }
      for (const auto& r : rows) {
        if (*json) {
          fmt::print("{}\n", RunJson(r));
        } else {
          fmt::print("{:>6}  {:<22} {:<9} {:<32} {:<8} {:>9}\n", r.run_id, r.dag_id,
                     RunTypeName(r.type), Time(r.logical_us), RunStateName(r.state),
                     Duration(r.started_us, r.ended_us));
        }
      }
      return Status::OK();
    });
  });

  auto run_id = std::make_shared<int64_t>(0);
  auto* show = runs->add_subcommand(
      "show", "Show a run: each task's state, tries, duration, last error and captured output");
  show->add_option("RUN", *run_id, "Run id (see runs list)")->required();
  show->add_flag("--json", *json, "As one JSON object");
  show->callback([&ctx, exit_code, run_id, json] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto store, StoreForReading(ctx, c));
      if (!store)
        return Status::NotFound(fmt::format("run {} not found: nothing has run here", *run_id));
      auto run = store->GetRun(*run_id);
      if (!run.ok() && run.status().code() == StatusCode::kNotFound) {
        return Status::NotFound(fmt::format("run {} not found; see: dataforge runs list", *run_id));
      }
      DF_RETURN_IF_ERROR(run.status());
      DF_ASSIGN_OR_RETURN(auto tasks, store->ListTasks(*run_id));
      SortTasksInDagOrder(c, run->dag_id, &tasks);
      if (*json) {
        fmt::print("{}\n", RunWithTasksJson(*run, tasks));
        return Status::OK();
      }
      fmt::print("run {} of DAG {} ({}): {}\n", run->run_id, run->dag_id, RunTypeName(run->type),
                 RunStateName(run->state));
      fmt::print("  logical date   {}\n  data interval  {} .. {}\n", Time(run->logical_us),
                 Time(run->interval_start_us), Time(run->interval_end_us));
      fmt::print("  started        {}\n  ended          {}\n", Time(run->started_us),
                 Time(run->ended_us));
      if (run->conf_json != "{}" && !run->conf_json.empty()) {
        fmt::print("  conf           {}\n", run->conf_json);
      }
      fmt::print("\n  {:<28} {:<15} {:>5} {:>9}  {}\n", "TASK", "STATE", "TRIES", "DURATION",
                 "LAST ERROR");
      for (const auto& t : tasks) {
        fmt::print("  {:<28} {:<15} {:>5} {:>9}  {}\n", t.task_id, TaskStateName(t.state),
                   fmt::format("{}/{}", t.try_number, t.max_tries),
                   Duration(t.started_us, t.ended_us),
                   t.last_error.empty() ? "-" : Redact(t.last_error));
      }
      for (const auto& t : tasks) {
        if (t.output.empty()) continue;
        fmt::print("\n--- output of {} (try {}) ---\n{}", t.task_id, t.try_number,
                   Redact(t.output));
        if (t.output.back() != '\n') fmt::print("\n");
      }
      return Status::OK();
    });
  });

  auto* tasks = app.add_subcommand("tasks", "Task instances of runs: clear");
  tasks->require_subcommand(1);
  auto task = std::make_shared<std::string>();
  auto only = std::make_shared<bool>(false);
  auto* clear = tasks->add_subcommand(
      "clear", "Run TASK of RUN again, and every task downstream of it (the run runs again)");
  clear->add_option("RUN", *run_id, "Run id")->required();
  clear->add_option("TASK", *task, "Task id")->required();
  clear->add_flag("--only", *only, "Clear only TASK, not what depends on it");
  clear->callback([&ctx, exit_code, run_id, task, only] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto store, StoreForWriting(ctx, c));
      auto run = store->GetRun(*run_id);
      if (!run.ok() && run.status().code() == StatusCode::kNotFound) {
        return Status::ConfigError(
            fmt::format("run {} not found; see: dataforge runs list", *run_id));
      }
      DF_RETURN_IF_ERROR(run.status());
      const DagSpec* d = FindDag(c, run->dag_id);
      if (!d) return UnknownDag(c, run->dag_id);
      auto ids = ClearTask(*store, *d, *run_id, *task, !*only);
      if (!ids.ok() && ids.status().code() == StatusCode::kNotFound) {
        return Status::ConfigError(
            fmt::format("{}; see: dataforge runs show {}", ids.status().message(), *run_id));
      }
      DF_RETURN_IF_ERROR(ids.status());
      size_t n = ids->size();
      fmt::print("cleared {} task(s) of run {}: {}; the scheduler runs them again\n", n, *run_id,
                 fmt::join(*ids, ", "));
      return Status::OK();
    });
  });
}

}  // namespace

void AddOrchestrationCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  AddDagsCommands(app, ctx, exit_code);
  AddRunsCommands(app, ctx, exit_code);
}

}  // namespace dataforge
