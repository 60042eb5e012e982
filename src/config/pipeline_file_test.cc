#include "config/pipeline_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "config/env_interpolation.h"

namespace dataforge {
namespace {

TEST(PipelineFileTest, DefaultHasTheSeedMapping) {
  PipelineConfig c = DefaultPipelineConfig();
  EXPECT_EQ(c.source.results_per_page, 500);
  EXPECT_EQ(c.log.topic, "users_created");
  EXPECT_EQ(c.process.table, "dataforge.created_users");
  ASSERT_EQ(c.process.columns.size(), 12u);
  EXPECT_EQ(c.process.columns[0].name, "id");
  EXPECT_EQ(c.process.columns[0].type, "uuid");
  EXPECT_EQ(c.process.columns[0].paths, std::vector<std::string>{"$key"});
  EXPECT_TRUE(c.process.columns[0].required);
  EXPECT_EQ(c.process.columns[4].name, "address");
  ASSERT_EQ(c.process.columns[4].templates.size(), 3u);
  EXPECT_EQ(c.process.columns[4].templates[0],
            "{location.street.number} {location.street.name}, {location.city}, "
            "{location.state}, {location.country}");
  EXPECT_EQ(c.process.columns[8].paths, (std::vector<std::string>{"dob.date", "dob"}));
  EXPECT_EQ(c.process.columns[11].paths, std::vector<std::string>{"picture.medium"});
}

TEST(PipelineFileTest, OverridesKeepOtherDefaults) {
  auto c =
      ParsePipelineConfig("source:\n  url: file:///tmp/x.json\nlog:\n  partitions: 2\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source.url, "file:///tmp/x.json");
  EXPECT_EQ(c->log.partitions, 2);
  EXPECT_EQ(c->log.topic, "users_created");
  EXPECT_EQ(c->process.columns.size(), 12u);
}

// README: "A pipeline file overrides only what it names" holds for `dags:` too (issue 22 §5).
TEST(PipelineFileTest, DagsKeepTheDefaultUnlessTheFileNamesThem) {
  auto kept = ParsePipelineConfig("source:\n  results_per_page: 100\n", "p.yaml");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ASSERT_EQ(kept->dags.size(), 1u);
  EXPECT_EQ(kept->dags[0].id, "user_automation");

  auto none = ParsePipelineConfig("dags: {}\n", "p.yaml");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->dags.empty());
  auto empty = ParsePipelineConfig("dags:\n", "p.yaml");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->dags.empty());

  auto own = ParsePipelineConfig(
      "dags:\n  mine:\n    start_date: 2026-01-01\n    tasks:\n      - {id: t, type: shell, "
      "command: 'true'}\n",
      "p.yaml");
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  ASSERT_EQ(own->dags.size(), 1u);
  EXPECT_EQ(own->dags[0].id, "mine");

