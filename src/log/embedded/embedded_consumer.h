// The embedded log's consumer: the one member of its group, assigned every partition.
//
// Positions resume at the later of the listener's ResumeOffset() (the store's offsets, written
// atomically with the rows) and the log's group offset file. Commit() keeps positions in memory
// and writes the group offset file at most once a second and at Close(): the file is for
// inspection (`topic describe`, `topic consume --group`) and holds the log's retention (as do
// this consumer's positions while it is open); the store's offsets are the truth.
// A position the log no longer holds (deleted by a forced retention) is reported to the
// listener as a LostRange and reading goes on at the partition's start. A position past the end
// is not (a tail lost in a crash is streamed again by the relay at the same offsets): the
// consumer waits there.
// Thread-compatible (see LogConsumer).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "log/log.h"

namespace dataforge {

class EmbeddedLog;

class EmbeddedConsumer final : public LogConsumer {
 public:
  // Borrows `log` and `listener`.
  EmbeddedConsumer(EmbeddedLog* log, std::string group, std::string topic,
                   ConsumerListener* listener)
      : log_(log), group_(std::move(group)), topic_(std::move(topic)), listener_(listener) {}
  ~EmbeddedConsumer() override;

  Status Poll(size_t max_records, int64_t timeout_us, std::stop_token stop,
              std::vector<ConsumedRecord>* out) override;
  Status Commit(std::span<const PartitionPosition> positions) override;
  Result<bool> CaughtUp() override;
  std::vector<int32_t> Assignment() override;
  Status Close() override;

 private:
  Status AssignAll();
  // Tells the listener that `partition` reads on at `resume_at`, above next_[partition] (the
  // offsets between were deleted), and moves next_.
  void ReportLost(int32_t partition, int64_t resume_at);
  Status WriteGroupOffsets();

  EmbeddedLog* log_;
  std::string group_;
  std::string topic_;
  ConsumerListener* listener_;
  bool assigned_ = false;
  std::vector<int64_t> next_;         // next offset to return, per partition
  std::vector<int64_t> committed_;    // next offset processed, per partition (-1 = none)
  std::vector<int64_t> assigned_at_;  // where each partition resumed at assignment
  bool dirty_ = false;
  int64_t last_write_us_ = 0;
  size_t start_partition_ = 0;  // round-robin start, for fairness
};

}  // namespace dataforge
