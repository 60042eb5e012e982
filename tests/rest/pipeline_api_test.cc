// GET /v1/status, /v1/deadletters, /v1/topics and records on data dirs filled by the real binary
// (`dataforge run`), over the embedded log and SQLite, and over Kafka (mock cluster) and
// PostgreSQL: each answer checked against what the CLI prints for the same data dir.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/kafka_cluster.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"
#include "rest/served_data_dir.h"

namespace dataforge::testing {
namespace {

const char* kGood =
    R"({"gender":"female","name":{"first":"Ana","last":"Lima"},"location":{"street":{"number":1,"name":"Rua A"},"city":"Natal","state":"RN","country":"Brazil","postcode":59000},"email":"ana@example.com","login":{"uuid":"11111111-2222-4333-8444-555555555555","username":"ana"},"dob":{"date":"1990-01-02T03:04:05.678Z"},"registered":{"date":"2010-01-02T03:04:05.678Z"},"phone":"1","picture":{"medium":"m.jpg"}})";
const char* kBadDate =
    R"({"login":{"uuid":"22222222-2222-4333-8444-555555555555","username":"bob"},"dob":{"date":"yesterday"}})";
const char* kBadUuid = R"({"login":{"uuid":"not-a-uuid"}})";

simdjson::dom::element Parse(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text;
  return doc;
}

// The default pipeline: 300 users from the built-in API, then one page from a file with a good
// user and three bad records (one dead-lettered by the source, two by the processor).
class PipelineApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto r = RunDataforge({"run", "--max-records", "300", "--data-dir", dir_->Sub("data")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    WriteFile(dir_->Sub("capture.json"),
              fmt::format(R"({{"results":[{},42,{},{}]}})", kGood, kBadDate, kBadUuid));
    r = RunDataforge({"run", "--source-url", "file://" + dir_->Sub("capture.json"), "--data-dir",
                      dir_->Sub("data")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    served_ = std::make_unique<ServedDataDir>("", dir_->Sub("data"));
    served_->Open();
  }

  static TempDir* dir_;
  std::unique_ptr<ServedDataDir> served_;
};
TempDir* PipelineApiTest::dir_ = nullptr;

TEST_F(PipelineApiTest, StatusIsWhatStatusJsonPrints) {
  auto r = served_->Call("GET", "/v1/status");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body + "\n", served_->Cli({"status", "--json"}));
  EXPECT_EQ(JsonField(r.body, "role"), "all");
  simdjson::dom::parser parser;
  auto doc = Parse(parser, r.body);
  EXPECT_EQ(int64_t(doc["fetched"]), 304);
  EXPECT_EQ(int64_t(doc["stored"]), 301);
  EXPECT_EQ(int64_t(doc["dead_lettered_source"]), 1);
  EXPECT_EQ(int64_t(doc["dead_lettered_process"]), 2);
  EXPECT_TRUE(bool(doc["balanced"]));

  r = served_->Call("GET", "/v1/status?verbose=1");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorMessage(r), "unknown query parameter 'verbose'; GET /v1/status takes none");
}

// Each dead letter as "<stage> <raw>", in the answer's order, following next_cursor.
std::vector<std::string> AllDeadLetters(const ServedDataDir& s, const std::string& query,
                                        size_t* pages) {
  std::vector<std::string> out;
  std::string cursor;
  *pages = 0;
  simdjson::dom::parser parser;
  while (true) {
    std::string target = "/v1/deadletters?" + query;
    if (!cursor.empty()) target += "&cursor=" + cursor;
    auto r = s.Call("GET", target);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return out;
    ++*pages;
    auto doc = Parse(parser, r.body);
    for (auto d : doc["dead_letters"].get_array()) {
      out.push_back(std::string(std::string_view(d["stage"])) + " " +
                    std::string(std::string_view(d["raw"])));
    }
    if (doc["next_cursor"].is_null()) return out;
    cursor = std::string(std::string_view(doc["next_cursor"]));
    if (*pages > 10) return out;
  }
}

TEST_F(PipelineApiTest, DeadLettersOfBothStagesFilteredAndPaged) {
  auto r = served_->Call("GET", "/v1/deadletters");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  auto doc = Parse(parser, r.body);
  auto list = doc["dead_letters"].get_array();
  ASSERT_EQ(list.size(), 3u) << r.body;
  EXPECT_TRUE(doc["next_cursor"].is_null());
  // The same letters, reasons and locations as `deadletter list` (oldest first).
  auto cli = SplitLines(served_->Cli({"deadletter", "list"}));
  ASSERT_EQ(cli.size(), 3u);
  size_t i = 0;
  for (auto d : list) {
    EXPECT_EQ(std::string_view(d["reason"]), JsonField(cli[i], "reason")) << cli[i];
    EXPECT_EQ(std::string_view(d["location"]), JsonField(cli[i], "location")) << cli[i];
    ++i;
  }

  size_t pages = 0;
  auto all = AllDeadLetters(*served_, "", &pages);
  EXPECT_EQ(pages, 1u);
  // The source's letter is written when the page is fetched, before the processor's two; those
  // two come in the order the processor met them (partitions interleave): any, but the same on
  // every page size.
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], "source 42");
  std::set<std::string> process(all.begin() + 1, all.end());
  EXPECT_EQ(process, (std::set<std::string>{std::string("process ") + kBadDate,
                                            std::string("process ") + kBadUuid}));
  EXPECT_EQ(AllDeadLetters(*served_, "limit=1", &pages), all);
  EXPECT_EQ(pages, 3u);
  EXPECT_EQ(AllDeadLetters(*served_, "limit=2", &pages), all);
  EXPECT_EQ(pages, 2u);
  EXPECT_EQ(AllDeadLetters(*served_, "stage=source", &pages),
            std::vector<std::string>{"source 42"});
  EXPECT_EQ(AllDeadLetters(*served_, "stage=process&limit=1", &pages),
            std::vector<std::string>(all.begin() + 1, all.end()));
  EXPECT_EQ(pages, 2u);
  // By reason class: the bad date and the bad UUID are type mismatches, 42 is no JSON object.
  EXPECT_EQ(AllDeadLetters(*served_, "reason=type_mismatch&limit=1", &pages),
            std::vector<std::string>(all.begin() + 1, all.end()));
  EXPECT_EQ(pages, 2u);
  EXPECT_EQ(AllDeadLetters(*served_, "reason=invalid_json", &pages),
            std::vector<std::string>{"source 42"});
  EXPECT_EQ(AllDeadLetters(*served_, "reason=missing_key&stage=process", &pages),
            std::vector<std::string>{});
  // Each letter names its class, and has not been replayed.
  for (auto d : list) {
    EXPECT_EQ(std::string_view(d["reason_class"]),
              std::string_view(d["stage"]) == "source" ? "invalid_json" : "type_mismatch");
    EXPECT_TRUE(d["replay"].is_null());
  }
}

