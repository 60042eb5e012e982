// process.schema (issue 17): mapped rows validated against a schema of the registry in the
// staging database, with real pipeline runs of the `dataforge` binary over a capture file.
//  - JSON Schema and Avro subjects registered by hand: rows that fail are dead letters whose
//    reason names the subject, id, version, path and rule; the rest are stored; exact counts and
//    balance. A missing subject refuses to start (exit 2, one line).
//  - auto_register: the mapping's schema becomes version 1; a run with the same mapping keeps
//    it; an incompatible change to the mapping refuses to start with the registry's 409 verdict,
//    and `config check` reports the same verdict before a run.
//  - `deadletter replay` after a schema fix: --dry-run writes nothing, then each letter is stored
//    once, and one that still fails stays a dead letter with the new schema's reason.
//  - PostgreSQL staging: the registry's tables in PostgreSQL.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"
#include "registry/schema_registry.h"

namespace dataforge::testing {
namespace {

std::string Uuid(int i) {
  return fmt::format("00000000-0000-4000-8000-{:012d}", i);
}
// A person of the capture; `email` "" leaves the field out.
std::string Person(int i, const std::string& email, const std::string& age,
                   const std::string& gender = "female") {
  std::string e = email.empty() ? "" : fmt::format(R"("email":"{}",)", email);
  return fmt::format(R"({{"login":{{"uuid":"{}"}},{}"gender":"{}","dob":{{"age":{}}}}})", Uuid(i),
                     e, gender, age);
}

// The mapping; `email_required` makes the email column required (an incompatible change: rows
// written without it cannot be read).
std::string PipelineYaml(const std::string& capture, const std::string& schema,
                         bool email_required = false) {
  return fmt::format(
      "dags: {{}}\n"
      "source:\n"
      "  url: file://{}\n"
      "process:\n"
      "  table: dataforge.people\n"
      "  key_column: id\n"
      "  schema: {}\n"
      "  columns:\n"
      "    - {{name: id, type: uuid, path: $key, required: true}}\n"
      "    - {{name: email, path: email{}}}\n"
      "    - {{name: gender, path: gender}}\n"
      "    - {{name: age, type: int, path: dob.age, required: true}}\n",
      capture, schema, email_required ? ", required: true" : "");
}

constexpr const char* kJsonSchema =
    R"({"type":"object","properties":{"id":{"type":"string"},)"
    R"("email":{"type":"string","pattern":"@example\\.com$"},"gender":{"type":"string"},)"
    R"("age":{"type":"integer","minimum":%MIN%}},"required":["id","age"]})";

std::string JsonSchema(int minimum) {
  std::string s = kJsonSchema;
  s.replace(s.find("%MIN%"), 5, std::to_string(minimum));
  return s;
}

constexpr const char* kAvroSchema =
    R"({"type":"record","name":"person","fields":[{"name":"id","type":"string"},)"
    R"({"name":"email","type":"string"},)"
    R"({"name":"gender","type":{"type":"enum","name":"Gender","symbols":["female","male"]}},)"
    R"({"name":"age","type":"int"}]})";

// The last line of `text` ("" when there is none).
std::string LastLine(const std::string& text) {
  auto lines = SplitLines(text);
  return lines.empty() ? "" : lines.back();
}

class ProcessSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    capture_ = dir_.Sub("capture.json");
    config_ = dir_.Sub("pipeline.yaml");
    data_ = dir_.Sub("data");
  }
  ProcessResult Df(std::vector<std::string> args, const std::vector<std::string>& extra = {}) {
    args.insert(args.end(), {"--config", config_, "--data-dir", data_});
    args.insert(args.end(), extra.begin(), extra.end());
    return RunDataforge(args, 180000);
  }
  void Capture(const std::string& records) {
    WriteFile(capture_, "{\"results\":[" + records + "]}");
  }
  std::string StagingUrl() const { return "sqlite://" + data_ + "/staging.db"; }
  std::unique_ptr<registry::SchemaRegistry> Registry(const std::string& url) {
    auto r = registry::SchemaRegistry::Open(url, OpenMode::kReadWrite);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  int64_t Register(const std::string& url, const std::string& subject, registry::SchemaType type,
                   const std::string& text) {
    auto registry = Registry(url);
    if (!registry) return -1;
    auto id = registry->Register(subject, registry::SchemaText{type, text, {}});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : -1;
  }
  // process:N of the letter of `uuid` and its reason.
  std::pair<std::string, std::string> Letter(const std::string& uuid,
                                             const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--config", config_};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const auto& l : DeadLetters(data_, args)) {
      if (JsonField(l, "payload.login.uuid") != uuid) continue;
      std::string id = l.substr(l.find("\"id\":") + 5);
      EXPECT_EQ(JsonField(l, "reason_class"), "schema") << l;
      return {"process:" + id.substr(0, id.find(',')), JsonField(l, "reason")};
    }
    ADD_FAILURE() << "no letter of " << uuid;
    return {};
  }
  void ExpectBalance(int64_t fetched, int64_t stored, int64_t dead,
                     const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--config", config_};
    args.insert(args.end(), extra.begin(), extra.end());
    StatusJson s = Status(data_, args);
    EXPECT_EQ(s.fetched, fetched);
    EXPECT_EQ(s.stored, stored);
    EXPECT_EQ(s.dead_lettered, dead);
    EXPECT_EQ(s.store_rows, stored);
  }
  TempDir dir_;
  std::string capture_, config_, data_;
};

