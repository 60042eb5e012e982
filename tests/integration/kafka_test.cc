// The pipeline over Kafka: a 3-broker cluster from librdkafka's mock brokers (real Kafka
// protocol over loopback TCP), DataForge's real binary in one process or split into roles, and
// kcat as an independent client reading what DataForge wrote.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/kafka_cluster.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

constexpr const char* kTable = "dataforge.created_users";

// The mock brokers keep at most 5 MB per partition (older records are deleted, as a broker's
// retention would): tests that keep tens of thousands of ~1.1 KB records use this many.
constexpr int kPartitions = 12;
const std::string kTopic = "users_created:12";

// A pipeline file for a Kafka log: small pages and batches so that runs have many batches, and
// a short session time-out so that a killed member's partitions move on quickly.
std::string WriteConfig(const TempDir& dir, const std::string& url, const std::string& seed,
                        const std::string& source_extra = "", int partitions = kPartitions) {
  std::string path = dir.Sub("pipeline.yaml");
  WriteFile(path, fmt::format("source:\n  seed: {}\n  results_per_page: 100\n{}"
                              "log:\n  url: {}\n  partitions: {}\n  properties:\n"
                              "    session.timeout.ms: 6000\n"
                              "    heartbeat.interval.ms: 500\n"
                              "tuning:\n  batch_records: 100\n",
                              seed, source_extra, url, partitions));
  return path;
}

int64_t TableCount(const std::string& config, const std::string& data_dir) {
  auto r =
      RunDataforge({"table", "count", kTable, "--config", config, "--data-dir", data_dir}, 30000);
  if (r.exit_code != 0) return -1;
  return std::stoll(r.out);
}

// Dead letters of a data dir, or -1 while it cannot be read yet (no fail while polling).
int64_t DeadLetterCount(const std::string& config, const std::string& data_dir) {
  auto r = RunDataforge(
      {"deadletter", "list", "--limit", "0", "--config", config, "--data-dir", data_dir}, 30000);
  return r.exit_code == 0 ? static_cast<int64_t>(SplitLines(r.out).size()) : -1;
}

std::set<std::string> Keys(const std::vector<KcatRecord>& records) {
  std::set<std::string> keys;
  for (const auto& r : records) keys.insert(r.key);
  return keys;
}

std::set<std::string> AsSet(const std::vector<std::string>& v) {
  return std::set<std::string>(v.begin(), v.end());
}

TEST(KafkaTest, FullPipelineOverKafkaCheckedWithKcat) {
  MockKafkaCluster kafka;  // the topic is auto-created, with the mock brokers' 4 partitions
  TempDir dir;
  std::string config = WriteConfig(dir, kafka.url(), "kafka-full", "", 4);
  std::string data = dir.Sub("data");
  auto r = RunDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "3000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dataforge run: drained"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;

  // kcat sees every record once, keyed by the user id, each key on one partition, and the
  // outbox sequence growing with the offset in every partition.
  auto records = KcatConsume(kafka.bootstrap(), "users_created");
  ASSERT_EQ(records.size(), 3000u);
  std::map<std::string, int32_t> partition_of;
  std::map<int32_t, uint64_t> last_seq;
  for (const auto& rec : records) {
    EXPECT_TRUE(partition_of.emplace(rec.key, rec.partition).second) << "twice: " << rec.key;
    auto pos = rec.headers.find("seq=");
    ASSERT_NE(pos, std::string::npos) << rec.headers;
    uint64_t seq = std::stoull(rec.headers.substr(pos + 4));
    EXPECT_GT(seq, last_seq[rec.partition]) << "partition " << rec.partition;
    last_seq[rec.partition] = seq;
  }
  EXPECT_EQ(partition_of.size(), 3000u);
  EXPECT_EQ(last_seq.size(), 4u);  // the auto-created topic's 4 partitions all got records

  // The store holds exactly the ids kcat read.
  auto ids = ScanIds(data, {"--config", config});
  EXPECT_EQ(AsSet(ids), Keys(records));
  EXPECT_EQ(ids.size(), 3000u);

  // topic list / describe / consume against Kafka.
  auto list = RunDataforge({"topic", "list", "--config", config, "--data-dir", data});
  EXPECT_EQ(list.out, "users_created\n") << list.err;
  auto describe =
      RunDataforge({"topic", "describe", "users_created", "--config", config, "--data-dir", data});
  ASSERT_EQ(describe.exit_code, 0) << describe.err;
  auto lines = SplitLines(describe.out);
  ASSERT_EQ(lines.size(), 4u) << describe.out;
  int64_t total = 0;
  for (const auto& line : lines) {
    EXPECT_NE(line.find("\"group\":\"dataforge-processor\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"lag\":0"), std::string::npos) << line;
    auto pos = line.find("\"end_offset\":");
    total += std::stoll(line.substr(pos + 13));
  }
  EXPECT_EQ(total, 3000);
  auto consume = RunDataforge({"topic", "consume", "users_created", "--from-beginning", "--max",
                               "5", "--config", config, "--data-dir", data});
  ASSERT_EQ(consume.exit_code, 0) << consume.err;
  auto consumed = SplitLines(consume.out);
  ASSERT_EQ(consumed.size(), 5u);
  EXPECT_EQ(partition_of.count(JsonField(consumed[0], "key")), 1u) << consumed[0];

  // A second run continues: new users only, none stored twice.
  r = RunDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "500"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(KcatConsume(kafka.bootstrap(), "users_created").size(), 3500u);
  EXPECT_EQ(ScanIds(data, {"--config", config}).size(), 3500u);
}