TEST_F(PipelineApiTest, DeadLettersBadParametersAre400WithTheFix) {
  struct Case {
    std::string query, message;
  } cases[] = {
      {"stage=staging",
       "stage=staging: expected source (the staging's dead letters) or process (the store's)"},
      {"limit=0", "limit=0: expected a whole number from 1 to 10000 (default 100)"},
      {"limit=10001", "limit=10001: expected a whole number from 1 to 10000 (default 100)"},
      {"limit=ten", "limit=ten: expected a whole number from 1 to 10000 (default 100)"},
      {"cursor=nonsense",
       "cursor is not valid for this endpoint (pass next_cursor of the previous page as it is, or "
       "no cursor to start at the beginning)"},
      {"sort=desc",
       "unknown query parameter 'sort'; GET /v1/deadletters takes only stage, reason, limit, "
       "cursor"},
      {"reason=weird",
       "reason=weird: reason class 'weird' is not one of: invalid_json, missing_key, "
       "missing_field, type_mismatch, too_large, schema, wire_format, other"},
  };
  for (const auto& c : cases) {
    auto r = served_->Call("GET", "/v1/deadletters?" + c.query);
    EXPECT_EQ(r.status, 400) << c.query << " " << r.body;
    EXPECT_EQ(JsonField(r.body, "error.code"), "bad_request") << c.query;
    EXPECT_EQ(ErrorMessage(r), c.message) << c.query;
  }
  // A cursor of another endpoint (runs) is refused too.
  auto runs = served_->Call("GET", "/v1/deadletters?limit=10000");
  EXPECT_EQ(runs.status, 200);
  EXPECT_EQ(served_->Call("GET", "/v1/deadletters?cursor=cnVuczE6MTox").status, 400);
}

