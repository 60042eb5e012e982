// Waits for a group of asynchronous requests (Session::ExecuteAsync) and keeps the first error.
//
//   Completion c;
//   for (...) { if (c.failed()) break; c.Add(); session->ExecuteAsync(..., c.Callback()); }
//   Status s = c.Wait();
//
// Thread-safe: callbacks complete it from any thread. It must outlive every callback it made
// (Wait() before destroying it).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "common/status.h"
#include "cql/client/connection.h"
#include "cql/messages.h"

namespace dataforge::cql::client {

class Completion {
 public:
  void Add(int64_t n = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ += n;
  }
  void Done(const Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok() && first_error_.ok()) first_error_ = s;
    if (--pending_ == 0) cv_.notify_all();
  }
  // A callback that calls Done with the request's status (the result itself is dropped).
  std::function<void(Result<ResultMessage>)> Callback() {
    return [this](Result<ResultMessage> r) { Done(r.status()); };
  }
  bool failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return !first_error_.ok();
  }
  // Flushes this thread's SendBatch, then blocks until every Add()ed request is Done; returns
  // the first error or OK.
  Status Wait() {
    SendBatch::FlushCurrent();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return pending_ == 0; });
    return first_error_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t pending_ = 0;  // GUARDED_BY(mu_)
  Status first_error_;   // GUARDED_BY(mu_)
};

}  // namespace dataforge::cql::client
