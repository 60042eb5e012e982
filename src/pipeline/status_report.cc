#include "pipeline/status_report.h"

#include <algorithm>
#include <optional>

#include "common/json_writer.h"

namespace dataforge {

int64_t PartitionStatus::next_read() const {
  if (committed > end_offset) return start_offset;
  return std::max(committed, start_offset);
}

uint64_t PartitionStatus::lag() const {
  return static_cast<uint64_t>(end_offset - next_read());
}

uint64_t PartitionStatus::deleted_unread() const {
  return committed < start_offset ? static_cast<uint64_t>(start_offset - committed) : 0;
}

const char* PipelineStatus::role() const {
  return has_staging && has_store ? "all" : has_staging ? "ingest" : "process";
}

uint64_t PipelineStatus::staging_lag() const {
  return staging.last_seq > staging.relay_cursor ? staging.last_seq - staging.relay_cursor : 0;
}

bool PipelineStatus::balanced() const {
  return store.stored + dead_lettered() + store.lost + store.filtered == staging.fetched;
}

Result<PipelineStatus> ReadPipelineStatus(Staging* staging, Log& log, Store* store,
                                          const PipelineConfig& c, bool count_rows) {
  PipelineStatus st;
  if (staging) {
    st.has_staging = true;
    DF_ASSIGN_OR_RETURN(st.staging, staging->Counters());
    DF_ASSIGN_OR_RETURN(st.positions, staging->SourcePositions());
  }
  // The store's counters and offsets of this data dir's log: a store shared with other logs
  // (other data dirs, a topic made again) holds theirs too, under their identities.
  std::string log_id;
  if (auto id = log.LogId(c.log.topic); id.ok()) {
    log_id = *id;
  } else if (id.status().code() != StatusCode::kNotFound) {
    return id.status();
  }
  if (store) {
    st.has_store = true;
    DF_ASSIGN_OR_RETURN(st.store, store->LogCounters(c.process.group, c.log.topic, log_id));
    // The pipeline's table does not exist before its first batch: 0 rows.
    if (count_rows) {
      auto rows = store->Count(c.process.table);
      if (!rows.ok() && rows.status().code() != StatusCode::kNotFound) return rows.status();
      st.rows = rows.ok() ? *rows : 0;
    }
  }
  auto info = log.DescribeTopic(c.log.topic);
  if (info.ok()) {
    // The group's progress: the log's group offsets (Kafka: every member's commits), else
    // this store's own offsets (the embedded log's group file is written lazily). Offsets the
    // log cannot give count as none.
    std::vector<std::optional<int64_t>> group;
    if (log.Shared() || !store) {
      auto read = log.GroupOffsets(c.process.group, c.log.topic,
                                   static_cast<int32_t>(info->partitions.size()));
      if (read.ok()) group = std::move(read).value();
    }
    for (const auto& p : info->partitions) {
      std::optional<int64_t> committed;
      if (log.Shared() || !store) {
        if (p.partition >= 0 && static_cast<size_t>(p.partition) < group.size()) {
          committed = group[p.partition];
        }
      } else {
        DF_ASSIGN_OR_RETURN(
            committed, store->CommittedOffset(c.process.group, c.log.topic, p.partition, log_id));
      }
      int64_t done = committed.value_or(0);
      uint64_t lost = 0;
      if (store) {
        DF_ASSIGN_OR_RETURN(
            lost, store->PartitionLost(c.process.group, c.log.topic, p.partition, log_id));
      }
      PartitionStatus ps{p.partition, p.start_offset, p.end_offset, done, lost};
      st.log_lag += ps.lag();
      st.deleted_unread += ps.deleted_unread();
      st.partitions.push_back(ps);
    }
  }
  return st;
}

std::string PipelineStatusJson(const PipelineStatus& st) {
  const auto& s = st.staging;
  std::string parts = "[";
  for (const auto& p : st.partitions) {
    if (parts.size() > 1) parts += ',';
    parts += JsonObjectWriter()
                 .Int("partition", p.partition)
                 .Int("start_offset", p.start_offset)
                 .Int("end_offset", p.end_offset)
                 .Int("processed_offset", p.committed)
                 .Int("lag", static_cast<int64_t>(p.lag()))
                 .Int("lost", static_cast<int64_t>(p.lost))
                 .Int("deleted_unread", static_cast<int64_t>(p.deleted_unread()))
                 .Finish();
  }
  parts += ']';
  JsonObjectWriter positions;
  for (const auto& [name, pos] : st.positions) positions.String(name, pos);
  return JsonObjectWriter()
      .String("role", st.role())
      .Int("fetched", static_cast<int64_t>(s.fetched))
      .Int("staged", static_cast<int64_t>(s.staged))
      .Int("streamed", static_cast<int64_t>(s.streamed))
      .Int("stored", static_cast<int64_t>(st.store.stored))
      .Int("dead_lettered", static_cast<int64_t>(st.dead_lettered()))
      .Int("dead_lettered_source", static_cast<int64_t>(s.dead_lettered))
      .Int("dead_lettered_process", static_cast<int64_t>(st.store.dead_lettered))
      .Int("lost", static_cast<int64_t>(st.store.lost))
      .Int("staging_rows", static_cast<int64_t>(s.distinct_keys))
      .Int("store_rows", static_cast<int64_t>(st.rows))
      .Int("outbox_last_seq", static_cast<int64_t>(s.last_seq))
      .Int("relay_cursor", static_cast<int64_t>(s.relay_cursor))
      .Int("staging_lag", static_cast<int64_t>(st.staging_lag()))
      .Int("log_lag", static_cast<int64_t>(st.log_lag))
      .Int("in_flight", static_cast<int64_t>(st.in_flight()))
      .Int("deleted_unread", static_cast<int64_t>(st.deleted_unread))
      .Int("filtered", static_cast<int64_t>(st.store.filtered))  // process.where dropped them
      .Bool("balanced", st.balanced())
      .Raw("source_positions", positions.Finish())
      .Raw("partitions", parts)
      .Finish();
}

}  // namespace dataforge
