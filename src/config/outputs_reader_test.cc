// process.outputs in the pipeline file (config/outputs_reader.h): what is read, and every
// refusal with its line and fix.
#include "config/outputs_reader.h"

#include <gtest/gtest.h>

#include "config/pipeline_file.h"

namespace dataforge {
namespace {

// A process section whose outputs are `outputs` (YAML lines indented by 4, the list items).
std::string Process(const std::string& outputs) {
  return "process:\n"
         "  table: dataforge.users\n"
         "  key_column: id\n"
         "  columns:\n"
         "    - {name: id, type: uuid, path: login.uuid, required: true}\n"
         "    - {name: email, path: email}\n"
         "  outputs:\n" +
         outputs;
}

std::string Error(const std::string& yaml) {
  auto c = ParsePipelineConfig(yaml, "p.yaml");
  EXPECT_FALSE(c.ok());
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), StatusCode::kConfigError) << c.status().ToString();
  return c.status().message();
}

TEST(OutputsReaderTest, ReadsDerivedTablesAndTopics) {
  auto c = ParsePipelineConfig(
      Process("    - table: dataforge.users_by_country\n"
              "      key_column: id\n"
              "      where: \"location.country IS NOT NULL\"\n"
              "      columns:\n"
              "        - {name: id, type: uuid, path: login.uuid, required: true}\n"
              "        - {name: country, path: location.country}\n"
              "    - topic: users_flat\n"
              "      format: json\n"
              "    - {topic: users_avro, format: confluent-avro, subject: users_avro-value}\n"),
      "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& o = c->process.outputs;
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0].table, "dataforge.users_by_country");
  EXPECT_EQ(o[0].key_column, "id");
  EXPECT_EQ(o[0].where, "location.country IS NOT NULL");
  EXPECT_EQ(o[0].where_column, 14);
  EXPECT_EQ(o[0].line, 8);
  ASSERT_EQ(o[0].columns.size(), 2u);
  EXPECT_EQ(o[0].columns[1].name, "country");
  EXPECT_EQ(o[0].columns[1].paths, std::vector<std::string>{"location.country"});
  EXPECT_EQ(o[0].columns[1].line, 13);
  EXPECT_TRUE(o[0].topic.empty());
  EXPECT_EQ(o[1].topic, "users_flat");
  EXPECT_EQ(o[1].format, LogConfig::Format::kJson);
  EXPECT_EQ(o[1].line, 14);
  EXPECT_EQ(o[2].topic, "users_avro");
  EXPECT_EQ(o[2].format, LogConfig::Format::kConfluentAvro);
  EXPECT_EQ(o[2].subject, "users_avro-value");
  // The main mapping is untouched.
  EXPECT_EQ(c->process.table, "dataforge.users");
  EXPECT_EQ(c->process.columns.size(), 2u);
}

