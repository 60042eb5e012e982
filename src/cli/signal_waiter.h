// SIGINT/SIGTERM handling for long-running commands.
#pragma once

#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

namespace dataforge {

// SIGINT and SIGTERM: the signals that stop a command.
inline sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Blocks SIGINT/SIGTERM in every thread (call before starting any) and handles them on one
// thread with sigwait: the first signal calls `on_first`, the second `on_second`.
class SignalWaiter {
 public:
  SignalWaiter() : set_(StopSignals()) {
    sigaddset(&set_, SIGUSR1);  // used only to wake the waiter at shutdown
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  // `first_message` says what the first signal does.
  void Start(std::function<void()> on_first, std::function<void()> on_second,
             std::string first_message = "stopping the source and draining") {
    first_message_ = std::move(first_message);
    thread_ = std::thread([this, on_first, on_second] {
      int count = 0;
      while (true) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0) continue;
        if (sig == SIGUSR1 && done_) return;
        if (sig == SIGUSR1) continue;
        if (++count == 1) {
          spdlog::info("{} received: {} (again to stop now)", strsignal(sig), first_message_);
          on_first();
        } else {
          spdlog::warn("{} received again: stopping every stage now; the next run resumes",
                       strsignal(sig));
          on_second();
        }
      }
    });
  }
  // For a server that stops on the first SIGINT/SIGTERM (a second one as well): Start() with
  // handlers that make WaitForStop() return.
  void StartStopOnSignal(std::string first_message) {
    auto stop = [this] {
      std::lock_guard lock(stop_mu_);
      stop_ = true;
      stop_cv_.notify_all();
    };
    Start(stop, stop, std::move(first_message));
  }
  // Blocks until StartStopOnSignal()'s signal came.
  void WaitForStop() {
    std::unique_lock lock(stop_mu_);
    stop_cv_.wait(lock, [this] { return stop_; });
  }

  ~SignalWaiter() {
    if (thread_.joinable()) {
      done_ = true;
      pthread_kill(thread_.native_handle(), SIGUSR1);
      thread_.join();
    }
  }

 private:
  sigset_t set_;
  std::string first_message_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
};

}  // namespace dataforge
