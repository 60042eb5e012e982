// log.format confluent-json / confluent-avro end to end on the embedded stages (docs/pipeline-
// file.md "log.format"): the built-in API -> SQLite staging (and its schema registry) -> the
// embedded log in Confluent's wire format -> the processor decoding by schema id -> RocksDB.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/clock.h"
#include "config/pipeline_file.h"
#include "log/log.h"
#include "pipeline/data_dir.h"
#include "pipeline/dead_letter_replay.h"
#include "pipeline/pipeline.h"
#include "process/wire_decoder.h"
#include "registry/schema_registry.h"
#include "registry/wire_format.h"
#include "staging/staging.h"
#include "store/store.h"

namespace dataforge {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kFormatRecords = 600;
const std::string kSubject = "users-value";
const std::string kTable = "dataforge.created_users";

class LogFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            fmt::format("log_format_test_{}_{}", ::getpid(),
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // The default pipeline with a fixed seed, small pages, and `format` (subject users-value).
  PipelineConfig Config(LogConfig::Format format, const std::string& schema_file = "") {
    PipelineConfig c = DefaultPipelineConfig();
    c.source.seed = "log-format-test";
    c.source.results_per_page = 200;
    c.tuning.batch_records = 100;
    c.dags.clear();
    c.log.format = format;
    if (format != LogConfig::Format::kJson) c.log.subject = kSubject;
    c.log.schema_file = schema_file;
    return c;
  }

  // Runs `config` on data dir `name` for `max_records` fetched records; the run's summary.
  RunSummary Run(const PipelineConfig& config, const std::string& name, uint64_t max_records) {
    RunOptions o;
    o.data_dir = (root_ / name).string();
    o.max_records = max_records;
    auto p = Pipeline::Open(config, o, Clock::Real());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return {};
    auto s = (*p)->Run();
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : RunSummary{};
  }

  ResolvedUrls Urls(const PipelineConfig& config, const std::string& name) {
    return ResolveUrls(config, (root_ / name).string());
  }

  // Every row of the output table, key -> row JSON.
  std::map<std::string, std::string> Rows(const PipelineConfig& config, const std::string& name,
                                          const std::string& table = kTable) {
    std::map<std::string, std::string> rows;
    auto store =
        OpenStore(Urls(config, name).store, OpenMode::kReadOnly, StoreOptionsFor(config.store));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return rows;
    Status s = (*store)->Scan(table, "", 0, [&](const std::string& k, const std::string& v) {
      rows[k] = v;
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rows;
  }

  std::vector<StoredDeadLetter> StoreLetters(const PipelineConfig& config,
                                             const std::string& name) {
    std::vector<StoredDeadLetter> out;
    auto store =
        OpenStore(Urls(config, name).store, OpenMode::kReadOnly, StoreOptionsFor(config.store));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (store.ok()) {
      EXPECT_TRUE((*store)->ListDeadLetters(0, 0, &out).ok());
    }
    return out;
  }

  // Every record of the topic, partition by partition.
  std::vector<ConsumedRecord> LogRecords(const PipelineConfig& config, const std::string& name) {
    std::vector<ConsumedRecord> all;
    auto log = OpenLog(Urls(config, name).log, OpenMode::kReadOnly, LogOptionsFor(config.log));
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return all;
    for (int32_t p = 0; p < config.log.partitions; ++p) {
      int64_t next = 0;
      while (true) {
        std::vector<ConsumedRecord> chunk;
        EXPECT_TRUE((*log)->Read(config.log.topic, p, next, 1000, &chunk).ok());
        if (chunk.empty()) break;
        next = chunk.back().offset + 1;
        for (auto& c : chunk) all.push_back(std::move(c));
      }
    }
    return all;
  }

  // The id of the subject's latest version in the data dir's registry.
  int64_t RegisteredId(const PipelineConfig& config, const std::string& name) {
    auto registry = registry::SchemaRegistry::Open(Urls(config, name).staging, OpenMode::kReadOnly);
    EXPECT_TRUE(registry.ok()) << registry.status().ToString();
    if (!registry.ok()) return -1;
    auto v = (*registry)->Version(kSubject, std::nullopt, false);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->id : -1;
  }

  std::string AvroSchemaFile() const {
    return (fs::path(test_paths::kSourceDir) / "pipelines/schemas/randomuser.avsc").string();
  }

  fs::path root_;
};

void ExpectExact(const RunSummary& s, uint64_t fetched, uint64_t stored, uint64_t dead) {
  EXPECT_EQ(s.total.fetched, fetched);
  EXPECT_EQ(s.total.stored, stored);
  EXPECT_EQ(s.total.dead_lettered, dead);
  EXPECT_EQ(s.total.lost, 0u);
  EXPECT_EQ(s.in_flight, 0u);
}

// Every record in the log starts with magic byte 0 and `id`, and no record is JSON text.
void ExpectWireRecords(const std::vector<ConsumedRecord>& records, int64_t id) {
  for (const auto& c : records) {
    auto wire = registry::ParseWireRecord(c.record.value);
    ASSERT_TRUE(wire.has_value()) << c.partition << "@" << c.offset;
    EXPECT_EQ(wire->schema_id, id) << c.partition << "@" << c.offset;
  }
}

TEST_F(LogFormatTest, ConfluentAvroAndJsonStoreTheSameRowsAsJson) {
  PipelineConfig json = Config(LogConfig::Format::kJson);
  ExpectExact(Run(json, "json", kFormatRecords), kFormatRecords, kFormatRecords, 0);
  auto json_rows = Rows(json, "json");
  ASSERT_EQ(json_rows.size(), kFormatRecords);
  for (const auto& c : LogRecords(json, "json")) ASSERT_EQ(c.record.value[0], '{');

  PipelineConfig avro = Config(LogConfig::Format::kConfluentAvro, AvroSchemaFile());
  ExpectExact(Run(avro, "avro", kFormatRecords), kFormatRecords, kFormatRecords, 0);
  int64_t avro_id = RegisteredId(avro, "avro");
  EXPECT_EQ(avro_id, 1);  // the first schema of a new registry
  auto avro_log = LogRecords(avro, "avro");
  ASSERT_EQ(avro_log.size(), kFormatRecords);
  ExpectWireRecords(avro_log, avro_id);
  EXPECT_EQ(Rows(avro, "avro"), json_rows);

  // confluent-json without a schema: the permissive {"type":"object"} is registered.
  PipelineConfig cjson = Config(LogConfig::Format::kConfluentJson);
  ExpectExact(Run(cjson, "cjson", kFormatRecords), kFormatRecords, kFormatRecords, 0);
  int64_t json_id = RegisteredId(cjson, "cjson");
  EXPECT_EQ(json_id, 1);
  auto cjson_log = LogRecords(cjson, "cjson");
  ASSERT_EQ(cjson_log.size(), kFormatRecords);
  ExpectWireRecords(cjson_log, json_id);
  // The payload is the staged JSON text itself.
  auto json_log = LogRecords(json, "json");
  std::map<std::string, std::string> json_values;
  for (const auto& c : json_log) json_values[c.record.key] = c.record.value;
  for (const auto& c : cjson_log) {
    EXPECT_EQ(c.record.value.substr(registry::kWireHeaderBytes), json_values[c.record.key]);
  }
  EXPECT_EQ(Rows(cjson, "cjson"), json_rows);
}

// A derived table (process.outputs) maps the JSON the main mapping read, so over a
// confluent-avro log it holds the same rows as over a json log.
TEST_F(LogFormatTest, DerivedTablesOverAConfluentLogEqualTheJsonLogs) {
  auto with_output = [](PipelineConfig c) {
    OutputSpec o;
    o.table = "dataforge.by_gender";
    o.line = 1;
    ColumnSpec id;
    id.name = "id";
    id.type = "uuid";
    id.paths = {"$key"};
    id.required = true;
    ColumnSpec gender;
    gender.name = "gender";
    gender.paths = {"gender"};
    gender.required = true;
    ColumnSpec city;
    city.name = "city";
    city.paths = {"location.city"};
    o.columns = {id, gender, city};
    c.process.outputs = {o};
    return c;
  };
  PipelineConfig json = with_output(Config(LogConfig::Format::kJson));
  ExpectExact(Run(json, "json", 300), 300, 300, 0);
  auto json_rows = Rows(json, "json", "dataforge.by_gender");
  ASSERT_EQ(json_rows.size(), 300u);
  PipelineConfig avro = with_output(Config(LogConfig::Format::kConfluentAvro, AvroSchemaFile()));
  ExpectExact(Run(avro, "avro", 300), 300, 300, 0);
  EXPECT_EQ(Rows(avro, "avro", "dataforge.by_gender"), json_rows);
  EXPECT_TRUE(StoreLetters(avro, "avro").empty());
  const std::string& any = json_rows.begin()->second;
  EXPECT_NE(any.find(R"("gender":")"), std::string::npos) << any;
  EXPECT_NE(any.find(R"("city":")"), std::string::npos) << any;
}

TEST_F(LogFormatTest, UndecodableLogRecordsAreDeadLetteredWithTheirReason) {
  PipelineConfig avro = Config(LogConfig::Format::kConfluentAvro, AvroSchemaFile());
  ExpectExact(Run(avro, "avro", 200), 200, 200, 0);
  int64_t id = RegisteredId(avro, "avro");
  ASSERT_EQ(id, 1);
  // Records appended to the log directly, as another producer could: an unknown id, a payload
  // the schema cannot read, no wire header.
  {
    auto log = OpenLog(Urls(avro, "avro").log, OpenMode::kReadWrite, LogOptionsFor(avro.log));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    std::vector<LogRecord> records(3);
    registry::AppendWireHeader(4242, &records[0].value);
    records[0].value += "\x02x";
    registry::AppendWireHeader(id, &records[1].value);
    records[1].value += "\x08\x06\x02";  // a string of 4 bytes where 3 are left
    records[2].value = R"({"gender":"male"})";
    for (size_t i = 0; i < records.size(); ++i) {
      records[i].key = fmt::format("00000000-0000-4000-8000-00000000000{}", i);
      records[i].timestamp_us = Clock::Real()->NowMicros();
      // Another producer's records (the relay resumes by its own origin's last seq).
      records[i].headers = {{"seq", std::to_string(i + 1)}, {"origin", "another-producer"}};
    }
    ASSERT_TRUE((*log)->Append(avro.log.topic, 0, records).ok());
  }
  RunSummary s = Run(avro, "avro", 1);  // one more fetched record: the run drains the log
  EXPECT_EQ(s.total.stored, 201u);
  EXPECT_EQ(s.total.dead_lettered, 3u);
  auto letters = StoreLetters(avro, "avro");
  ASSERT_EQ(letters.size(), 3u);
  std::map<std::string, const DeadLetter*> by_key;
  for (const auto& d : letters) by_key[d.letter.key] = &d.letter;
  const DeadLetter* unknown = by_key["00000000-0000-4000-8000-000000000000"];
  const DeadLetter* corrupt = by_key["00000000-0000-4000-8000-000000000001"];
  const DeadLetter* plain = by_key["00000000-0000-4000-8000-000000000002"];
  ASSERT_TRUE(unknown && corrupt && plain);
  EXPECT_EQ(unknown->stage, "process");
  EXPECT_EQ(unknown->reason, "log.format: unknown schema id 4242 (40403 Schema 4242 not found)");
  EXPECT_EQ(unknown->payload, "base64:AAAAEJICeA==");
  EXPECT_EQ(
      corrupt->reason,
      "log.format: the payload does not decode with schema id 1 (AVRO): invalid Avro payload: "
      "truncated string (4 bytes needed, 2 left) at offset 1");
  EXPECT_EQ(plain->reason,
            "log.format: not in Confluent's wire format: 17 bytes, first byte 0x7b (expected "
            "magic byte 0x00 and a 4-byte schema id)");
  EXPECT_EQ(plain->payload, "base64:eyJnZW5kZXIiOiJtYWxlIn0=");
  // The 200 records put 44 on partition 0 (the seed fixes the keys): the three follow them.
  EXPECT_EQ(unknown->location, "users_created/0@44");
  EXPECT_EQ(corrupt->location, "users_created/0@45");
  EXPECT_EQ(plain->location, "users_created/0@46");

  // Replay: the letters keep the bytes and are decoded again. The unknown id's schema is
  // imported under 4242 (IMPORT mode); its letter is then stored, the headerless one is
  // dead-lettered again with the same reason.
  {
    auto registry =
        registry::SchemaRegistry::Open(Urls(avro, "avro").staging, OpenMode::kReadWrite);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    ASSERT_TRUE((*registry)->SetMode(std::nullopt, registry::Mode::kImport, true).ok());
    registry::RegisterOptions import;
    import.id = 4242;
    import.version = 1;
    auto imported = (*registry)->Register(
        "other-value",
        {registry::SchemaType::kAvro,
         R"({"type":"record","name":"G","fields":[{"name":"gender","type":"string"}]})",
         {}},
        import);
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    EXPECT_EQ(*imported, 4242);
    ASSERT_TRUE((*registry)->SetMode(std::nullopt, registry::Mode::kReadWrite, true).ok());
    auto store =
        OpenStore(Urls(avro, "avro").store, OpenMode::kReadWrite, StoreOptionsFor(avro.store));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto replayer = Replayer::Create(avro, store->get(), nullptr, Clock::Real());
    ASSERT_TRUE(replayer.ok()) << replayer.status().ToString();
    WireDecoder decoder(registry->get(), registry::SchemaType::kAvro);
    (*replayer)->SetWireDecoder(&decoder);
    std::vector<LetterId> ids;
    for (const auto& d : letters) {
      if (&d.letter != corrupt) ids.push_back({"process", d.id});
    }
    ASSERT_TRUE((*replayer)->Select(ids, false, "").ok());
    std::vector<ReplayResult> results;
    ASSERT_TRUE((*replayer)->Run(&results).ok());
    ASSERT_EQ(results.size(), 2u);
    std::map<std::string, ReplayResult> by_outcome;
    for (auto& r : results) by_outcome[r.outcome] = r;
    EXPECT_EQ(by_outcome["stored"].key, "00000000-0000-4000-8000-000000000000");
    EXPECT_EQ(by_outcome["dead_lettered"].reason, plain->reason);
    auto row = (*store)->Get(kTable, "00000000-0000-4000-8000-000000000000");
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    EXPECT_NE(row->find("\"gender\":\"x\""), std::string::npos) << *row;
  }
}

// Records the subject's schema does not describe (API 1.2: street a string) never reach the log:
// the relay dead-letters them in the staging, counted so that the balance holds.
TEST_F(LogFormatTest, RecordsThatDoNotMatchTheSchemaAreRelayDeadLetters) {
  // 50 API 1.3 records and 20 API 1.2 records in one capture.
  simdjson::dom::parser parser;
  std::string results;
  for (const char* name : {"v1.3-random-user-app.json", "v1.2-visdata.json"}) {
    simdjson::dom::element doc = parser.load((fs::path(test_paths::kFixturesDir) / name).string());
    for (simdjson::dom::element r : doc["results"].get_array()) {
      if (!results.empty()) results += ',';
      results += simdjson::minify(r);
    }
  }
  std::string capture = (root_ / "mixed.json").string();
  std::ofstream(capture) << "{\"results\":[" << results << "]}";

  PipelineConfig avro = Config(LogConfig::Format::kConfluentAvro, AvroSchemaFile());
  avro.source.url = "file://" + capture;
  RunSummary s = Run(avro, "avro", 0);
  ExpectExact(s, 70, 50, 20);
  EXPECT_EQ(LogRecords(avro, "avro").size(), 50u);

  auto staging = OpenStaging(Urls(avro, "avro").staging, OpenMode::kReadOnly, true);
  ASSERT_TRUE(staging.ok()) << staging.status().ToString();
  auto counters = (*staging)->Counters();
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ(counters->fetched, 70u);
  EXPECT_EQ(counters->dead_lettered, 20u);
  EXPECT_EQ(counters->streamed, 50u);
  EXPECT_EQ(counters->relay_cursor, 70u);
  std::vector<StoredDeadLetter> letters;
  ASSERT_TRUE((*staging)->ListDeadLetters(0, 100, &letters).ok());
  ASSERT_EQ(letters.size(), 20u);
  EXPECT_EQ(letters[0].letter.stage, "relay");
  EXPECT_EQ(letters[0].letter.location, "outbox seq 51");
  EXPECT_EQ(letters[19].letter.location, "outbox seq 70");
  EXPECT_EQ(letters[0].letter.reason,
            "log.format: the record does not match schema id 1 of subject 'users-value': record "
            "does not match the Avro schema at '/location/street' (type): expected record "
            "dataforge.randomuser.Street, got string \"1824 valley view ln\"");
  EXPECT_EQ(letters[0].letter.payload.substr(0, 19), "{\"gender\":\"female\",")
      << letters[0].letter.payload;
  // The json run of the same capture stores all 70: the 50 rows match.
  PipelineConfig json = Config(LogConfig::Format::kJson);
  json.source.url = avro.source.url;
  ExpectExact(Run(json, "json", 0), 70, 70, 0);
  auto json_rows = Rows(json, "json");
  auto avro_rows = Rows(avro, "avro");
  ASSERT_EQ(avro_rows.size(), 50u);
  for (const auto& [k, v] : avro_rows) EXPECT_EQ(json_rows[k], v) << k;
}

}  // namespace
}  // namespace dataforge
