#include "pipeline/reprocess_log.h"

#include <algorithm>

namespace dataforge {

// The processor's listener, with the reprocess's start offsets where the store has none.
class ReprocessLog::Listener final : public ConsumerListener {
 public:
  Listener(ReprocessLog* log, ConsumerListener* inner) : log_(log), inner_(inner) {}
  Result<std::optional<int64_t>> ResumeOffset(int32_t partition) override {
    DF_ASSIGN_OR_RETURN(std::optional<int64_t> stored, inner_->ResumeOffset(partition));
    int64_t at = stored ? *stored : log_->start_[partition];
    log_->position_[partition] = at;
    return std::optional<int64_t>(at);
  }
  void OnRecordsLost(const LostRange& range) override { inner_->OnRecordsLost(range); }
  void BeforeRevoke() override { inner_->BeforeRevoke(); }

 private:
  ReprocessLog* log_;
  ConsumerListener* inner_;
};

// The real consumer, bounded by the end offsets; commits stay out of the log's group.
class ReprocessLog::Consumer final : public LogConsumer {
 public:
  Consumer(ReprocessLog* log, std::unique_ptr<LogConsumer> inner)
      : log_(log), inner_(std::move(inner)) {}
  Status Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
              std::vector<ConsumedRecord>* out) override {
    size_t before = out->size();
    DF_RETURN_IF_ERROR(inner_->Poll(max_records, timeout_us, stop, out));
    auto past_end = [&](const ConsumedRecord& c) {
      auto it = log_->end_.find(c.partition);
      return it == log_->end_.end() || c.offset >= it->second;
    };
    out->erase(
        std::remove_if(out->begin() + static_cast<std::ptrdiff_t>(before), out->end(), past_end),
        out->end());
    return Status::OK();
  }
  Status Commit(std::span<const PartitionPosition> positions) override {
    for (const auto& p : positions) log_->Advance(p.partition, p.next_offset);
    return Status::OK();
  }
  Result<bool> CaughtUp() override { return log_->Done(); }
  std::vector<int32_t> Assignment() override { return inner_->Assignment(); }
  Status Close() override { return inner_->Close(); }

 private:
  ReprocessLog* log_;
  std::unique_ptr<LogConsumer> inner_;
};

ReprocessLog::ReprocessLog(Log* log, std::string group, std::string topic,
                           std::map<int32_t, int64_t> start, std::map<int32_t, int64_t> end)
    : log_(log),
      group_(std::move(group)),
      topic_(std::move(topic)),
      start_(std::move(start)),
      end_(std::move(end)),
      position_(start_) {}

ReprocessLog::~ReprocessLog() = default;

void ReprocessLog::Advance(int32_t partition, int64_t next_offset) {
  int64_t& at = position_[partition];
  at = std::max(at, next_offset);
}

int64_t ReprocessLog::Position(int32_t partition) const {
  auto it = position_.find(partition);
  return it == position_.end() ? 0 : it->second;
}

bool ReprocessLog::Done() const {
  for (const auto& [p, end] : end_) {
    if (Position(p) < end) return false;
  }
  return true;
}

uint64_t ReprocessLog::Remaining() const {
  uint64_t n = 0;
  for (const auto& [p, end] : end_)
    n += static_cast<uint64_t>(std::max<int64_t>(0, end - Position(p)));
  return n;
}

Status ReprocessLog::CreateTopic(const std::string& topic, int32_t partitions) {
  return log_->CreateTopic(topic, partitions);
}
Result<std::vector<std::string>> ReprocessLog::ListTopics() {
  return log_->ListTopics();
}
Result<TopicInfo> ReprocessLog::DescribeTopic(const std::string& topic) {
  return log_->DescribeTopic(topic);
}
Result<std::string> ReprocessLog::LogId(const std::string& topic) {
  return log_->LogId(topic);
}
Result<int32_t> ReprocessLog::PartitionFor(const std::string& topic, const std::string& key) {
  return log_->PartitionFor(topic, key);
}
Result<int64_t> ReprocessLog::Append(const std::string& topic, int32_t partition,
                                     std::span<const LogRecord> records) {
  return log_->Append(topic, partition, records);
}
Status ReprocessLog::Read(const std::string& topic, int32_t partition, int64_t offset,
                          size_t max_records, std::vector<ConsumedRecord>* out) {
  return log_->Read(topic, partition, offset, max_records, out);
}
Result<int64_t> ReprocessLog::OffsetForTime(const std::string& topic, int32_t partition,
                                            int64_t timestamp_us) {
  return log_->OffsetForTime(topic, partition, timestamp_us);
}
Result<std::optional<ConsumedRecord>> ReprocessLog::ReadLast(const std::string& topic,
                                                             int32_t partition) {
  return log_->ReadLast(topic, partition);
}
bool ReprocessLog::WaitForData(const std::string& topic, int32_t partition, int64_t offset,
                               int64_t timeout_us, std::stop_token stop) {
  return log_->WaitForData(topic, partition, offset, timeout_us, stop);
}
Status ReprocessLog::CommitGroupOffset(const std::string& group, const std::string& topic,
                                       int32_t partition, int64_t next_offset) {
  if (Ours(group, topic)) {
    Advance(partition, next_offset);
    return Status::OK();
  }
  return log_->CommitGroupOffset(group, topic, partition, next_offset);
}
Result<std::optional<int64_t>> ReprocessLog::GroupOffset(const std::string& group,
                                                         const std::string& topic,
                                                         int32_t partition) {
  if (Ours(group, topic)) return std::optional<int64_t>(Position(partition));
  return log_->GroupOffset(group, topic, partition);
}
Status ReprocessLog::ApplyRetention() {
  return log_->ApplyRetention();
}
Result<std::unique_ptr<LogConsumer>> ReprocessLog::Subscribe(const std::string& group,
                                                             const std::string& topic,
                                                             ConsumerListener* listener) {
  if (!Ours(group, topic)) return log_->Subscribe(group, topic, listener);
  listeners_.push_back(std::make_unique<Listener>(this, listener));
  DF_ASSIGN_OR_RETURN(auto inner, log_->Subscribe(group, topic, listeners_.back().get()));
  return std::unique_ptr<LogConsumer>(std::make_unique<Consumer>(this, std::move(inner)));
}

}  // namespace dataforge
