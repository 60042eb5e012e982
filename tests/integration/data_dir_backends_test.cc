// A data dir remembers the backends it was run with (<data dir>/backends): inspection commands
// use them without the flags being repeated, a flag overrides them, and a run with other
// backends is warned about and recorded. Kafka is librdkafka's mock cluster over loopback TCP.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/kafka_cluster.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

TEST(DataDirBackendsTest, InspectionUsesTheRecordedKafkaLogAndFlagsOverride) {
  MockKafkaCluster kafka;  // users_created is auto-created with 4 partitions
  TempDir dir;
  std::string data = dir.Sub("data");
  auto r = RunDataforge(
      {"run", "--data-dir", data, "--log", kafka.url(), "--max-records", "500", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The file: exactly the URLs of the run, readable by its owner only.
  std::string backends = dir.Sub("data/backends");
  struct stat st {};
  ASSERT_EQ(::stat(backends.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string text = ReadFile(backends);
  EXPECT_NE(text.find("\nlog=" + kafka.url() + "\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nstaging=sqlite://staging.db\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nstore=rocksdb://store\n"), std::string::npos) << text;

  // status --json without --log reads the Kafka log: every record on its 4 partitions, nothing
  // in flight.
  r = RunDataforge({"status", "--json", "--data-dir", data}, 60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(std::string(doc["role"].get_string().value()), "all") << r.out;
  EXPECT_EQ(doc["fetched"].get_int64().value(), 500) << r.out;
  EXPECT_EQ(doc["streamed"].get_int64().value(), 500) << r.out;
  EXPECT_EQ(doc["stored"].get_int64().value(), 500) << r.out;
  EXPECT_EQ(doc["in_flight"].get_int64().value(), 0) << r.out;
  EXPECT_EQ(doc["log_lag"].get_int64().value(), 0) << r.out;
  EXPECT_TRUE(doc["balanced"].get_bool().value()) << r.out;
  simdjson::dom::array parts;
  ASSERT_EQ(doc["partitions"].get_array().get(parts), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(parts.size(), 4u) << r.out;
  int64_t end_sum = 0;
  for (auto p : parts) end_sum += p["end_offset"].get_int64().value();
  EXPECT_EQ(end_sum, 500) << r.out;

  // topic list without --log lists the Kafka cluster's topic (the embedded log has none).
  r = RunDataforge({"topic", "list", "--data-dir", data}, 60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "users_created\n");

  // An explicit --log overrides the recorded one: an empty cluster has no topics.
  MockKafkaCluster other(1);
  r = RunDataforge({"topic", "list", "--data-dir", data, "--log", other.url()}, 60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");

  // A run without the flag continues on the recorded Kafka log where the first stopped.
  r = RunDataforge({"run", "--data-dir", data, "--max-records", "100", "--no-progress"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = RunDataforge({"status", "--json", "--data-dir", data}, 60000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(doc["fetched"].get_int64().value(), 600) << r.out;
  EXPECT_EQ(doc["stored"].get_int64().value(), 600) << r.out;
  // A run with other backends (a cluster moved, a topic made again elsewhere) is warned about,
  // naming both URLs, and its backends are recorded.
  r = RunDataforge(
      {"run", "--data-dir", data, "--log", "file://log", "--max-records", "10", "--no-progress"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(fmt::format("belongs to other backends: it was run with --log {} (this "
                                   "run: file://log); run with --log {}",
                                   kafka.url(), kafka.url())),
            std::string::npos)
      << r.err;
  EXPECT_NE(ReadFile(backends).find("\nlog=file://log\n"), std::string::npos) << ReadFile(backends);
}

}  // namespace
}  // namespace dataforge::testing
