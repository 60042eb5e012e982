// process.outputs with the real binary (docs/pipeline-file.md "process.outputs"): a derived
// table beside the main one, a topic output on the embedded log and on Kafka (read by
// Confluent's Python client as the seed's Spark job read the flattened users), and kill -9
// during a run with a topic output (the topic may repeat a row, never miss one; the store is
// exact).
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/kafka_cluster.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

namespace fs = std::filesystem;

// The default mapping (dataforge.created_users) plus `outputs` (YAML list items, indented 4).
std::string Pipeline(const std::string& seed, const std::string& log_url,
                     const std::string& outputs, int batch_records = 100) {
  std::string log =
      log_url.empty() ? "" : fmt::format("log:\n  url: {}\n  partitions: 4\n", log_url);
  return fmt::format(
      "source:\n  seed: {}\n  results_per_page: 100\n{}"
      "process:\n"
      "  outputs:\n{}"
      "tuning:\n  batch_records: {}\n",
      seed, log, outputs, batch_records);
}

// Rows of `table` by id, as `dataforge table scan` prints them.
std::map<std::string, std::string> Rows(const std::string& config, const std::string& data,
                                        const std::string& table) {
  auto r = RunDataforge({"table", "scan", table, "--config", config, "--data-dir", data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> rows;
  for (const auto& line : SplitLines(r.out)) {
    std::string id = JsonField(line, "id");
    EXPECT_FALSE(id.empty()) << line;
    EXPECT_TRUE(rows.emplace(id, line).second) << "id twice in " << table << ": " << id;
  }
  return rows;
}

// (key, value as JSON text) of every record of `topic` on the embedded log, in log order.
std::vector<std::pair<std::string, std::string>> Consume(const std::string& config,
                                                         const std::string& data,
                                                         const std::string& topic) {
  auto r = RunDataforge(
      {"topic", "consume", topic, "--from-beginning", "--config", config, "--data-dir", data});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::parser parser;
  for (const auto& line : SplitLines(r.out)) {
    simdjson::dom::element e;
    std::string_view key;
    simdjson::dom::element value;
    if (parser.parse(line).get(e) != simdjson::SUCCESS || e["key"].get(key) ||
        e["value"].get(value)) {
      ADD_FAILURE() << "not a record line: " << line;
      continue;
    }
    out.emplace_back(std::string(key), simdjson::minify(value));
  }
  return out;
}

TEST(OutputsTest, DerivedTableAndTopicCarryTheMainTablesRowsExactly) {
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config, Pipeline("outputs-derived", "",
                             "    - table: dataforge.users_by_gender\n"
                             "      key_column: id\n"
                             "      columns:\n"
                             "        - {name: id, type: uuid, path: $key, required: true}\n"
                             "        - {name: gender, path: gender}\n"
                             "        - {name: email, path: email}\n"
                             "        - {name: country, path: location.country}\n"
                             "    - {topic: users_flat, format: json}\n"));
  std::string data = dir.Sub("data");
  auto check = RunDataforge({"config", "check", config});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  auto r = RunDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "300"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;
  StatusJson s = Status(data, {"--config", config});
  EXPECT_EQ(s.fetched, 300);
  EXPECT_EQ(s.stored, 300);  // the derived rows are not counted again
  EXPECT_EQ(s.store_rows, 300);

  auto main_rows = Rows(config, data, "dataforge.created_users");
  auto derived = Rows(config, data, "dataforge.users_by_gender");
  ASSERT_EQ(main_rows.size(), 300u);
  ASSERT_EQ(derived.size(), 300u);
  size_t same = 0, with_country = 0;
  for (const auto& [id, row] : main_rows) {
    auto it = derived.find(id);
    ASSERT_NE(it, derived.end()) << "no derived row for " << id;
    EXPECT_EQ(JsonField(it->second, "gender"), JsonField(row, "gender")) << id;
    EXPECT_EQ(JsonField(it->second, "email"), JsonField(row, "email")) << id;
    EXPECT_FALSE(JsonField(it->second, "gender").empty()) << it->second;
    // The address ends with the country the derived table has as a column.
    std::string country = JsonField(it->second, "country");
    std::string address = JsonField(row, "address");
    if (!country.empty() && address.ends_with(", " + country)) ++with_country;
    ++same;
  }
  EXPECT_EQ(same, 300u);
  EXPECT_EQ(with_country, 300u);

  // The topic: every main row once (one run, no crash), keyed by its id, the row as the value.
  auto records = Consume(config, data, "users_flat");
  EXPECT_EQ(records.size(), 300u);
  std::set<std::string> keys;
  simdjson::dom::parser parser;
  for (const auto& [key, value] : records) {
    keys.insert(key);
    auto it = main_rows.find(key);
    ASSERT_NE(it, main_rows.end()) << "a key not in the table: " << key;
    simdjson::dom::element stored;
    ASSERT_EQ(parser.parse(it->second).get(stored), simdjson::SUCCESS);
    EXPECT_EQ(value, simdjson::minify(stored)) << key;
  }
  EXPECT_EQ(keys.size(), 300u);
}

TEST(OutputsTest, ConfigErrorsNameTheLineAtCheckAndRun) {
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config, Pipeline("outputs-errors", "", "    - {topic: users_created}\n"));
  std::string want = config +
                     ":6: output topic 'users_created' is log.topic, the topic the processor "
                     "reads: its rows would be read again as records; name another topic (e.g. "
                     "users_created_flat)";
  auto check = RunDataforge({"config", "check", config});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find(want), std::string::npos) << check.err;
  auto run = RunDataforge(
      {"run", "--config", config, "--data-dir", dir.Sub("data"), "--max-records", "10"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find(want), std::string::npos) << run.err;

  WriteFile(config, Pipeline("outputs-errors", "",
                             "    - {table: dataforge.t, topic: t, columns: [{name: id, path: "
                             "$key}]}\n"));
  check = RunDataforge({"config", "check", config});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_NE(check.err.find(config + ":6: an output has both 'table' (dataforge.t) and 'topic' "
                                    "(t); write two outputs, one with each"),
            std::string::npos)
      << check.err;

  // An Avro topic needs a schema in its subject: the run says where one comes from.
  WriteFile(config, Pipeline("outputs-errors", "",
                             "    - {topic: users_av, format: confluent-avro, subject: none}\n"));
  run = RunDataforge(
      {"run", "--config", config, "--data-dir", dir.Sub("data2"), "--max-records", "10"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find(config + ":6: output topic 'users_av' is confluent-avro with subject "
                                  "'none', which has no schema in the registry: let "
                                  "process.schema register the mapping's own ({subject: none, "
                                  "type: avro, auto_register: true}), or register one first "
                                  "(POST /registry/subjects/none/versions on `dataforge serve`)"),
            std::string::npos)
      << run.err;
}

// confluent-json: Confluent's wire format (magic byte 0, the 4-byte schema id, the JSON) with
// the subject's schema (none yet: the permissive one is registered, id 1).
TEST(OutputsTest, ConfluentJsonTopicOutputCarriesTheWireHeaderAndTheRow) {
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config, Pipeline("outputs-confluent", "",
                             "    - {topic: users_cj, format: confluent-json, subject: "
                             "users_cj-value}\n"));
  std::string data = dir.Sub("data");
  auto r = RunDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "100"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("output topic users_cj: confluent-json with schema id 1 (subject "
                       "'users_cj-value' version 1)"),
            std::string::npos)
      << r.err;
  auto rows = Rows(config, data, "dataforge.created_users");
  ASSERT_EQ(rows.size(), 100u);
  auto consume = RunDataforge(
      {"topic", "consume", "users_cj", "--from-beginning", "--config", config, "--data-dir", data});
  ASSERT_EQ(consume.exit_code, 0) << consume.err;
  auto lines = SplitLines(consume.out);
  EXPECT_EQ(lines.size(), 100u);
  simdjson::dom::parser parser;
  size_t exact = 0;
  for (const auto& line : lines) {
    simdjson::dom::element e;
    std::string_view key, value;
    ASSERT_EQ(parser.parse(line).get(e), simdjson::SUCCESS) << line;
    ASSERT_EQ(e["key"].get(key), simdjson::SUCCESS) << line;
    ASSERT_EQ(e["value"].get(value), simdjson::SUCCESS) << line;
    ASSERT_GT(value.size(), 5u);
    EXPECT_EQ(value.substr(0, 5), std::string_view("\0\0\0\0\x01", 5)) << line;
    auto it = rows.find(std::string(key));
    ASSERT_NE(it, rows.end()) << key;
    simdjson::dom::parser row_parser;
    simdjson::dom::element published, stored;
    ASSERT_EQ(row_parser.parse(std::string(value.substr(5))).get(published), simdjson::SUCCESS);
    std::string published_text = simdjson::minify(published);
    ASSERT_EQ(row_parser.parse(it->second).get(stored), simdjson::SUCCESS);
    if (published_text == simdjson::minify(stored)) ++exact;
  }
  EXPECT_EQ(exact, 100u);
}

