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
  // The highest outbox seq in the staging, earlier runs' included (absolute, like the relay's
  // cursor): written by the thread that commits, under the pipeline's commit mutex.
  std::atomic<uint64_t> last_seq{0};
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

// Log records this process appended that its processor has not consumed (nor counted lost)
// yet. Records of an earlier run that it consumes now only make it smaller (it stops at 0).
// Not `streamed`: after a crash that counts rows an earlier run appended, which the processor
// may have stored already, so it never falls back. Any thread.
inline uint64_t LogRecordsUnprocessed(const StageProbes& p) {
  const uint64_t appended = p.relay.relayed.load();
  const uint64_t processed = p.processor.consumed.load() + p.processor.lost.load();
  return appended > processed ? appended - processed : 0;
}

// Records between the staging commit and the store: staged rows past the relay's acknowledged
// cursor (by seq, so that rows an earlier run left behind count too, and rows the relay skips
// or dead-letters leave it), then LogRecordsUnprocessed. Each value is loaded before what is
// subtracted from it, so while the stages run a reading is off by at most what moved between
// two loads. Any thread.
inline uint64_t RecordsInFlight(const StageProbes& p) {
  const uint64_t last_seq = p.source.last_seq.load();
  const uint64_t cursor = p.relay.cursor.load();
  return (last_seq > cursor ? last_seq - cursor : 0) + LogRecordsUnprocessed(p);
}

}  // namespace dataforge