TEST(KafkaTest, ProcessMemberKilledAndRestartedLeavesItsStoreExact) {
  MockKafkaCluster kafka(3, {kTopic});
  TempDir dir;
  // The ingest is paced at about 2,000 records/s, so the member is killed mid-stream.
  std::string config = WriteConfig(dir, kafka.url(), "kafka-kill", "  rate_limit_per_sec: 20\n");
  auto ingest = StartDataforge({"run", "--role", "ingest", "--config", config, "--data-dir",
                                dir.Sub("ingest"), "--max-records", "20000"});
  std::string store = dir.Sub("member");
  std::vector<std::string> args = {"run",  "--role",     "process", "--config",
                                   config, "--data-dir", store};
  auto member = StartDataforge(args);
  ASSERT_TRUE(WaitFor([&] { return TableCount(config, store) >= 4000; }, 90)) << member.Stderr();
  member.Signal(SIGKILL);
  ASSERT_EQ(member.Wait(10000).signal, SIGKILL);
  int64_t at_kill = TableCount(config, store);
  EXPECT_LT(at_kill, 20000);

  auto again = StartDataforge(args);
  auto ingested = ingest.Wait(180000);
  ASSERT_EQ(ingested.exit_code, 0) << ingested.err;
  EXPECT_NE(ingested.out.find("dataforge run --role ingest: drained"), std::string::npos)
      << ingested.out;
  auto expected = Keys(KcatConsume(kafka.bootstrap(), "users_created"));
  ASSERT_EQ(expected.size(), 20000u);
  ASSERT_TRUE(WaitFor([&] { return TableCount(config, store) == 20000; }, 120)) << again.Stderr();
  again.Signal(SIGTERM);
  auto r = again.Wait(30000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dataforge run --role process: stopped"), std::string::npos) << r.out;
  auto ids = ScanIds(store, {"--config", config});  // fails on a duplicate id
  EXPECT_EQ(ids.size(), 20000u);
  EXPECT_EQ(AsSet(ids), expected);
  // Each record version stored once: the restart resumed where the store's offsets said.
  StatusJson s = Status(store, {"--config", config});
  EXPECT_EQ(s.stored, 20000);
  EXPECT_EQ(s.log_lag, 0);
}

// The sum of the topic's end offsets, or -1 while it cannot be read.
int64_t TopicRecords(const std::string& config) {
  auto r = RunDataforge({"topic", "describe", "users_created", "--config", config}, 30000);
  if (r.exit_code != 0) return -1;
  int64_t total = 0;
  for (const auto& line : SplitLines(r.out)) {
    auto pos = line.find("\"end_offset\":");
    if (pos == std::string::npos) return -1;
    total += std::stoll(line.substr(pos + 13));
  }
  return total;
}

TEST(KafkaTest, IngestKilledMidRunAndRestartedSendsEachRecordOnce) {
  MockKafkaCluster kafka(3, {kTopic});
  TempDir dir;
  std::string config =
      WriteConfig(dir, kafka.url(), "kafka-ingest-kill", "  rate_limit_per_sec: 20\n");
  std::string data = dir.Sub("ingest");
  auto ingest = StartDataforge({"run", "--role", "ingest", "--config", config, "--data-dir", data,
                                "--max-records", "20000"});
  ASSERT_TRUE(WaitFor([&] { return TopicRecords(config) >= 4000; }, 90)) << ingest.Stderr();
  ingest.Signal(SIGKILL);
  ASSERT_EQ(ingest.Wait(10000).signal, SIGKILL);
  StatusJson before = Status(data, {"--config", config});
  ASSERT_GT(before.fetched, 0);
  ASSERT_LT(before.fetched, 20000);
  // The restart reads each partition's last record (its own origin): what the brokers have is
  // not sent again, what they lack is.
  auto r = RunDataforge({"run", "--role", "ingest", "--config", config, "--data-dir", data,
                         "--max-records", std::to_string(20000 - before.fetched)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  StatusJson after = Status(data, {"--config", config});
  EXPECT_EQ(after.fetched, 20000);
  EXPECT_EQ(after.staged, 20000);
  EXPECT_EQ(after.streamed, 20000);
  auto records = KcatConsume(kafka.bootstrap(), "users_created");
  EXPECT_EQ(records.size(), 20000u);
  EXPECT_EQ(Keys(records).size(), 20000u);
}

TEST(KafkaTest, StoppedMemberHandsItsPartitionsOverAtOnce) {
  MockKafkaCluster kafka(3, {kTopic});
  TempDir dir;
  std::string config = WriteConfig(dir, kafka.url(), "kafka-leave");
  std::string a = dir.Sub("a"), b = dir.Sub("b");
  auto member_a = StartDataforge({"run", "--role", "process", "--config", config, "--data-dir", a});
  auto member_b = StartDataforge({"run", "--role", "process", "--config", config, "--data-dir", b});
  auto assignments = [](const ChildProcess& m) {
    size_t n = 0;
    std::string err = m.Stderr();
    for (size_t pos = 0; (pos = err.find("gave this member partitions", pos)) != std::string::npos;
         ++pos) {
      ++n;
    }
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return assignments(member_a) > 0 && assignments(member_b) > 0; }, 60))
      << member_a.Stderr() << member_b.Stderr();
  // Let the group settle with both members owning partitions.
  auto owns_now = [](const std::string& err) {
    auto gave = err.rfind("gave this member partitions");
    auto gave_up = err.rfind("gives up partitions");
    return gave != std::string::npos && (gave_up == std::string::npos || gave > gave_up);
  };
  ASSERT_TRUE(
      WaitFor([&] { return owns_now(member_a.Stderr()) && owns_now(member_b.Stderr()); }, 60));
  size_t before = assignments(member_a);
  member_b.Signal(SIGTERM);
  auto rb = member_b.Wait(30000);
  EXPECT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_NE(rb.err.find("finishing the batch, committing and leaving the consumer group"),
            std::string::npos)
      << rb.err;
  // B left the group: A owns every partition well before B's 6 s session would time out.
  ASSERT_TRUE(WaitFor([&] { return assignments(member_a) > before; }, 5)) << member_a.Stderr();
  std::string ea = member_a.Stderr();
  std::string last = ea.substr(ea.rfind("gave this member partitions"));
  last = last.substr(0, last.find('\n'));
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_NE(last.find(fmt::format(" {}@", p)), std::string::npos) << last;
  }
  auto ingest = RunDataforge({"run", "--role", "ingest", "--config", config, "--data-dir",
                              dir.Sub("ingest"), "--max-records", "2000"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  ASSERT_TRUE(WaitFor([&] { return TableCount(config, a) == 2000; }, 60)) << member_a.Stderr();
  member_a.Signal(SIGTERM);
  EXPECT_EQ(member_a.Wait(30000).exit_code, 0);
}

TEST(KafkaTest, TwoMembersShareThePartitionsAndOneIsKilled) {
  MockKafkaCluster kafka(3, {kTopic});
  TempDir dir;
  // Paced at about 2,000 records/s so that B dies mid-stream.
  std::string config = WriteConfig(dir, kafka.url(), "kafka-group", "  rate_limit_per_sec: 20\n");
  std::string a = dir.Sub("a"), b = dir.Sub("b");
  auto member_a = StartDataforge({"run", "--role", "process", "--config", config, "--data-dir", a});
  auto member_b = StartDataforge({"run", "--role", "process", "--config", config, "--data-dir", b});
  // Both members own partitions before records arrive.
  auto owns = [](const ChildProcess& m) {
    return m.Stderr().find("gave this member partitions") != std::string::npos;
  };
  ASSERT_TRUE(WaitFor([&] { return owns(member_a) && owns(member_b); }, 60))
      << member_a.Stderr() << member_b.Stderr();
  auto ingest = StartDataforge({"run", "--role", "ingest", "--config", config, "--data-dir",
                                dir.Sub("ingest"), "--max-records", "30000"},
                               {});
  ASSERT_TRUE(
      WaitFor([&] { return TableCount(config, a) >= 1000 && TableCount(config, b) >= 1000; }, 90))
      << member_b.Stderr();
  member_b.Signal(SIGKILL);
  ASSERT_EQ(member_b.Wait(10000).signal, SIGKILL);
  auto r = ingest.Wait(180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto expected = Keys(KcatConsume(kafka.bootstrap(), "users_created"));
  ASSERT_EQ(expected.size(), 30000u);
  // A takes over B's partitions after B's session times out and consumes the rest.
  std::set<std::string> in_b = AsSet(ScanIds(b, {"--config", config}));
  auto union_complete = [&] {
    auto in_a = AsSet(ScanIds(a, {"--config", config}));
    for (const auto& k : expected) {
      if (!in_a.count(k) && !in_b.count(k)) return false;
    }
    return true;
  };
  ASSERT_TRUE(WaitFor(union_complete, 120)) << member_a.Stderr();
  member_a.Signal(SIGTERM);
  EXPECT_EQ(member_a.Wait(30000).exit_code, 0);
  auto ids_a = ScanIds(a, {"--config", config});  // fails on a duplicate id
  auto ids_b = ScanIds(b, {"--config", config});
  EXPECT_GT(ids_b.size(), 0u);
  std::set<std::string> all = AsSet(ids_a);
  all.insert(ids_b.begin(), ids_b.end());
  EXPECT_EQ(all, expected);
  EXPECT_NE(member_a.Stderr().find("gives up partitions"), std::string::npos);
}

TEST(KafkaTest, BrokerDownMidRunLosesNothing) {
  MockKafkaCluster kafka(3, {kTopic});
  TempDir dir;
  // Paced at 20 pages of 100 per second, so the run lasts about 10 s.
  std::string config = WriteConfig(dir, kafka.url(), "kafka-down", "  rate_limit_per_sec: 20\n");
  std::string data = dir.Sub("data");
  auto run = StartDataforge(
      {"run", "--config", config, "--data-dir", data, "--max-records", "20000", "--no-progress"});
  ASSERT_TRUE(WaitFor([&] { return TableCount(config, data) >= 2000; }, 90)) << run.Stderr();
  // Every broker leads some partitions of the topic: take two of the three down.
  kafka.Command("down 1");
  kafka.Command("down 2");
  sleep(4);
  kafka.Command("up 1");
  kafka.Command("up 2");
  auto r = run.Wait(180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;
  EXPECT_NE(
      r.err.find("kafka: waiting for the brokers at " + kafka.bootstrap() + " to acknowledge"),
      std::string::npos)
      << r.err;
  // The topic may hold a few copies of retried batches (seen once in ~10 runs against the mock
  // brokers); the processor skips them by outbox seq, so the counters above balance.
  auto records = KcatConsume(kafka.bootstrap(), "users_created");
  auto keys = Keys(records);
  EXPECT_EQ(keys.size(), 20000u);
  EXPECT_GE(records.size(), 20000u);
  if (records.size() > 20000u) {
    // The summary's line (run_command.cc): "  duplicates   {:>12}   (copies ...".
    EXPECT_NE(r.out.find(fmt::format("  duplicates   {:>12}   (copies", records.size() - 20000)),
              std::string::npos)
        << r.out;
  }
  auto ids = ScanIds(data, {"--config", config});
  EXPECT_EQ(AsSet(ids), keys);
}

TEST(KafkaTest, LeaderChangesAndRequestErrorsLoseNothing) {
  MockKafkaCluster kafka(3, {kTopic});
  TempDir dir;
  std::string config = WriteConfig(dir, kafka.url(), "kafka-faults", "  rate_limit_per_sec: 20\n");
  // One produce request in flight per broker connection. With several in flight this test lost
  // 4-5 of 20,000 records about one run in five: every delivery report said persisted, the
  // mock broker's log lacked them. librdkafka's mock deduplicates idempotent produce requests by
  // sequence range only (rdkafka_mock.c: a BaseSequence below the last five requests' window is
  // DUPLICATE_SEQUENCE_NUMBER, one inside it is "acked but not written to the log"), which the
  // producer counts as persisted; a real broker checks each batch's exact sequence and epoch.
  // With one request in flight a failed request is never overtaken, so retries are exact.
  std::string text = ReadFile(config);
  text.replace(text.find("    session.timeout.ms"), 0,
               "    max.in.flight.requests.per.connection: 1\n");
  WriteFile(config, text);
  std::string data = dir.Sub("data");
  auto run = StartDataforge(
      {"run", "--config", config, "--data-dir", data, "--max-records", "20000", "--no-progress"});
  ASSERT_TRUE(WaitFor([&] { return TableCount(config, data) >= 2000; }, 90)) << run.Stderr();
  // Leaders move while records flow; then produce, fetch and offset-commit requests fail with
  // the errors a busy cluster answers (Kafka error codes: 6 NOT_LEADER_OR_FOLLOWER,
  // 7 REQUEST_TIMED_OUT, 16 NOT_COORDINATOR; API keys 0 Produce, 1 Fetch, 8 OffsetCommit).
  for (int p = 0; p < kPartitions; ++p) {
    kafka.Command(fmt::format("leader users_created {} {}", p, 1 + (p + 1) % 3));
  }
  kafka.Command("error 0 7 5");
  kafka.Command("error 0 6 5");
  kafka.Command("error 1 6 5");
  kafka.Command("error 8 16 3");
  auto r = run.Wait(180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dataforge run: drained"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;
  auto records = KcatConsume(kafka.bootstrap(), "users_created");
  EXPECT_GE(records.size(), 20000u);  // copies of retried batches are skipped by seq
  auto keys = Keys(records);
  EXPECT_EQ(keys.size(), 20000u);
  auto ids = ScanIds(data, {"--config", config});
  EXPECT_EQ(ids.size(), 20000u);
  EXPECT_EQ(AsSet(ids), keys);
}

TEST(KafkaTest, PoisonMessagesAreDeadLetteredWithPartitionAndOffset) {
  MockKafkaCluster kafka(3, {kTopic});
  TempDir dir;
  std::string config = WriteConfig(dir, kafka.url(), "kafka-poison");
  auto ingest = RunDataforge({"run", "--role", "ingest", "--config", config, "--data-dir",
                              dir.Sub("ingest"), "--max-records", "1000"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  auto good = KcatConsume(kafka.bootstrap(), "users_created");
  ASSERT_EQ(good.size(), 1000u);
  // Poison, produced by another client: not JSON, JSON of the wrong shape, a 2 MB record.
  std::string huge = "{\"pad\":\"" + std::string(2 << 20, 'x') + "\"}";
  KcatProduce(kafka.bootstrap(), "users_created",
              {"aaaaaaaa-0000-4000-8000-000000000001\tthis is not json",
               "aaaaaaaa-0000-4000-8000-000000000002\t[1,2,3]",
               "aaaaaaaa-0000-4000-8000-000000000003\t" + huge},
              {"-X", "message.max.bytes=10000000", "-X", "topic.partitioner=murmur2"});
  // kcat's murmur2 partitioner (the Java client's) puts a key where DataForge put it.
  KcatProduce(kafka.bootstrap(), "users_created", {good[0].key + "\tnull"},
              {"-X", "topic.partitioner=murmur2"});
  auto all = KcatConsume(kafka.bootstrap(), "users_created");
  ASSERT_EQ(all.size(), 1004u);
  int32_t again_partition = -1;
  int64_t again_offset = -1;
  std::map<std::string, std::pair<int32_t, int64_t>> where;
  for (const auto& rec : all) {
    if (rec.key == good[0].key && rec.headers.empty()) {
      again_partition = rec.partition;
      again_offset = rec.offset;
    }
    if (rec.key.rfind("aaaaaaaa-", 0) == 0) where[rec.key] = {rec.partition, rec.offset};
  }
  EXPECT_EQ(again_partition, good[0].partition);

  std::string store = dir.Sub("member");
  auto member = StartDataforge(
      {"run", "--role", "process", "--config", config, "--data-dir", store, "--no-progress"});
  ASSERT_TRUE(WaitFor([&] { return DeadLetterCount(config, store) == 4; }, 90)) << member.Stderr();
  ASSERT_TRUE(WaitFor([&] { return TableCount(config, store) == 1000; }, 30));
  member.Signal(SIGTERM);
  auto r = member.Wait(30000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto letters = DeadLetters(store, {"--config", config});
  ASSERT_EQ(letters.size(), 4u);
  std::map<std::string, std::string> reason_at;  // location -> reason
  for (const auto& l : letters) reason_at[JsonField(l, "location")] = JsonField(l, "reason");
  auto at = [&](const std::string& key) {
    return fmt::format("users_created/{}@{}", where[key].first, where[key].second);
  };
  EXPECT_NE(reason_at[at("aaaaaaaa-0000-4000-8000-000000000001")].find("not valid JSON"),
            std::string::npos)
      << reason_at[at("aaaaaaaa-0000-4000-8000-000000000001")];
  EXPECT_NE(reason_at[at("aaaaaaaa-0000-4000-8000-000000000002")].find("not a JSON object"),
            std::string::npos)
      << reason_at[at("aaaaaaaa-0000-4000-8000-000000000002")];
  EXPECT_EQ(
      reason_at[at("aaaaaaaa-0000-4000-8000-000000000003")],
      fmt::format("record of {} bytes exceeds process.max_record_bytes (1048576)", huge.size()));
  EXPECT_EQ(reason_at[fmt::format("users_created/{}@{}", again_partition, again_offset)],
            "record is not a JSON object: null");
  // The store kept the good version of good[0]: the later "null" was dead-lettered.
  EXPECT_EQ(AsSet(ScanIds(store, {"--config", config})), Keys(good));
}

TEST(KafkaTest, ConfigurationErrorsAreOneLine) {
  TempDir dir;
  auto bad_url = RunDataforge({"run", "--log", "kafka://", "--data-dir", dir.Sub("a")});
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_EQ(bad_url.err,
            "dataforge: log url 'kafka://': no broker address; expected "
            "kafka://host:port[,host:port...][?property=value&...]\n");
  auto bad_port = RunDataforge({"topic", "list", "--log", "kafka://localhost:x"});
  EXPECT_EQ(bad_port.exit_code, 2);
  EXPECT_NE(bad_port.err.find("broker 'localhost:x' is not host:port"), std::string::npos);
  auto bad_property = RunDataforge(
      {"run", "--log", "kafka://127.0.0.1:9?no.such.property=1", "--data-dir", dir.Sub("b")});
  EXPECT_EQ(bad_property.exit_code, 2);
  EXPECT_EQ(
      bad_property.err.rfind("dataforge: log.properties: kafka property 'no.such.property'", 0), 0u)
      << bad_property.err;
  auto managed = RunDataforge(
      {"run", "--log", "kafka://127.0.0.1:9?enable.auto.commit=true", "--data-dir", dir.Sub("c")});
  EXPECT_EQ(managed.exit_code, 2);
  EXPECT_NE(managed.err.find("'enable.auto.commit' is set by DataForge"), std::string::npos)
      << managed.err;
  auto role_embedded = RunDataforge({"run", "--role", "process", "--data-dir", dir.Sub("d")});
  EXPECT_EQ(role_embedded.exit_code, 2);
  EXPECT_NE(role_embedded.err.find("--role process needs a log that several processes share"),
            std::string::npos)
      << role_embedded.err;
  // Nothing listens on port 1: a clear runtime error, not a hang.
  auto unreachable = RunDataforge({"topic", "list", "--log", "kafka://127.0.0.1:1"}, 60000);
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_EQ(unreachable.err.rfind("dataforge: cannot reach Kafka at 127.0.0.1:1: ", 0), 0u)
      << unreachable.err;
  EXPECT_EQ(SplitLines(unreachable.err).size(), 1u) << unreachable.err;
}

TEST(KafkaTest, TopicWithOtherPartitionCountIsAClearError) {
  MockKafkaCluster kafka(1, {"users_created:2"});
  TempDir dir;
  auto r = RunDataforge(
      {"run", "--log", kafka.url(), "--data-dir", dir.Sub("data"), "--max-records", "10"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, fmt::format("dataforge: topic 'users_created' has 2 partitions in Kafka at {}, "
                               "the pipeline file says 4: set log.partitions: 2 (or use another "
                               "log.topic)\n",
                               kafka.bootstrap()));
}

}  // namespace
}  // namespace dataforge::testing