TEST(OutputsTest, KafkaTopicOutputReadsAsTheSparkJobReadFlattenedUsers) {
  MockKafkaCluster kafka;
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config,
            Pipeline("outputs-kafka", kafka.url(), "    - {topic: users_flat, format: json}\n"));
  std::string data = dir.Sub("data");
  auto r = RunDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "300"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;
  auto scan = RunDataforge(
      {"table", "scan", "dataforge.created_users", "--config", config, "--data-dir", data});
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  ASSERT_EQ(SplitLines(scan.out).size(), 300u);
  std::string rows = dir.Sub("rows.jsonl");
  WriteFile(rows, scan.out);
  std::string script =
      (fs::path(test_paths::kSourceDir) / "tests/python/outputs_consume.py").string();
  auto py = ChildProcess::Start(
                {"/usr/bin/python3", script, kafka.bootstrap(), "users_flat", rows, "300"})
                .Wait(120000);
  ASSERT_EQ(py.exit_code, 0) << py.out << py.err;
  EXPECT_EQ(py.out,
            "records 300, keys 300, matching 300, key is id 300, spark fields 300, tombstones 0\n")
      << py.err;
}

// confluent-avro from a `--role process` member over Kafka: the member registers the mapping's
// own Avro schema (process.schema auto_register) and publishes the rows in it; Confluent's
// Python client reads the topic, python3-avro decodes each value with the schema the member's
// registry serves, and every value equals the row the member stored.
TEST(OutputsTest, AvroTopicOutputOfAProcessMemberDecodesAsTheStoredRows) {
  MockKafkaCluster kafka;
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config,
            fmt::format("source:\n  seed: outputs-avro\n  results_per_page: 100\n"
                        "log:\n  url: {}\n  partitions: 4\n"
                        "process:\n"
                        "  schema: {{subject: users-row, type: avro, auto_register: true}}\n"
                        "  outputs:\n"
                        "    - {{topic: users_avro, format: confluent-avro, subject: "
                        "users-row}}\n"
                        "tuning:\n  batch_records: 100\n",
                        kafka.url()));
  auto ingest = RunDataforge({"run", "--role", "ingest", "--config", config, "--data-dir",
                              dir.Sub("ingest"), "--max-records", "300", "--no-progress"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  std::string data = dir.Sub("process");
  auto member = StartDataforge(
      {"run", "--role", "process", "--config", config, "--data-dir", data, "--no-progress"});
  auto stored = [&] {
    auto r = RunDataforge(
        {"table", "count", "dataforge.created_users", "--config", config, "--data-dir", data});
    return r.exit_code == 0 ? std::stoll(r.out) : -1;
  };
  ASSERT_TRUE(WaitFor([&] { return stored() == 300; }, 120)) << member.Stderr();
  member.Signal(SIGTERM);
  auto done = member.Wait(60000);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.err.find("output topic users_avro: confluent-avro with schema id 1 (subject "
                          "'users-row' version 1)"),
            std::string::npos)
      << done.err;
  auto scan = RunDataforge(
      {"table", "scan", "dataforge.created_users", "--config", config, "--data-dir", data});
  ASSERT_EQ(scan.exit_code, 0) << scan.err;
  ASSERT_EQ(SplitLines(scan.out).size(), 300u);
  std::string rows = dir.Sub("rows.jsonl");
  WriteFile(rows, scan.out);
  ServeProcess serve({"serve", "--http-port", "0", "--config", config, "--data-dir", data});
  ASSERT_TRUE(serve.up());
  std::string script =
      (fs::path(test_paths::kSourceDir) / "tests/python/outputs_avro_consume.py").string();
  auto py = ChildProcess::Start({"/usr/bin/python3", script, kafka.bootstrap(), "users_avro",
                                 serve.Url("/registry"), "users-row", rows, "300"})
                .Wait(120000);
  ASSERT_EQ(py.exit_code, 0) << py.out << py.err;
  EXPECT_EQ(py.out,
            "records 300, keys 300, matching 300, key is id 300, schema ids [1], header ok 300\n")
      << py.err;
}

