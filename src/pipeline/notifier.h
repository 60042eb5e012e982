// Wakes a waiting stage thread when the stage before it produced something. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>

namespace dataforge {

class Notifier {
 public:
  void Notify() {
    {
      std::lock_guard lock(mu_);
      ++generation_;
    }
    cv_.notify_all();
  }
  uint64_t generation() {
    std::lock_guard lock(mu_);
    return generation_;
  }
  // Waits until the generation moves past `seen`, `timeout_us` passes, or `stop` is requested.
  void WaitPast(uint64_t seen, int64_t timeout_us, std::stop_token stop) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, stop, std::chrono::microseconds(timeout_us),
                 [&] { return generation_ != seen; });
  }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  uint64_t generation_ = 0;  // guarded by mu_
};

}  // namespace dataforge
