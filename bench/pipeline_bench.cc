// The end-to-end benchmark driver: runs the default pipeline in-process (built-in API over
// loopback HTTP -> SQLite staging -> embedded log or Kafka -> mapping -> RocksDB) for N records
// into a fresh data dir and prints records/s, fetch->queryable latency percentiles and peak RSS.
//
//   build/bench/pipeline_bench --records 200000              # throughput
//   build/bench/pipeline_bench --records 100000 --rate 10000 # latency at a fixed rate
//   build/bench/pipeline_bench --log-format confluent-avro --schema-file
//   pipelines/schemas/randomuser.avsc build/bench/pipeline_bench --log kafka://HOST:PORT --role
//   ingest|process|all
//                                                            # over Kafka (bench/kafka_bench.sh)
//   build/bench/pipeline_bench --staging postgresql://...    # PostgreSQL staging
//                                                            # (bench/postgres_bench.sh)
//   build/bench/pipeline_bench --store cassandra://HOST:PORT # Cassandra store (bench/cql_bench.sh)
//   build/bench/pipeline_bench --records 100000 --schema json|avro
//                                                            # with process.schema (auto_register
//                                                            # of the mapping's schema); also
//                                                            # times the validation alone
// With --role process it consumes until N records were processed, then stops.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <simdjson.h>

#include "common/allocator.h"
#include "common/redact.h"
#include "config/pipeline_file.h"
#include "pipeline/pipeline.h"
#include "process/mapper.h"
#include "process/row_schema.h"
#include "source/mockapi/user_generator.h"

using namespace dataforge;

namespace {

// The validation alone: the default mapping's rows of 5,000 built-in API records (seed bench),
// each validated `rounds` times with the mapping's generated schema; µs per row.
void PrintValidationCost(const ProcessConfig& process, int rounds) {
  mockapi::MockQuery q;
  q.results = 5000;
  q.seed = "bench";
  std::string body = mockapi::GenerateResponse(q);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(body);
  auto mapper = Mapper::Create(process);
  if (!mapper.ok()) return;
  std::vector<std::string> rows;
  for (simdjson::dom::element user : doc["results"].get_array()) {
    std::string_view key = user["login"]["uuid"].get_string().value();
    MapResult m = mapper->Map(key, simdjson::minify(user));
    if (m.ok) rows.push_back(std::move(m.row_json));
  }
  auto parsed =
      registry::FormatFor(RowSchemaType(process.schema)).Parse(MappingSchema(process).schema, {});
  if (!parsed.ok()) {
    fmt::print(stderr, "validation: {}\n", parsed.status().ToString());
    return;
  }
  auto schema = std::make_shared<RowSchema>();
  schema->subject = process.schema.subject;
  schema->parsed = *parsed;
  RowValidator validator(schema);
  size_t failed = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const auto& row : rows) failed += validator.Check(row).has_value();
  }
  double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("  validation alone  {:>10.3f} us/row  ({} rows x {} rounds, {} failed, {})\n",
             us / static_cast<double>(rows.size() * rounds), rows.size(), rounds, failed,
             process.schema.type);
}

}  // namespace

