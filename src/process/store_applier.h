// One Store::Apply at a time on a thread of its own, so the processor's thread can poll and map
// the next batch while the store writes (and fsyncs, or waits for its cluster on) this one.
//
// Start() hands a batch over; it is borrowed, unchanged, until Wait() returns. Wait() blocks until
// that Apply returned and gives its status; the batch is then durable exactly as a direct Apply
// would have left it (store.h). Applies run in the order they were started, never two at once.
// The thread starts with the first Start(); the destructor waits for an Apply in flight.
// Thread-compatible: one thread calls Start() and Wait(), alternately.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "common/status.h"
#include "store/store.h"

namespace dataforge {

class StoreApplier {
 public:
  explicit StoreApplier(Store* store) : store_(store) {}  // borrows `store`
  StoreApplier(const StoreApplier&) = delete;
  StoreApplier& operator=(const StoreApplier&) = delete;
  ~StoreApplier();

  // Starts applying `batch`. The previous Start() must have been waited for.
  void Start(const StoreBatch* batch);
  // Apply's status for the batch of the last Start(); `duration_us` (optional) gets how long
  // the Apply itself took.
  Status Wait(int64_t* duration_us = nullptr);

 private:
  void Loop(std::stop_token stop);

  Store* store_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  const StoreBatch* pending_ = nullptr;  // handed over, not yet taken by the thread
  std::optional<Status> done_;           // the last Apply's status, until Wait() takes it
  int64_t duration_us_ = 0;
  std::jthread thread_;  // last: stopped and joined before the members above go
};

}  // namespace dataforge