  // The built-in DAG ingests from an http source: a CDC pipeline does not inherit it.
  auto cdc = ParsePipelineConfig(
      "source: {type: postgres_cdc, url: 'postgresql://u@h/db', tables: [public.a]}\n", "p.yaml");
  ASSERT_TRUE(cdc.ok()) << cdc.status().ToString();
  EXPECT_TRUE(cdc->dags.empty());
}

TEST(PipelineFileTest, UnknownKeyNamesTheLine) {
  auto c = ParsePipelineConfig("source:\n  url: x\n  reslts_per_page: 3\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(c.status().message().substr(0, 52),
            "p.yaml:3: unknown key 'reslts_per_page' in 'source' ");
}

TEST(PipelineFileTest, BadNumberNamesTheLineAndRange) {
  auto c = ParsePipelineConfig("log:\n  topic: t\n  partitions: 0\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "p.yaml:3: 'partitions' is 0; it must be between 1 and 1024");
  c = ParsePipelineConfig("tuning:\n  batch_records: lots\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "p.yaml:2: 'batch_records' must be a number, not 'lots'");
}

TEST(PipelineFileTest, MaxInFlightBatchesIsReadAndCheckedAndZeroTurnsItOff) {
  EXPECT_EQ(DefaultPipelineConfig().tuning.max_in_flight_batches, 2);
  auto c = ParsePipelineConfig("tuning:\n  max_in_flight_batches: 0\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tuning.max_in_flight_batches, 0);
  c = ParsePipelineConfig("tuning:\n  batch_records: 10\n  max_in_flight_batches: -1\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:3: 'max_in_flight_batches' is -1; it must be between 0 and 1000");
}

// Found by tests/fuzz/pipeline_yaml_fuzz (corpus/pipeline_yaml/crash_error_newline): errors
// quote the file (a value; yaml-cpp's "unknown escape character: <it>"), and a newline or tab
// in the quoted text made the error more than one line.
TEST(PipelineFileTest, ErrorsQuotingTheFileStayOnOneLine) {
  auto c = ParsePipelineConfig("log:\n  partitions: \"1\\n2\"\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "p.yaml:2: 'partitions' must be a number, not '1\\n2'");
  c = ParsePipelineConfig(std::string("lo:'\0\n\tp\n", 9), "p.yaml");  // the reproducer
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "p.yaml:2: not valid YAML: unknown escape character: \\n");
}

TEST(PipelineFileTest, InvalidYamlNamesTheLine) {
  auto c = ParsePipelineConfig("source:\n  url: [unclosed\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind("p.yaml:", 0), 0u);
  EXPECT_NE(c.status().message().find("not valid YAML"), std::string::npos);
}

TEST(PipelineFileTest, BadColumnType) {
  auto c = ParsePipelineConfig(
      "process:\n  columns:\n    - {name: id, path: $key}\n    - {name: x, type: varchar, "
      "path: a}\n",
      "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:4: 'type' is 'varchar'; it must be one of: text, uuid, int, bigint, double, "
            "boolean, timestamp, decimal");
}

TEST(PipelineFileTest, KeyColumnMustExist) {
  auto c = ParsePipelineConfig("process:\n  key_column: uid\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "p.yaml:2: key_column 'uid' is not one of the columns");
}

TEST(PipelineFileTest, EnvInterpolation) {
  setenv("DF_TEST_SEED", "abc", 1);
  unsetenv("DF_TEST_MISSING");
  auto c = ParsePipelineConfig("source:\n  seed: ${DF_TEST_SEED}-${DF_TEST_MISSING:-x}\n", "p");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source.seed, "abc-x");
  c = ParsePipelineConfig("source:\n  seed: ${DF_TEST_MISSING}\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:2: environment variable DF_TEST_MISSING is not set (export it, or write "
            "${DF_TEST_MISSING:-default})");
  EXPECT_EQ(InterpolateEnv("a$$b$c").value(), "a$b$c");
}

TEST(PipelineFileTest, ShowRoundTrips) {
  PipelineConfig c = DefaultPipelineConfig();
  c.source.seed = "s1";
  c.log.partitions = 3;
  std::string yaml = PipelineConfigToYaml(c);
  auto back = ParsePipelineConfig(yaml, "shown.yaml");
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << yaml;
  EXPECT_EQ(PipelineConfigToYaml(*back), yaml);
  EXPECT_EQ(back->source.seed, "s1");
  EXPECT_EQ(back->log.partitions, 3);
  EXPECT_EQ(back->process.columns[4].templates, c.process.columns[4].templates);
}

TEST(PipelineFileTest, RetentionForceIsOffByDefaultAndShown) {
  EXPECT_FALSE(DefaultPipelineConfig().log.retention_force);
  auto c =
      ParsePipelineConfig("log:\n  retention_bytes: 1000000\n  retention_force: true\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->log.retention_force);
  EXPECT_NE(PipelineConfigToYaml(*c).find("retention_force: true"), std::string::npos);
  auto bad = ParsePipelineConfig("log:\n  retention_force: maybe\n", "p.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "p.yaml:2: 'retention_force' must be true or false, not 'maybe'");
}

TEST(PipelineFileTest, MissingFile) {
  auto c = LoadPipelineConfig("/nonexistent/p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(c.status().message(),
            "/nonexistent/p.yaml: cannot read the pipeline file: No such file or directory");
}

}  // namespace
}  // namespace dataforge

namespace dataforge {
namespace {

TEST(PipelineFileCdcTest, PostgresCdcNeedsAUrlAndTables) {
  auto c =
      ParsePipelineConfig("source:\n  type: postgres_cdc\n  url: postgresql://h/db\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:2: a postgres_cdc source needs 'tables': the tables to stream, e.g. "
            "[public.accounts]");
  c = ParsePipelineConfig("source:\n  type: postgres_cdc\n  tables: [a]\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:2: a postgres_cdc source needs 'url: "
            "postgresql://user:password@host:port/db'");
  c = ParsePipelineConfig("source:\n  type: kafka\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:2: 'type' is 'kafka'; it must be one of: http, postgres_cdc");
  c = ParsePipelineConfig(
      "source:\n  type: postgres_cdc\n  url: postgresql://u:pw@h/db\n  tables: [a, s.b]\n"
      "process:\n  delete_when: {path: op, equals: delete}\n",
      "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source.tables, (std::vector<std::string>{"a", "s.b"}));
  EXPECT_EQ(c->process.delete_path, "op");
  EXPECT_EQ(c->process.delete_value, "delete");
  // `config show` keeps the password out and round-trips the rest.
  std::string yaml = PipelineConfigToYaml(*c);
  EXPECT_NE(yaml.find("postgresql://u:***@h/db"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("pw"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("delete_when: {path: op, equals: delete}"), std::string::npos) << yaml;
}

TEST(PipelineFileCdcTest, KeyColumnsPerTable) {
  const std::string head =
      "source:\n  type: postgres_cdc\n  url: postgresql://h/db\n  tables: [a, s.b]\n";
  auto c = ParsePipelineConfig(head + "  key_columns: {a: [id], s.b: [x, y]}\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  using Keys = std::vector<std::pair<std::string, std::vector<std::string>>>;
  EXPECT_EQ(c->source.key_columns, (Keys{{"public.a", {"id"}}, {"s.b", {"x", "y"}}}));
  EXPECT_NE(PipelineConfigToYaml(*c).find("key_columns:\n    public.a: [id]\n    s.b: [x, y]"),
            std::string::npos)
      << PipelineConfigToYaml(*c);
  c = ParsePipelineConfig(head + "  key_columns: {a: id}\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source.key_columns, (Keys{{"public.a", {"id"}}}));

  c = ParsePipelineConfig(head + "  key_columns: {c: [id]}\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:5: key_columns names public.c, which is not one of 'tables' (a, s.b)");
  c = ParsePipelineConfig(head + "  key_columns: {a: []}\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:5: key_columns of public.a must name at least one column, e.g. "
            "{public.a: [id]}");
  c = ParsePipelineConfig(head + "  key_columns: [id]\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:5: 'key_columns' must be a mapping of table: [columns], e.g. "
            "{public.accounts: [id]}");
}

// The store key column is the table column its path reads (data.<col>); any other path, or
// several, or a template, derives nothing.
TEST(PipelineFileCdcTest, StoreKeyColumnComesFromTheProcessKeyPath) {
  const std::string head =
      "source:\n  type: postgres_cdc\n  url: postgresql://h/db\n  tables: [a]\n"
      "process:\n  key_column: k\n  columns:\n    - ";
  struct Case {
    std::string column;
    std::string want;
  };
  for (const Case& c :
       {Case{"{name: k, path: data.id}", "id"}, Case{"{name: k, path: data.order_no}", "order_no"},
        Case{"{name: k, path: [data.id, data.uuid]}", ""}, Case{"{name: k, path: data.id.x}", ""},
        Case{"{name: k, path: id}", ""}, Case{"{name: k, path: $key}", ""},
        Case{"{name: k, template: \"{data.id}\"}", ""}}) {
    auto p = ParsePipelineConfig(head + c.column + "\n", "p.yaml");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->source.store_key_column, c.want) << c.column;
  }
}

TEST(PipelineFileCdcTest, SnapshotIsInitialOrNever) {
  std::string base = "source:\n  type: postgres_cdc\n  url: postgresql://h/db\n  tables: [a]\n";
  auto c = ParsePipelineConfig(base, "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source.snapshot, "initial");
  EXPECT_NE(PipelineConfigToYaml(*c).find("snapshot: initial"), std::string::npos);
  c = ParsePipelineConfig(base + "  snapshot: never\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source.snapshot, "never");
  EXPECT_NE(PipelineConfigToYaml(*c).find("snapshot: never"), std::string::npos);
  c = ParsePipelineConfig(base + "  snapshot: always\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:5: 'snapshot' is 'always'; it must be one of: initial, never");
}

TEST(PipelineFileCdcTest, DeleteWhenMustBeAMap) {
  auto c = ParsePipelineConfig("process:\n  delete_when: op\n", "p.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "p.yaml:2: 'process.delete_when' must be {path: FIELD, equals: VALUE}");
}

// process.schema (issue 17): read, defaults, line-numbered errors, and `config show`.
TEST(PipelineFileSchemaTest, ReadsProcessSchema) {
  auto c = ParsePipelineConfig(
      "process:\n  schema: {subject: users-row, type: avro, auto_register: true}\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->process.schema.subject, "users-row");
  EXPECT_EQ(c->process.schema.type, "avro");
  EXPECT_TRUE(c->process.schema.auto_register);
  EXPECT_EQ(c->process.schema.line, 2);
  EXPECT_NE(PipelineConfigToYaml(*c).find(
                "schema: {subject: users-row, type: avro, auto_register: true}"),
            std::string::npos);
  c = ParsePipelineConfig("process:\n  schema: {subject: s}\n", "p.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->process.schema.type, "json");
  EXPECT_FALSE(c->process.schema.auto_register);
  EXPECT_TRUE(DefaultPipelineConfig().process.schema.subject.empty());
  EXPECT_EQ(PipelineConfigToYaml(DefaultPipelineConfig()).find("schema:"), std::string::npos);
}

TEST(PipelineFileSchemaTest, ErrorsNameTheLine) {
  auto error = [](const std::string& yaml) {
    auto c = ParsePipelineConfig(yaml, "p.yaml");
    return c.ok() ? std::string("ok") : c.status().message();
  };
  EXPECT_EQ(error("process:\n  group: g\n  schema: users-row\n"),
            "p.yaml:3: 'process.schema' must be {subject: NAME, type: json|avro, auto_register: "
            "true|false}");
  EXPECT_EQ(error("process:\n  schema:\n    subject: s\n    type: protobuf\n"),
            "p.yaml:4: 'type' is 'protobuf'; it must be one of: json, avro");
  EXPECT_EQ(error("process:\n  schema: {type: json}\n"),
            "p.yaml:2: 'process.schema.subject' must name the registry subject the rows are "
            "validated against (e.g. subject: users-row)");
  EXPECT_EQ(error("process:\n  schema: {subject: s, auto_register: maybe}\n").substr(0, 9),
            "p.yaml:2:");
}

}  // namespace
}  // namespace dataforge
