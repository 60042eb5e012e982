// Live counters of process.outputs (OutputsStage, outputs_stage.h): written by the processor's
// thread, read by metrics (dataforge_output_records_total, docs/metrics.md) from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace dataforge {

// The outputs of one processor, all outputs summed.
struct OutputsProbe {
  std::atomic<uint64_t> derived_rows{0};           // rows committed into derived tables
  std::atomic<uint64_t> derived_filtered{0};       // records an output's `where` kept out of it
  std::atomic<uint64_t> derived_dead_lettered{0};  // letters for records a derived mapping refused
  std::atomic<uint64_t> published{0};              // rows the log acknowledged on output topics
};

}  // namespace dataforge
