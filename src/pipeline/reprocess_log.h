// The log as a reprocess's processor sees it (pipeline/reprocess.h): a decorator of the real log
// for one consumer group and topic that
//  - starts each partition at the reprocess's start offset, unless the store's offsets of the
//    group say it got further (an interrupted reprocess resumes there);
//  - returns no record at or past the partition's end offset as of the reprocess's start, so the
//    reprocess stops there even while a live pipeline appends (Kafka);
//  - keeps the group's progress in memory and in the store (the processor's offsets, written with
//    the rows), never in the log's group offsets: a finished reprocess leaves no group behind that
//    would hold the embedded log's retention.
// Every other call goes to the real log.
// Thread-compatible: the reprocess's thread drives the processor and reads Position()/Done().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "log/log.h"

namespace dataforge {

class ReprocessLog final : public Log {
 public:
  // Borrows `log`. `start` and `end` hold every partition of `topic`.
  ReprocessLog(Log* log, std::string group, std::string topic, std::map<int32_t, int64_t> start,
               std::map<int32_t, int64_t> end);
  ~ReprocessLog() override;

  // The next offset of `partition` whose effects are in the store (where it resumed, then what
  // the processor committed).
  int64_t Position(int32_t partition) const;
  // Every partition reached its end offset.
  bool Done() const;
  // Records between each partition's position and its end.
  uint64_t Remaining() const;

  // Log (forwarded, except as said above).
  Status CreateTopic(const std::string& topic, int32_t partitions) override;
  Result<std::vector<std::string>> ListTopics() override;
  Result<TopicInfo> DescribeTopic(const std::string& topic) override;
  Result<std::string> LogId(const std::string& topic) override;
  Result<int32_t> PartitionFor(const std::string& topic, const std::string& key) override;
  Result<int64_t> Append(const std::string& topic, int32_t partition,
                         std::span<const LogRecord> records) override;
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
  void Interrupt() override { log_->Interrupt(); }
  bool Shared() const override { return log_->Shared(); }

 private:
  class Listener;
  class Consumer;
  bool Ours(const std::string& group, const std::string& topic) const {
    return group == group_ && topic == topic_;
  }
  void Advance(int32_t partition, int64_t next_offset);

  Log* log_;
  std::string group_, topic_;
  std::map<int32_t, int64_t> start_, end_, position_;
  std::vector<std::unique_ptr<Listener>> listeners_;  // one per Subscribe
};

}  // namespace dataforge
