// Idle partitions (AggregateSpec::idle_after_ms): the watermark of a partition without records
// follows the others', so it no longer holds back the deletion of final windows' state
// (aggregate_stage.h, "Idle partitions").
#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/timestamp.h"
#include "process/aggregate/aggregate_keys.h"
#include "process/aggregate/aggregate_stage.h"
#include "schedule/schedule.h"

namespace dataforge {

void AggregateStage::OnPartitionsHeld(const std::vector<int32_t>& partitions) {
  held_ = partitions;
  held_at_us_ = 0;
  for (auto& agg : aggregates_) {
    if (!agg.spec->idle_after_ms) continue;
    if (held_at_us_ == 0) held_at_us_ = clock_->MonotonicMicros();
    const int64_t now = held_at_us_;
    std::erase_if(agg.last_record_us, [&](const auto& entry) {
      return std::find(partitions.begin(), partitions.end(), entry.first) == partitions.end();
    });
    for (int32_t p : partitions) agg.last_record_us.try_emplace(p, now);  // first held now
    for (const auto& [p, part] : agg.partitions) {
      if (!part.in_batch) continue;
      agg.last_record_us[p] = now;
      if (agg.idle.erase(p) > 0) {
        spdlog::info("aggregate {}: partition {} has records again", agg.spec->table, p);
      }
    }
  }
}

Status AggregateStage::AdvanceIdlePartitions(Aggregate& agg, StoreBatch* batch) {
  if (!agg.spec->idle_after_ms || held_.empty()) return Status::OK();
  const int64_t idle_us = *agg.spec->idle_after_ms * 1000;
  std::vector<int32_t> idle;
  for (int32_t p : held_) {
    auto part = agg.partitions.find(p);
    if (part != agg.partitions.end() && part->second.in_batch) continue;
    auto it = agg.last_record_us.find(p);
    if (it != agg.last_record_us.end() && held_at_us_ - it->second < idle_us) continue;
    idle.push_back(p);
  }
  if (idle.empty()) return Status::OK();
  // The lowest watermark the other partitions judge from: those held here with records, and
  // other members' (their own idle ones advanced by them). One without a watermark has had no
  // record: it bounds nothing.
  int32_t partitions = PartitionCount(agg);
  for (int32_t p : held_) partitions = std::max(partitions, p + 1);
  int64_t lowest = std::numeric_limits<int64_t>::max();
  for (int32_t q = 0; q < partitions; ++q) {
    if (std::find(idle.begin(), idle.end(), q) != idle.end()) continue;
    DF_ASSIGN_OR_RETURN(int64_t judging, JudgingWatermark(agg, q));
    if (judging != kNoWatermark) lowest = std::min(lowest, judging);
  }
  if (lowest == std::numeric_limits<int64_t>::max()) return Status::OK();
  for (int32_t p : idle) {
    DF_ASSIGN_OR_RETURN(Partition * part, LoadPartition(agg, p));
    if (part->watermark != kNoWatermark && part->watermark >= lowest) continue;
    if (agg.idle.insert(p).second) {
      spdlog::info(
          "aggregate {}: partition {} had no record for {} (idle_after): its watermark follows "
          "the other partitions' ({}), and its records from now on are judged late against it",
          agg.spec->table, p, FormatDuration(*agg.spec->idle_after_ms * 1000),
          FormatTimestampMillis(lowest));
    }
    part->watermark = part->base_watermark = lowest;
    part->base_offset = part->through;  // its records from here on are new, none a replay
    WriteWatermarkRow(agg, p, *part, batch);
  }
  return Status::OK();
}

void AggregateStage::WriteWatermarkRow(const Aggregate& agg, int32_t partition,
                                       const Partition& part, StoreBatch* batch) {
  AddStateRow(agg, fmt::format("w/{}", partition), part.through,
              fmt::format("v1 {} {} {}", part.watermark, part.base_offset, part.base_watermark),
              batch);
}

}  // namespace dataforge
