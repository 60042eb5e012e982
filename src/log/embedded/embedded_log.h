// The embedded log: topics of partitions on local disk (docs/log-format.md).
//
//   <dir>/LOCK                                flock'ed by the one read-write process; holds its pid
//   <dir>/topics/<topic>/meta                 "partitions=N"
//   <dir>/topics/<topic>/id                   the topic's identity (LogId): a random UUID
//   <dir>/topics/<topic>/<partition>/*.log    segments named by base offset
//   <dir>/groups/<group>.offsets              "topic partition next_offset" lines
//
// Contracts as in log/log.h. Every file is read and written through LogOptions::file_system
// (FileSystem::Default() when null); docs/log-format.md says what each failure does.
// Thread-safe: topics_mu_ guards the topic map; each partition
// has its own lock; groups_mu_ serialises group offset files.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "common/file_system.h"
#include "log/embedded/partition_log.h"
#include "log/log.h"

namespace dataforge {

class EmbeddedLog final : public Log {
 public:
  static Result<std::unique_ptr<Log>> Open(const std::string& dir, OpenMode mode,
                                           const LogOptions& options);
  ~EmbeddedLog() override;

  Status CreateTopic(const std::string& topic, int32_t partitions) override;
  Result<std::vector<std::string>> ListTopics() override;
  Result<TopicInfo> DescribeTopic(const std::string& topic) override;
  Result<std::string> LogId(const std::string& topic) override;
  Result<int32_t> PartitionFor(const std::string& topic, const std::string& key) override;
  Result<int64_t> Append(const std::string& topic, int32_t partition,
                         std::span<const LogRecord> records) override;
  // Writes every partition's batch first, then syncs them together (one thread per partition
  // beyond the first: concurrent fdatasyncs share the file system's journal commits), each
  // made visible once its own sync returned, as Append() does. Returns after every sync, so a
  // batch is durable when this returns OK; on an error the partitions written before it are
  // still committed, as a loop of Append() would leave them.
  Status AppendAll(const std::string& topic,
                   std::span<const std::vector<LogRecord>> by_partition) override;
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
  Status ApplyRetention() override;
  Result<std::unique_ptr<LogConsumer>> Subscribe(const std::string& group, const std::string& topic,
                                                 ConsumerListener* listener) override;

  // Bumped by every Append in this process. WaitForAppend() returns once it moves past `seen`,
  // `timeout_us` passes or `stop` is requested; read-only logs (another process appends) wake
  // every 20 ms to look.
  Result<PartitionInfo> DescribePartition(const std::string& topic, int32_t partition);

  // Retention keeps what an open consumer of `group` has not processed: its position in
  // `partition` of `topic` is `next_offset` until the next call or ReleaseConsumer().
  void HoldForConsumer(const std::string& group, const std::string& topic, int32_t partition,
                       int64_t next_offset);
  void ReleaseConsumer(const std::string& group, const std::string& topic);
  // A consumer read `partition` of `topic` below `offset`: a cache hint
  // (PartitionLog::DropCacheBelow). Unknown topics and partitions are ignored.
  void DropCacheBelow(const std::string& topic, int32_t partition, int64_t offset);

  uint64_t AppendGeneration();
  void WaitForAppend(uint64_t seen, int64_t timeout_us, std::stop_token stop);
  bool read_only() const { return mode_ == OpenMode::kReadOnly; }

 private:
  struct Topic {
    std::vector<std::unique_ptr<PartitionLog>> partitions;
  };
  EmbeddedLog(std::string dir, OpenMode mode, const LogOptions& options)
      : dir_(std::move(dir)),
        mode_(mode),
        options_(options),
        fs_(options.file_system != nullptr ? options.file_system : FileSystem::Default()) {}
  Result<Topic*> GetTopic(const std::string& topic);
  Result<PartitionLog*> GetPartition(const std::string& topic, int32_t partition);
  Result<Topic*> LoadTopicLocked(const std::string& topic);
  using GroupOffsets = std::map<std::pair<std::string, int32_t>, int64_t>;
  Result<GroupOffsets> ReadGroupLocked(const std::string& group);
  // Per partition of `topic`, the lowest next offset of any group that committed on it (group
  // files) or holds it open (HoldForConsumer); INT64_MAX where none.
  Result<std::vector<int64_t>> RetentionFloors(const std::string& topic, size_t partitions);

  const std::string dir_;
  const OpenMode mode_;
  const LogOptions options_;
  FileSystem* const fs_;
  std::unique_ptr<FileLock> lock_;  // read-write only
  std::mutex topics_mu_;
  std::map<std::string, std::unique_ptr<Topic>> topics_;  // guarded by topics_mu_
  std::mutex groups_mu_;
  // (group, topic, partition) -> next offset of an open consumer; guarded by groups_mu_.
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> held_;
  std::mutex append_mu_;
  std::condition_variable_any append_cv_;
  uint64_t append_generation_ = 0;  // guarded by append_mu_
};

}  // namespace dataforge
