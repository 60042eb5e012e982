// An in-process Kafka cluster for unit tests: librdkafka's mock brokers (real Kafka protocol
// over loopback TCP). Test-only: included by *_test.cc files.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <string>

namespace dataforge::testing {

class InProcessKafka {
 public:
  explicit InProcessKafka(int brokers = 3) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
  }
  ~InProcessKafka() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  InProcessKafka(const InProcessKafka&) = delete;
  InProcessKafka& operator=(const InProcessKafka&) = delete;

  std::string url() const {
    return std::string("kafka://") + rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  std::string bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  rd_kafka_mock_cluster_t* cluster() { return cluster_; }
  void CreateTopic(const std::string& name, int partitions) {
    rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

}  // namespace dataforge::testing
