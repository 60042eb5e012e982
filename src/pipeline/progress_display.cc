#include "pipeline/progress_display.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

namespace dataforge {

void ProgressDisplay::Start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    auto last = std::chrono::steady_clock::now();
    bool first = true;
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, stop, std::chrono::milliseconds(500), [] { return false; });
      }
      auto now = std::chrono::steady_clock::now();
      Draw(std::chrono::duration<double>(now - last).count(), first);
      first = false;
      last = now;
    }
    // Leave the final state on screen, below it the summary follows.
  });
}

void ProgressDisplay::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void ProgressDisplay::Draw(double dt, bool first) {
  const uint64_t now[4] = {
      probes_->source.fetched.load(), probes_->source.staged.load(), probes_->relay.streamed.load(),
      probes_->processor.stored.load() + probes_->processor.dead_lettered.load()};
  static constexpr const char* kNames[4] = {"source  fetched ", "staging staged  ",
                                            "relay   streamed", "process done    "};
  std::string text;
  if (!first) text += fmt::format("\033[{}F", lines_);  // back to the first of our lines
  for (int i = first_line_; i < first_line_ + lines_; ++i) {
    double rate = dt > 0 ? static_cast<double>(now[i] - last_[i]) / dt : 0;
    std::string extra;
    if (i == 0) {
      extra = fmt::format("  dead-lettered {}", probes_->source.dead_lettered.load());
    }
    if (i == 3) {
      extra = fmt::format("  stored {}  dead-lettered {}  p99 {:.1f} ms  partitions {}",
                          probes_->processor.stored.load(), probes_->processor.dead_lettered.load(),
                          probes_->processor.fetch_to_queryable_us.Percentile(99) / 1000.0,
                          probes_->processor.partitions.load());
    }
    text += fmt::format("\033[2K{} {:>12}  {:>10.0f} rec/s{}\n", kNames[i], now[i], rate, extra);
    last_[i] = now[i];
  }
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

}  // namespace dataforge
