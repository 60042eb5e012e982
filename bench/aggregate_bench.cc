// process.aggregates through the processor alone (issue 20's target: a tumbling count by country
// >= 100,000 records/s on 2 cores): the records are in the log before the clock starts.
//
//   build-bench/bench/aggregate_bench --records 200000                 # tumbling count by country
//   build-bench/bench/aggregate_bench --records 200000 --query q5      # Nexmark-like, see below
//
// Setup (not timed): the default pipeline fetches N users of the built-in API (seed bench) into
// a fresh data dir: SQLite staging -> embedded log (4 partitions) -> RocksDB. Then (timed) a
// processor of a new consumer group (and new aggregate tables) reads that log from its start and
// maps each record to a
// narrow row (id, country, gender, registered_at) that it writes to its own table, plus the
// aggregate of the query, with the offsets, in one RocksDB write batch per --batch records
// (fsync per batch unless --no-fsync), until it consumed N records. Queries:
//   count   users per country, tumbling 1 h on registered_at (the target). The API's
//           registrations are spread over 20 years in random order: nearly every record opens
//           its own window and is late (late: update reloads the evicted state): the worst case.
//   count_lt the same per country, tumbling 1 h on event time from the log: the records'
//           log timestamps (`$timestamp`, the time the source fetched them), in order as a
//           live stream's are (~20 groups, one or two windows each; watermarks advance)
//   count_pt the same per country, tumbling 1 h on processing time (records in time order, as
//           a stream usually is: ~20 groups, one open window each)
//   q5      Nexmark q5-like "hot items": users per country per hopping window of 1 h every
//           10 min (6 windows per record), processing time
//   q11     Nexmark q11-like: users per country per session (gap 10 min), processing time
//   q4      Nexmark q4-like: count, avg, min, max of age per country, tumbling 1 h, processing
//           time
//   distinct exact count_distinct of city per gender, tumbling 10 years on registered_at, with
//           distinct_exact_limit 1,000,000: a few windows each holding a set of up to ~N/3
//           hashes that every batch changes (the row gets a city column for it)
// --late deadletter (with --lateness-ms and --window-ms, e.g. count_pt with 10 ms windows) has
// final windows' state rows deleted as the stream moves on, and measures what that costs;
// --late-update-for-ms N does the same for late: update (late_update_for: windows final for
// longer than N are deleted, and their late records dead-lettered).
// Prints records/s over the timed part, p50/p99/max of one batch (RunOnce: read, map,
// aggregate, one durable store batch, commit), CPU seconds of the process over the timed part
// (so records/s per core can be compared), the aggregate rows written and the peak RSS.
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/allocator.h"
#include "config/pipeline_file.h"
#include "log/log.h"
#include "pipeline/data_dir.h"
#include "pipeline/pipeline.h"
#include "process/aggregate/aggregate_stage.h"
#include "process/mapper.h"
#include "process/processor.h"
#include "store/store.h"

using namespace dataforge;

namespace {

double CpuSeconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct QueryOptions {
  std::string query = "count";
  std::string late = "update";  // registrations arrive in any order: every record counts
  int64_t lateness_ms = 10 * 60'000;
  int64_t window_ms = 0;           // 0 = the query's size
  int64_t late_update_for_ms = 0;  // 0 = none (late: update for ever)
};

AggregateSpec QuerySpec(const QueryOptions& options) {
  const std::string& query = options.query;
  AggregateSpec spec;
  // Its own result and state tables per run: every run starts from no state, as a new
  // aggregate does (a run on a dir an earlier run used would find that run's states).
  spec.table = "dataforge.bench_" + query + "_" + std::to_string(getpid());
  spec.group_by = {"country"};
  spec.window.time_column = "registered_at";
  spec.lateness_ms = options.lateness_ms;
  spec.late = options.late;
  if (options.late_update_for_ms > 0) spec.late_update_for_ms = options.late_update_for_ms;
  spec.values.push_back({"users", "count", "", 0});
  if (query == "count" || query == "count_lt" || query == "count_pt") {
    spec.window.type = "tumbling";
    spec.window.size_ms = 3'600'000;
    if (query == "count_lt") spec.window.time_column = "logged_at";
    if (query == "count_pt") spec.window.time_column.clear();  // processing time
  } else if (query == "q5") {
    spec.window.type = "hopping";
    spec.window.size_ms = 3'600'000;
    spec.window.advance_ms = 600'000;
  } else if (query == "q11") {
    spec.window.type = "session";
    spec.window.gap_ms = 600'000;
  } else if (query == "distinct") {
    spec.group_by = {"gender"};
    spec.window.type = "tumbling";
    spec.window.size_ms = 3650LL * 86'400'000;
    spec.distinct_exact_limit = 1'000'000;
    spec.values.push_back({"cities", "count_distinct", "city", 0});
  } else {  // q4
    spec.window.type = "tumbling";
    spec.window.size_ms = 3'600'000;
    spec.values.push_back({"avg_age", "avg", "age", 0});
    spec.values.push_back({"min_age", "min", "age", 0});
    spec.values.push_back({"max_age", "max", "age", 0});
  }
  // The Nexmark-like queries run on processing time: records in time order, as Nexmark's
  // generator emits them (the API's registration times are in random order).
  if (query != "count" && query != "count_lt" && query != "distinct") {
    spec.window.time_column.clear();
  }
  if (options.window_ms > 0 && spec.window.type != "session") {
    spec.window.advance_ms = spec.window.advance_ms * options.window_ms / spec.window.size_ms;
    spec.window.size_ms = options.window_ms;
  }
  return spec;
}

int64_t Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int Run(const std::string& dir, uint64_t records, int batch, bool no_fsync,
        const QueryOptions& options);

}  // namespace

