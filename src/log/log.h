// Log stage interface: topics of partitioned, append-only record sequences with offsets.
//
// The embedded implementation (log/embedded/) keeps segments on local disk; the Kafka
// implementation (log/kafka/, librdkafka) satisfies the same interface at scale. Nothing above
// this header knows which one runs.
//
// tests/conformance/log_conformance_test.cc checks this contract for every backend.
// Offsets: each partition numbers its records 0, 1, 2, ... An offset is never reused, even
// after retention deletes old records (start_offset then moves up).
// Thread-safety: a Log opened kReadWrite is safe for concurrent use by several threads (one
// appender per partition at a time is enough for the pipeline). One process at a time may open a
// log directory kReadWrite (an flock'ed LOCK file); any number may open it kReadOnly while it
// runs: readers never modify files and stop at a torn or not-yet-complete tail.
// Durability: Append() returns after the batch is written and, with LogOptions::fsync_per_batch,
// fsynced; a crash never loses an acknowledged batch. Recovery at kReadWrite open truncates the
// active segment after its last complete, CRC-valid batch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "common/open_mode.h"
#include "common/status.h"

namespace dataforge {

class FileSystem;  // common/file_system.h

struct LogRecord {
  std::string key;
  std::string value;
  int64_t timestamp_us = 0;  // Kafka keeps milliseconds: read back rounded down to one
  std::vector<std::pair<std::string, std::string>> headers;
  // A tombstone: the value is null, not empty (`value` is ""). Both logs keep it as such and
  // read it back apart from an empty value: Kafka (log compaction removes the key, consumers
  // see a delete) and the embedded log (a DFB2 batch, docs/log-format.md).
  bool tombstone = false;
};

// Headers of the records the relay writes (relay/outbox_relay.h), read by the processor:
// "seq" is the outbox sequence (decimal); "origin" names the staging it came from.
// The "seq" header as a number; 0 if absent or malformed.
uint64_t OutboxSeqOf(const LogRecord& record);
// The "origin" header; "" if absent.
std::string OriginOf(const LogRecord& record);

struct ConsumedRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  LogRecord record;
};

struct PartitionInfo {
  int32_t partition = 0;
  int64_t start_offset = 0;  // first offset still retained
  int64_t end_offset = 0;    // offset the next appended record gets (high watermark)
  uint64_t size_bytes = 0;
  int segments = 0;
};

struct TopicInfo {
  std::string name;
  std::vector<PartitionInfo> partitions;
};

struct LogOptions {
  // Embedded log.
  bool fsync_per_batch = true;
  FileSystem* file_system = nullptr;  // where its files live; null = FileSystem::Default()
  uint64_t segment_bytes = 64ull << 20;
  uint64_t retention_bytes = 0;  // per partition; 0 = unlimited
  int64_t retention_ms = 0;      // 0 = unlimited
  // Delete segments past the limits even when a consumer group has not read them (their
  // records are then counted as lost by the processor).
  bool retention_force = false;
  // Kafka.
  int replication_factor = 0;  // for topics it creates; 0 = the cluster's default
  // librdkafka properties passed through as they are (security.protocol, sasl.*, ssl.*, ...);
  // they override DataForge's own settings.
  std::vector<std::pair<std::string, std::string>> properties;
};

// The next offset to read in one partition.
struct PartitionPosition {
  int32_t partition = 0;
  int64_t next_offset = 0;
};

// Offsets of one partition that a consumer will never read because the log no longer has them:
// deleted before they were read (retention, Kafka DeleteRecords: the partition's start offset
// passed `expected`), or gone with a topic that was deleted and made again (the partition's
// offsets start again below `expected`).
struct LostRange {
  enum class Cause { kDeleted, kOffsetsWentBack };
  int32_t partition = 0;
  Cause cause = Cause::kDeleted;
  int64_t expected = 0;   // the offset the consumer was to read next
  int64_t resume_at = 0;  // where it reads on
  // Records that can never be read: resume_at - expected for kDeleted; for kOffsetsWentBack the
  // records between `expected` and the old end this consumer had seen (0 if it had seen none:
  // what the old topic held beyond `expected` is unknown).
  uint64_t records = 0;
  std::string why;  // the backend's likely cause, e.g. "by the log's retention"
};

// "log users_created partition 3: offsets 1200..2199 (1000 records) were deleted by the log's
// retention before they were processed; they are counted as lost" (one line).
std::string DescribeLostRange(const std::string& topic, const LostRange& range);

