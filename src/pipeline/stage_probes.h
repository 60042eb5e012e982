// Live counters of a running pipeline, one probe per stage. Written by the stage threads,
// read by the progress display and the summary; all fields are atomics.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/latency_histogram.h"

#include "process/aggregate/aggregate_probe.h"
#include "process/outputs/outputs_probe.h"
#include "process/processor.h"
#include "relay/outbox_relay.h"

namespace dataforge {

struct SourceProbe {
  std::atomic<uint64_t> fetched{0};
  std::atomic<uint64_t> staged{0};
  std::atomic<uint64_t> dead_lettered{0};
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> fetch_us{0};    // time in Source::Next (HTTP + parse)
  std::atomic<uint64_t> commit_us{0};   // time in Staging::Commit
  LatencyHistogram commit_duration_us;  // one batch's Staging::Commit, per batch
  std::atomic<bool> done{false};
};

struct StageProbes {
  SourceProbe source;
  RelayProbe relay;
  ProcessorProbe processor;
  AggregateProbe aggregates;  // process.aggregates (late records, open windows)
  OutputsProbe outputs;       // process.outputs (derived rows, published rows)
};

// Records this run staged that the store has not taken yet: staged but not relayed (nor
// dead-lettered by the relay), then appended but not processed (nor counted lost). Rows of an
// earlier run relayed or processed now only make it smaller (each difference stops at 0).
// Each count is loaded before what is subtracted from it, so while the stages run a reading
// exceeds the truth by at most what moved between two loads. Any thread.
inline uint64_t RecordsInFlight(const StageProbes& p) {
  const uint64_t staged = p.source.staged.load();
  const uint64_t relayed = p.relay.relayed.load() + p.relay.dead_lettered.load();
  const uint64_t streamed = p.relay.streamed.load();
  const uint64_t processed = p.processor.consumed.load() + p.processor.lost.load();
  return (staged > relayed ? staged - relayed : 0) +
         (streamed > processed ? streamed - processed : 0);
}

}  // namespace dataforge
