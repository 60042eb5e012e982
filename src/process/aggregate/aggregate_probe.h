// Live counters of process.aggregates (AggregateStage, aggregate_stage.h): written by the
// processor's thread, read by metrics (dataforge_aggregate_*, docs/metrics.md) from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace dataforge {

// The aggregates of one processor, all aggregates summed.
struct AggregateProbe {
  std::atomic<uint64_t> late{0};                // records later than watermark - lateness
  std::atomic<uint64_t> late_dead_lettered{0};  // ... of which dead-lettered (late: deadletter)
  std::atomic<uint64_t> no_event_time{0};       // records whose time column was null: dead-lettered
  std::atomic<uint64_t> results_written{0};     // result rows upserted
  std::atomic<int64_t> windows_open{0};         // (group, window, partition) states in memory
  std::atomic<uint64_t> states_deleted{0};      // state rows of windows final everywhere deleted
  // Final states kept in memory (late: update; AggregateStage Kept) and their bytes as they
  // count against max_final_state_bytes, as of the last batch.
  std::atomic<int64_t> final_states_kept{0};
  std::atomic<int64_t> final_state_bytes_kept{0};
  // Partitions of aggregates with idle_after that are idle (their watermark follows the other
  // partitions'), summed over the aggregates, as of the last batch.
  std::atomic<int64_t> idle_partitions{0};
};

}  // namespace dataforge