// Tells a consumer where this member's own durable state says a partition resumes, and hears
// about offsets the consumer skipped. Called on the consumer's thread, inside
// LogConsumer::Poll() (and CaughtUp()).
class ConsumerListener {
 public:
  virtual ~ConsumerListener() = default;
  // The next offset whose effects are not yet durable here, or nullopt if unknown.
  virtual Result<std::optional<int64_t>> ResumeOffset(int32_t partition) = 0;
  // The consumer skipped `range`. Ordering: the records the same Poll() returns of
  // range.partition all come after the range (offsets from range.resume_at on); none before.
  // The listener makes the skip durable with its next write (its position moves to
  // range.resume_at); until then a restart finds the same range again.
  virtual void OnRecordsLost(const LostRange& range) = 0;
  // The consumer is about to give up partitions (a rebalance, inside Poll): what the listener
  // is making durable of the records it polled must be durable, and its positions passed to
  // Commit() (allowed from here), before this returns; the consumer then commits what was
  // processed and lets the partitions go, so another member resumes after those records.
  virtual void BeforeRevoke() {}
};

// One member of a consumer group reading one topic. The log assigns it partitions (all of them
// for the embedded log; a share of them, rebalanced as members join and leave, for Kafka).
// A newly assigned partition resumes at the later of the group's committed offset and the
// listener's ResumeOffset(), or at offset 0 when neither exists. When the offset to read next is
// no longer in the log (below the partition's start offset, or above its end after the topic
// was made again) the consumer reads on from the partition's start and tells the listener
// (OnRecordsLost): records never vanish silently.
// Thread-compatible: one thread calls Poll/Commit/CaughtUp/Close.
class LogConsumer {
 public:
  virtual ~LogConsumer() = default;

  // Waits up to `timeout_us` (or until `stop`) for records of assigned partitions and appends
  // at most `max_records` of them to `out`, in offset order within each partition. Assignment
  // changes happen inside Poll: records of a partition lost in a rebalance are never returned.
  virtual Status Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
                      std::vector<ConsumedRecord>* out) = 0;

  // Records that everything before each `next_offset` is durably processed (call after the
  // store write). May be asynchronous: a commit lost in a crash only makes the next owner
  // re-process, and the store's upsert by key makes that harmless.
  virtual Status Commit(std::span<const PartitionPosition> positions) = 0;

  // True when the group's progress (offsets committed, by this member or the group, or the
  // point where a partition resumed) has reached the end of every partition of the topic;
  // records only polled do not count.
  virtual Result<bool> CaughtUp() = 0;

  // The partitions this member owns now.
  virtual std::vector<int32_t> Assignment() = 0;

  // Commits what was processed and leaves the group (its partitions go to other members).
  virtual Status Close() = 0;
};

class Log {
 public:
  virtual ~Log() = default;

  // Creates the topic if missing. An existing topic with a different partition count is an
  // InvalidArgument error naming both counts.
  virtual Status CreateTopic(const std::string& topic, int32_t partitions) = 0;
  virtual Result<std::vector<std::string>> ListTopics() = 0;
  virtual Result<TopicInfo> DescribeTopic(const std::string& topic) = 0;

  // The identity of `topic`: a text that stays the same for the topic's whole life and differs
  // for a topic deleted and made again under the same name (or another log's topic of the same
  // name). Offsets kept outside the log (the store's, store.h PartitionOffset::log_id) carry it,
  // so a consumer never resumes one log at another log's offsets. "" when the log cannot tell
  // (docs/architecture.md "Log identity" says when); a NotFound error when the topic is missing.
  // Embedded log: a random UUID made with the topic (a topic made before identities existed gets
  // one at its first read-write use; read-only: "" until then). Kafka: see kafka_log.h.
  virtual Result<std::string> LogId(const std::string& topic);

  // The partition a key maps to (stable across processes and restarts).
  virtual Result<int32_t> PartitionFor(const std::string& topic, const std::string& key) = 0;

  // Appends `records` to one partition as one batch. Returns the base offset.
  virtual Result<int64_t> Append(const std::string& topic, int32_t partition,
                                 std::span<const LogRecord> records) = 0;

  // Appends `by_partition[p]` to partition p for every p, and returns when all are
  // acknowledged. A log with network round trips overlaps them; the default appends in turn.
  virtual Status AppendAll(const std::string& topic,
                           std::span<const std::vector<LogRecord>> by_partition);

