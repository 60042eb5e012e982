// The Kafka log: topics and partitions of an Apache Kafka cluster, through librdkafka.
//
// Producer: idempotent (enable.idempotence), acks=all, message.timeout.ms=0 (librdkafka retries
// until the brokers acknowledge; the idempotent producer keeps each partition in order and
// without duplicates). StartAppend() produces every partition's records without waiting;
// Acknowledged() reports the appends the brokers acknowledged, in order, and prints what it
// waits for when that takes long. A record refused for good (over message.max.bytes, not
// authorized; a time-out when the user set message.timeout.ms) is an error naming its key.
// Records are keyed; PartitionFor() is murmur2 like the Java client, so one key always lands on
// one partition whoever produces it.
// Consumers: Subscribe() joins the consumer group (kafka_consumer.h).
// Inspection (Read, ReadLast, GroupOffset, DescribeTopic, LogId) uses short-lived assign-only
// readers and never joins a group.
// Seek by time (OffsetForTime): the brokers' time index through rd_kafka_offsets_for_times. A
// broker that answers "none" (-1) while the partition's last record is at or after the time has
// no time index (librdkafka's mock brokers: their ListOffsets answers -1 for every timestamp);
// then the offset is found by a binary search that reads one record per step (~log2(records)
// reads), exact when the partition's timestamps are non-decreasing.
// Identity (LogId): Kafka's topic id (KIP-516) is not exposed by librdkafka 2.0.2, so a topic is
// known by its first record: "kafka:<timestamp ms>:<FNV-1a of key and value>" of partition 0's
// offset 0. A topic made again gets other first records (at least another timestamp). "" while
// partition 0 is empty, and once the brokers' retention deleted its offset 0: then offsets
// without identity are used (docs/kafka.md "Offsets and the topic's identity").
// Thread-safety: AppendAll/Append from one thread at a time; everything else from any thread.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "log/kafka/kafka_client.h"
#include "log/log.h"

namespace dataforge {

class KafkaLog final : public Log {
 public:
  static Result<std::unique_ptr<Log>> Open(const std::string& url, OpenMode mode,
                                           const LogOptions& options);
  ~KafkaLog() override;

  Status CreateTopic(const std::string& topic, int32_t partitions) override;
  Result<std::vector<std::string>> ListTopics() override;
  Result<TopicInfo> DescribeTopic(const std::string& topic) override;
  Result<std::string> LogId(const std::string& topic) override;
  Result<int32_t> PartitionFor(const std::string& topic, const std::string& key) override;
  Result<int64_t> Append(const std::string& topic, int32_t partition,
                         std::span<const LogRecord> records) override;
  Status AppendAll(const std::string& topic,
                   std::span<const std::vector<LogRecord>> by_partition) override;
  Result<uint64_t> StartAppend(const std::string& topic,
                               std::span<const std::vector<LogRecord>> by_partition) override;
  Result<uint64_t> Acknowledged(int64_t timeout_us) override;
  Status Read(const std::string& topic, int32_t partition, int64_t offset, size_t max_records,
              std::vector<ConsumedRecord>* out) override;
  Result<int64_t> OffsetForTime(const std::string& topic, int32_t partition,
                                int64_t timestamp_us) override;
  Result<std::optional<ConsumedRecord>> ReadLast(const std::string& topic,
                                                 int32_t partition) override;
  bool WaitForData(const std::string& topic, int32_t partition, int64_t offset, int64_t timeout_us,
                   std::stop_token stop) override;
  Status CommitGroupOffset(const std::string& group, const std::string& topic, int32_t partition,
                           int64_t next_offset) override;
  Result<std::optional<int64_t>> GroupOffset(const std::string& group, const std::string& topic,
                                             int32_t partition) override;
  Result<std::vector<std::optional<int64_t>>> GroupOffsets(const std::string& group,
                                                           const std::string& topic,
                                                           int32_t partitions) override;
  Status ApplyRetention() override { return Status::OK(); }  // the brokers' retention applies
  Result<std::unique_ptr<LogConsumer>> Subscribe(const std::string& group, const std::string& topic,
                                                 ConsumerListener* listener) override;
  void Interrupt() override { interrupted_ = true; }
  bool Shared() const override { return true; }

  // One StartAppend() in flight; updated by the delivery report callback, which runs inside
  // rd_kafka_poll() on the appending thread.
  struct PendingAppend {
    uint64_t ticket = 0;
    std::string topic;
    size_t records = 0;
    size_t remaining = 0;
    size_t failed = 0;
    rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::string first_failed;           // "key 'k' (n bytes) for topic/p"
    std::vector<int64_t> base_offsets;  // per partition, -1 = none
    int64_t started_us = 0;
    // The records' values, back to back: librdkafka sends them from here (no copy of its own)
    // until every record is acknowledged or purged, so this lives as long as the append.
    std::string values;
  };

 private:
  KafkaLog(KafkaConfig config, OpenMode mode, const LogOptions& options)
      : config_(std::move(config)), mode_(mode), options_(options) {}
  Status Connect();
  Result<MetadataPtr> Metadata(int timeout_ms);
  Result<int32_t> PartitionCount(const std::string& topic, bool refresh);
  // (start offset, end offset = high watermark) of one partition.
  Result<std::pair<int64_t, int64_t>> Watermarks(const std::string& topic, int32_t partition);
  Status CreateWithAdminApi(const std::string& topic, int32_t partitions);
  Result<rd_kafka_t*> GroupReader(const std::string& group);
  // The group's committed offsets of `partitions` in one OffsetFetch, in that order (nullopt:
  // none committed). Takes mu_.
  Result<std::vector<std::optional<int64_t>>> CommittedOffsets(
      const std::string& group, const std::string& topic, const std::vector<int32_t>& partitions);
  // The first offset in [lo, hi) whose record's timestamp is >= timestamp_us, reading one record
  // per step (brokers without a time index); hi when none.
  Result<int64_t> SearchByReading(const std::string& topic, int32_t partition, int64_t lo,
                                  int64_t hi, int64_t timestamp_us);

  KafkaConfig config_;
  const OpenMode mode_;
  const LogOptions options_;
  KafkaErrorReporter producer_errors_{"producer"};
  KafkaErrorReporter reader_errors_{"reader"};
  RdKafkaPtr producer_;  // idempotent for kReadWrite; also serves metadata and admin requests
  std::atomic<bool> interrupted_{false};

  std::mutex mu_;
  std::map<std::string, int32_t> partition_counts_;  // guarded by mu_
  std::map<std::string, RdKafkaPtr> group_readers_;  // guarded by mu_; never join the group
  std::set<std::string> first_record_gone_;          // guarded by mu_; topics LogId gives up on
  RdKafkaPtr reader_;                                // guarded by mu_; assign-only reader
  // Appending thread only.
  std::string append_topic_;                // the topic of append_rkt_
  rd_kafka_topic_t* append_rkt_ = nullptr;  // its handle, destroyed before producer_
  std::deque<std::unique_ptr<PendingAppend>> pending_;
  uint64_t next_ticket_ = 0;
  uint64_t acked_ticket_ = 0;
  std::vector<int64_t> last_base_offsets_;  // of the last acknowledged append
  int64_t next_wait_warning_us_ = 0;
  bool warned_ = false;
};

}  // namespace dataforge
