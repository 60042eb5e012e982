// A Kafka cluster for integration tests: the kafka_mock_cluster tool (librdkafka's mock brokers,
// real Kafka protocol over TCP on loopback) in a child process, with its fault commands; and
// kcat, an independent Kafka client, to read what DataForge wrote.
#pragma once

#include <string>
#include <vector>

#include "integration/subprocess.h"

namespace dataforge::testing {

class MockKafkaCluster {
 public:
  // Starts `brokers` brokers; `topics` are "NAME:PARTITIONS" created up front (as an operator
  // would); others are auto-created on first use with 4 partitions.
  explicit MockKafkaCluster(int brokers = 3, const std::vector<std::string>& topics = {});
  ~MockKafkaCluster();

  const std::string& bootstrap() const { return bootstrap_; }
  std::string url() const { return "kafka://" + bootstrap_; }

  // Runs a fault command ("down 1", "up 1", "leader users_created 0 2", ...) and waits for the
  // tool's "ok".
  void Command(const std::string& line);

 private:
  TempDir dir_;
  std::string control_;
  ChildProcess process_;
  std::string bootstrap_;
  int commands_ = 0;
};

struct KcatRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string headers;  // kcat's %h: "k=v,k=v"
};

// Every record of `topic` read from the beginning with kcat (-C -e).
std::vector<KcatRecord> KcatConsume(const std::string& bootstrap, const std::string& topic);

// Produces `lines` ("key<TAB>value") with kcat; extra kcat arguments (-X ...) in `extra`.
void KcatProduce(const std::string& bootstrap, const std::string& topic,
                 const std::vector<std::string>& lines, const std::vector<std::string>& extra = {});

}  // namespace dataforge::testing