  // Pipelined appends, for a producer that should not wait a round trip per batch.
  // StartAppend() hands the records over and returns a ticket (1, 2, 3, ...); records of one
  // partition reach it in the order they were started. Acknowledged() waits up to
  // `timeout_us` and returns the highest ticket T such that every append up to T is durable;
  // an append that failed for good is its error. The default appends synchronously, so every
  // ticket is acknowledged when StartAppend() returns. One thread uses these at a time.
  virtual Result<uint64_t> StartAppend(const std::string& topic,
                                       std::span<const std::vector<LogRecord>> by_partition);
  virtual Result<uint64_t> Acknowledged(int64_t timeout_us);

  // Appends up to `max_records` records starting at `offset` (or at start_offset if `offset` was
  // removed by retention: the first record's offset then shows the skip; a consumer reports it
  // as a LostRange). Returns OK with nothing appended at the end of the partition.
  // A corrupt batch is a Corruption error naming the segment file and byte position.
  virtual Status Read(const std::string& topic, int32_t partition, int64_t offset,
                      size_t max_records, std::vector<ConsumedRecord>* out) = 0;

  // Seek by time: the first offset of the partition whose record timestamp is >= `timestamp_us`;
  // the end offset when no record is that late, the start offset when every retained record is.
  // Timestamps are what the producer gave each record (LogRecord::timestamp_us: the relay writes
  // the time the source fetched it), not append times: they are usually but not necessarily
  // non-decreasing within a partition (a wall clock may step back). The embedded log answers
  // exactly whatever the order (by each batch's max timestamp: a binary search over the batch
  // index, then one batch read). Kafka answers with the brokers' time index
  // (rd_kafka_offsets_for_times, as Kafka's offsetsForTimes), in milliseconds: `timestamp_us` is
  // rounded up to the next whole millisecond (records read back have whole milliseconds, so the
  // answer is the same); see kafka_log.h for brokers without a time index. NotFound for an
  // unknown topic, InvalidArgument for a partition the topic does not have.
  virtual Result<int64_t> OffsetForTime(const std::string& topic, int32_t partition,
                                        int64_t timestamp_us) = 0;

  // The last record of a partition, or nullopt when it is empty (used by producers to find
  // how far they got before a crash).
  virtual Result<std::optional<ConsumedRecord>> ReadLast(const std::string& topic,
                                                         int32_t partition) = 0;

  // Blocks until the partition's end offset exceeds `offset`, `timeout_us` passes or `stop`
  // is requested. Returns true when data is available.
  virtual bool WaitForData(const std::string& topic, int32_t partition, int64_t offset,
                           int64_t timeout_us, std::stop_token stop) = 0;

  // Consumer-group offsets (the next offset to read), stored durably by the log.
  virtual Status CommitGroupOffset(const std::string& group, const std::string& topic,
                                   int32_t partition, int64_t next_offset) = 0;
  virtual Result<std::optional<int64_t>> GroupOffset(const std::string& group,
                                                     const std::string& topic,
                                                     int32_t partition) = 0;
  // GroupOffset of partitions 0..partitions-1, in that order. The default asks for each in
  // turn; Kafka asks for all of them in one request.
  virtual Result<std::vector<std::optional<int64_t>>> GroupOffsets(const std::string& group,
                                                                   const std::string& topic,
                                                                   int32_t partitions);

  // Deletes whole segments beyond the retention limits (never the active segment). The embedded
  // log keeps a segment that any consumer group which committed on its topic has not read past,
  // unless LogOptions::retention_force. Kafka: the brokers apply their own retention.
  virtual Status ApplyRetention() = 0;

  // Joins consumer group `group` on `topic`. `listener` is borrowed and must outlive the
  // consumer.
  virtual Result<std::unique_ptr<LogConsumer>> Subscribe(const std::string& group,
                                                         const std::string& topic,
                                                         ConsumerListener* listener) = 0;

  // Makes calls blocked waiting for a peer (an unacknowledged Append) return Cancelled soon.
  // Any thread. The log is unusable for writing afterwards.
  virtual void Interrupt() {}

  // True when several processes can share this log (the pipeline may be split into roles).
  virtual bool Shared() const { return false; }

 private:
  uint64_t sync_tickets_ = 0;  // the default StartAppend's tickets
};

// Opens the log named by `url`: "file:///abs/dir" or a plain directory path for the embedded log;
// "kafka://host:port[,host:port...][?property=value&...]" for Apache Kafka.
Result<std::unique_ptr<Log>> OpenLog(const std::string& url, OpenMode mode,
                                     const LogOptions& options);

}  // namespace dataforge