TEST(OutputsReaderTest, ConfigShowRoundTripsTheOutputs) {
  auto c = ParsePipelineConfig(
      Process("    - table: dataforge.users_by_country\n"
              "      columns:\n"
              "        - {name: id, type: uuid, path: $key, required: true}\n"
              "        - {name: country, path: [location.country, nat]}\n"
              "    - {topic: users_flat}\n"
              "    - {topic: users_cj, format: confluent-json, subject: users_cj-value}\n"),
      "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string yaml = PipelineConfigToYaml(*c);
  auto back = ParsePipelineConfig(yaml, "shown.yaml");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << yaml;
  EXPECT_EQ(PipelineConfigToYaml(*back), yaml);
  ASSERT_EQ(back->process.outputs.size(), 3u);
  EXPECT_EQ(back->process.outputs[0].table, "dataforge.users_by_country");
  EXPECT_EQ(back->process.outputs[0].columns[1].paths,
            (std::vector<std::string>{"location.country", "nat"}));
  EXPECT_TRUE(back->process.outputs[0].columns[0].required);
  EXPECT_EQ(back->process.outputs[1].topic, "users_flat");
  EXPECT_EQ(back->process.outputs[2].format, LogConfig::Format::kConfluentJson);
  EXPECT_EQ(back->process.outputs[2].subject, "users_cj-value");
}

TEST(OutputsReaderTest, NoOutputsByDefault) {
  auto c = ParsePipelineConfig("log:\n  partitions: 2\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->process.outputs.empty());
}

TEST(OutputsReaderTest, BothOrNeitherOfTableAndTopic) {
  EXPECT_EQ(
      Error(Process("    - {table: dataforge.t, topic: t, columns: [{name: id, path: a}]}\n")),
      "p.yaml:8: an output has both 'table' (dataforge.t) and 'topic' (t); write two "
      "outputs, one with each");
  EXPECT_EQ(Error(Process("    - {format: json}\n")),
            "p.yaml:8: an output needs 'table' (a derived table) or 'topic' (a topic of the log "
            "the mapped rows are published to)");
  EXPECT_EQ(Error(Process("    - users_flat\n")),
            "p.yaml:8: each of 'process.outputs' must be a mapping: {table: ks.name, columns: "
            "[...]} or {topic: NAME, format: json}");
  EXPECT_EQ(Error(Process("    {topic: users_flat}\n")),
            "p.yaml:8: 'process.outputs' must be a list of outputs: {table: ks.name, columns: "
            "[...]} or {topic: NAME, format: json}");
}

TEST(OutputsReaderTest, UnknownFormatAndSubject) {
  EXPECT_EQ(Error(Process("    - {topic: users_flat, format: xml}\n")),
            "p.yaml:8: 'format' is 'xml'; it must be one of: json, confluent-json, "
            "confluent-avro");
  EXPECT_EQ(Error(Process("    - {topic: users_flat, format: confluent-json}\n")),
            "p.yaml:8: topic output 'users_flat' is confluent-json: it needs 'subject' (the "
            "schema registry subject of the rows, e.g. subject: users_flat-value)");
  EXPECT_EQ(Error(Process("    - {topic: users_flat, subject: s}\n")),
            "p.yaml:8: topic output 'users_flat': 'subject' is for the confluent formats; set "
            "format: confluent-json or confluent-avro, or remove subject");
  EXPECT_EQ(Error(Process("    - {topic: users_flat, columns: []}\n")),
            "p.yaml:8: unknown key 'columns' in the topic output 'users_flat' (known: topic, "
            "format, subject)");
}

TEST(OutputsReaderTest, DerivedTableRefusals) {
  EXPECT_EQ(Error(Process("    - {table: dataforge.users, columns: [{name: id, path: a}]}\n")),
            "p.yaml:8: output table 'dataforge.users' is process.table: the mapped rows are "
            "written there already; name another table (e.g. dataforge.users_by_...)");
  EXPECT_EQ(Error(Process("    - {table: by_country, columns: [{name: id, path: a}]}\n")),
            "p.yaml:8: output table 'by_country' must be named keyspace.table (e.g. "
            "dataforge.users_by_country)");
  EXPECT_EQ(Error(Process("    - {table: dataforge.t}\n")),
            "p.yaml:8: output table 'dataforge.t' needs 'columns': a list of columns like "
            "process.columns (with its key column 'id')");
  EXPECT_EQ(Error(Process("    - {table: dataforge.t, columns: [{name: email, path: email}]}\n")),
            "p.yaml:8: output table 'dataforge.t': key_column 'id' is not one of its columns; "
            "add a column 'id' or set key_column");
  EXPECT_EQ(Error(Process("    - table: dataforge.t\n"
                          "      columns:\n"
                          "        - {name: id, path: a}\n"
                          "        - {name: id, path: b}\n")),
            "p.yaml:11: column 'id' of output table 'dataforge.t' is declared twice");
  EXPECT_EQ(Error(Process("    - {table: dataforge.t, colums: [{name: id, path: a}]}\n")),
            "p.yaml:8: unknown key 'colums' in the derived table output 'dataforge.t' (known: "
            "table, key_column, columns, where)");
}

TEST(OutputsReaderTest, DuplicateTablesAndTopics) {
  EXPECT_EQ(Error(Process("    - {table: dataforge.t, columns: [{name: id, path: a}]}\n"
                          "    - {table: dataforge.t, columns: [{name: id, path: b}]}\n")),
            "p.yaml:9: output table 'dataforge.t' is named twice; merge the two outputs or name "
            "another table");
  EXPECT_EQ(Error(Process("    - {topic: users_flat}\n"
                          "    - {topic: users_flat, format: json}\n")),
            "p.yaml:9: output topic 'users_flat' is named twice; keep one");
}

}  // namespace
}  // namespace dataforge