TEST_F(ProcessSchemaTest, JsonSchemaDeadLettersFailingRowsAndStoresTheRest) {
  Capture(Person(1, "a@example.com", "30") + "," + Person(2, "b@example.com", "12") + "," +
          Person(3, "c@other.org", "40") + "," + Person(4, "", "50") + "," +
          Person(5, "e@example.com", "\"61\""));
  WriteFile(config_, PipelineYaml(capture_, "{subject: users-row, type: json}"));
  // No subject yet: refused before anything is fetched, one line naming it and the fix.
  auto r = Df({"run", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, fmt::format("dataforge: process.schema ({}:7): subject 'users-row' has no "
                               "schema in the registry (40401 Subject 'users-row' not found.): "
                               "register one (POST /registry/subjects/users-row/versions) or set "
                               "process.schema.auto_register: true to register the mapping's own\n",
                               config_));
  const int64_t id =
      Register(StagingUrl(), "users-row", registry::SchemaType::kJson, JsonSchema(18));
  ASSERT_GT(id, 0);
  r = Df({"config", "check", config_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, fmt::format("{}: ok (4 columns into dataforge.people, topic users_created with "
                               "4 partitions)\nprocess.schema: rows are validated against "
                               "version 1 (id {}) of subject 'users-row' (JSON)\n",
                               config_, id));
  r = Df({"run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 2 is under the minimum, 3's email does not match; 4 has no email (optional); 5's "61" is
  // cast to 61 by the mapping before validation.
  ExpectBalance(5, 3, 2);
  EXPECT_EQ(Letter(Uuid(2)).second,
            fmt::format("schema users-row id {} v1: /age: minimum: expected number greater than or "
                        "equal to 18.000000, got integer 12",
                        id));
  EXPECT_EQ(
      Letter(Uuid(3)).second,
      fmt::format("schema users-row id {} v1: /email: pattern: failed to match regex specified "
                  "by 'pattern' constraint, got string \"c@other.org\"",
                  id));
  EXPECT_EQ(ScanIds(data_, {"--config", config_}),
            (std::vector<std::string>{Uuid(1), Uuid(4), Uuid(5)}));
  auto list = Df({"deadletter", "list", "--reason", "schema"});
  EXPECT_EQ(SplitLines(list.out).size(), 2u) << list.out;
}

TEST_F(ProcessSchemaTest, AvroSchemaDeadLettersFailingRowsAndStoresTheRest) {
  Capture(Person(1, "a@example.com", "30") + "," + Person(2, "b@example.com", "31", "other") + "," +
          Person(3, "", "40") + "," + Person(4, "d@example.com", "50", "male"));
  WriteFile(config_, PipelineYaml(capture_, "{subject: people-avro, type: avro}"));
  ASSERT_EQ(Df({"run", "--no-progress"}).exit_code, 2);  // creates the staging database
  const int64_t id =
      Register(StagingUrl(), "people-avro", registry::SchemaType::kAvro, kAvroSchema);
  ASSERT_GT(id, 0);
  // Declared json but the subject holds Avro: refused, naming the fix.
  WriteFile(config_, PipelineYaml(capture_, "{subject: people-avro, type: json}"));
  auto r = Df({"run", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, fmt::format("dataforge: process.schema ({}:7): version 1 of subject "
                               "'people-avro' is an AVRO schema and process.schema.type is json: "
                               "set type: avro\n",
                               config_));
  WriteFile(config_, PipelineYaml(capture_, "{subject: people-avro, type: avro}"));
  r = Df({"run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectBalance(4, 2, 2);
  EXPECT_EQ(
      Letter(Uuid(2)).second,
      fmt::format("schema people-avro id {} v1: /gender: enum: \"other\" is not a symbol of enum "
                  "Gender",
                  id));
  EXPECT_EQ(
      Letter(Uuid(3)).second,
      fmt::format("schema people-avro id {} v1: /email: missing field: field \"email\" of record "
                  "person is missing and has no default",
                  id));
  EXPECT_EQ(ScanIds(data_, {"--config", config_}), (std::vector<std::string>{Uuid(1), Uuid(4)}));
}

TEST_F(ProcessSchemaTest, AutoRegisterCreatesVersionOneAndRefusesAnIncompatibleMapping) {
  const std::string schema = "{subject: users-row, type: avro, auto_register: true}";
  Capture(Person(1, "a@example.com", "30") + "," + Person(2, "b@example.com", "31"));
  WriteFile(config_, PipelineYaml(capture_, schema));
  // Before any run: an empty registry.
  auto r = Df({"config", "check", config_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastLine(r.out),
            "process.schema: subject 'users-row' has no schema yet: the run registers the "
            "mapping's Avro schema as its version 1");
  r = Df({"run", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectBalance(2, 2, 0);
  auto registry = Registry(StagingUrl());
  ASSERT_TRUE(registry);
  auto versions = registry->Versions("users-row", false);
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  EXPECT_EQ(*versions, std::vector<int32_t>{1});
  auto v1 = registry->Version("users-row", 1, false);
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->schema.type, registry::SchemaType::kAvro);
  EXPECT_EQ(v1->schema.schema,
            R"({"type":"record","name":"people","namespace":"dataforge","fields":[)"
            R"({"name":"id","type":{"type":"string","logicalType":"uuid"}},)"
            R"({"name":"email","type":["null","string"],"default":null},)"
            R"({"name":"gender","type":["null","string"],"default":null},)"
            R"({"name":"age","type":"int"}]})");
  registry.reset();
  r = Df({"config", "check", config_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastLine(r.out),
            fmt::format("process.schema: the mapping's Avro schema is version 1 (id {}) of "
                        "subject 'users-row'",
                        v1->id));
  // The same mapping again: no new version.
  ASSERT_EQ(Df({"run", "--no-progress"}).exit_code, 0);
  registry = Registry(StagingUrl());
  EXPECT_EQ(*registry->Versions("users-row", false), std::vector<int32_t>{1});
  registry.reset();

  // email required: a reader without null in email cannot read the rows written with null (not
  // backward compatible). config check and run give the same verdict, exit 2, and nothing is
  // registered or fetched.
  WriteFile(config_, PipelineYaml(capture_, schema, /*email_required=*/true));
  const std::string verdict = fmt::format(
      "dataforge: process.schema ({}:7): the registry refuses the mapping's Avro schema under "
      "subject 'users-row' (409 incompatible with version 1, compatibility BACKWARD): "
      "{{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/1/type') of a field in "
      "the reader schema does not match with the writer schema', additionalInfo:'reader type: "
      "STRING not compatible with writer type: NULL'}}; {{validateFields: 'false', "
      "compatibility: 'BACKWARD'}}; change the mapping back, or register the change under a new "
      "subject (process.schema.subject)\n",
      config_);
  auto check = Df({"config", "check", config_});
  EXPECT_EQ(check.exit_code, 2);
  EXPECT_EQ(check.err, verdict);
  r = Df({"run", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, verdict);
  ExpectBalance(2, 2, 0);
  registry = Registry(StagingUrl());
  EXPECT_EQ(*registry->Versions("users-row", false), std::vector<int32_t>{1});
}

// JSON Schema with auto_register: the generated schema is a closed object, so a new optional
// column is a compatible new version; making a column required is refused with the 409 verdict.
TEST_F(ProcessSchemaTest, JsonAutoRegisterAddsAVersionForANewColumnAndRefusesARequiredOne) {
  const std::string schema = "{subject: users-row, type: json, auto_register: true}";
  Capture(Person(1, "a@example.com", "30"));
  WriteFile(config_, PipelineYaml(capture_, schema));
  ASSERT_EQ(Df({"run", "--no-progress"}).exit_code, 0);
  std::string yaml = PipelineYaml(capture_, schema);
  WriteFile(config_, yaml + "    - {name: nick, path: login.username}\n");
  auto r = Df({"config", "check", config_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastLine(r.out),
            "process.schema: the mapping's JSON schema is compatible with version 1 of subject "
            "'users-row': the run registers it as version 2");
  ASSERT_EQ(Df({"run", "--no-progress"}).exit_code, 0);
  auto registry = Registry(StagingUrl());
  ASSERT_TRUE(registry);
  EXPECT_EQ(*registry->Versions("users-row", false), (std::vector<int32_t>{1, 2}));
  registry.reset();
  WriteFile(config_, PipelineYaml(capture_, schema, /*email_required=*/true) +
                         "    - {name: nick, path: login.username}\n");
  r = Df({"run", "--no-progress"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            fmt::format(
                "dataforge: process.schema ({}:7): the registry refuses the mapping's JSON schema "
                "under subject 'users-row' (409 incompatible with version 2, compatibility "
                "BACKWARD): {{errorType:\"REQUIRED_ATTRIBUTE_ADDED\", description:\"The keyword "
                "at path '#/required/email' in the new schema is not present in the old "
                "schema\"}}; {{errorType:\"TYPE_CHANGED\", description:\"A type at path "
                "'#/properties/email' is different between the new schema and the old "
                "schema\"}}; {{validateFields: 'false', compatibility: 'BACKWARD'}}; change the "
                "mapping back, or register the change under a new subject "
                "(process.schema.subject)\n",
                config_));
  EXPECT_EQ(Df({"config", "check", config_}).err, r.err);
  ExpectBalance(1, 1, 0);
}

TEST_F(ProcessSchemaTest, ReplayAfterASchemaFixStoresTheLettersOnce) {
  Capture(Person(1, "a@example.com", "30") + "," + Person(2, "b@example.com", "12") + "," +
          Person(3, "c@example.com", "5"));
  WriteFile(config_, PipelineYaml(capture_, "{subject: users-row, type: json}"));
  ASSERT_EQ(Df({"run", "--no-progress"}).exit_code, 2);
  const int64_t v1 =
      Register(StagingUrl(), "users-row", registry::SchemaType::kJson, JsonSchema(18));
  ASSERT_EQ(Df({"run", "--no-progress"}).exit_code, 0);
  ExpectBalance(3, 1, 2);
  auto [two, two_reason] = Letter(Uuid(2));
  auto [three, three_reason] = Letter(Uuid(3));
  EXPECT_TRUE(two_reason.starts_with(fmt::format("schema users-row id {} v1: /age: minimum: ", v1)))
      << two_reason;
  // The fix: version 2 lowers the minimum to 10 (backward compatible).
  const int64_t v2 =
      Register(StagingUrl(), "users-row", registry::SchemaType::kJson, JsonSchema(10));
  ASSERT_GT(v2, v1);
  // A dry run says what would happen and writes nothing.
  auto r = Df({"deadletter", "replay", "--all", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string would_store = fmt::format("{}: would be stored key {}\n", two, Uuid(2));
  std::string would_stay = fmt::format(
      "{}: would be dead-lettered again: schema users-row id {} v2: /age: minimum: expected "
      "number greater than or equal to 10.000000, got integer 5\n",
      three, v2);
  // --all replays the oldest letter first.
  EXPECT_EQ(r.out,
            (std::stoi(two.substr(8)) < std::stoi(three.substr(8)) ? would_store + would_stay
                                                                   : would_stay + would_store) +
                "dry run, nothing written: would store 1, would dead-letter again 1, "
                "refused 0 (of 2 letters)\n");
  ExpectBalance(3, 1, 2);
  for (const auto& l : DeadLetters(data_, {"--config", config_})) {
    EXPECT_NE(l.find("\"replay\":null"), std::string::npos) << l;
  }
  // --stage: a process letter is not a source letter.
  r = Df({"deadletter", "replay", "--stage", "source", "--ids", two});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, fmt::format("dataforge: --stage source: {} is not a source letter\n", two));
  // The replay: 2 is stored once, 3 stays a dead letter with version 2's reason.
  r = Df({"deadletter", "replay", "--stage", "process", "--ids", two + "," + three});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(
      r.out,
      fmt::format("{}: stored key {}\n"
                  "{}: dead-lettered again: schema users-row id {} v2: /age: "
                  "minimum: expected number greater than or equal to 10.000000, got integer 5\n"
                  "stored 1, dead-lettered again 1, refused 0 (of 2 letters)\n",
                  two, Uuid(2), three, v2));
  ExpectBalance(3, 2, 1);
  EXPECT_EQ(ScanIds(data_, {"--config", config_}), (std::vector<std::string>{Uuid(1), Uuid(2)}));
  // Again: only 3 is left to replay; 2 is refused by id.
  r = Df({"deadletter", "replay", two});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.starts_with(two + ": refused: already replayed at ")) << r.out;
  r = Df({"deadletter", "replay", "--all"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(LastLine(r.out), "stored 0, dead-lettered again 1, refused 0 (of 1 letter)");
  ExpectBalance(3, 2, 1);
}

TEST_F(ProcessSchemaTest, PostgresStagingKeepsTheRegistryInPostgres) {
  PostgresServer pg;
  const std::vector<std::string> staging = {"--staging", pg.Url()};
  Capture(Person(1, "a@example.com", "30") + "," + Person(2, "b@example.com", "12") + "," +
          Person(3, "c@example.com", "40"));
  WriteFile(config_, PipelineYaml(capture_, "{subject: users-row, type: json}"));
  const int64_t id = Register(pg.Url(), "users-row", registry::SchemaType::kJson, JsonSchema(18));
  ASSERT_GT(id, 0);
  auto r = Df({"run", "--no-progress"}, staging);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectBalance(3, 2, 1, staging);
  EXPECT_EQ(Letter(Uuid(2), staging).second,
            fmt::format("schema users-row id {} v1: /age: minimum: expected number greater than or "
                        "equal to 18.000000, got integer 12",
                        id));
  // The subject's version is a row of PostgreSQL's registry tables.
  EXPECT_EQ(pg.Psql("SELECT subject || ' v' || version || ' id ' || schema_id FROM "
                    "dataforge.registry_versions"),
            fmt::format("users-row v1 id {}", id));
}

}  // namespace
}  // namespace dataforge::testing
