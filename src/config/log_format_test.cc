// log.format, log.subject, log.schema_file (docs/pipeline-file.md "log.format").
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "config/pipeline_file.h"

namespace dataforge {
namespace {

TEST(LogFormatConfigTest, DefaultIsJson) {
  PipelineConfig c = DefaultPipelineConfig();
  EXPECT_EQ(c.log.format, LogConfig::Format::kJson);
  EXPECT_EQ(LogFormatName(c.log.format), "json");
  EXPECT_EQ(c.log.subject, "");
  EXPECT_EQ(c.log.schema_file, "");
}

TEST(LogFormatConfigTest, ConfluentFormatsWithASubject) {
  auto c =
      ParsePipelineConfig("log:\n  format: confluent-json\n  subject: users-value\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log.format, LogConfig::Format::kConfluentJson);
  EXPECT_EQ(c->log.subject, "users-value");
  c = ParsePipelineConfig("log:\n  format: confluent-avro\n  subject: u\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log.format, LogConfig::Format::kConfluentAvro);
  EXPECT_EQ(LogFormatName(c->log.format), "confluent-avro");
}

TEST(LogFormatConfigTest, ErrorsNameTheLineAndTheFix) {
  auto c = ParsePipelineConfig("log:\n  topic: t\n  format: confluent-avro\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:3: log.format confluent-avro needs 'log.subject': the schema registry "
            "subject of the records (e.g. subject: t-value)");
  c = ParsePipelineConfig("log:\n  format: avro\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:2: 'format' is 'avro'; it must be one of: json, confluent-json, "
            "confluent-avro");
  c = ParsePipelineConfig("log:\n  subject: s\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:2: 'log.subject' is for the confluent formats: set log.format: "
            "confluent-json or confluent-avro, or remove log.subject");
}

TEST(LogFormatConfigTest, SchemaFileIsRelativeToThePipelineFile) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(testing::TempDir()) / "log_format_config_test";
  fs::remove_all(dir);
  fs::create_directories(dir / "schemas");
  std::ofstream(dir / "schemas" / "u.avsc") << "{\"type\":\"string\"}";
  std::string file = (dir / "p.yaml").string();
  auto c = ParsePipelineConfig(
      "log:\n  format: confluent-avro\n  subject: u\n  schema_file: schemas/u.avsc\n", file);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->log.schema_file, (dir / "schemas" / "u.avsc").string());

  c = ParsePipelineConfig(
      "log:\n  format: confluent-avro\n  subject: u\n  schema_file: schemas/nope.avsc\n", file);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            fmt::format("{}:4: 'log.schema_file' {} does not exist (relative paths are read from "
                        "the pipeline file's directory): give the path of the schema, or remove "
                        "log.schema_file to use the latest version of subject 'u'",
                        file, (dir / "schemas" / "nope.avsc").string()));
  fs::remove_all(dir);
}

TEST(LogFormatConfigTest, ConfigShowRoundTrips) {
  auto c =
      ParsePipelineConfig("log:\n  format: confluent-json\n  subject: users-value\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string yaml = PipelineConfigToYaml(*c);
  EXPECT_NE(yaml.find("format: confluent-json"), std::string::npos) << yaml;
  auto again = ParsePipelineConfig(yaml, "shown.yaml");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->log.format, LogConfig::Format::kConfluentJson);
  EXPECT_EQ(again->log.subject, "users-value");
  auto plain = ParsePipelineConfig(PipelineConfigToYaml(DefaultPipelineConfig()), "shown.yaml");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->log.format, LogConfig::Format::kJson);
}

}  // namespace
}  // namespace dataforge
