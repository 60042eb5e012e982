// `dataforge run` and `dataforge mock-api`.
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/auth_setup.h"
#include "cli/commands.h"
#include "cli/cql_endpoint.h"
#include "cli/http_endpoint.h"
#include "cli/option_checks.h"
#include "cli/scheduler_host.h"
#include "cli/signal_waiter.h"
#include "common/clock.h"
#include "common/redact.h"
#include "metrics/metrics_exporter.h"
#include "metrics/probe_collector.h"
#include "pipeline/data_dir.h"
#include "pipeline/pipeline.h"
#include "pipeline/progress_display.h"
#include "pipeline/task_environments.h"
#include "source/mockapi/mock_api_server.h"

namespace dataforge {
namespace {

std::string Rate(uint64_t n, double seconds) {
  return seconds > 0 ? fmt::format("{:.0f}", static_cast<double>(n) / seconds) : "-";
}

void PrintDuplicates(const RunSummary& s) {
  if (s.process.duplicates == 0) return;
  fmt::print("  duplicates   {:>12}   (copies in the log of records already stored: skipped)\n",
             s.process.duplicates);
}

void PrintSummary(const RunSummary& s) {
  const char* how = s.drained ? "drained" : "stopped";
  if (s.role == PipelineRole::kProcess) {
    fmt::print("dataforge run --role process: stopped after {:.2f} s, consuming {}\n", s.seconds,
               s.log);
    fmt::print("               {:>12} {:>14}\n", "this run", "data dir total");
    fmt::print("  consumed     {:>12}\n", s.process.consumed);
    fmt::print("  stored       {:>12} {:>14}\n", s.process.stored, s.total.stored);
    fmt::print("  dead-lettered{:>12} {:>14}\n", s.process.dead_lettered, s.total.dead_lettered);
    fmt::print("  lost         {:>12} {:>14}\n", s.process.lost, s.total.lost);
    if (s.total.filtered > 0) {
      fmt::print("  filtered     {:>12} {:>14}   (process.where dropped them)\n",
                 s.process.filtered, s.total.filtered);
    }
    fmt::print("  records/s    {:>12}\n", Rate(s.process.consumed, s.seconds));
    PrintDuplicates(s);
    fmt::print("  latency fetch->queryable p50 {:.1f} ms, p99 {:.1f} ms\n",
               s.latency_p50_us / 1000.0, s.latency_p99_us / 1000.0);
    return;
  }
  if (s.role == PipelineRole::kIngest) {
    fmt::print("dataforge run --role ingest: {} in {:.2f} s from {} into {}\n", how, s.seconds,
               s.source, s.log);
  } else {
    fmt::print("dataforge run: {} in {:.2f} s from {}\n", how, s.seconds, s.source);
  }
  fmt::print("               {:>12} {:>14}\n", "this run", "data dir total");
  fmt::print("  fetched      {:>12} {:>14}\n", s.run.fetched, s.total.fetched);
  fmt::print("  staged       {:>12} {:>14}\n", s.run.staged, s.total.staged);
  fmt::print("  streamed     {:>12} {:>14}\n", s.run.streamed, s.total.streamed);
  if (s.role == PipelineRole::kIngest) {
    fmt::print("  dead-lettered{:>12} {:>14}\n", s.run.dead_lettered, s.total.dead_lettered);
    fmt::print("  records/s    {:>12}\n", Rate(s.run.fetched, s.seconds));
    bool balanced = s.total.staged + s.total.dead_lettered == s.total.fetched &&
                    s.total.streamed == s.total.staged;
    fmt::print("  staged + dead-lettered == fetched, all streamed: {}\n",
               balanced ? "yes" : "no (records in flight)");
    return;
  }
  fmt::print("  stored       {:>12} {:>14}\n", s.run.stored, s.total.stored);
  fmt::print("  dead-lettered{:>12} {:>14}\n", s.run.dead_lettered, s.total.dead_lettered);
  fmt::print("  lost         {:>12} {:>14}   (deleted by the log before they were processed)\n",
             s.run.lost, s.total.lost);
  if (s.total.filtered > 0) {
    fmt::print("  filtered     {:>12} {:>14}   (process.where dropped them)\n", s.run.filtered,
               s.total.filtered);
  }
  fmt::print("  records/s    {:>12}\n", Rate(s.run.fetched, s.seconds));
  PrintDuplicates(s);
  fmt::print("  latency fetch->queryable p50 {:.1f} ms, p99 {:.1f} ms\n", s.latency_p50_us / 1000.0,
             s.latency_p99_us / 1000.0);
  fmt::print("  {}\n", BalanceLine(s.total, s.in_flight));
}

void PrintSchedulerSummary(const SchedulerProbe& p) {
  fmt::print(
      "  scheduler: {} runs created, {} task attempts ({} succeeded, {} failed, {} taken "
      "over), start latency p99 {:.0f} ms\n",
      p.runs_created.load(), p.attempts_started.load(), p.succeeded.load(), p.failed.load(),
      p.reaped.load(), p.start_latency_us.Percentile(99) / 1000.0);
}

// `run --role scheduler`: the orchestrator alone, holding the data dir; with --http-port
// (http->port >= 0) the same HTTP endpoint as the other roles (GET /health, /metrics with the
// scheduler's probes, the DAG and pipeline routes), without a store.
int RunSchedulerAlone(const CliContext& ctx, const PipelineConfig& config,
                      const HttpEndpointFlags& http) {
  if (config.dags.empty()) {
    return ReportError(Status::ConfigError(
        "--role scheduler: the pipeline file declares no DAGs (add a 'dags:' section)"));
  }
  SignalWaiter signals;
  if (Status s = PrepareDataDir(ctx.data_dir, /*create=*/true); !s.ok()) return ReportError(s);
  auto lock = DataDirLock::Acquire(ctx.data_dir);
  if (!lock.ok()) return ReportError(lock.status());
  if (Status s = CheckRecordedBackends(ctx.data_dir, config); !s.ok()) {
    spdlog::warn("{}; recording this run's backends", s.message());
  }
  StandaloneTaskEnvironment env(config, ctx.data_dir, Clock::Real());
  auto host = SchedulerHost::Open(config, ctx.data_dir, &env, Clock::Real());
  if (!host.ok()) return ReportError(host.status());
  if (Status s = RecordBackends(ctx.data_dir, config); !s.ok()) return ReportError(s);
  metrics::MetricsExporter exporter;  // outlives the endpoint
  exporter.Add(std::make_shared<metrics::ProbeCollector>(nullptr, &(*host)->scheduler().probe()));
  std::unique_ptr<HttpEndpoint> http_endpoint;  // stopped before the scheduler goes
  if (http.port >= 0) {
    auto started = HttpEndpoint::Start(ctx, config, /*store=*/nullptr, http, &exporter);
    if (!started.ok()) return ReportError(started.status());
    http_endpoint = std::move(started).value();
    fmt::print("serve: listening on {}\n", http_endpoint->Describe("none"));
    std::fflush(stdout);
  }
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  auto request_stop = [&] {
    std::lock_guard l(mu);
    stop = true;
    cv.notify_all();
  };
  signals.Start(request_stop, request_stop, "cancelling running tasks and stopping");
  spdlog::info("scheduler running {} DAG(s) on {} (Ctrl-C to stop)", config.dags.size(),
               ResolveUrls(config, ctx.data_dir).staging);
  (void)(*host)->Start();
  int64_t start = Clock::Real()->MonotonicMicros();
  {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return stop; });
  }
  if (http_endpoint) http_endpoint->Stop();
  (*host)->Stop();
  fmt::print("dataforge run --role scheduler: stopped after {:.2f} s\n",
             static_cast<double>(Clock::Real()->MonotonicMicros() - start) / 1e6);
  PrintSchedulerSummary((*host)->scheduler().probe());
  if (http_endpoint) fmt::print("  serve: {}\n", http_endpoint->Summary());
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "run",
      "Run the pipeline: fetch, stage, stream, process, store. Without a source URL it pulls "
      "from the built-in randomuser-compatible API on loopback. Runs until SIGINT/SIGTERM, the "
      "end of a file:// source, or --max-records. Over a Kafka log (--log kafka://host:port) "
      "it can run as one role: 'ingest' (source, staging, relay into Kafka) or 'process' (a "
      "consumer-group member: Kafka -> store; start several to share the partitions).");
  HandleStopSignals(ctx, cmd);
  auto opts = std::make_shared<RunOptions>();
  auto no_progress = std::make_shared<bool>(false);
  cmd->add_option("--max-records", opts->max_records,
                  "Fetch this many records, drain them (stored or dead-lettered), then exit");
  cmd->add_option("--source-url", opts->source_url_override,
                  "Pull from this URL instead of the pipeline file's (http://, https://, "
                  "file:///capture.json)");
  cmd->add_flag("--no-progress", *no_progress, "Do not draw the live progress lines");
  auto no_scheduler = std::make_shared<bool>(false);
  cmd->add_flag("--no-scheduler", *no_scheduler,
                "Do not run the scheduler (the pipeline file's DAGs) beside the streaming stages "
                "(a run with --max-records or --source-url never does)");
  auto role = std::make_shared<std::string>("all");
  cmd->add_option("--role", *role,
                  "all: every stage and the scheduler (default); ingest: source, staging, relay "
                  "into the log (and the scheduler); process: a consumer-group member, log -> "
                  "store; scheduler: only the scheduler, running the DAGs of the pipeline file. "
                  "ingest and process need a shared log (kafka://)")
      ->check(OneOf({"all", "ingest", "process", "scheduler"}))
      ->capture_default_str();
  auto cql_port = std::make_shared<int>(-1);
  auto cql = std::make_shared<CqlEndpointFlags>();
  cmd->add_option("--cql-port", *cql_port,
                  "Also serve the store over CQL (like `dataforge cql-serve`) on this port while "
                  "the pipeline runs (0 = any free port, named in the ready line)")
      ->check(WholeNumber(0, 65535));
  cmd->add_option("--cql-host", cql->host, "Address for --cql-port")->capture_default_str();
  cmd->add_option("--cql-username", cql->username,
                  "One more user, with role admin, on --cql-port beside the data dir's users; "
                  "the password comes from DATAFORGE_CQL_PASSWORD");
  auto http = std::make_shared<HttpEndpointFlags>();
  http->port = -1;
  cmd->add_option("--http-port", http->port,
                  "Also serve the REST API (like `dataforge serve`) on this port while the "
                  "pipeline runs (0 = any free port, named in the ready line)")
      ->check(WholeNumber(0, 65535));
  cmd->add_option("--http-host", http->host, "Address for --http-port")->capture_default_str();
  auto insecure_no_auth = std::make_shared<bool>(false);
  cmd->add_flag("--insecure-no-auth", *insecure_no_auth,
                "Let --cql-host/--http-host be off loopback even though authentication is off");
  cmd->callback([&ctx, opts, no_progress, no_scheduler, role, cql_port, cql, http, insecure_no_auth,
                 exit_code] {
    if (*role == "scheduler") {
      auto config = LoadConfig(ctx);
      if (!config.ok()) {
        *exit_code = ReportError(config.status());
        return;
      }
      if (opts->max_records != 0 || !opts->source_url_override.empty()) {
        *exit_code = ReportError(Status::ConfigError(
            "--role scheduler runs DAGs only: --max-records and --source-url do not apply"));
        return;
      }
      if (*cql_port >= 0) {
        *exit_code =
            ReportError(Status::ConfigError("--cql-port: --role scheduler has no store to serve"));
        return;
      }
      http->insecure_no_auth = *insecure_no_auth;
      http->host_flag = "--http-host";
      http->role = *role;
      *exit_code = RunSchedulerAlone(ctx, *config, *http);
      return;
    }
    opts->role = *role == "ingest"    ? PipelineRole::kIngest
                 : *role == "process" ? PipelineRole::kProcess
                                      : PipelineRole::kAll;
    auto config = LoadConfig(ctx);
    if (!config.ok()) {
      *exit_code = ReportError(config.status());
      return;
    }
    opts->data_dir = ctx.data_dir;
    // The off-loopback rule, before anything is opened.
    if (*cql_port >= 0 || http->port >= 0) {
      auto auth_on = AuthIsOn(ctx, *config);
      Status s = auth_on.status();
      if (s.ok() && *cql_port >= 0) {
        s = CheckListenAddress(fmt::format("--cql-host {}", cql->host), cql->host,
                               *auth_on || !cql->username.empty(), *insecure_no_auth);
      }
      if (s.ok() && http->port >= 0) {
        s = CheckListenAddress(fmt::format("--http-host {}", http->host), http->host, *auth_on,
                               *insecure_no_auth);
      }
      if (!s.ok()) {
        *exit_code = ReportError(s);
        return;
      }
    }
    SignalWaiter signals;  // before any thread starts
    auto pipeline = Pipeline::Open(*config, *opts, Clock::Real());
    if (!pipeline.ok()) {
      *exit_code = ReportError(pipeline.status());
      return;
    }
    Pipeline* p = pipeline->get();
    // GET /metrics of --http-port (and the CQL endpoint's request metrics): outlives both
    // endpoints.
    metrics::MetricsExporter exporter;
    std::unique_ptr<CqlEndpoint> cql_endpoint;  // destroyed before the pipeline (its store)
    if (*cql_port >= 0) {
      cql->port = *cql_port;
      Status s = ResolveCqlEndpointFlags(cql.get());
      if (s.ok() && p->store() == nullptr) {
        s = Status::ConfigError("--cql-port: --role " + *role + " has no store to serve");
      }
      if (s.ok()) {
        auto started = CqlEndpoint::Start(p->store(), *cql, *config, ctx.data_dir, &exporter);
        if (started.ok()) cql_endpoint = std::move(started).value();
        s = started.status();
      }
      if (!s.ok()) {
        *exit_code = ReportError(s);
        return;
      }
      fmt::print("cql-serve: listening on {}\n",
                 cql_endpoint->Describe(Redact(ResolveUrls(*config, ctx.data_dir).store)));
      std::fflush(stdout);
    }
    std::unique_ptr<HttpEndpoint> http_endpoint;  // destroyed before the pipeline (its store)
    if (http->port >= 0) {
      http->insecure_no_auth = *insecure_no_auth;
      http->host_flag = "--http-host";
      http->role = *role;
      // An ingest role has no store: its endpoint serves the pipeline routes and /metrics.
      auto started = HttpEndpoint::Start(ctx, *config, p->store(), *http, &exporter);
      if (!started.ok()) {
        *exit_code = ReportError(started.status());
        return;
      }
      http_endpoint = std::move(started).value();
      fmt::print("serve: listening on {}\n",
                 http_endpoint->Describe(p->store() == nullptr
                                             ? "none"
                                             : Redact(ResolveUrls(*config, ctx.data_dir).store)));
      std::fflush(stdout);
    }
    std::unique_ptr<LiveTaskEnvironment> env;
    std::unique_ptr<SchedulerHost> scheduler;
    // The scheduler runs beside an unbounded pipeline that ingests; --max-records and
    // --source-url make a one-off pull, without it.
    if (!*no_scheduler && !config->dags.empty() && opts->max_records == 0 &&
        opts->source_url_override.empty() && opts->role != PipelineRole::kProcess) {
      env = std::make_unique<LiveTaskEnvironment>(p, *config, ctx.data_dir);
      auto host = SchedulerHost::Open(*config, ctx.data_dir, env.get(), Clock::Real());
      if (!host.ok()) {
        *exit_code = ReportError(host.status().WithContext("starting the scheduler"));
        return;
      }
      scheduler = std::move(host).value();
    }
    SchedulerHost* sched = scheduler.get();
    // The probes outlive every scrape: the endpoint stops before the scheduler and the pipeline
    // go.
    exporter.Add(std::make_shared<metrics::ProbeCollector>(
        &p->probes(), sched ? &sched->scheduler().probe() : nullptr));
    signals.Start(
        [p, sched] {
          if (sched) sched->Stop();
          p->RequestStop();
        },
        [p, sched] {
          p->RequestAbort();
          if (sched) sched->Stop();
        },
        opts->role == PipelineRole::kProcess
            ? "finishing the batch, committing and leaving the consumer group"
            : "stopping the source and draining");
    std::unique_ptr<ProgressDisplay> progress;
    if (!*no_progress && isatty(STDERR_FILENO)) {
      int first = opts->role == PipelineRole::kProcess ? 3 : 0;
      int lines = opts->role == PipelineRole::kAll ? 4 : 3;
      if (opts->role == PipelineRole::kProcess) lines = 1;
      progress = std::make_unique<ProgressDisplay>(&p->probes(), stderr, first, lines);
      progress->Start();
    }
    if (scheduler) (void)scheduler->Start();
    auto summary = p->Run();
    if (scheduler) scheduler->Stop();
    if (cql_endpoint) cql_endpoint->Stop();
    if (http_endpoint) http_endpoint->Stop();
    if (progress) progress->Stop();
    if (!summary.ok()) {
      *exit_code = ReportError(summary.status());
      return;
    }
    PrintSummary(*summary);
    if (scheduler) PrintSchedulerSummary(scheduler->scheduler().probe());
    if (cql_endpoint) fmt::print("  cql-serve: {}\n", cql_endpoint->Summary());
    if (http_endpoint) fmt::print("  serve: {}\n", http_endpoint->Summary());
    std::fflush(stdout);
    // A run that ended by itself must account for every record it fetched.
    std::string problem = BoundedRunProblem(*summary);
    *exit_code = problem.empty() ? 0 : ReportError(Status::FailedPrecondition(problem));
  });
}

void AddMockApiCommand(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* cmd =
      app.add_subcommand("mock-api",
                         "Serve a randomuser.me-compatible API: GET /api/?results=N&seed=S&page=P "
                         "(also nat, gender, inc, exc). Deterministic for a seed and page.");
  HandleStopSignals(ctx, cmd);
  auto host = std::make_shared<std::string>("127.0.0.1");
  auto port = std::make_shared<int>(8080);
  cmd->add_option("--host", *host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", *port, "Port to listen on (0 = any free port)")
      ->capture_default_str()
      ->check(WholeNumber(0, 65535));
  cmd->callback([host, port, exit_code] {
    SignalWaiter signals;
    MockApiServer server;
    Status s = server.Start(*host, *port);
    if (!s.ok()) {
      *exit_code = ReportError(s);
      return;
    }
    fmt::print("dataforge mock-api: serving http://{}:{}/api/ (Ctrl-C to stop)\n", *host,
               server.port());
    std::fflush(stdout);
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;
    signals.Start(
        [&] {
          std::lock_guard lock(mu);
          stop = true;
          cv.notify_all();
        },
        [] {});
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop; });
    server.Stop();
    *exit_code = 0;
  });
}

}  // namespace dataforge
