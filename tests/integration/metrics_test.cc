// GET /metrics as an operator uses it, against the real binary over loopback: Debian's promtool
// lints the exposition of `run --http-port` (with DAGs) and of `serve`; the pipeline counters
// equal `status --json` and GET /v1/status read at the same moment; a real Prometheus server
// (Debian's) scrapes a running pipeline and answers the stored count through its HTTP API; the
// loopback-open rule of docs/security.md.
//
// A pipeline that keeps running with stable counters: the source is an API in this process that
// serves page 1 (a fixture of 20 users) and holds the request for page 2 until the test ends, so
// the pipeline stores the 20 records and then waits in its fetch.
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/kafka_cluster.h"
#include "integration/pg_server.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

const char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";
const char* kStages[] = {"fetched",       "staged", "streamed", "stored",
                         "dead_lettered", "lost",   "filtered"};

// The samples of an exposition: `name{labels}` as printed -> value.
std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> out;
  for (const auto& line : SplitLines(text)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

// The samples of `m` whose name starts with one of `prefixes`.
std::map<std::string, double> Only(const std::map<std::string, double>& m,
                                   const std::vector<std::string>& prefixes) {
  std::map<std::string, double> out;
  for (const auto& [series, v] : m) {
    for (const auto& p : prefixes) {
      if (series.rfind(p, 0) == 0) out[series] = v;
    }
  }
  return out;
}

// The families `status --json` also shows.
const std::vector<std::string> kStatusFamilies = {
    "dataforge_records_total",   "dataforge_stage_lag_records", "dataforge_log_",
    "dataforge_consumer_group_", "dataforge_store_rows",        "dataforge_dead_letters_total",
    "dataforge_backend_up"};

// The sum of the samples of `m` whose name starts with `prefix`.
double SumOf(const std::map<std::string, double>& m, const std::string& prefix) {
  double sum = 0;
  for (const auto& [series, v] : Only(m, {prefix})) sum += v;
  return sum;
}

// A value of `m`, or -1 when absent.
double Get(const std::map<std::string, double>& m, const std::string& series) {
  auto it = m.find(series);
  return it == m.end() ? -1 : it->second;
}

// The API that serves one page and then holds the next request (see the file comment).
// `hold_first`: the first page too waits, until ServeFirst().
class OnePageApi {
 public:
  explicit OnePageApi(std::string page, bool hold_first = false)
      : page_(std::move(page)), first_served_(!hold_first) {
    server_.Get("/api/", [this](const httplib::Request& req, httplib::Response& res) {
      if (!req.has_param("page") || req.get_param_value("page") == "1") {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(120), [this] { return first_served_; });
        res.set_content(page_, "application/json");
        return;
      }
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(120), [this] { return released_; });
      res.set_content(R"({"results":[]})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~OnePageApi() {
    Release();
    server_.stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/api/", port_); }
  // Answers the held request (and every later one) with an empty page: the input has ended.
  // A `run` stops only after its fetch in flight returns.
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = first_served_ = true;
    }
    cv_.notify_all();
  }
  // Answers the first page's request (held since construction with `hold_first`).
  void ServeFirst() {
    {
      std::lock_guard lock(mu_);
      first_served_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::string page_;
  bool first_served_;  // GUARDED_BY(mu_)
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

std::string FixturePage() {
  return ReadFile(std::string(DATAFORGE_FIXTURES_DIR) + "/v1.2-visdata.json");  // 20 users
}

// `curl URL | promtool check metrics`: its exit code and everything it printed.
ProcessResult Promtool(const std::string& url) {
  return ChildProcess::Start({"/bin/sh", "-c",
                              fmt::format("/usr/bin/curl -sSf '{}' | /usr/bin/promtool check "
                                          "metrics 2>&1",
                                          url)})
      .Wait(60000);
}

// The integer fields of a JSON object text.
std::map<std::string, int64_t> IntFields(const std::string& json) {
  std::map<std::string, int64_t> out;
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  EXPECT_EQ(parser.parse(json).get(obj), simdjson::SUCCESS) << json;
  for (auto [key, value] : obj) {
    int64_t v;
    if (value.get(v) == simdjson::SUCCESS) out[std::string(key)] = v;
  }
  return out;
}

class MetricsTest : public ::testing::Test {
 protected:
  // A pipeline file: the source `url` (waiting long for a page), and a daily DAG.
  std::string PipelineFile(const std::string& url) {
    std::string path = dir_.Sub("pipeline.yaml");
    WriteFile(path, fmt::format("source:\n  url: {}\n  timeout_ms: 600000\n"
                                "dags:\n  etl:\n    schedule: \"@daily\"\n"
                                "    start_date: 2026-01-01\n    tasks:\n"
                                "      - {{id: extract, type: shell, command: 'true'}}\n",
                                url));
    return path;
  }
  // `dataforge run --no-progress --http-port 0 FLAGS... --config CONFIG --data-dir <dir>/data`.
  ServeProcess StartRun(const std::string& config, const std::vector<std::string>& flags) {
    std::vector<std::string> args{"run", "--no-progress", "--http-port", "0"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--config", config, "--data-dir", dir_.Sub("data")});
    return ServeProcess(args);
  }
  std::map<std::string, double> Scrape(ServeProcess& s) {
    auto r = Curl({}, s.Url("/metrics"));
    EXPECT_EQ(r.status, 200) << s.Url("/metrics") << ": " << r.err << r.body;
    return ParseMetrics(r.body);
  }
  // The same for polling: no sample when the scrape fails (the failure shows when the wait
  // ends: `Curl` again in its message).
  std::map<std::string, double> TryScrape(ServeProcess& s) {
    auto r = Curl({}, s.Url("/metrics"));
    return r.status == 200 ? ParseMetrics(r.body) : std::map<std::string, double>{};
  }
  TempDir dir_;
};

TEST_F(MetricsTest, RunWithDagsLintsCleanAndEqualsStatusAtTheSameMoment) {
  OnePageApi api(FixturePage());
  std::string config = PipelineFile(api.url());
  std::vector<std::string> where{"--config", config, "--data-dir", dir_.Sub("data")};
  ServeProcess run = StartRun(config, {});
  ASSERT_TRUE(run.up());
  // Stable: the 20 records stored, nothing in flight, the DAG's run done.
  std::map<std::string, double> m;
  ASSERT_TRUE(WaitFor(
      [&] {
        m = TryScrape(run);
        return Get(m, R"(dataforge_records_total{stage="stored"})") == 20 &&
               Get(m, R"(dataforge_stage_lag_records{stage="log"})") == 0 &&
               Get(m, R"(dataforge_dag_runs{dag="etl",state="success"})") == 1;
      },
      60))
      << Curl({}, run.Url("/metrics")).body;

  auto lint = Promtool(run.Url("/metrics"));
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  EXPECT_EQ(lint.out, "");
  auto r = Curl({}, run.Url("/metrics"));
  EXPECT_NE(r.headers.find(std::string("Content-Type: ") + kContentType), std::string::npos)
      << r.headers;

  // The same moment: /metrics, `status --json`, GET /v1/status, then /metrics again.
  auto before = Scrape(run);
  std::vector<std::string> status_args{"status", "--json"};
  status_args.insert(status_args.end(), where.begin(), where.end());
  auto status = RunDataforge(status_args);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto cli = IntFields(status.out);
  auto api_status = Curl({}, run.Url("/v1/status"));
  ASSERT_EQ(api_status.status, 200) << api_status.body;
  auto rest = IntFields(api_status.body);
  auto after = Scrape(run);
  EXPECT_EQ(Only(before, kStatusFamilies), Only(after, kStatusFamilies))
      << "the counters moved while they were compared";
  // 7 stages, 2 lags, 4 partitions x 4, deleted unread, rows, 2 x 8 dead-letter classes, 3 up.
  EXPECT_EQ(Only(after, kStatusFamilies).size(), 46u);
  for (const char* stage : kStages) {
    std::string series = fmt::format("dataforge_records_total{{stage=\"{}\"}}", stage);
    ASSERT_TRUE(cli.count(stage)) << status.out;
    EXPECT_EQ(Get(after, series), static_cast<double>(cli[stage])) << series;
    EXPECT_EQ(Get(after, series), static_cast<double>(rest[stage])) << series;
  }
  EXPECT_EQ(cli["fetched"], 20);
  EXPECT_EQ(Get(after, R"(dataforge_stage_lag_records{stage="staging"})"), cli["staging_lag"]);
  EXPECT_EQ(Get(after, R"(dataforge_stage_lag_records{stage="log"})"), cli["log_lag"]);
  EXPECT_EQ(Get(after, R"(dataforge_store_rows{table="dataforge.created_users"})"),
            cli["store_rows"]);
  EXPECT_EQ(Get(after, "dataforge_log_deleted_unread_records"), cli["deleted_unread"]);
  // Per partition: the log's end offsets add up to the records streamed into it.
  double ends = 0;
  int partitions = 0;
  for (const auto& [series, v] : after) {
    if (series.rfind("dataforge_log_end_offset{", 0) == 0) ends += v, ++partitions;
  }
  EXPECT_GT(partitions, 0);
  EXPECT_EQ(ends, cli["streamed"]);

  // This process's probes, backends and build.
  EXPECT_EQ(Get(after, "dataforge_end_to_end_latency_seconds_count"), 20);
  for (const char* stage : {"staging", "log", "store"}) {
    EXPECT_GE(
        Get(after,
            fmt::format("dataforge_batch_commit_duration_seconds_count{{stage=\"{}\"}}", stage)),
        1)
        << stage;
    EXPECT_EQ(Get(after, fmt::format("dataforge_backend_up{{stage=\"{}\"}}", stage)), 1) << stage;
  }
  EXPECT_EQ(Get(after, R"(dataforge_task_attempts_total{state="success"})"), 1);
  EXPECT_EQ(Get(after, "dataforge_task_duration_seconds_count"), 1);
  EXPECT_EQ(Get(after, "dataforge_dag_run_duration_seconds_count"), 1);
  EXPECT_EQ(Get(after, R"(dataforge_dag_runs{dag="etl",state="failed"})"), 0);
  EXPECT_EQ(Get(after, R"(dataforge_dead_letters_total{reason="invalid_json",stage="source"})"), 0);
  EXPECT_EQ(
      Get(after,
          R"(dataforge_pipeline_info{source="http",staging="sqlite",log="embedded",store="rocksdb",role="all"})"),
      1);
  EXPECT_GT(Get(after, "process_resident_memory_bytes"), 0);
  EXPECT_GT(Get(after, "process_open_fds"), 0);
  bool build_info = false;
  for (const auto& [series, v] : after) {
    build_info |= series.rfind("dataforge_build_info{compiler=\"gcc ", 0) == 0 && v == 1;
  }
  EXPECT_TRUE(build_info);
  api.Release();
  EXPECT_EQ(run.Stop().exit_code, 0) << run.process().Stdout() << run.process().Stderr();
}

// process.outputs over the 20 fixture users (11 female, one aged 50): a derived table with
// `where` (11 rows, 9 filtered), one whose expression divides by zero for one record (19 rows,
// 1 dead letter naming the output, the record still stored), a topic (20 published).
TEST_F(MetricsTest, OutputRecordsAreCountedByOutcome) {
  OnePageApi api(FixturePage());
  std::string config = dir_.Sub("pipeline.yaml");
  WriteFile(config, fmt::format(R"yaml(source:
  url: {}
  timeout_ms: 600000
process:
  outputs:
    - table: dataforge.women
      where: "gender = 'female'"
      columns:
        - {{name: id, type: uuid, path: $key, required: true}}
    - table: dataforge.per_age_digit
      columns:
        - {{name: id, type: uuid, path: $key, required: true}}
        - {{name: r, type: int, expr: "100 / (dob.age % 10)"}}
    - topic: users_flat
)yaml",
                                api.url()));
  ServeProcess run = StartRun(config, {"--no-scheduler"});
  ASSERT_TRUE(run.up());
  std::map<std::string, double> m;
  ASSERT_TRUE(WaitFor(
      [&] {
        m = TryScrape(run);
        return Get(m, R"(dataforge_records_total{stage="stored"})") == 20 &&
               Get(m, R"(dataforge_output_records_total{outcome="published"})") == 20;
      },
      60))
      << Curl({}, run.Url("/metrics")).body;
  EXPECT_EQ(Get(m, R"(dataforge_output_records_total{outcome="derived"})"), 30);
  EXPECT_EQ(Get(m, R"(dataforge_output_records_total{outcome="filtered"})"), 9);
  EXPECT_EQ(Get(m, R"(dataforge_output_records_total{outcome="dead_lettered"})"), 1);
  // The letter is about the output only: every record is stored, none counted dead-lettered.
  EXPECT_EQ(Get(m, R"(dataforge_records_total{stage="dead_lettered"})"), 0);
  auto letters =
      RunDataforge({"deadletter", "list", "--config", config, "--data-dir", dir_.Sub("data")});
  EXPECT_EQ(letters.exit_code, 0) << letters.err;
  EXPECT_NE(letters.out.find(R"(output table 'dataforge.per_age_digit' (line 10): column \"r\": )"
                             R"(expression \"100 / (dob.age % 10)\": division by zero: 100 / 0)"),
            std::string::npos)
      << letters.out;
  api.Release();
  EXPECT_EQ(run.Stop().exit_code, 0) << run.process().Stdout() << run.process().Stderr();
}

TEST_F(MetricsTest, ServeLintsCleanCountsDeadLettersByReasonAndIsOpenOnLoopbackOnly) {
  // 20 users stored, then a page that is not JSON: one dead letter (invalid_json).
  WriteFile(dir_.Sub("users.json"), FixturePage());
  WriteFile(dir_.Sub("bad.json"), "{\"results\": [");
  for (const char* file : {"users.json", "bad.json"}) {
    auto r =
        RunDataforge({"run", "--no-progress", "--source-url",
                      std::string("file://") + dir_.Sub(file), "--data-dir", dir_.Sub("data")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::map<std::string, double> m;
  {
    ServeProcess serve({"serve", "--http-port", "0", "--data-dir", dir_.Sub("data")});
    ASSERT_TRUE(serve.up());
    auto lint = Promtool(serve.Url("/metrics"));
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
    EXPECT_EQ(lint.out, "");
    m = Scrape(serve);
    // Counted incrementally: a second scrape counts the same letter once.
    EXPECT_EQ(Only(Scrape(serve), kStatusFamilies), Only(m, kStatusFamilies));
    EXPECT_EQ(serve.Stop().exit_code, 0);
  }
  StatusJson s = Status(dir_.Sub("data"));
  EXPECT_EQ(s.fetched, 21);
  EXPECT_EQ(s.stored, 20);
  EXPECT_EQ(s.dead_lettered, 1);
  EXPECT_EQ(Get(m, R"(dataforge_records_total{stage="fetched"})"), 21);
  EXPECT_EQ(Get(m, R"(dataforge_records_total{stage="stored"})"), 20);
  EXPECT_EQ(Get(m, R"(dataforge_records_total{stage="dead_lettered"})"), 1);
  EXPECT_EQ(Get(m, R"(dataforge_dead_letters_total{reason="invalid_json",stage="source"})"), 1);
  EXPECT_EQ(Get(m, R"(dataforge_dead_letters_total{reason="other",stage="source"})"), 0);
  EXPECT_EQ(Get(m, R"(dataforge_dead_letters_total{reason="invalid_json",stage="process"})"), 0);
  // serve has no probes of its own.
  EXPECT_EQ(Get(m, "dataforge_end_to_end_latency_seconds_count"), -1);
  EXPECT_EQ(
      Get(m,
          R"(dataforge_pipeline_info{source="http",staging="sqlite",log="embedded",store="rocksdb",role="serve"})"),
      1);

  // Authentication on: loopback-only, /metrics needs no credentials (the API does); off
  // loopback it needs pipeline read like the API.
  auto add =
      RunDataforge({"users", "add", "ops", "--role", "reader", "--data-dir", dir_.Sub("data")});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto key = RunDataforge({"keys", "create", "ops", "--data-dir", dir_.Sub("data")});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::string token = SplitLines(key.out).at(0);
  {
    ServeProcess serve({"serve", "--http-port", "0", "--data-dir", dir_.Sub("data")});
    ASSERT_TRUE(serve.up());
    EXPECT_EQ(Curl({}, serve.Url("/v1/status")).status, 401);
    auto r = Curl({}, serve.Url("/metrics"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Get(ParseMetrics(r.body), R"(dataforge_records_total{stage="stored"})"), 20);
  }
  {
    ServeProcess serve(
        {"serve", "--http-port", "0", "--host", "0.0.0.0", "--data-dir", dir_.Sub("data")});
    ASSERT_TRUE(serve.up());
    auto r = Curl({}, serve.Url("/metrics"));
    EXPECT_EQ(r.status, 401) << r.body;
    r = Curl({"-H", "Authorization: Bearer " + token}, serve.Url("/metrics"));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Get(ParseMetrics(r.body), R"(dataforge_records_total{stage="stored"})"), 20);
  }
}

TEST_F(MetricsTest, IngestAndProcessRolesOverKafkaServeMetrics) {
  MockKafkaCluster kafka(3, {"users_created:4"});
  OnePageApi api(FixturePage());
  std::string config = dir_.Sub("kafka.yaml");
  WriteFile(config, fmt::format("source:\n  url: {}\n  timeout_ms: 600000\n"
                                "log:\n  url: {}\n  partitions: 4\n  properties:\n"
                                "    session.timeout.ms: 6000\n    heartbeat.interval.ms: 500\n",
                                api.url(), kafka.url()));
  auto start = [&](const char* role) {
    return std::make_unique<ServeProcess>(
        // No scheduler: the default pipeline's DAG would ingest the page again.
        std::vector<std::string>{"run", "--role", role, "--no-progress", "--no-scheduler",
                                 "--http-port", "0", "--config", config, "--data-dir",
                                 dir_.Sub(role)});
  };
  auto ingest = start("ingest");
  auto process = start("process");
  ASSERT_TRUE(ingest->up() && process->up());
  std::map<std::string, double> in, out;
  ASSERT_TRUE(WaitFor(
      [&] {
        in = TryScrape(*ingest);
        out = TryScrape(*process);
        return Get(in, R"(dataforge_records_total{stage="streamed"})") == 20 &&
               Get(out, R"(dataforge_records_total{stage="stored"})") == 20;
      },
      90))
      << "ingest " << ingest->Url("/metrics") << ": " << Curl({}, ingest->Url("/metrics")).err
      << Get(in, R"(dataforge_records_total{stage="streamed"})") << "\nprocess "
      << process->Url("/metrics") << ": " << Curl({}, process->Url("/metrics")).err
      << Get(out, R"(dataforge_records_total{stage="stored"})") << "\n"
      << ingest->process().Stderr() << process->process().Stderr();
  for (ServeProcess* p : {ingest.get(), process.get()}) {
    auto lint = Promtool(p->Url("/metrics"));
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
    EXPECT_EQ(lint.out, "");
  }
  in = Scrape(*ingest);
  out = Scrape(*process);
  // Each data dir's totals, as its `status --json` says them.
  for (const char* role : {"ingest", "process"}) {
    auto status =
        RunDataforge({"status", "--json", "--config", config, "--data-dir", dir_.Sub(role)});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    auto fields = IntFields(status.out);
    const auto& m = std::string(role) == "ingest" ? in : out;
    for (const char* stage : kStages) {
      std::string series = fmt::format("dataforge_records_total{{stage=\"{}\"}}", stage);
      EXPECT_EQ(Get(m, series), static_cast<double>(fields[stage])) << role << " " << series;
    }
  }
  EXPECT_EQ(
      Get(in,
          R"(dataforge_pipeline_info{source="http",staging="sqlite",log="kafka",store="rocksdb",role="ingest"})"),
      1);
  EXPECT_EQ(
      Get(out,
          R"(dataforge_pipeline_info{source="http",staging="sqlite",log="kafka",store="rocksdb",role="process"})"),
      1);
  // The ingest has no store, the process member no staging.
  EXPECT_EQ(Get(in, R"(dataforge_backend_up{stage="store"})"), -1);
  EXPECT_EQ(Get(in, R"(dataforge_backend_up{stage="staging"})"), 1);
  EXPECT_EQ(Get(in, R"(dataforge_backend_up{stage="log"})"), 1);
  EXPECT_EQ(Get(out, R"(dataforge_backend_up{stage="staging"})"), -1);
  EXPECT_EQ(Get(out, R"(dataforge_backend_up{stage="store"})"), 1);
  EXPECT_EQ(Get(in, R"(dataforge_batch_commit_duration_seconds_count{stage="log"})") >= 1, true);
  EXPECT_EQ(Get(out, "dataforge_end_to_end_latency_seconds_count"), 20);
  EXPECT_EQ(SumOf(out, "dataforge_consumer_group_lag_records{"), 0);
  EXPECT_EQ(SumOf(out, "dataforge_consumer_group_offset{"), 20);
  // The ingest's table routes are absent (no store); its pipeline routes answer.
  EXPECT_EQ(Curl({}, ingest->Url("/v1/tables")).status, 404);
  EXPECT_EQ(Curl({}, ingest->Url("/v1/status")).status, 200);
  api.Release();
  EXPECT_EQ(ingest->Stop().exit_code, 0) << ingest->process().Stderr();
  EXPECT_EQ(process->Stop().exit_code, 0) << process->process().Stderr();
}

// Prometheus's instant query `query`: the value of its single sample, or -1 (none yet).
double PrometheusValue(int port, const std::string& query) {
  auto r = Curl({"-G", "--data-urlencode", "query=" + query},
                fmt::format("http://127.0.0.1:{}/api/v1/query", port));
  if (r.status != 200) return -1;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) return -1;
  simdjson::dom::array result;
  if (doc["data"]["result"].get(result) != simdjson::SUCCESS || result.size() != 1) return -1;
  std::string_view value;
  if (result.at(0)["value"].at(1).get(value) != simdjson::SUCCESS) return -1;
  return std::stod(std::string(value));
}

// `serve` beside a running `run` reads the store as a RocksDB secondary: each scrape and each
// GET /v1/status catches up with the writer once, so what the run stored after `serve` opened
// shows at the next request.
TEST_F(MetricsTest, ServeBesideARunningPipelineCatchesUpAtEachRequest) {
  OnePageApi api(FixturePage(), /*hold_first=*/true);
  std::string config = PipelineFile(api.url());
  ServeProcess run = StartRun(config, {});
  ServeProcess serve(
      {"serve", "--http-port", "0", "--config", config, "--data-dir", dir_.Sub("data")});
  auto before = Scrape(serve);
  EXPECT_EQ(Get(before, R"(dataforge_records_total{stage="stored"})"), 0);
  EXPECT_EQ(SumOf(before, "dataforge_consumer_group_offset{"), 0);
  EXPECT_EQ(Get(before, R"(dataforge_backend_up{stage="store"})"), 1);

  api.ServeFirst();  // the run stores the page's 20 users, then waits for the next page
  ASSERT_TRUE(WaitFor(
      [&] { return Get(TryScrape(run), R"(dataforge_records_total{stage="stored"})") == 20; }, 60))
      << Curl({}, run.Url("/metrics")).body;
  auto after = Scrape(serve);
  EXPECT_EQ(Get(after, R"(dataforge_records_total{stage="stored"})"), 20);
  EXPECT_EQ(SumOf(after, "dataforge_consumer_group_offset{"), 20);
  EXPECT_EQ(Get(after, R"(dataforge_backend_up{stage="store"})"), 1);
  auto status = Curl({}, serve.Url("/v1/status"));
  ASSERT_EQ(status.status, 200) << status.body;
  int64_t processed = 0;
  simdjson::dom::parser parser;
  simdjson::dom::array partitions;
  ASSERT_EQ(parser.parse(status.body)["partitions"].get(partitions), simdjson::SUCCESS)
      << status.body;
  for (simdjson::dom::element p : partitions) {
    int64_t offset = 0;
    EXPECT_EQ(p["processed_offset"].get(offset), simdjson::SUCCESS) << status.body;
    processed += offset;
  }
  EXPECT_EQ(processed, 20) << status.body;
  EXPECT_EQ(serve.Stop().exit_code, 0) << serve.process().Stderr();
  api.Release();
  EXPECT_EQ(run.Stop().exit_code, 0) << run.process().Stderr();
}

TEST_F(MetricsTest, PrometheusScrapesARunningPipeline) {
  OnePageApi api(FixturePage());
  std::string config = PipelineFile(api.url());
  ServeProcess run({"run", "--no-progress", "--http-port", "0", "--config", config, "--data-dir",
                    dir_.Sub("data")});
  ASSERT_TRUE(run.up());
  int port = FreePort();
  WriteFile(dir_.Sub("prometheus.yml"),
            fmt::format("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        "scrape_configs:\n  - job_name: dataforge\n    static_configs:\n"
                        "      - targets: ['127.0.0.1:{}']\n",
                        run.port()));
  auto prometheus =
      ChildProcess::Start({"/usr/bin/prometheus", "--config.file=" + dir_.Sub("prometheus.yml"),
                           "--storage.tsdb.path=" + dir_.Sub("tsdb"),
                           fmt::format("--web.listen-address=127.0.0.1:{}", port)});
  // The stored count, once the pipeline has stored the page and waits for the next.
  ASSERT_TRUE(WaitFor([&] { return StoredNow(dir_.Sub("data"), {"--config", config}) == 20; }, 60));
  int64_t stored = StoredNow(dir_.Sub("data"), {"--config", config});
  // Prometheus answers it once a scrape after that has landed.
  double seen = -1;
  EXPECT_TRUE(WaitFor(
      [&] {
        seen = PrometheusValue(port, R"(dataforge_records_total{stage="stored",job="dataforge"})");
        return seen == static_cast<double>(stored);
      },
      60))
      << "Prometheus answered " << seen << "; its output:\n"
      << prometheus.Stderr();
  EXPECT_EQ(PrometheusValue(port, R"(up{job="dataforge"})"), 1);
  EXPECT_EQ(PrometheusValue(port, R"(dataforge_dag_runs{dag="etl",state="success"})"), 1);
  prometheus.Signal(SIGTERM);
  EXPECT_EQ(prometheus.Wait(30000).exit_code, 0);
  api.Release();
  EXPECT_EQ(run.Stop().exit_code, 0) << run.process().Stdout() << run.process().Stderr();
}

}  // namespace
}  // namespace dataforge::testing
