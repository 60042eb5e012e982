#include "process/store_applier.h"

#include <pthread.h>

#include <chrono>

namespace dataforge {

StoreApplier::~StoreApplier() {
  if (!thread_.joinable()) return;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return pending_ == nullptr; });  // an Apply started is let finish
  }
  thread_.request_stop();
  thread_.join();
}

void StoreApplier::Start(const StoreBatch* batch) {
  if (!thread_.joinable()) {
    thread_ = std::jthread([this](std::stop_token stop) {
      pthread_setname_np(pthread_self(), "df-apply");
      Loop(stop);
    });
  }
  {
    std::lock_guard lock(mu_);
    pending_ = batch;
    done_.reset();
  }
  cv_.notify_all();
}

Status StoreApplier::Wait(int64_t* duration_us) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_.has_value(); });
  Status s = std::move(*done_);
  done_.reset();
  if (duration_us != nullptr) *duration_us = duration_us_;
  return s;
}

void StoreApplier::Loop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (cv_.wait(lock, stop, [&] { return pending_ != nullptr; })) {
    const StoreBatch* batch = pending_;
    lock.unlock();
    auto start = std::chrono::steady_clock::now();
    Status s = store_->Apply(*batch);
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    lock.lock();
    pending_ = nullptr;
    done_ = std::move(s);
    duration_us_ = took;
    cv_.notify_all();
  }
}

}  // namespace dataforge
