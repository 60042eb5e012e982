// Records the log deletes before the processor reads them: counted as lost (with one error line
// per range), `stored + dead-lettered + lost == fetched` in the summary and `status`, and a
// bounded run that lost records exits 1. The processor is made to lag deterministically: the
// records are written by one run (or role) and read by a later one.
//   - Kafka: librdkafka's mock brokers keep about 5 MB per partition;
//   - Kafka: a topic deleted and made again (a fresh cluster under the same topic name) is
//     another log, read from its start (not a loss);
//   - the embedded log: retention with a lagging consumer group, with and without
//     log.retention_force.
#include <signal.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/kafka_cluster.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

// The integer after the first `"key":` in `json`, or -1.
int64_t JsonInt(const std::string& json, const std::string& key, size_t from = 0) {
  auto pos = json.find("\"" + key + "\":", from);
  if (pos == std::string::npos) return -1;
  return std::stoll(json.substr(pos + key.size() + 3));
}

std::string StatusJson(const std::string& config, const std::string& data_dir) {
  auto r = RunDataforge({"status", "--json", "--config", config, "--data-dir", data_dir}, 60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

// Per partition of `topic`: start_offset of `topic describe` (JSON lines in partition order).
std::vector<int64_t> StartOffsets(const std::string& config, const std::string& data_dir) {
  auto r = RunDataforge(
      {"topic", "describe", "users_created", "--config", config, "--data-dir", data_dir}, 60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<int64_t> out;
  for (const auto& line : SplitLines(r.out)) out.push_back(JsonInt(line, "start_offset"));
  return out;
}

// The first line of `text` holding `needle` ("" if none).
std::string LineWith(const std::string& text, const std::string& needle) {
  for (const auto& line : SplitLines(text)) {
    if (line.find(needle) != std::string::npos) return line;
  }
  return "";
}

int64_t TableRows(const std::string& config, const std::string& data_dir) {
  auto r = RunDataforge(
      {"table", "count", "dataforge.created_users", "--config", config, "--data-dir", data_dir},
      30000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? std::stoll(r.out) : -1;
}

std::string EmptyCapture(const TempDir& dir) {
  std::string path = dir.Sub("empty.json");
  WriteFile(path, R"({"results":[],"info":{"seed":"none","results":0,"page":1,"version":"1.4"}})");
  return "file://" + path;
}

std::string KafkaConfig(const TempDir& dir, const std::string& name, const std::string& url,
                        const std::string& seed = "lost-kafka") {
  std::string path = dir.Sub(name);
  WriteFile(path, fmt::format("source:\n  seed: {}\n  results_per_page: 200\n"
                              "log:\n  url: {}\n  partitions: 1\n"
                              "tuning:\n  batch_records: 200\n",
                              seed, url));
  return path;
}

TEST(LostRecordsTest, KafkaRetentionDeletesRecordsBeforeTheProcessorReadsThem) {
  MockKafkaCluster kafka(1, {"users_created:1:1"});
  TempDir dir;
  std::string config = KafkaConfig(dir, "pipeline.yaml", kafka.url());
  std::string data = dir.Sub("data");
  // Nothing processes while 6,000 records (~7 MB) go into the one partition: the broker keeps
  // about 5 MB of it and deletes the oldest.
  auto ingest = RunDataforge({"run", "--role", "ingest", "--config", config, "--data-dir", data,
                              "--max-records", "6000", "--no-progress"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  auto starts = StartOffsets(config, data);
  ASSERT_EQ(starts.size(), 1u);
  int64_t deleted = starts[0];
  ASSERT_GT(deleted, 0) << "the mock broker kept every record; the test needs more of them";
  ASSERT_LT(deleted, 6000);

  // The whole pipeline on the same data dir, with a source that has nothing more: the
  // processor reads the partition from offset 0 and finds offsets 0..deleted-1 gone.
  auto r = RunDataforge({"run", "--config", config, "--data-dir", data, "--source-url",
                         EmptyCapture(dir), "--no-progress"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(fmt::format("log users_created partition 0: offsets 0..{} ({} records) "
                                   "were deleted by the brokers (the topic's retention.ms or "
                                   "retention.bytes, or DeleteRecords) before they were "
                                   "processed; they are counted as lost",
                                   deleted - 1, deleted)),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(fmt::format("dataforge: {} records were lost: the log deleted them before "
                                   "they were processed",
                                   deleted)),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;

  std::string st = StatusJson(config, data);
  EXPECT_EQ(JsonInt(st, "fetched"), 6000) << st;
  EXPECT_EQ(JsonInt(st, "lost"), deleted) << st;
  EXPECT_EQ(JsonInt(st, "lost"),
            JsonInt(st, "fetched") - JsonInt(st, "stored") - JsonInt(st, "dead_lettered"))
      << st;
  EXPECT_EQ(JsonInt(st, "in_flight"), 0) << st;
  EXPECT_NE(st.find("\"balanced\":true"), std::string::npos) << st;
  auto parts = st.find("\"partitions\":");
  ASSERT_NE(parts, std::string::npos) << st;
  EXPECT_EQ(JsonInt(st, "lost", parts), deleted) << st;
  EXPECT_EQ(JsonInt(st, "lag", parts), 0) << st;
  EXPECT_EQ(TableRows(config, data), 6000 - deleted - JsonInt(st, "dead_lettered"));
  std::printf(
      "kafka retention: fetched %lld, stored %lld, dead-lettered %lld, lost %lld; exit %d\n",
      static_cast<long long>(JsonInt(st, "fetched")), static_cast<long long>(JsonInt(st, "stored")),
      static_cast<long long>(JsonInt(st, "dead_lettered")),
      static_cast<long long>(JsonInt(st, "lost")), r.exit_code);
  std::printf("%s\n%s\n", LineWith(r.err, "counted as lost").c_str(),
              LineWith(r.err, "dataforge: ").c_str());

  // A second bounded run loses nothing new: exit 0, and nothing is counted twice.
  auto again = RunDataforge(
      {"run", "--config", config, "--data-dir", data, "--max-records", "200", "--no-progress"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(JsonInt(StatusJson(config, data), "lost"), deleted);
  EXPECT_NE(again.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << again.out;
}

// A process member of data dir `store` processes the topic of `kafka` (`records` fetched with
// `seed` by the ingest data dir `ingest`) until the group's position reaches `records`; returns
// the member's result.
ProcessResult IngestAndProcess(const TempDir& dir, const MockKafkaCluster& kafka,
                               const std::string& config_name, const std::string& seed, int records,
                               const std::string& ingest, const std::string& store) {
  std::string config = KafkaConfig(dir, config_name, kafka.url(), seed);
  auto r =
      RunDataforge({"run", "--role", "ingest", "--config", config, "--data-dir", dir.Sub(ingest),
                    "--max-records", std::to_string(records), "--no-progress"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto member = StartDataforge(
      {"run", "--role", "process", "--config", config, "--data-dir", store, "--no-progress"});
  EXPECT_TRUE(WaitFor(
      [&] {
        auto st = RunDataforge({"status", "--json", "--config", config, "--data-dir", store});
        auto parts = st.out.find("\"partitions\":");
        return st.exit_code == 0 && parts != std::string::npos &&
               JsonInt(st.out, "processed_offset", parts) == records;
      },
      120))
      << member.Stderr();
  member.Signal(SIGTERM);
  return member.Wait(60000);
}

// A topic deleted and made again (a fresh cluster under the same topic name) is another log: its
// identity (docs/kafka.md) differs, so the store's offsets of the old topic are not its offsets
// and the processor reads the new topic from offset 0, whether the new topic is shorter than
// where processing stood (400 -> 100) or has grown past it (100 -> 400). `status` counts the new
// log's records; the rows of both are in the table.
void TopicMadeAgain(int old_records, int new_records) {
  TempDir dir;
  std::string store = dir.Sub("store");
  {
    MockKafkaCluster kafka(1, {"users_created:1:1"});
    auto r = IngestAndProcess(dir, kafka, "old.yaml", "made-again-old", old_records, "ingest-old",
                              store);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  MockKafkaCluster kafka(1, {"users_created:1:1"});
  auto r =
      IngestAndProcess(dir, kafka, "new.yaml", "made-again-new", new_records, "ingest-new", store);
  EXPECT_EQ(r.exit_code, 0) << r.err;  // a process member is not a bounded run
  // Nothing went back and nothing was skipped: the new log starts at its beginning.
  EXPECT_EQ(r.err.find("went back"), std::string::npos) << r.err;
  std::string config = dir.Sub("new.yaml");
  std::string st = StatusJson(config, store);
  EXPECT_EQ(JsonInt(st, "stored") + JsonInt(st, "dead_lettered_process"), new_records) << st;
  EXPECT_EQ(JsonInt(st, "lost"), 0) << st;
  auto parts = st.find("\"partitions\":");
  ASSERT_NE(parts, std::string::npos) << st;
  EXPECT_EQ(JsonInt(st, "processed_offset", parts), new_records) << st;
  EXPECT_EQ(JsonInt(st, "lag", parts), 0) << st;
  EXPECT_EQ(TableRows(config, store) + JsonInt(st, "dead_lettered_process"),
            old_records + new_records)
      << st;
  std::printf("topic made again (%d -> %d records): stored %lld, rows %lld, lost %lld\n",
              old_records, new_records, static_cast<long long>(JsonInt(st, "stored")),
              static_cast<long long>(TableRows(config, store)),
              static_cast<long long>(JsonInt(st, "lost")));
}

TEST(LostRecordsTest, KafkaTopicMadeAgainShorterIsReadFromItsStart) {
  TopicMadeAgain(400, 100);
}

TEST(LostRecordsTest, KafkaTopicMadeAgainGrownPastTheStoredOffsetIsReadFromItsStart) {
  TopicMadeAgain(100, 400);
}

// Two data dirs share one embedded log (sequentially: the log is locked by one process at a
// time). Data dir A fetches and processes as consumer group "ingester"; data dir B reads the
// log as the default group with a source that has nothing, so B's group lags by whatever A
// wrote since B last ran. A `compact` task (dags trigger --wait) applies the retention.
class LostRecordsEmbeddedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string log = "file://" + dir_.Sub("shared-log");
    std::string common = fmt::format(
        "source:\n  seed: lost-embedded\n  results_per_page: 200\n"
        "log:\n  url: {}\n  partitions: 2\n  segment_bytes: 65536\n"
        "  retention_bytes: 262144\n{{force}}"
        "tuning:\n  batch_records: 200\n",
        log);
    auto write = [&](const std::string& name, const std::string& group, bool force, bool dag) {
      std::string text = common;
      text.replace(text.find("{force}"), 7, force ? "  retention_force: true\n" : "");
      text += fmt::format("process:\n  group: {}\n", group);
      if (dag) {
        text +=
            "dags:\n  tidy:\n    schedule: \"@yearly\"\n    start_date: 2026-01-01\n    tasks:\n"
            "      - {id: retention, type: compact, log: true, store: false}\n";
      }
      WriteFile(dir_.Sub(name), text);
      return dir_.Sub(name);
    };
    a_ = write("a.yaml", "ingester", false, true);
    a_force_ = write("a-force.yaml", "ingester", true, true);
    b_ = write("b.yaml", "dataforge-processor", false, false);
    empty_ = EmptyCapture(dir_);
  }

  ProcessResult RunA(int records) {
    return RunDataforge({"run", "--config", a_, "--data-dir", dir_.Sub("a"), "--max-records",
                         std::to_string(records), "--no-progress"});
  }
  ProcessResult RunB() {
    return RunDataforge({"run", "--config", b_, "--data-dir", dir_.Sub("b"), "--source-url", empty_,
                         "--no-progress"});
  }
  ProcessResult Compact(const std::string& config) {
    return RunDataforge(
        {"dags", "trigger", "tidy", "--wait", "--config", config, "--data-dir", dir_.Sub("a")});
  }
  // B's processed offset per partition (from its store, as `status` shows it).
  std::vector<int64_t> BPositions() {
    std::string st = StatusJson(b_, dir_.Sub("b"));
    std::vector<int64_t> out;
    for (size_t pos = st.find("\"processed_offset\":"); pos != std::string::npos;
         pos = st.find("\"processed_offset\":", pos + 1)) {
      out.push_back(JsonInt(st, "processed_offset", pos));
    }
    return out;
  }

  TempDir dir_;
  std::string a_, a_force_, b_, empty_;
};

TEST_F(LostRecordsEmbeddedTest, RetentionWaitsForALaggingGroupUnlessForced) {
  ASSERT_EQ(RunA(200).exit_code, 0);
  auto b1 = RunB();  // B's group reads the 200 and commits
  ASSERT_EQ(b1.exit_code, 0) << b1.out << b1.err;
  EXPECT_EQ(JsonInt(StatusJson(b_, dir_.Sub("b")), "stored") +
                JsonInt(StatusJson(b_, dir_.Sub("b")), "dead_lettered_process"),
            200);

  // A writes ~3.3 MB more; B's group lags. Retention (limit 256 KiB per partition) keeps every
  // segment B has not read past.
  auto a2 = RunA(3000);
  ASSERT_EQ(a2.exit_code, 0) << a2.out << a2.err;
  auto compact = Compact(a_);
  ASSERT_EQ(compact.exit_code, 0) << compact.out << compact.err;
  auto positions = BPositions();
  ASSERT_EQ(positions.size(), 2u);
  auto starts = StartOffsets(b_, dir_.Sub("b"));
  ASSERT_EQ(starts.size(), 2u);
  for (size_t p = 0; p < 2; ++p) EXPECT_LE(starts[p], positions[p]) << "partition " << p;
  auto b2 = RunB();
  EXPECT_EQ(b2.exit_code, 0) << b2.out << b2.err;
  std::string st = StatusJson(b_, dir_.Sub("b"));
  EXPECT_EQ(JsonInt(st, "stored") + JsonInt(st, "dead_lettered_process"), 3200) << st;
  EXPECT_EQ(JsonInt(st, "lost"), 0) << st;
  EXPECT_EQ(b2.err.find("counted as lost"), std::string::npos) << b2.err;

  // Again, but the retention is forced: what B has not read is deleted and counted as lost.
  auto a3 = RunA(3000);
  ASSERT_EQ(a3.exit_code, 0) << a3.out << a3.err;
  positions = BPositions();
  ASSERT_EQ(positions.size(), 2u);
  auto forced = Compact(a_force_);
  ASSERT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  starts = StartOffsets(b_, dir_.Sub("b"));
  ASSERT_EQ(starts.size(), 2u);
  int64_t expected_lost = 0;
  for (size_t p = 0; p < 2; ++p) {
    ASSERT_GT(starts[p], positions[p]) << "partition " << p << ": forced retention kept it";
    expected_lost += starts[p] - positions[p];
  }
  auto b3 = RunB();
  EXPECT_EQ(b3.exit_code, 1) << b3.out << b3.err;
  for (size_t p = 0; p < 2; ++p) {
    EXPECT_NE(b3.err.find(fmt::format("log users_created partition {}: offsets {}..{} ({} records) "
                                      "were deleted by the log's retention",
                                      p, positions[p], starts[p] - 1, starts[p] - positions[p])),
              std::string::npos)
        << b3.err;
  }
  EXPECT_NE(b3.err.find(fmt::format("dataforge: {} records were lost", expected_lost)),
            std::string::npos)
      << b3.err;
  st = StatusJson(b_, dir_.Sub("b"));
  EXPECT_EQ(JsonInt(st, "lost"), expected_lost) << st;
  EXPECT_EQ(JsonInt(st, "stored") + JsonInt(st, "dead_lettered_process") + JsonInt(st, "lost"),
            6200)
      << st;
  std::printf("embedded forced retention: stored %lld, lost %lld (expected %lld); exit %d\n",
              static_cast<long long>(JsonInt(st, "stored")),
              static_cast<long long>(JsonInt(st, "lost")), static_cast<long long>(expected_lost),
              b3.exit_code);
  std::printf("%s\n", LineWith(b3.err, "dataforge: ").c_str());
}

}  // namespace
}  // namespace dataforge::testing
