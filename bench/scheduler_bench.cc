// The orchestrator benchmark: N DAGs of T shell tasks on an interval schedule, run by one
// Scheduler in this process against a real run store (SQLite in a temp dir, or PostgreSQL).
// It measures the issue's target: "1,000 DAGs of 10 tasks each scheduled and tracked with under
// 5% of one core when idle and start latency (due -> running) p99 under 1 s".
//
//   build/bench/scheduler_bench                          # 1000 DAGs x 10 tasks, fan-out
//   build/bench/scheduler_bench --shape chain            # each DAG a chain of 10 tasks
//   build/bench/scheduler_bench --spread 30s             # dues spread over 30 s, not aligned
//   build/bench/scheduler_bench --staging postgresql://user:pass@host:port/db
//
// Phases:
//  1. idle: every DAG is registered, its first interval ends after the idle window: the
//     scheduler only polls. CPU of this process (getrusage) over --idle-seconds.
//  2. busy: --cycles intervals come due (all DAGs at once unless --spread). Start latency per
//     task instance from the run store: started - ready for downstream tasks, started - the
//     run's interval end (when it became due) for root tasks. Exactly-once: every task instance
//     of every completed run must have try_number 1 and state success (exit 1 otherwise).
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/redact.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/state/run_store.h"
#include "orchestrate/task_environment.h"
#include "schedule/schedule.h"

using namespace dataforge;

namespace {

// Serves shell tasks only: the bench's DAGs have no ingest, compact or check tasks.
class ShellOnlyEnvironment final : public TaskEnvironment {
 public:
  explicit ShellOnlyEnvironment(std::string staging_url) : staging_url_(std::move(staging_url)) {}
  Result<IngestOutcome> Ingest(const IngestRequest&, std::stop_token) override {
    return Status::FailedPrecondition("scheduler_bench runs shell tasks only");
  }
  Result<std::string> Compact(bool, bool, std::stop_token) override {
    return Status::FailedPrecondition("scheduler_bench runs shell tasks only");
  }
  std::string staging_url() const override { return staging_url_; }
  Result<std::unique_ptr<Store>> OpenStoreForReading() override {
    return Status::FailedPrecondition("scheduler_bench has no store");
  }

 private:
  std::string staging_url_;
};

struct Cpu {
  double self_s = 0;      // this process: user + sys
  double children_s = 0;  // waited-for children (the shell tasks)
};

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

Cpu CpuNow() {
  struct rusage self {
  }, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  return {Seconds(self.ru_utime) + Seconds(self.ru_stime),
          Seconds(children.ru_utime) + Seconds(children.ru_stime)};
}

std::string LoadAverage() {
  FILE* f = fopen("/proc/loadavg", "r");
  if (!f) return "?";
  char buf[128] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  std::string s(buf, n);
  size_t third = 0;
  for (int i = 0; i < 3 && third != std::string::npos; ++i) third = s.find(' ', third + 1);
  return s.substr(0, third);
}

double Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return static_cast<double>(v[std::min(i, v.size() - 1)]);
}

int64_t MonoUs() {
  return Clock::Real()->MonotonicMicros();
}
int64_t NowUs() {
  return Clock::Real()->NowMicros();
}

void SleepUntilWall(int64_t wall_us) {
  int64_t d = wall_us - NowUs();
  if (d > 0) std::this_thread::sleep_for(std::chrono::microseconds(d));
}