// Deletes both ways over Kafka: a row deleted by process.delete_when is published to the output
// topic as a tombstone (a null value, which Confluent's Python client reads as None), and a
// tombstone a producer writes into the pipeline's own topic deletes the row its key names.
TEST(OutputsTest, DeletesArePublishedAsTombstonesAndTombstonesDeleteRows) {
  MockKafkaCluster kafka;
  TempDir dir;
  auto uuid = [](int i) { return fmt::format("00000000-0000-4000-8000-{:012d}", i); };
  auto person = [&](int i, const char* op) {
    return fmt::format(R"({{"login":{{"uuid":"{}"}},"email":"p{}@example.com","op":"{}"}})",
                       uuid(i), i, op);
  };
  std::string capture = dir.Sub("capture.json");
  WriteFile(capture, "{\"results\":[" + person(1, "upsert") + "," + person(2, "upsert") + "," +
                         person(3, "upsert") + "," + person(2, "delete") + "]}");
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config, fmt::format("dags: {{}}\nsource:\n  url: file://{}\n"
                                "log:\n  url: {}\n  partitions: 4\n  properties:\n"
                                "    session.timeout.ms: 6000\n    heartbeat.interval.ms: 500\n"
                                "process:\n  delete_when: {{path: op, equals: delete}}\n"
                                "  outputs:\n    - {{topic: users_flat, format: json}}\n",
                                capture, kafka.url()));
  std::string data = dir.Sub("data");
  auto r = RunDataforge({"run", "--config", config, "--data-dir", data, "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ids = [&] {
    auto scan = RunDataforge(
        {"table", "scan", "dataforge.created_users", "--config", config, "--data-dir", data});
    EXPECT_EQ(scan.exit_code, 0) << scan.err;
    std::set<std::string> out;
    for (const auto& line : SplitLines(scan.out)) out.insert(JsonField(line, "id"));
    return out;
  };
  ASSERT_EQ(ids(), (std::set<std::string>{uuid(1), uuid(3)}));
  std::string rows = dir.Sub("rows.jsonl");
  auto consume = [&](int expected) {
    auto scan = RunDataforge(
        {"table", "scan", "dataforge.created_users", "--config", config, "--data-dir", data});
    WriteFile(rows, scan.out);
    std::string script =
        (fs::path(test_paths::kSourceDir) / "tests/python/outputs_consume.py").string();
    return ChildProcess::Start({"/usr/bin/python3", script, kafka.bootstrap(), "users_flat", rows,
                                std::to_string(expected)})
        .Wait(120000);
  };
  auto py = consume(4);
  ASSERT_EQ(py.exit_code, 0) << py.out << py.err;
  EXPECT_EQ(py.out, "records 4, keys 2, matching 2, key is id 3, spark fields 0, tombstones 1\n")
      << py.err;

  // A tombstone for user 1 in the pipeline's topic, from Confluent's Python producer; a process
  // member applies it as a delete of that row, and publishes the delete as a tombstone too.
  auto produce = ChildProcess::Start({"/usr/bin/python3", "-c",
                                      "import sys\nfrom confluent_kafka import Producer\n"
                                      "p = Producer({'bootstrap.servers': sys.argv[1]})\n"
                                      "p.produce('users_created', key=sys.argv[2], value=None)\n"
                                      "sys.exit(0 if p.flush(30) == 0 else 1)\n",
                                      kafka.bootstrap(), uuid(1)})
                     .Wait(60000);
  ASSERT_EQ(produce.exit_code, 0) << produce.out << produce.err;
  auto member = StartDataforge(
      {"run", "--role", "process", "--config", config, "--data-dir", data, "--no-progress"});
  ASSERT_TRUE(WaitFor([&] { return ids() == std::set<std::string>{uuid(3)}; }, 120))
      << member.Stderr();
  member.Signal(SIGTERM);
  auto done = member.Wait(60000);
  ASSERT_EQ(done.exit_code, 0) << done.err;
  py = consume(5);
  ASSERT_EQ(py.exit_code, 0) << py.out << py.err;
  EXPECT_EQ(py.out, "records 5, keys 1, matching 1, key is id 3, spark fields 0, tombstones 2\n")
      << py.err;
  // `topic consume` shows a tombstone's value as null.
  auto topic = RunDataforge({"topic", "consume", "users_flat", "--from-beginning", "--config",
                             config, "--data-dir", data});
  ASSERT_EQ(topic.exit_code, 0) << topic.err;
  size_t nulls = 0;
  for (const auto& line : SplitLines(topic.out)) {
    if (line.find(R"(,"value":null)") != std::string::npos) ++nulls;
  }
  EXPECT_EQ(nulls, 2u) << topic.out;
}

