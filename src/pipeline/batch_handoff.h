// A one-slot handoff of source batches from the thread that fetches them to the thread that
// commits them to staging, so the next batch's fetch (HTTP, parse) overlaps this batch's commit.
//
// Thread-safety: one producer calls Put() and Finish(); one consumer calls Take() and Close().
// Batches come out in the order they went in.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>

#include "source/source.h"

namespace dataforge {

class BatchHandoff {
 public:
  // Waits until the slot is free, then fills it. False (the batch dropped) when the consumer
  // closed the handoff or `stop` was requested: nothing will commit it, and the source will
  // fetch it again from its committed position after a restart.
  bool Put(SourceBatch batch, std::stop_token stop) {
    std::unique_lock lock(mu_);
    if (!cv_.wait(lock, stop, [&] { return !slot_ || closed_; }) || closed_) return false;
    slot_ = std::move(batch);
    cv_.notify_all();
    return true;
  }

  // The producer has nothing more: Take() returns nullopt once the slot is empty.
  void Finish() {
    std::lock_guard lock(mu_);
    finished_ = true;
    cv_.notify_all();
  }

  // The next batch; nullopt when the producer finished and the slot is empty, or on `stop`.
  std::optional<SourceBatch> Take(std::stop_token stop) {
    std::unique_lock lock(mu_);
    if (!cv_.wait(lock, stop, [&] { return slot_.has_value() || finished_; }) || !slot_) {
      return std::nullopt;
    }
    std::optional<SourceBatch> out = std::move(slot_);
    slot_.reset();
    cv_.notify_all();
    return out;
  }

  // The consumer stops taking: a waiting or later Put() returns false.
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::optional<SourceBatch> slot_;  // guarded by mu_
  bool finished_ = false;            // guarded by mu_
  bool closed_ = false;              // guarded by mu_
};

}  // namespace dataforge
