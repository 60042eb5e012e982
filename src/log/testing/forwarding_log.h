// For tests: a Log that forwards every call to another one, so a test overrides only the calls
// it watches or changes (a consumer that plays a rebalance, appends acknowledged on cue); and
// a LogConsumer that does the same for the consumer its Subscribe returns.
// ForwardingLog borrows `inner`; ForwardingConsumer owns it. Thread-safety: as `inner`'s.
#pragma once

#include <memory>
#include <utility>

#include "log/log.h"

namespace dataforge::testing {

class ForwardingConsumer : public LogConsumer {
 public:
  explicit ForwardingConsumer(std::unique_ptr<LogConsumer> inner) : inner_(std::move(inner)) {}

  Status Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
              std::vector<ConsumedRecord>* out) override {
    return inner_->Poll(max_records, timeout_us, stop, out);
  }
  Status Commit(std::span<const PartitionPosition> positions) override {
    return inner_->Commit(positions);
  }
  Result<bool> CaughtUp() override { return inner_->CaughtUp(); }
  std::vector<int32_t> Assignment() override { return inner_->Assignment(); }
  Status Close() override { return inner_->Close(); }

 protected:
  std::unique_ptr<LogConsumer> inner_;
};

class ForwardingLog : public Log {
 public:
  explicit ForwardingLog(Log* inner) : inner_(inner) {}

  Status CreateTopic(const std::string& t, int32_t n) override { return inner_->CreateTopic(t, n); }
  Result<std::vector<std::string>> ListTopics() override { return inner_->ListTopics(); }
  Result<TopicInfo> DescribeTopic(const std::string& t) override {
    return inner_->DescribeTopic(t);
  }
  Result<std::string> LogId(const std::string& t) override { return inner_->LogId(t); }
  Result<int32_t> PartitionFor(const std::string& t, const std::string& k) override {
    return inner_->PartitionFor(t, k);
  }
  Result<int64_t> Append(const std::string& t, int32_t p,
                         std::span<const LogRecord> records) override {
    return inner_->Append(t, p, records);
  }
  Status AppendAll(const std::string& t,
                   std::span<const std::vector<LogRecord>> by_partition) override {
    return inner_->AppendAll(t, by_partition);
  }
  Result<uint64_t> StartAppend(const std::string& t,
                               std::span<const std::vector<LogRecord>> by_partition) override {
    return inner_->StartAppend(t, by_partition);
  }
  Result<uint64_t> Acknowledged(int64_t timeout_us) override {
    return inner_->Acknowledged(timeout_us);
  }
  Status Read(const std::string& t, int32_t p, int64_t offset, size_t max,
              std::vector<ConsumedRecord>* out) override {
    return inner_->Read(t, p, offset, max, out);
  }
  Result<int64_t> OffsetForTime(const std::string& t, int32_t p, int64_t timestamp_us) override {
    return inner_->OffsetForTime(t, p, timestamp_us);
  }
  Result<std::optional<ConsumedRecord>> ReadLast(const std::string& t, int32_t p) override {
    return inner_->ReadLast(t, p);
  }
  bool WaitForData(const std::string& t, int32_t p, int64_t offset, int64_t timeout_us,
                   std::stop_token stop) override {
    return inner_->WaitForData(t, p, offset, timeout_us, stop);
  }
  Status CommitGroupOffset(const std::string& g, const std::string& t, int32_t p,
                           int64_t next) override {
    return inner_->CommitGroupOffset(g, t, p, next);
  }
  Result<std::optional<int64_t>> GroupOffset(const std::string& g, const std::string& t,
                                             int32_t p) override {
    return inner_->GroupOffset(g, t, p);
  }
  Result<std::vector<std::optional<int64_t>>> GroupOffsets(const std::string& g,
                                                           const std::string& t,
                                                           int32_t partitions) override {
    return inner_->GroupOffsets(g, t, partitions);
  }
  Status ApplyRetention() override { return inner_->ApplyRetention(); }
  Result<std::unique_ptr<LogConsumer>> Subscribe(const std::string& g, const std::string& t,
                                                 ConsumerListener* listener) override {
    return inner_->Subscribe(g, t, listener);
  }
  void Interrupt() override { inner_->Interrupt(); }
  bool Shared() const override { return inner_->Shared(); }

 protected:
  Log* inner_;
};

}  // namespace dataforge::testing