TEST(OutputsTest, KillNineDuringARunWithATopicOutputRepeatsButNeverMisses) {
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  // 10 pages of 50 a second: the kills land mid-run, not thousands of records past the mark.
  std::string yaml = Pipeline("outputs-crash", "", "    - {topic: users_flat, format: json}\n",
                              /*batch_records=*/50);
  yaml.replace(yaml.find("results_per_page: 100"), 21,
               "results_per_page: 50\n  rate_limit_per_sec: 10");
  WriteFile(config, yaml);
  std::string data = dir.Sub("data");
  for (int64_t kill_after : {300, 900}) {
    auto child =
        StartDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "1000000"});
    int64_t stored = 0;
    for (int i = 0; i < 2400 && stored < kill_after; ++i) {
      usleep(25'000);
      stored = StoredNow(data, {"--config", config});
    }
    ASSERT_GE(stored, kill_after) << child.Stderr();
    child.Signal(SIGKILL);
    auto r = child.Wait(10000);
    ASSERT_EQ(r.signal, SIGKILL);
  }
  auto r = RunDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "200"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;

  StatusJson s = Status(data, {"--config", config});
  EXPECT_EQ(s.stored, s.fetched);
  EXPECT_EQ(s.dead_lettered, 0);
  EXPECT_EQ(s.log_lag, 0);
  EXPECT_EQ(s.store_rows, s.fetched);  // distinct users, each stored once
  auto ids = ScanIds(data, {"--config", config});
  EXPECT_EQ(static_cast<int64_t>(ids.size()), s.fetched);
  auto records = Consume(config, data, "users_flat");
  std::map<std::string, int> times;
  for (const auto& [key, value] : records) ++times[key];
  std::vector<std::string> missing;
  for (const auto& id : ids) {
    if (!times.count(id)) missing.push_back(id);
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " stored rows not on the topic, first "
                               << missing[0];
  EXPECT_EQ(times.size(), ids.size()) << "keys on the topic that are not stored rows";
  EXPECT_GE(static_cast<int64_t>(records.size()), s.fetched);
  std::cerr << "topic records " << records.size() << " for " << s.fetched << " stored rows\n";
}

}  // namespace
}  // namespace dataforge::testing
