// A member of a Kafka consumer group reading one topic (librdkafka high-level consumer).
//
// Offsets are never committed automatically: Commit() is called after the store write and
// commits asynchronously; partitions being revoked are committed synchronously first, so the
// next owner starts where this member stopped. A newly assigned partition resumes at the later
// of the group's committed offset and the listener's ResumeOffset() (the store's own offsets,
// written with the rows): a commit lost in a crash costs nothing on the same member, and the
// other members re-process at most the batch that was not committed.
// A commit that fails is remembered, not dropped: after an error that means "the group is
// rebalancing" (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID)
// it is sent again once the rebalance has given this member its partitions back, and the
// member resumes there; after any other error it is sent again by the next Poll() or Commit().
// It is never sent for a partition the rebalance gave to another member (a warning names it).
// Rebalancing is eager (roundrobin): records of a partition revoked during Poll() are dropped
// before Poll() returns them.
// Lost records: a partition with no position here starts at offset 0, and auto.offset.reset is
// always earliest, so an offset the brokers no longer have (retention, DeleteRecords, a topic
// deleted and made again) makes librdkafka read on from the partition's start. Poll() sees the
// jump in the offsets and reports it to the listener as a LostRange (checked against the
// partition's start offset, so that a hole a compacted topic leaves is not counted).
// CaughtUp() finds a position below the start offset of a partition with nothing left to read.
// Thread-compatible: one thread calls everything; rebalance callbacks run inside Poll/Close.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "log/kafka/kafka_client.h"
#include "log/log.h"

namespace dataforge {

class KafkaConsumer final : public LogConsumer {
 public:
  static Result<std::unique_ptr<LogConsumer>> Create(const KafkaConfig& config,
                                                     const std::string& group,
                                                     const std::string& topic, int32_t partitions,
                                                     ConsumerListener* listener);
  ~KafkaConsumer() override;

  Status Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
              std::vector<ConsumedRecord>* out) override;
  Status Commit(std::span<const PartitionPosition> positions) override;
  Result<bool> CaughtUp() override;
  std::vector<int32_t> Assignment() override;
  Status Close() override;

  // librdkafka callbacks (consumer thread, inside poll).
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void OnCommit(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets);

 private:
  KafkaConsumer(std::string group, std::string topic, int32_t partitions,
                ConsumerListener* listener)
      : group_(std::move(group)),
        topic_(std::move(topic)),
        partitions_(partitions),
        listener_(listener),
        errors_("consumer") {}
  void Assign(rd_kafka_topic_partition_list_t* partitions);
  void Revoke(rd_kafka_topic_partition_list_t* partitions);
  // Synchronously commits the processed positions of `partitions` that were not yet committed.
  void CommitProcessed(const std::vector<int32_t>& partitions);
  // Sends the processed positions not committed yet (async); skips partitions whose failed
  // commit waits for the rebalance to end.
  void SendCommits();
  // Remembers the failed commits in `offsets` (`err`, or each element's own error).
  void RememberFailed(rd_kafka_resp_err_t err, const rd_kafka_topic_partition_list_t* offsets);
  // The range skipped when the next record of `partition` is at `offset`, if any.
  std::optional<LostRange> CheckOffset(int32_t partition, int64_t offset);
  // Moves the fetcher of `partition` to `offset` (purging what was fetched before).
  void Seek(int32_t partition, int64_t offset);
  // librdkafka 2.0 (Debian 12's) stops fetching while its pre-fetch queue is full
  // (queued.max.messages.kbytes) and looks again only when a broker thread wakes, up to a second
  // later, however soon the queue drains (librdkafka 2.1 made the pause fetch.queue.backoff.ms).
  // Called when the queue is empty: if an assigned partition has records past what Poll has
  // returned (the high watermark of the last fetch), one ListOffsets request per partition leader
  // wakes their broker threads, which then fetch again. At most every 50 ms (doubling up to 1 s
  // while wake-ups bring nothing), waiting at most 100 ms.
  void WakeStalledFetchers();

  std::string group_;
  std::string topic_;
  int32_t partitions_;
  ConsumerListener* listener_;
  KafkaErrorReporter errors_;
  RdKafkaPtr rk_;
  bool closed_ = false;
  std::map<int32_t, int64_t> assigned_;   // partition -> next offset processed (-1 = none yet)
  std::map<int32_t, int64_t> committed_;  // partition -> last offset sent in a commit
  std::map<int32_t, int64_t> confirmed_;  // partition -> offset the group confirmed committed
  std::map<int32_t, int> sent_in_;        // partition -> assignment (assigns_) of the last send
  int assigns_ = 0;                       // assignments so far
  // A commit that failed: sent again by SendCommits from `retry_at_us` on (monotonic) while
  // the partition stays assigned; a rebalance in between hands it to Assign, which resumes
  // there if the partition comes back to this member and drops it with a warning if not.
  struct Unsent {
    int64_t offset;
    int64_t retry_at_us;
  };
  std::map<int32_t, Unsent> unsent_;
  std::map<int32_t, int64_t> expected_;  // partition -> offset Poll returns next
  std::map<int32_t, int64_t> seen_end_;  // partition -> highest end offset seen
  // A LostRange found after records of its partition in the same Poll, with the record that
  // showed it (none when CaughtUp found it): reported first by the next Poll.
  struct Held {
    LostRange range;
    std::optional<ConsumedRecord> record;
  };
  std::vector<Held> held_;
  std::vector<ConsumedRecord>* polling_ = nullptr;  // Poll's output while inside Poll
  int64_t last_wake_us_ = 0;                        // WakeStalledFetchers (monotonic)
  int64_t wake_every_us_ = 50'000;                  // its interval now
  bool records_since_wake_ = false;                 // Poll returned records since then
  Status callback_error_;                           // first error raised inside a callback
};

}  // namespace dataforge