// The log as `topic describe` and `topic consume` show it.
void CheckTopicsAndRecords(const ServedDataDir& s, int64_t streamed) {
  const std::string topic = s.config().log.topic;
  auto r = s.Call("GET", "/v1/topics");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  auto doc = Parse(parser, r.body);
  auto topics = doc["topics"].get_array();
  ASSERT_EQ(topics.size(), 1u) << r.body;
  EXPECT_EQ(std::string_view(topics.at(0)["topic"]), topic);
  auto described = SplitLines(s.Cli({"topic", "describe", topic}));
  auto parts = topics.at(0)["partitions"].get_array();
  ASSERT_EQ(parts.size(), described.size());
  ASSERT_EQ(static_cast<int>(parts.size()), s.config().log.partitions);
  int64_t end_sum = 0;
  size_t i = 0;
  simdjson::dom::parser p2;
  for (auto p : parts) {
    auto want = Parse(p2, described[i]);
    EXPECT_EQ(int64_t(p["partition"]), int64_t(want["partition"]));
    EXPECT_EQ(int64_t(p["start_offset"]), int64_t(want["start_offset"]));
    EXPECT_EQ(int64_t(p["end_offset"]), int64_t(want["end_offset"]));
    end_sum += int64_t(p["end_offset"]);
    ++i;
  }
  EXPECT_EQ(end_sum, streamed);

  // Partition 0 read 7 records at a time equals `topic consume`'s records of partition 0.
  std::vector<std::string> want;
  for (const auto& line : SplitLines(s.Cli({"topic", "consume", topic, "--from-beginning"}))) {
    auto rec = Parse(p2, line);
    if (int64_t(rec["partition"]) != 0) continue;
    want.push_back(fmt::format("{} {} {} {} {}", int64_t(rec["offset"]),
                               int64_t(rec["timestamp_us"]), std::string_view(rec["key"]),
                               simdjson::minify(rec["value"]), simdjson::minify(rec["headers"])));
  }
  ASSERT_GT(want.size(), 7u);
  std::vector<std::string> got;
  int64_t next = 0;
  for (int page = 0; page < 1000; ++page) {
    auto rr = s.Call(
        "GET", fmt::format("/v1/topics/{}/partitions/0/records?offset={}&limit=7", topic, next));
    ASSERT_EQ(rr.status, 200) << rr.body;
    auto d = Parse(parser, rr.body);
    auto records = d["records"].get_array();
    EXPECT_LE(records.size(), 7u);
    for (auto rec : records) {
      EXPECT_TRUE(rec["value"].is_object());  // the processor's input: JSON, served as JSON
      got.push_back(fmt::format("{} {} {} {} {}", int64_t(rec["offset"]),
                                int64_t(rec["timestamp_us"]), std::string_view(rec["key"]),
                                simdjson::minify(rec["value"]), simdjson::minify(rec["headers"])));
    }
    next = int64_t(d["next_offset"]);
    if (records.size() == 0) {
      EXPECT_EQ(next, int64_t(d["end_offset"]));
      break;
    }
  }
  EXPECT_EQ(got, want);

  // Without offset: from the start; limit defaults to 100.
  auto first = s.Call("GET", fmt::format("/v1/topics/{}/partitions/0/records?limit=1", topic));
  ASSERT_EQ(first.status, 200);
  auto d = Parse(parser, first.body);
  EXPECT_EQ(d["records"].get_array().size(), 1u);
  EXPECT_EQ(int64_t(d["next_offset"]), 1);

  struct Case {
    std::string target;
    int status;
    std::string message;
  } cases[] = {
      {fmt::format("/v1/topics/{}/partitions/99/records", topic), 404,
       fmt::format("topic '{}' has no partition 99; its partitions are 0 to {}", topic,
                   s.config().log.partitions - 1)},
      {fmt::format("/v1/topics/{}/partitions/x/records", topic), 400,
       "partition 'x' in the path: expected a whole number >= 0"},
      {"/v1/topics/nope/partitions/0/records", 404, "no topic 'nope'; see GET /v1/topics"},
      {fmt::format("/v1/topics/{}/partitions/0/records?offset=-1", topic), 400,
       "offset=-1: expected a whole number >= 0"},
      {fmt::format("/v1/topics/{}/partitions/0/records?offset={}", topic, want.size() + 1), 400,
       fmt::format("offset={}: past the end of {}/0, whose end offset (the next record's) is {}",
                   want.size() + 1, topic, want.size())},
      {fmt::format("/v1/topics/{}/partitions/0/records?limit=10001", topic), 400,
       "limit=10001: expected a whole number from 1 to 10000 (default 100)"},
  };
  for (const auto& c : cases) {
    auto rr = s.Call("GET", c.target);
    EXPECT_EQ(rr.status, c.status) << c.target << " " << rr.body;
    EXPECT_EQ(ErrorMessage(rr), c.message) << c.target;
  }
  // At the end: no records, next_offset stays.
  auto at_end = s.Call(
      "GET", fmt::format("/v1/topics/{}/partitions/0/records?offset={}", topic, want.size()));
  ASSERT_EQ(at_end.status, 200) << at_end.body;
  d = Parse(parser, at_end.body);
  EXPECT_EQ(d["records"].get_array().size(), 0u);
  EXPECT_EQ(int64_t(d["next_offset"]), static_cast<int64_t>(want.size()));
}