Result<int64_t> DurationFlag(const std::string& name, const std::string& text) {
  auto us = ParseDuration(text);
  if (!us.ok()) {
    return Status::InvalidArgument(fmt::format("{} '{}': {}", name, text, us.status().message()));
  }
  return *us;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"DataForge orchestrator benchmark"};
  int dags_n = 1000;
  int tasks_n = 10;
  std::string shape = "fanout";
  std::string command = "true";
  std::string every_text = "60s";
  std::string spread_text = "0s";
  std::string staging_url;
  int parallelism = 16;
  std::string lease_text = "30s";
  std::string poll_text = "500ms";
  double idle_seconds = 20;
  int cycles = 3;
  std::string dir;
  std::string log_level = "warn";
  app.add_option("--dags", dags_n, "DAGs")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--tasks", tasks_n, "Tasks per DAG")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--shape", shape,
                 "fanout: one root, every other task depends on it; chain: each task depends "
                 "on the one before")
      ->check(CLI::IsMember({"fanout", "chain"}))
      ->capture_default_str();
  app.add_option("--command", command, "Each task's shell command")->capture_default_str();
  app.add_option("--every", every_text, "The DAGs' interval schedule")->capture_default_str();
  app.add_option("--spread", spread_text,
                 "Spread the DAGs' due times evenly over this long (0s: all due at once)")
      ->capture_default_str();
  app.add_option("--staging", staging_url,
                 "Run store URL, e.g. postgresql://user:pass@host:port/db (default: SQLite in "
                 "the temp dir)");
  app.add_option("--parallelism", parallelism, "Task attempts at once")->capture_default_str();
  app.add_option("--lease", lease_text, "Task lease")->capture_default_str();
  app.add_option("--poll", poll_text, "Scheduler poll interval")->capture_default_str();
  app.add_option("--idle-seconds", idle_seconds, "Length of the idle measurement")
      ->capture_default_str();
  app.add_option("--cycles", cycles, "Intervals to let come due")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--dir", dir, "Temp dir for the SQLite run store (default: a fresh one, removed)");
  app.add_option("--log-level", log_level,
                 "spdlog level (the CLI's default, info, logs two lines per task attempt)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));

  int64_t every_us = 0, spread_us = 0, lease_us = 0, poll_us = 0;
  for (auto [name, text, out] : {std::tuple{"--every", &every_text, &every_us},
                                 std::tuple{"--spread", &spread_text, &spread_us},
                                 std::tuple{"--lease", &lease_text, &lease_us},
                                 std::tuple{"--poll", &poll_text, &poll_us}}) {
    auto us = DurationFlag(name, *text);
    if (!us.ok()) {
      fmt::print(stderr, "scheduler_bench: {}\n", us.status().message());
      return 2;
    }
    *out = *us;
  }
  if (every_us < 1'000'000 || spread_us >= every_us) {
    fmt::print(stderr, "scheduler_bench: --every must be at least 1s and above --spread\n");
    return 2;
  }

  bool temp = dir.empty();
  if (temp) {
    char tmpl[] = "/tmp/df_sched_bench_XXXXXX";
    dir = mkdtemp(tmpl);
  }
  std::string url = staging_url.empty() ? "sqlite://" + dir + "/staging.db" : staging_url;
  auto store_or = OpenRunStore(url, OpenMode::kReadWrite);
  if (!store_or.ok()) {
    fmt::print(stderr, "open run store: {}\n", store_or.status().ToString());
    return 1;
  }
  std::unique_ptr<RunStore> store = std::move(store_or).value();

  // DAG ids carry a per-invocation tag so a shared PostgreSQL store starts from fresh DAGs.
  std::mt19937_64 rng(std::random_device{}());
  std::string tag = fmt::format("{:06x}", rng() & 0xffffff);
  std::vector<std::pair<std::string, bool>> ids;
  for (int i = 0; i < dags_n; ++i) ids.emplace_back(fmt::format("bench_{}_{:04}", tag, i), false);
  std::string load_before = LoadAverage();
  int64_t t_reg = MonoUs();
  if (Status s = store->RegisterDags(ids); !s.ok()) {
    fmt::print(stderr, "register: {}\n", s.ToString());
    return 1;
  }
  double register_ms = static_cast<double>(MonoUs() - t_reg) / 1000;

  // The first interval of DAG i ends at first_due + i * spread / N: after the idle window.
  const int64_t kMarginUs = 3'000'000;  // for Start() and the first passes
  const int64_t idle_us = static_cast<int64_t>(idle_seconds * 1e6);
  const int64_t first_due = NowUs() + kMarginUs + idle_us + 2'000'000;
  std::vector<DagSpec> specs;
  for (int i = 0; i < dags_n; ++i) {
    DagSpec d;
    d.id = ids[static_cast<size_t>(i)].first;
    d.schedule = fmt::format("every {}", FormatDuration(every_us));
    d.time_zone = "UTC";
    int64_t offset = dags_n > 1 ? spread_us * i / dags_n : 0;
    d.start_us = first_due + offset - every_us;
    d.catchup = false;
    for (int t = 0; t < tasks_n; ++t) {
      TaskSpec task;
      task.id = fmt::format("t{:02}", t);
      task.type = "shell";
      task.command = command;
      task.retries = 0;
      if (t > 0) task.depends_on.push_back(shape == "chain" ? fmt::format("t{:02}", t - 1) : "t00");
      d.tasks.push_back(std::move(task));
    }
    specs.push_back(std::move(d));
  }
  SchedulerConfig config;
  config.parallelism = parallelism;
  config.lease_us = lease_us;
  config.poll_us = poll_us;
  ShellOnlyEnvironment env(url);
  std::string owner = fmt::format("bench:{}:{}", getpid(), tag);
  Scheduler scheduler(std::move(specs), config, store.get(), &env, Clock::Real(), owner, "");
  int64_t t_start = MonoUs();
  if (Status s = scheduler.Start(); !s.ok()) {
    fmt::print(stderr, "start: {}\n", s.ToString());
    return 1;
  }
  double start_ms = static_cast<double>(MonoUs() - t_start) / 1000;
  Status run_status;
  std::jthread runner([&](std::stop_token stop) {
    pthread_setname_np(pthread_self(), "df-scheduler");  // as SchedulerHost names it
    run_status = scheduler.Run(stop);
  });

  // Phase 1: idle (1 s to settle, then the window; it must end before the first due).
  std::this_thread::sleep_for(std::chrono::seconds(1));
  int64_t idle_end_wall = std::min(NowUs() + idle_us, first_due - 500'000);
  Cpu c0 = CpuNow();
  int64_t m0 = MonoUs();
  uint64_t passes0 = scheduler.probe().passes;
  SleepUntilWall(idle_end_wall);
  Cpu c1 = CpuNow();
  double idle_wall_s = static_cast<double>(MonoUs() - m0) / 1e6;
  uint64_t idle_passes = scheduler.probe().passes - passes0;
  double idle_pct = idle_wall_s > 0 ? 100 * (c1.self_s - c0.self_s) / idle_wall_s : 0;
  uint64_t runs_before_busy = scheduler.probe().runs_created;

  // Phase 2: busy. Cycle k's intervals end at first_due + k * every (+ spread offsets).
  const uint64_t per_cycle = static_cast<uint64_t>(dags_n) * static_cast<uint64_t>(tasks_n);
  struct CycleStat {
    double makespan_s = 0;  // first due -> every task of the cycle ended
    double cpu_self_s = 0, cpu_children_s = 0;
    uint64_t ended = 0;  // attempts that ended in the window
    bool complete = false;
  };
  std::vector<CycleStat> stats(static_cast<size_t>(cycles));
  for (int k = 0; k < cycles; ++k) {
    int64_t due = first_due + k * every_us;
    SleepUntilWall(due);
    int64_t m_due = MonoUs();
    Cpu a = CpuNow();
    uint64_t ended0 = scheduler.probe().succeeded + scheduler.probe().failed;
    // Done when every attempt of this cycle ended; give up just before the next cycle's due
    // (or, for the last cycle, before an extra interval would come due).
    int64_t give_up = due + every_us - 2'000'000;
    uint64_t target = per_cycle * static_cast<uint64_t>(k + 1);
    while (NowUs() < give_up) {
      const auto& p = scheduler.probe();
      if (p.succeeded + p.failed >= target && p.running == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Cpu b = CpuNow();
    CycleStat& st = stats[static_cast<size_t>(k)];
    st.makespan_s = static_cast<double>(MonoUs() - m_due) / 1e6;
    st.cpu_self_s = b.self_s - a.self_s;
    st.cpu_children_s = b.children_s - a.children_s;
    const auto& p = scheduler.probe();
    st.complete = p.succeeded + p.failed >= target;
    st.ended = p.succeeded + p.failed - ended0;
  }
  // Let the last runs be marked finished (a pass after their last task ended), before an
  // extra interval comes due.
  const int64_t next_due = first_due + cycles * every_us;
  while (NowUs() < next_due - 500'000) {
    auto active = store->ActiveRuns();
    if (active.ok() && active->empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  runner.request_stop();
  runner.join();
  if (!run_status.ok()) fmt::print(stderr, "scheduler: {}\n", run_status.ToString());

  // Read back every run of the bench's DAGs and their task instances.
  std::set<std::string> mine;
  for (const auto& [id, paused] : ids) mine.insert(id);
  auto runs = store->ListRuns("", 1'000'000);
  if (!runs.ok()) {
    fmt::print(stderr, "list runs: {}\n", runs.status().ToString());
    return 1;
  }
  std::vector<DagRun> bench_runs;
  size_t extra_runs = 0;  // of an interval after the measured cycles (the bench overran)
  for (auto& r : *runs) {
    if (!mine.count(r.dag_id)) continue;
    if (r.interval_end_us >= next_due) {
      ++extra_runs;
      continue;
    }
    bench_runs.push_back(std::move(r));
  }
  std::map<int64_t, const DagRun*> by_id;
  std::vector<int64_t> run_ids;
  for (const auto& r : bench_runs) {
    by_id[r.run_id] = &r;
    run_ids.push_back(r.run_id);
  }
  std::vector<TaskInstance> tis;
  for (size_t i = 0; i < run_ids.size(); i += 500) {
    std::vector<int64_t> chunk(
        run_ids.begin() + static_cast<ptrdiff_t>(i),
        run_ids.begin() + static_cast<ptrdiff_t>(std::min(i + 500, run_ids.size())));
    auto part = store->ListTasksOfRuns(chunk);
    if (!part.ok()) {
      fmt::print(stderr, "list tasks: {}\n", part.status().ToString());
      return 1;
    }
    for (auto& t : *part) tis.push_back(std::move(t));
  }
  // started_us is when the attempt was claimed (a worker was free for it); ready_us when it
  // was promoted, usually in the same scheduler pass, so ready -> started alone hides the time
  // from the upstream task's end to the promotion. Downstream tasks are measured from their
  // upstream's end as well.
  std::map<std::pair<int64_t, std::string>, const TaskInstance*> by_task;
  for (const auto& t : tis) by_task[{t.run_id, t.task_id}] = &t;
  std::vector<int64_t> root_lat, down_lat, all_lat, up_end_lat;
  size_t completed_runs = 0, unfinished_runs = 0, bad_tis = 0, checked_tis = 0;
  std::map<std::pair<std::string, int64_t>, int> per_logical;
  for (const auto& r : bench_runs) {
    per_logical[{r.dag_id, r.logical_us}] += 1;
    if (r.state == RunState::kSuccess || r.state == RunState::kFailed) {
      ++completed_runs;
    } else {
      ++unfinished_runs;
    }
  }
  std::string first_bad;
  for (const auto& t : tis) {
    const DagRun* r = by_id.at(t.run_id);
    bool run_done = r->state == RunState::kSuccess || r->state == RunState::kFailed;
    if (t.started_us > 0) {
      bool root = t.task_id == "t00";
      int64_t from = root ? r->interval_end_us : t.ready_us;
      int64_t lat = std::max<int64_t>(0, t.started_us - from);
      (root ? root_lat : down_lat).push_back(lat);
      if (!root) {
        int index = std::stoi(t.task_id.substr(1));
        std::string up = shape == "chain" ? fmt::format("t{:02}", index - 1) : "t00";
        auto it = by_task.find({t.run_id, up});
        if (it != by_task.end() && it->second->ended_us > 0) {
          int64_t from_end = std::max<int64_t>(0, t.started_us - it->second->ended_us);
          up_end_lat.push_back(from_end);
          lat = std::max(lat, from_end);
        }
      }
      all_lat.push_back(lat);
    }
    if (!run_done) continue;
    ++checked_tis;
    if (t.try_number != 1 || t.state != TaskState::kSuccess) {
      if (bad_tis++ == 0) {
        first_bad = fmt::format("run {} task {}: state {}, try {}: {}", t.run_id, t.task_id,
                                TaskStateName(t.state), t.try_number, t.last_error);
      }
    }
  }
  size_t duplicates = 0;
  for (const auto& [k, n] : per_logical) duplicates += n > 1 ? n - 1 : 0;
  size_t expected_runs = static_cast<size_t>(dags_n) * static_cast<size_t>(cycles);
  bool exactly_once = bad_tis == 0 && duplicates == 0 && completed_runs == expected_runs &&
                      checked_tis == expected_runs * static_cast<size_t>(tasks_n);

  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const auto& p = scheduler.probe();
  fmt::print(
      "scheduler_bench: {} DAGs x {} tasks ({}), command '{}', every {}, spread {}, {} cycles, "
      "parallelism {}, poll {}, lease {}, run store {}\n",
      dags_n, tasks_n, shape, command, FormatDuration(every_us), FormatDuration(spread_us), cycles,
      parallelism, FormatDuration(poll_us), FormatDuration(lease_us),
      staging_url.empty() ? "sqlite" : Redact(staging_url));
  fmt::print("  machine           {} cores, load average {} before, {} after\n",
             std::thread::hardware_concurrency(), load_before, LoadAverage());
  fmt::print("  register {} DAGs    {:>10.1f} ms, scheduler start {:.1f} ms\n", dags_n, register_ms,
             start_ms);
  fmt::print("  idle CPU          {:>10.2f} % of one core ({:.1f} s, {} passes{})\n", idle_pct,
             idle_wall_s, idle_passes,
             runs_before_busy ? fmt::format(", {} runs created early!", runs_before_busy) : "");
  fmt::print(
      "  runs              {:>10} completed of {} expected ({} unfinished, {} duplicate, {} of a "
      "later interval)\n",
      completed_runs, expected_runs, unfinished_runs, duplicates, extra_runs);
  fmt::print("  task attempts     {:>10} ({} succeeded, {} failed)\n", p.attempts_started.load(),
             p.succeeded.load(), p.failed.load());
  for (size_t k = 0; k < stats.size(); ++k) {
    const auto& s = stats[k];
    double n = static_cast<double>(s.ended);
    fmt::print(
        "  cycle {}           {:>10.2f} s {}: {} attempts ended, {:.0f} attempts/s{}, CPU {:.0f} % "
        "of one core (+ {:.0f} % in the tasks)\n",
        k + 1, s.makespan_s,
        s.complete ? fmt::format("due -> all {} tasks ended", per_cycle)
                   : fmt::format("due -> gave up (NOT all {} tasks ended)", per_cycle),
        s.ended, n / s.makespan_s,
        s.complete ? fmt::format(", {:.0f} runs/s", dags_n / s.makespan_s) : "",
        100 * s.cpu_self_s / s.makespan_s, 100 * s.cpu_children_s / s.makespan_s);
  }
  auto lat_line = [](const char* name, std::vector<int64_t>& v) {
    if (v.empty()) return;
    std::sort(v.begin(), v.end());
    double p50 = Percentile(v, 50), p90 = Percentile(v, 90), p99 = Percentile(v, 99);
    fmt::print(
        "  {:<17} p50 {:>8.1f} ms  p90 {:>8.1f} ms  p99 {:>8.1f} ms  max {:>8.1f} ms  (n={})\n",
        name, p50 / 1000, p90 / 1000, p99 / 1000, static_cast<double>(v.back()) / 1000, v.size());
  };
  fmt::print(
      "  start latency (due -> claimed to run; root: from its interval's end, downstream: from "
      "the later of ready and its upstream's end):\n");
  lat_line("all tasks", all_lat);
  lat_line("root tasks", root_lat);
  lat_line("ds: ready ->", down_lat);
  lat_line("ds: upstream end ->", up_end_lat);
  fmt::print("  scheduler probe   p99 {:.1f} ms (histogram, ready or due -> running)\n",
             static_cast<double>(p.start_latency_us.Percentile(99)) / 1000);
  fmt::print("  peak RSS          {:>10.1f} MB\n", ru.ru_maxrss / 1024.0);
  double all_p99 = Percentile(all_lat, 99);
  fmt::print("  targets: idle CPU < 5 %: {} ({:.2f} %); start latency p99 < 1 s: {} ({:.0f} ms)\n",
             idle_pct < 5 ? "met" : "MISSED", idle_pct, all_p99 < 1e6 ? "met" : "MISSED",
             all_p99 / 1000);
  fmt::print(
      "  exactly once: {} ({} task instances of {} completed runs: try 1, success{}; {} "
      "duplicate runs{})\n",
      exactly_once ? "yes" : "NO", checked_tis, completed_runs,
      bad_tis ? fmt::format("; {} not, first: {}", bad_tis, first_bad) : ", all of them",
      duplicates,
      completed_runs == expected_runs
          ? ""
          : fmt::format("; only {} of {} runs completed", completed_runs, expected_runs));
  store.reset();
  if (temp) std::filesystem::remove_all(dir);
  return exactly_once ? 0 : 1;
}
