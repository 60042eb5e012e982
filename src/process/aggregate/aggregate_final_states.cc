// AggregateStage's deletion of final windows' state rows (late: deadletter, or late: update
// with late_update_for): see "Deleting final state" in aggregate_stage.h and docs/aggregates.md
// "State table".
#include "process/aggregate/aggregate_stage.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "process/aggregate/aggregate_keys.h"

namespace dataforge {
namespace {

// State rows the sweep reads per batch: at most sweep_rows_, or about this many bytes.
constexpr size_t kSweepBytes = size_t{1} << 20;

}  // namespace

void AggregateStage::ListFinal(Aggregate& agg, int32_t partition, const std::string& window_key) {
  std::string state_key = PartitionPrefix('s', partition) + window_key;
  std::string_view parsed_key;
  int32_t q = 0;
  int64_t end = 0;
  if (!ParseStateKey(state_key, agg.spec->window.size_ms, &q, &parsed_key, &end)) return;
  if (agg.final_states.size() < max_final_states_) {
    agg.final_states.emplace(end, std::move(state_key));
  } else {  // the sweep's next pass, once this one can go, finds it
    agg.next_sweep_end = std::min(agg.next_sweep_end.value_or(end), end);
  }
}

Result<std::optional<int64_t>> AggregateStage::LowestJudgingWatermark(Aggregate& agg) {
  int32_t partitions = partitions_;
  for (const auto& [p, part] : agg.partitions) partitions = std::max(partitions, p + 1);
  int64_t lowest = std::numeric_limits<int64_t>::max();
  std::string text;
  for (int32_t q = 0; q < partitions; ++q) {
    int64_t judging = kNoWatermark;
    auto it = agg.partitions.find(q);
    if (it != agg.partitions.end() && it->second.loaded) {
      // A partition in this batch may see the batch replayed (judged from before it); one not
      // in it had its last batch committed.
      const Partition& part = it->second;
      judging = part.in_batch ? part.base_watermark : part.watermark;
    } else {
      // Another member's (or an idle) partition: its member may replay its latest batch.
      int64_t through = 0, watermark = 0, base = 0;
      DF_ASSIGN_OR_RETURN(bool found, ReadState(agg, fmt::format("w/{}", q), &through, &text));
      if (found && !ParseWatermarkRow(text, &watermark, &base, &judging)) {
        return Status::Corruption(
            fmt::format("aggregate {}: watermark row w/{} holds '{}'", agg.spec->table, q, text));
      }
    }
    if (judging == kNoWatermark) return std::optional<int64_t>();
    lowest = std::min(lowest, judging);
  }
  return std::optional<int64_t>(lowest);
}

bool AggregateStage::Cached(const Aggregate& agg, int32_t partition,
                            std::string_view window_key) const {
  auto it = agg.partitions.find(partition);
  return it != agg.partitions.end() && it->second.entries.contains(std::string(window_key));
}

void AggregateStage::DeleteState(const Aggregate& agg, const std::string& state_key,
                                 StoreBatch* batch) {
  batch->rows.push_back({state_key, "", true, false, agg.state_table});
  ++states_deleting_;
}

void AggregateStage::ForgetKept(Aggregate& agg, int32_t partition, std::string_view window_key) {
  if (!agg.keep()) return;
  auto it = agg.partitions.find(partition);
  KeptState forgotten;
  if (it != agg.partitions.end()) it->second.kept.Take(std::string(window_key), &forgotten);
}

void AggregateStage::StoreCursor(Aggregate& agg, const std::string& position, StoreBatch* batch) {
  if (position == agg.cursor_stored) return;
  agg.cursor_stored = position;
  JsonObjectWriter w;
  w.String("state_key", kSweepCursorKey).Int("through", 0).String("state", "v1 " + position);
  batch->rows.push_back({kSweepCursorKey, w.Finish(), false, true, agg.state_table});
}

Status AggregateStage::DeleteFinalStates(Aggregate& agg, StoreBatch* batch) {
  if (!agg.purge || (agg.final_states.empty() && !agg.sweep_after && !agg.next_sweep_end)) {
    return Status::OK();
  }
  DF_ASSIGN_OR_RETURN(std::optional<int64_t> lowest, LowestJudgingWatermark(agg));
  if (!lowest) return Status::OK();
  // Final everywhere (for late_update_for too): end + purge_after_ms < every partition's
  // judging watermark.
  const int64_t final_before = *lowest - agg.purge_after_ms;
  int32_t partition = 0;
  std::string_view window_key;
  int64_t end = 0;
  // A state held in the cache was loaded again (a merge, a record): it is evicted, and listed,
  // again.
  auto final_end = agg.final_states.lower_bound({final_before, std::string()});
  for (auto it = agg.final_states.begin(); it != final_end; ++it) {
    if (ParseStateKey(it->second, agg.spec->window.size_ms, &partition, &window_key, &end) &&
        !Cached(agg, partition, window_key)) {
      DeleteState(agg, it->second, batch);
      ForgetKept(agg, partition, window_key);
    }
  }
  Status swept = Sweep(agg, final_before, batch);
  agg.final_states.erase(agg.final_states.begin(), final_end);  // after: the sweep skips them
  return swept;
}

Status AggregateStage::Sweep(Aggregate& agg, int64_t final_before, StoreBatch* batch) {
  if (!agg.sweep_after && agg.next_sweep_end && *agg.next_sweep_end < final_before) {
    agg.sweep_after = "";  // a row the last pass saw can go now: another pass
    agg.next_sweep_end.reset();
  }
  if (!agg.sweep_after) return Status::OK();
  if (!agg.cursor_read) {  // the first pass after a start: resume the last run's sweep
    agg.cursor_read = true;
    agg.cursor_stored.clear();
    int64_t through = 0;
    std::string cursor;
    DF_ASSIGN_OR_RETURN(bool found, ReadState(agg, kSweepCursorKey, &through, &cursor));
    // A cursor is only where to start: one that is not "v1 ..." starts from the beginning.
    if (found && cursor.starts_with("v1 ") && cursor.size() > 3) {
      agg.cursor_stored = cursor.substr(3);
      agg.sweep_after = agg.cursor_stored;
      agg.then_whole_pass = true;
    }
  }
  // The next page of the state table.
  const int64_t size_ms = agg.spec->window.size_ms;
  int32_t partition = 0;
  std::string_view window_key;
  int64_t end = 0;
  size_t rows = 0, bytes = 0;
  std::string last = *agg.sweep_after;
  Status scanned = store_->Scan(
      agg.state_table, *agg.sweep_after, sweep_rows_,
      [&](const std::string& key, const std::string& row) {
        ++rows;
        bytes += key.size() + row.size();
        last = key;
        // A listed window is deleted (or kept) through final_states.
        if (ParseStateKey(key, size_ms, &partition, &window_key, &end) &&
            !Cached(agg, partition, window_key) && !agg.final_states.contains({end, key})) {
          if (end < final_before) {
            DeleteState(agg, key, batch);
            ForgetKept(agg, partition, window_key);
          } else {
            agg.sweep_min_end = std::min(agg.sweep_min_end.value_or(end), end);
          }
        }
        return bytes < kSweepBytes;
      });
  if (!scanned.ok() && scanned.code() != StatusCode::kNotFound) {
    return scanned.WithContext(fmt::format("aggregate {}: sweeping {} for final windows",
                                           agg.spec->table, agg.state_table));
  }
  if (scanned.ok() && (rows == sweep_rows_ || bytes >= kSweepBytes)) {
    agg.sweep_after = std::move(last);
    StoreCursor(agg, *agg.sweep_after, batch);
    return Status::OK();
  }
  StoreCursor(agg, "", batch);
  if (agg.then_whole_pass) {  // the end of the resumed pass: now the whole table, this run
    agg.then_whole_pass = false;
    agg.sweep_after = "";
    return Status::OK();
  }
  agg.sweep_after.reset();  // the whole table was seen
  if (agg.sweep_min_end) {  // (next_sweep_end may hold windows evicted past the list's bound)
    agg.next_sweep_end =
        std::min(agg.next_sweep_end.value_or(*agg.sweep_min_end), *agg.sweep_min_end);
  }
  agg.sweep_min_end.reset();
  return Status::OK();
}

}  // namespace dataforge