int main(int argc, char** argv) {
  dataforge::TuneAllocator();  // as the dataforge binary does
  CLI::App app{"DataForge aggregates through the processor alone"};
  uint64_t records = 200000;
  int batch = 1000;
  bool no_fsync = false;
  QueryOptions options;
  std::string& query = options.query;
  std::string dir;
  app.add_option("--records", records, "Records in the log, all consumed")->capture_default_str();
  app.add_option("--batch", batch, "Records per durable batch")->capture_default_str();
  app.add_option("--query", query,
                 "count, count_lt, count_pt, q4, q5, q11 or distinct (see the header)")
      ->check(CLI::IsMember({"count", "count_lt", "count_pt", "q4", "q5", "q11", "distinct"}))
      ->capture_default_str();
  app.add_option("--late", options.late, "late: deadletter or update")
      ->check(CLI::IsMember({"deadletter", "update"}))
      ->capture_default_str();
  app.add_option("--lateness-ms", options.lateness_ms, "The allowed lateness")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--late-update-for-ms", options.late_update_for_ms,
                 "late: update only: late_update_for (0 = none: for ever)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--window-ms", options.window_ms,
                 "Window size (hopping: the advance scales with it); 0 = the query's")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--no-fsync", no_fsync, "Turn off fsync in staging, log and store");
  app.add_option("--dir", dir,
                 "Data dir (default: a fresh temp dir, removed after); an existing one that "
                 "holds --records records skips the setup");
  CLI11_PARSE(app, argc, argv);
  if (options.late_update_for_ms > 0 && options.late != "update") {
    fmt::print(stderr, "aggregate_bench: --late-update-for-ms needs --late update\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);

  bool temp = dir.empty();
  if (temp) {
    char tmpl[] = "/tmp/df_aggbench_XXXXXX";
    dir = mkdtemp(tmpl);
  }
  int rc = Run(dir, records, batch, no_fsync, options);
  if (temp) std::filesystem::remove_all(dir);
  return rc;
}

namespace {

int Run(const std::string& dir, uint64_t records, int batch, bool no_fsync,
        const QueryOptions& options) {
  const std::string& query = options.query;
  PipelineConfig config = DefaultPipelineConfig();
  config.source.seed = "bench";
  config.tuning.batch_records = batch;
  if (no_fsync) {
    config.staging.synchronous_full = false;
    config.log.fsync_per_batch = false;
    config.store.sync = false;
  }
  // Setup: N records into the log (and the default table), unless the dir has them.
  if (!std::filesystem::exists(dir + "/log")) {
    RunOptions options;
    options.data_dir = dir;
    options.max_records = records;
    auto pipeline = Pipeline::Open(config, options, Clock::Real());
    if (!pipeline.ok()) {
      fmt::print(stderr, "setup: {}\n", pipeline.status().ToString());
      return 1;
    }
    auto summary = (*pipeline)->Run();
    if (!summary.ok() || summary->run.stored != records) {
      fmt::print(stderr, "setup: {}\n",
                 summary.ok() ? fmt::format("{} stored", summary->run.stored)
                              : summary.status().ToString());
      return 1;
    }
  }

  // The timed processor: its own group, a narrow mapping and the query's aggregate.
  ProcessConfig process;
  process.group = "aggbench-" + query + "-" + std::to_string(getpid());
  process.table = "dataforge.bench_rows";
  process.key_column = "id";
  auto column = [](std::string name, std::string type, std::vector<std::string> paths) {
    ColumnSpec c;
    c.name = std::move(name);
    c.type = std::move(type);
    c.paths = std::move(paths);
    return c;
  };
  process.columns = {column("id", "uuid", {"$key"}),
                     column("country", "text", {"location.country"}),
                     column("gender", "text", {"gender"}),
                     column("age", "int", {"dob.age"}),
                     column("registered_at", "timestamp", {"registered.date", "registered"}),
                     column("logged_at", "timestamp", {"$timestamp"})};
  process.columns[0].required = true;
  if (options.query == "distinct") {
    process.columns.push_back(column("city", "text", {"location.city"}));
  }
  process.aggregates = {QuerySpec(options)};

  ResolvedUrls urls = ResolveUrls(config, dir);
  auto log = OpenLog(urls.log, OpenMode::kReadWrite, LogOptionsFor(config.log));
  auto store = OpenStore(urls.store, OpenMode::kReadWrite, StoreOptionsFor(config.store));
  auto mapper = Mapper::Create(process);
  if (!log.ok() || !store.ok() || !mapper.ok()) {
    fmt::print(stderr, "open: {} {} {}\n", log.status().ToString(), store.status().ToString(),
               mapper.status().ToString());
    return 1;
  }
  AggregateProbe agg_probe;
  auto stage = AggregateStage::Create(process, store->get(), Clock::Real(), config.log.topic,
                                      config.log.partitions, &agg_probe);
  if (!stage.ok() || !(*stage)->EnsureTables().ok()) {
    fmt::print(stderr, "aggregates: {}\n",
               stage.ok() ? "cannot create the tables" : stage.status().ToString());
    return 1;
  }
  ProcessorProbe probe;
  Processor processor(log->get(), store->get(), &*mapper, process, config.log.topic,
                      static_cast<size_t>(batch), Clock::Real(), &probe);
  processor.AddStage(stage->get());
  if (Status s = processor.Start(); !s.ok()) {
    fmt::print(stderr, "start: {}\n", s.ToString());
    return 1;
  }
  std::vector<int64_t> batch_us;
  double cpu0 = CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  while (probe.consumed < records) {
    auto b0 = std::chrono::steady_clock::now();
    auto n = processor.RunOnce(100'000);
    if (!n.ok()) {
      fmt::print(stderr, "process: {}\n", n.status().ToString());
      return 1;
    }
    if (*n == 0) {
      fmt::print(stderr, "aggregate_bench: the log holds only {} records\n", probe.consumed.load());
      return 1;
    }
    batch_us.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - b0)
            .count());
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = CpuSeconds() - cpu0;
  (void)processor.Close();
  auto rows = (*store)->Count(process.aggregates[0].table);
  auto states = (*store)->Count(AggregateStateTable(process.aggregates[0].table));
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  double rate = static_cast<double>(probe.consumed) / seconds;
  fmt::print("aggregate_bench: query {}, {} records, batch {}, fsync {}, rocksdb, {} partitions\n",
             query, probe.consumed.load(), batch, no_fsync ? "off" : "per batch",
             config.log.partitions);
  fmt::print("  records/s         {:>10.0f}  (consumed, processor alone, {:.2f} s)\n", rate,
             seconds);
  fmt::print("  cpu               {:>10.2f} s  ({:.0f} records per cpu-second)\n", cpu,
             cpu > 0 ? static_cast<double>(probe.consumed) / cpu : 0.0);
  fmt::print("  batch p50         {:>10.2f} ms\n", Percentile(batch_us, 50) / 1000.0);
  fmt::print("  batch p99         {:>10.2f} ms\n", Percentile(batch_us, 99) / 1000.0);
  fmt::print("  batch max         {:>10.2f} ms  ({} batches)\n", Percentile(batch_us, 100) / 1000.0,
             batch_us.size());
  fmt::print("  aggregate rows    {:>10}\n", rows.ok() ? *rows : 0);
  fmt::print("  stored / dead     {:>10} / {}\n", probe.stored.load(), probe.dead_lettered.load());
  fmt::print("  peak RSS          {:>10.1f} MB\n", ru.ru_maxrss / 1024.0);
  fmt::print("  late              {:>10}  (late: {}; {} dead-lettered)\n", agg_probe.late.load(),
             options.late, agg_probe.late_dead_lettered.load());
  fmt::print("  state rows        {:>10}  ({} deleted)\n", states.ok() ? *states : 0,
             agg_probe.states_deleted.load());
  return probe.stored == records ? 0 : 1;
}

}  // namespace
