// AggregateStage's deletion of final state rows (windows and session groups; late: deadletter,
// or late: update with late_update_for): see "Deleting final state" in aggregate_stage.h and
// docs/aggregates.md "State table".
#include "process/aggregate/aggregate_stage.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "common/base64.h"
#include "process/aggregate/aggregate_keys.h"
#include "process/aggregate/window.h"

namespace dataforge {
namespace {

// State rows the sweep reads per batch: at most sweep_rows_, or about this many bytes.
constexpr size_t kSweepBytes = size_t{1} << 20;

}  // namespace

void AggregateStage::ListFinal(Aggregate& agg, int32_t partition, const std::string& key,
                               std::optional<int64_t> session_end) {
  std::string state_key = PartitionPrefix(agg.session ? 'g' : 's', partition) + key;
  int64_t end = 0;
  if (agg.session) {
    if (!session_end) return;  // (its sessions were dropped when loaded: the sweep reads its end)
    end = *session_end;
  } else {
    std::string_view parsed_key;
    int32_t q = 0;
    if (!ParseStateKey(state_key, agg.spec->window.size_ms, &q, &parsed_key, &end)) return;
  }
  if (agg.final_states.size() < max_final_states_) {
    agg.final_states.emplace(end, std::move(state_key));
  } else {  // the sweep's next pass, once this one can go, finds it
    auto [it, added] = agg.next_sweep_end.try_emplace(partition, end);
    if (!added) it->second = std::min(it->second, end);
  }
}

Result<int64_t> AggregateStage::JudgingWatermark(Aggregate& agg, int32_t partition) {
  auto it = agg.partitions.find(partition);
  if (it != agg.partitions.end() && it->second.loaded) {
    // A partition in this batch may see the batch replayed (judged from before it); one not
    // in it had its last batch committed.
    const Partition& part = it->second;
    return part.in_batch ? part.base_watermark : part.watermark;
  }
  // Another member's (or an idle) partition: its member may replay its latest batch.
  int64_t through = 0, watermark = 0, base = 0, judging = kNoWatermark;
  std::string text;
  DF_ASSIGN_OR_RETURN(bool found, ReadState(agg, fmt::format("w/{}", partition), &through, &text));
  if (found && !ParseWatermarkRow(text, &watermark, &base, &judging)) {
    return Status::Corruption(fmt::format("aggregate {}: watermark row w/{} holds '{}'",
                                          agg.spec->table, partition, text));
  }
  return judging;
}

std::optional<int64_t> AggregateStage::FinalBefore::Of(int32_t partition) const {
  if (all) return all;
  auto it = by_partition.find(partition);
  if (it == by_partition.end()) return std::nullopt;
  return it->second;
}

Result<AggregateStage::FinalBefore> AggregateStage::FinalBounds(Aggregate& agg) {
  const int32_t partitions = PartitionCount(agg);
  FinalBefore bounds;
  int64_t lowest = std::numeric_limits<int64_t>::max();
  for (int32_t q = 0; q < partitions; ++q) {
    DF_ASSIGN_OR_RETURN(int64_t judging, JudgingWatermark(agg, q));
    if (agg.session) {
      // Final in its partition: end + lateness < that partition's judging watermark.
      if (judging != kNoWatermark) bounds.by_partition[q] = judging - agg.purge_after_ms;
      continue;
    }
    if (judging == kNoWatermark) return FinalBefore{};  // it holds every deletion back
    lowest = std::min(lowest, judging);
  }
  // Final everywhere (for late_update_for too): end + purge_after_ms < every partition's
  // judging watermark.
  if (!agg.session) bounds.all = lowest - agg.purge_after_ms;
  return bounds;
}

bool AggregateStage::ParseEntryStateKey(const Aggregate& agg, std::string_view key,
                                        int32_t* partition, std::string_view* entry_key,
                                        int64_t* end) {
  return agg.session ? ParseGroupStateKey(key, partition, entry_key)
                     : ParseStateKey(key, agg.spec->window.size_ms, partition, entry_key, end);
}

Result<int64_t> AggregateStage::SessionRowEnd(Aggregate& agg, std::string_view key,
                                              std::string_view row) {
  int64_t through = 0;
  std::string_view text;
  DF_RETURN_IF_ERROR(ParseStateRow(agg, key, row, &through, &text));
  std::optional<std::string> bytes = Base64Decode(text);
  Result<std::optional<int64_t>> last =
      bytes ? LastSessionEnd(*bytes) : Status::Corruption("not base64");
  if (!last.ok()) {
    return last.status().WithContext(
        fmt::format("aggregate {}: state row {} of {}", agg.spec->table, key, agg.state_table));
  }
  return last->value_or(std::numeric_limits<int64_t>::min());  // no session: none open
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
  AddStateRow(agg, kSweepCursorKey, 0, "v1 " + position, batch);
}

Status AggregateStage::DeleteFinalStates(Aggregate& agg, StoreBatch* batch) {
  if (!agg.purge || (agg.final_states.empty() && !agg.sweep_after && agg.next_sweep_end.empty())) {
    return Status::OK();
  }
  DF_ASSIGN_OR_RETURN(FinalBefore final_before, FinalBounds(agg));
  if (final_before.empty()) return Status::OK();
  int64_t highest = std::numeric_limits<int64_t>::min();
  if (final_before.all) highest = *final_before.all;
  for (const auto& [p, bound] : final_before.by_partition) highest = std::max(highest, bound);
  // A state held in the cache was loaded again (a merge, a record): it is evicted, and listed,
  // again.
  std::vector<std::set<std::pair<int64_t, std::string>>::iterator> done;
  auto last = agg.final_states.lower_bound({highest, std::string()});
  for (auto it = agg.final_states.begin(); it != last; ++it) {
    int32_t partition = 0;
    std::string_view key;
    int64_t end = 0;
    bool parsed = ParseEntryStateKey(agg, it->second, &partition, &key, &end);
    std::optional<int64_t> bound = parsed ? final_before.Of(partition) : std::nullopt;
    if (parsed && (!bound || it->first >= *bound)) continue;  // not yet in its partition
    if (parsed && !Cached(agg, partition, key)) {
      DeleteState(agg, it->second, batch);
      ForgetKept(agg, partition, key);
    }
    done.push_back(it);
  }
  Status swept = Sweep(agg, final_before, batch);
  for (auto it : done) agg.final_states.erase(it);  // after: the sweep skips them
  return swept;
}

Status AggregateStage::Sweep(Aggregate& agg, const FinalBefore& final_before, StoreBatch* batch) {
  if (!agg.sweep_after) {
    // A row the last pass saw can go now: another pass.
    bool due = std::any_of(agg.next_sweep_end.begin(), agg.next_sweep_end.end(), [&](auto& e) {
      std::optional<int64_t> bound = final_before.Of(e.first);
      return bound && e.second < *bound;
    });
    if (!due) return Status::OK();
    agg.sweep_after = "";
    agg.next_sweep_end.clear();
  }
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
  int32_t partition = 0;
  std::string_view entry_key;
  int64_t end = 0;
  size_t rows = 0, bytes = 0;
  std::string last = *agg.sweep_after;
  Status row_error = Status::OK();
  Status scanned =
      store_->Scan(agg.state_table, *agg.sweep_after, sweep_rows_,
                   [&](const std::string& key, const std::string& row) {
                     ++rows;
                     bytes += key.size() + row.size();
                     last = key;
                     const bool state = ParseEntryStateKey(agg, key, &partition, &entry_key, &end);
                     if (!state || Cached(agg, partition, entry_key)) return bytes < kSweepBytes;
                     if (agg.session) {
                       Result<int64_t> last_end = SessionRowEnd(agg, key, row);
                       if (!last_end.ok()) {
                         row_error = last_end.status();
                         return false;
                       }
                       end = *last_end;
                     }
                     // A listed window is deleted (or kept) through final_states.
                     if (agg.final_states.contains({end, key})) return bytes < kSweepBytes;
                     std::optional<int64_t> bound = final_before.Of(partition);
                     if (bound && end < *bound) {
                       DeleteState(agg, key, batch);
                       ForgetKept(agg, partition, entry_key);
                     } else {
                       auto [it, added] = agg.sweep_min_end.try_emplace(partition, end);
                       if (!added) it->second = std::min(it->second, end);
                     }
                     return bytes < kSweepBytes;
                   });
  DF_RETURN_IF_ERROR(row_error);
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
  // (next_sweep_end may hold windows evicted past the list's bound)
  for (const auto& [p, min_end] : agg.sweep_min_end) {
    auto [it, added] = agg.next_sweep_end.try_emplace(p, min_end);
    if (!added) it->second = std::min(it->second, min_end);
  }
  agg.sweep_min_end.clear();
  return Status::OK();
}

}  // namespace dataforge
