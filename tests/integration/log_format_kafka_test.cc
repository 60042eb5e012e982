// log.format confluent-json / confluent-avro over Kafka (docs/pipeline-file.md "log.format"):
// the real binary on librdkafka's mock cluster, and Confluent's own Python client
// (python3-confluent-kafka 1.7.0: DeserializingConsumer + JSONDeserializer; python3-avro for
// Avro, as Confluent's AvroDeserializer needs fastavro) reading the pipeline's topic and checking
// each record against the staged JSON (tests/python/confluent_consume.py), with the schema from
// the registry served by `dataforge serve` under /registry (SchemaRegistryClient).
#include <gtest/gtest.h>

#include <filesystem>

#include <fmt/format.h>

#include "integration/kafka_cluster.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kRecords = 400;

std::string Script() {
  return (fs::path(test_paths::kSourceDir) / "tests/python/confluent_consume.py").string();
}

std::string Schema(const char* name) {
  return (fs::path(test_paths::kSourceDir) / "pipelines/schemas" / name).string();
}

// The pipeline file: the Kafka log in `format`, subject users_created-value, the schema file
// copied beside it (relative path, as a user would keep it).
std::string WriteConfig(const TempDir& dir, const std::string& url, const std::string& format,
                        const char* schema) {
  fs::create_directories(dir.Sub("schemas"));
  fs::copy_file(Schema(schema), dir.Sub(std::string("schemas/") + schema));
  std::string path = dir.Sub("pipeline.yaml");
  WriteFile(path, fmt::format("source:\n  seed: log-format-kafka\n  results_per_page: 100\n"
                              "log:\n  url: {}\n  partitions: 4\n  format: {}\n"
                              "  subject: users_created-value\n  schema_file: schemas/{}\n"
                              "tuning:\n  batch_records: 100\n",
                              url, format, schema));
  return path;
}

void RunAndCheck(const std::string& format, const char* schema, const std::string& mode) {
  MockKafkaCluster kafka;
  TempDir dir;
  std::string config = WriteConfig(dir, kafka.url(), format, schema);
  std::string data = dir.Sub("data");
  auto r = RunDataforge(
      {"run", "--config", config, "--data-dir", data, "--max-records", std::to_string(kRecords)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find(fmt::format("log.format {}: records go to users_created with schema id 1 "
                                   "(subject 'users_created-value' version 1)",
                                   format)),
            std::string::npos)
      << r.err;
  // The schema registry over HTTP: `dataforge serve` on the data dir; the Python client asks
  // it for the subject's latest version (and checks every record carries its id).
  ServeProcess serve({"serve", "--http-port", "0", "--config", config, "--data-dir", data});
  ASSERT_TRUE(serve.up());
  std::vector<std::string> args = {"/usr/bin/python3",    Script(),
                                   kafka.bootstrap(),     "users_created",
                                   "users_created-value", serve.Url("/registry"),
                                   data + "/staging.db",  std::to_string(kRecords)};
  if (!mode.empty()) args.push_back(mode);
  auto py = ChildProcess::Start(args).Wait(120000);
  ASSERT_EQ(py.exit_code, 0) << py.out << py.err;
  EXPECT_EQ(py.out,
            fmt::format("records {0}, matching {0}, schema ids [1], header ok {0}\n", kRecords))
      << py.err;

  // GET /v1/topics/{t}/partitions/{p}/records shows them decoded too, with their schema id.
  auto rest = Curl({}, serve.Url("/v1/topics/users_created/partitions/0/records?limit=1"));
  EXPECT_EQ(rest.status, 200) << rest.body;
  EXPECT_NE(rest.body.find(",\"value\":{\"gender\":"), std::string::npos) << rest.body;
  EXPECT_NE(rest.body.find(",\"schema_id\":1}]"), std::string::npos) << rest.body;

  // `topic consume` shows the values decoded, with their schema id.
  auto consume = RunDataforge({"topic", "consume", "users_created", "--from-beginning", "--max",
                               "2", "--config", config, "--data-dir", data});
  ASSERT_EQ(consume.exit_code, 0) << consume.err;
  for (const auto& line : SplitLines(consume.out)) {
    EXPECT_NE(line.find(",\"value\":{\"gender\":"), std::string::npos) << line;
    EXPECT_NE(line.find(",\"schema_id\":1}"), std::string::npos) << line;
  }
}

TEST(LogFormatKafkaTest, ConfluentJsonDeserializingConsumerReadsThePipelinesTopic) {
  RunAndCheck("confluent-json", "randomuser.schema.json", "");
}

TEST(LogFormatKafkaTest, ConfluentAvroPayloadsDecodeWithPythonAvro) {
  RunAndCheck("confluent-avro", "randomuser.avsc", "avro");
}

}  // namespace
}  // namespace dataforge::testing
