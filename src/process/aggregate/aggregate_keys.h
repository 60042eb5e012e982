// The keys and rows of an aggregate's state table (aggregate_stage.h, docs/aggregates.md
// "State table"): "s/<partition>/<window key>", "g/<partition>/<group key>", "w/<partition>",
// "c/sweep".
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace dataforge {

// A partition's watermark before any record.
inline constexpr int64_t kNoWatermark = std::numeric_limits<int64_t>::min();

// "<kind>/<partition>/": the prefix of a partition's state keys ('s' window, 'g' group).
std::string PartitionPrefix(char kind, int32_t partition);

// A tumbling or hopping state key "s/<partition>/<group key>|<window start>": its partition,
// its window key (a view into `key`) and its window's end (start + `size_ms`). False for other
// keys (watermark and session rows).
bool ParseStateKey(std::string_view key, int64_t size_ms, int32_t* partition,
                   std::string_view* window_key, int64_t* end_ms);

// A session state key "g/<partition>/<group key>": its partition and its group key (a view into
// `key`). False for other keys.
bool ParseGroupStateKey(std::string_view key, int32_t* partition, std::string_view* group_key);

// The key of the sweep's cursor row: where the sweep of final states stopped (see
// AggregateStage). Its state is "v1 <the last state key the sweep read>" ("v1 " alone: none).
inline constexpr const char* kSweepCursorKey = "c/sweep";

// The state of a watermark row "w/<partition>": "v1 <watermark> <base offset> <watermark before
// the base offset>" (ms; kNoWatermark = none yet). False when `text` is not that.
bool ParseWatermarkRow(const std::string& text, int64_t* watermark, int64_t* base_offset,
                       int64_t* base_watermark);

}  // namespace dataforge