int main(int argc, char** argv) {
  dataforge::TuneAllocator();  // as the dataforge binary does
  CLI::App app{"DataForge end-to-end pipeline benchmark"};
  uint64_t records = 200000;
  double rate = 0;
  int page = 500;
  int batch = 1000;
  bool no_fsync = false;
  std::string dir;
  std::string log_url;
  std::string staging_url;
  std::string store_url;
  std::string role_name = "all";
  std::string topic;
  std::string group;
  std::vector<std::string> log_properties;
  int partitions = 0;
  std::string schema_type;
  app.add_option("--records", records, "Records to fetch (role process: to consume)")
      ->capture_default_str();
  app.add_option("--log", log_url, "Log URL (default: the embedded log in the data dir)");
  app.add_option("--staging", staging_url,
                 "Staging URL, e.g. postgresql://user:pass@host:port/db (default: SQLite in the "
                 "data dir)");
  app.add_option("--store", store_url,
                 "Store URL, e.g. cassandra://127.0.0.1:9042 (default: RocksDB in the data dir)");
  app.add_option("--role", role_name, "all, ingest or process (needs a kafka:// log)")
      ->check(CLI::IsMember({"all", "ingest", "process"}))
      ->capture_default_str();
  app.add_option("--group", group,
                 "process.group (default: the pipeline file's; role process over Kafka: a new "
                 "group reads the topic from its start)");
  app.add_option("--log-property", log_properties,
                 "log.properties entry K=V, repeatable (Kafka: a librdkafka property, e.g. "
                 "queued.max.messages.kbytes=131072)");
  app.add_option("--topic", topic, "Topic (default: the pipeline file's)");
  app.add_option("--partitions", partitions, "Topic partitions (default: the pipeline file's)");
  app.add_option("--schema", schema_type,
                 "Validate every row with process.schema of this type (json or avro; the "
                 "mapping's schema auto-registered under subject bench-row)")
      ->check(CLI::IsMember({"json", "avro"}));
  app.add_option("--rate", rate, "Target records/s (0 = as fast as possible)");
  app.add_option("--page", page, "Results per API page")->capture_default_str();
  app.add_option("--batch", batch, "Records per durable batch")->capture_default_str();
  app.add_flag("--no-fsync", no_fsync, "Turn off fsync in staging, log and store");
  int in_flight = -1;
  app.add_option("--max-in-flight-batches", in_flight,
                 "tuning.max_in_flight_batches (default: the pipeline file's; 0 = no bound)");
  app.add_option("--dir", dir, "Data dir (default: a fresh temp dir, removed after)");
  std::string log_format = "json", schema_file;
  app.add_option("--log-format", log_format,
                 "log.format: json, confluent-json or confluent-avro (subject bench-value)")
      ->check(CLI::IsMember({"json", "confluent-json", "confluent-avro"}))
      ->capture_default_str();
  app.add_option("--schema-file", schema_file,
                 "log.schema_file (confluent-avro: e.g. pipelines/schemas/randomuser.avsc)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  bool temp = dir.empty();
  if (temp) {
    char tmpl[] = "/tmp/df_bench_XXXXXX";
    dir = mkdtemp(tmpl);
  }
  PipelineConfig config = DefaultPipelineConfig();
  config.source.seed = "bench";
  config.source.results_per_page = page;
  config.tuning.batch_records = batch;
  if (in_flight >= 0) config.tuning.max_in_flight_batches = in_flight;
  if (rate > 0) config.source.rate_limit_per_sec = rate / page;
  if (no_fsync) {
    config.staging.synchronous_full = false;
    config.log.fsync_per_batch = false;
    config.store.sync = false;
  }
  if (log_format != "json") {
    config.log.format = log_format == "confluent-avro" ? LogConfig::Format::kConfluentAvro
                                                       : LogConfig::Format::kConfluentJson;
    config.log.subject = "bench-value";
    config.log.schema_file = schema_file;
  }
  if (!log_url.empty()) config.log.url = log_url;
  if (!staging_url.empty()) config.staging.url = staging_url;
  if (!store_url.empty()) config.store.url = store_url;
  if (!topic.empty()) config.log.topic = topic;
  if (!group.empty()) config.process.group = group;
  for (const std::string& kv : log_properties) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      fmt::print(stderr, "pipeline_bench: --log-property '{}' is not K=V\n", kv);
      return 2;
    }
    config.log.properties.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (partitions > 0) config.log.partitions = partitions;
  if (!schema_type.empty()) {
    config.process.schema.subject = "bench-row";
    config.process.schema.type = schema_type;
    config.process.schema.auto_register = true;
  }
  RunOptions options;
  options.data_dir = dir;
  options.role = role_name == "ingest"    ? PipelineRole::kIngest
                 : role_name == "process" ? PipelineRole::kProcess
                                          : PipelineRole::kAll;
  const bool process_only = options.role == PipelineRole::kProcess;
  options.max_records = process_only ? 0 : records;

  auto t0 = std::chrono::steady_clock::now();
  auto pipeline = Pipeline::Open(config, options, Clock::Real());
  if (!pipeline.ok()) {
    fmt::print(stderr, "open: {}\n", pipeline.status().ToString());
    return 1;
  }
  double open_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // A process member has no end: stop it once it consumed `records`, and time it from its
  // first record (joining the consumer group is not throughput).
  std::atomic<int64_t> first_us{0}, last_us{0};
  std::jthread watcher;
  if (process_only) {
    Pipeline* p = pipeline->get();
    watcher = std::jthread([&, p](std::stop_token stop) {
      // Gives up when nothing new arrives for 30 s (the topic holds fewer records than asked,
      // or the group already consumed them).
      uint64_t seen = 0;
      int64_t changed_us = Clock::Real()->MonotonicMicros();
      while (!stop.stop_requested()) {
        uint64_t n = p->probes().processor.consumed;
        int64_t now = Clock::Real()->MonotonicMicros();
        if (n > 0 && first_us == 0) first_us = now;
        if (n != seen) {
          seen = n;
          changed_us = now;
        }
        if (n >= records || now - changed_us > 30'000'000) {
          if (n < records) {
            fmt::print(stderr,
                       "pipeline_bench: only {} of {} records arrived in the topic for "
                       "this group; stopping\n",
                       n, records);
          }
          last_us = n >= records ? now : changed_us;
          p->RequestStop();
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  auto summary = (*pipeline)->Run();
  if (watcher.joinable()) {
    watcher.request_stop();
    watcher.join();
  }
  if (!summary.ok()) {
    fmt::print(stderr, "run: {}\n", summary.status().ToString());
    return 1;
  }
  const auto& h = (*pipeline)->probes().processor.fetch_to_queryable_us;
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  fmt::print(
      "pipeline_bench: {} records, page {}, batch {}, fsync {}, rate {}, staging {}, log {}, "
      "store {}, role {}, process.schema {}\n",
      records, page, batch, no_fsync ? "off" : "per batch",
      rate > 0 ? fmt::format("{:.0f}/s", rate) : "max",
      staging_url.empty() ? "sqlite" : Redact(staging_url), summary->log,
      store_url.empty() ? "rocksdb" : Redact(store_url), role_name,
      schema_type.empty() ? "none" : schema_type);
  fmt::print("  open (ready)      {:>10.1f} ms\n", open_ms);
  fmt::print("  duration          {:>10.2f} s\n", summary->seconds);
  const auto& pr = (*pipeline)->probes();
  if (process_only) {
    double s = static_cast<double>(last_us - first_us) / 1e6;
    fmt::print("  records/s         {:>10.0f}  (consumed, first record -> {} processed)\n",
               s > 0 ? static_cast<double>(pr.processor.consumed) / s : 0.0, records);
  } else if (options.role == PipelineRole::kIngest) {
    fmt::print(
        "  records/s         {:>10.0f}  (fetched, end to end, fetch -> acknowledged by the "
        "log)\n",
        static_cast<double>(summary->run.fetched) / summary->seconds);
    fmt::print(
        "  relayed           {:>10.0f}  records/s ({} rows acknowledged by the log, "
        "re-streamed rows included)\n",
        static_cast<double>(pr.relay.relayed) / summary->seconds, pr.relay.relayed.load());
  } else {
    fmt::print("  records/s         {:>10.0f}  (end to end, fetch -> queryable)\n",
               static_cast<double>(summary->run.fetched) / summary->seconds);
  }
  fmt::print("  stored / dead     {:>10} / {}\n", summary->process.stored,
             summary->run.dead_lettered);
  fmt::print("  latency p50       {:>10.2f} ms\n", h.Percentile(50) / 1000.0);
  fmt::print("  latency p99       {:>10.2f} ms\n", h.Percentile(99) / 1000.0);
  fmt::print("  latency max       {:>10.2f} ms\n", h.Max() / 1000.0);
  fmt::print(
      "  busy time by stage (s): source fetch+parse {:.2f}, staging commit {:.2f}, relay {:.2f}, "
      "process {:.2f}\n",
      pr.source.fetch_us / 1e6, pr.source.commit_us / 1e6, pr.relay.busy_us / 1e6,
      pr.processor.busy_us / 1e6);
  if (pr.processor.consumed > 0) {
    fmt::print(
        "  process busy      {:>10.2f} us/record (log read, map{}, store batch)\n",
        static_cast<double>(pr.processor.busy_us) / static_cast<double>(pr.processor.consumed),
        schema_type.empty() ? "" : ", validate");
  }
  // Where a record waits: each stage's time per batch (a slow commit, append or apply holds
  // every record of its batch, and the batches behind it).
  auto stage = [](const LatencyHistogram& h) {
    double mean = h.Count() > 0 ? static_cast<double>(h.Sum()) / static_cast<double>(h.Count()) : 0;
    return fmt::format("{:.1f}/{:.1f}/{:.1f}/{:.1f}/{:.1f}", h.Percentile(50) / 1000.0,
                       h.Percentile(90) / 1000.0, h.Percentile(99) / 1000.0, h.Max() / 1000.0,
                       mean / 1000.0);
  };
  fmt::print(
      "  per batch p50/p90/p99/max/mean (ms): staging commit {}, log append {}, store apply {}\n",
      stage(pr.source.commit_duration_us), stage(pr.relay.append_duration_us),
      stage(pr.processor.apply_duration_us));
  fmt::print("  kernel / user CPU {:>10.2f} / {:.2f} us/record\n",
             (ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec) / static_cast<double>(records),
             (ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec) / static_cast<double>(records));
  fmt::print("  peak RSS          {:>10.1f} MB\n", ru.ru_maxrss / 1024.0);
  if (!schema_type.empty()) PrintValidationCost(config.process, 20);
  bool ok = process_only ? pr.processor.consumed >= records
            : options.role == PipelineRole::kIngest
                ? summary->drained
                : summary->drained && summary->run.stored + summary->run.dead_lettered == records;
  pipeline->reset();
  if (temp) std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