TEST_F(PipelineApiTest, TopicsAndRecordsAreWhatTheCliReads) {
  CheckTopicsAndRecords(*served_, 301 + 0 /* stored */ + 2 /* dead-lettered by process */);
}

// An offset retention deleted: 410, naming where the partition starts now.
TEST(PipelineApiRetentionTest, OffsetDeletedByRetentionIs410WithTheStart) {
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config,
            "log:\n  partitions: 1\n  segment_bytes: 16384\n  retention_bytes: 32768\n"
            "tuning:\n  batch_records: 10\n"
            "dags:\n  tidy:\n    schedule: \"@yearly\"\n    start_date: 2026-01-01\n    tasks:\n"
            "      - {id: retention, type: compact, log: true, store: false}\n");
  auto r = RunDataforge(
      {"run", "--max-records", "200", "--config", config, "--data-dir", dir.Sub("data")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunDataforge(
      {"dags", "trigger", "tidy", "--wait", "--config", config, "--data-dir", dir.Sub("data")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ServedDataDir served(config, dir.Sub("data"));
  served.Open();
  auto described = SplitLines(served.Cli({"topic", "describe", "users_created"}));
  ASSERT_EQ(described.size(), 1u);
  simdjson::dom::parser parser;
  int64_t start = int64_t(Parse(parser, described[0])["start_offset"]);
  ASSERT_GT(start, 0) << described[0];  // retention deleted the oldest segments
  auto gone = served.Call("GET", "/v1/topics/users_created/partitions/0/records?offset=0");
  EXPECT_EQ(gone.status, 410) << gone.body;
  EXPECT_EQ(JsonField(gone.body, "error.code"), "gone");
  EXPECT_EQ(ErrorMessage(gone),
            fmt::format("offset 0 of users_created/0 was deleted by retention; the partition "
                        "starts at offset {} now",
                        start));
  // Without an offset: from the start.
  auto first = served.Call("GET", "/v1/topics/users_created/partitions/0/records?limit=1");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(int64_t(Parse(parser, first.body)["records"].at(0)["offset"]), start);
}

// Kafka (librdkafka's mock cluster) and PostgreSQL staging: the same answers as the CLI.
TEST(PipelineApiExternalTest, KafkaAndPostgresStatusTopicsRecords) {
  MockKafkaCluster kafka(1, {"users_created:3"});
  PostgresServer pg;
  TempDir dir;
  std::string config = dir.Sub("pipeline.yaml");
  WriteFile(config, fmt::format("staging:\n  url: {}\nlog:\n  url: {}\n  partitions: 3\n", pg.Url(),
                                kafka.url()));
  auto r = RunDataforge(
      {"run", "--max-records", "120", "--config", config, "--data-dir", dir.Sub("data")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ServedDataDir served(config, dir.Sub("data"));
  served.Open();
  auto status = served.Call("GET", "/v1/status");
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.body + "\n", served.Cli({"status", "--json"}));
  EXPECT_NE(status.body.find("\"fetched\":120,"), std::string::npos) << status.body;
  CheckTopicsAndRecords(served, 120);
  auto dl = served.Call("GET", "/v1/deadletters");
  EXPECT_EQ(dl.status, 200);
  EXPECT_EQ(dl.body, R"({"dead_letters":[],"next_cursor":null})");
}

}  // namespace
}  // namespace dataforge::testing
