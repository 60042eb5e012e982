// The relay and processor threads of PipelineImpl (pipeline_impl.h).
#include <spdlog/spdlog.h>

#include "pipeline/pipeline_impl.h"

namespace dataforge {

void PipelineImpl::RelayLoop() {
  auto abort = abort_.get_token();
  int64_t next_retention = clock_->MonotonicMicros() + kRetentionEveryUs;
  while (!abort.stop_requested()) {
    uint64_t gen = staged_.generation();
    bool source_was_done = source_done_.load();
    while (processes() && !abort.stop_requested() &&
           LogRecordsUnprocessed(probes_) > config_.tuning.max_log_lag) {
      processed_.WaitPast(processed_.generation(), kIdleWaitUs, abort);
    }
    int64_t t0 = clock_->MonotonicMicros();
    auto moved = relay_->RunOnce();
    probes_.relay.busy_us += static_cast<uint64_t>(clock_->MonotonicMicros() - t0);
    if (!moved.ok()) {
      if (!abort.stop_requested()) Fail(moved.status());
      break;
    }
    if (*moved > 0) {
      streamed_.Notify();
      continue;
    }
    if (source_was_done && ingests_active_.load() == 0) break;  // FlushCursor() waits for the rest
    // An ingest waits for the committed cursor (the upsert view a sql task may read next).
    uint64_t committed = probes_.relay.committed.load();
    if (Status s = relay_->CommitProgress(/*now=*/ingests_active_.load() > 0); !s.ok()) {
      if (!abort.stop_requested()) Fail(s);
      break;
    }
    if (probes_.relay.committed.load() != committed) streamed_.Notify();
    if (clock_->MonotonicMicros() > next_retention) {
      if (Status s = log_->ApplyRetention(); !s.ok())
        spdlog::warn("log retention: {}", s.ToString());
      next_retention = clock_->MonotonicMicros() + kRetentionEveryUs;
    }
    staged_.WaitPast(gen, kIdleWaitUs, abort);
  }
  if (!abort.stop_requested()) {
    if (Status s = relay_->FlushCursor(); !s.ok()) Fail(s);
  }
  relay_done_ = true;
  streamed_.Notify();
}

void PipelineImpl::ProcessorLoop() {
  auto abort = abort_.get_token();
  // A member of a shared log stops on the first signal; the whole pipeline drains.
  auto stop = options_.role == PipelineRole::kProcess ? stop_.get_token() : abort;
  int64_t next_report = 0;
  bool drain_polled = false;  // a poll since the relay was done found nothing
  while (!stop.stop_requested()) {
    bool relay_was_done = relay_done_.load();
    int64_t wait_us = kIdleWaitUs;
    if (options_.role == PipelineRole::kAll && relay_was_done) {
      wait_us = drain_polled ? kDrainWaitUs : 0;
    }
    int64_t t0 = clock_->MonotonicMicros();
    auto consumed = processor_->RunOnce(wait_us, stop);
    probes_.processor.busy_us += static_cast<uint64_t>(clock_->MonotonicMicros() - t0);
    if (!consumed.ok()) {
      Fail(consumed.status());
      break;
    }
    if (*consumed > 0) {
      processed_.Notify();
      continue;
    }
    if (options_.role != PipelineRole::kAll || !relay_was_done) continue;
    drain_polled = true;
    auto caught_up = processor_->CaughtUp();
    if (!caught_up.ok()) {
      Fail(caught_up.status());
      break;
    }
    if (*caught_up) {
      processor_caught_up_ = true;
      break;
    }
    int64_t now = clock_->MonotonicMicros();
    if (next_report == 0) next_report = now + kDrainReportEveryUs;
    if (now >= next_report) {
      spdlog::info("draining: waiting for consumer group '{}' to reach the end of '{}'",
                   config_.process.group, config_.log.topic);
      next_report = now + kDrainReportEveryUs;
    }
  }
  processed_.Notify();
}
}  // namespace dataforge
