// `dataforge status [--json]`: totals since the data dir was created, and each stage's
// position and lag.
#include <algorithm>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/read_only_backends.h"
#include "common/json_writer.h"
#include "pipeline/pipeline.h"

namespace dataforge {
namespace {

struct PartitionStatus {
  int32_t partition;
  int64_t start_offset, end_offset, committed;
  uint64_t lost;  // counted by this data dir's processor
  // Where the processor reads next: the processed position; the start offset when that was
  // deleted; the start too when the position is past the end (the log lost its tail, or a topic
  // made again that the log could not tell by its identity: log.h LostRange kOffsetsWentBack).
  int64_t next_read() const {
    if (committed > end_offset) return start_offset;
    return std::max(committed, start_offset);
  }
  // Log records from there to the end, and those below the start offset not yet processed:
  // deleted, counted lost once the processor reads on.
  uint64_t lag() const { return static_cast<uint64_t>(end_offset - next_read()); }
  uint64_t deleted_unread() const {
    return committed < start_offset ? static_cast<uint64_t>(start_offset - committed) : 0;
  }
};

struct PipelineStatus {
  bool has_staging = false;  // false for a `run --role process` data dir
  bool has_store = false;    // false for a `run --role ingest` data dir
  StagingCounters staging;
  StoreCounters store;
  uint64_t rows = 0;
  std::vector<std::pair<std::string, std::string>> positions;
  std::vector<PartitionStatus> partitions;
  uint64_t log_lag = 0;
  uint64_t deleted_unread = 0;
};

Result<PipelineStatus> ReadStatus(const CliContext& ctx, const PipelineConfig& c) {
  PipelineStatus st;
  // A data dir of one role has only its stages: staging (ingest) or store (process).
  auto staging = OpenStagingForReading(ctx, c);
  auto store = OpenStoreForReading(ctx, c);
  if (!staging.ok() && !store.ok()) return staging.status();
  // Absent is a role's data dir; unreachable or misconfigured is an error to show.
  if (!staging.ok() && staging.status().code() != StatusCode::kNotFound) return staging.status();
  if (staging.ok()) {
    st.has_staging = true;
    DF_ASSIGN_OR_RETURN(st.staging, (*staging)->Counters());
    DF_ASSIGN_OR_RETURN(st.positions, (*staging)->SourcePositions());
  }
  DF_ASSIGN_OR_RETURN(auto log, OpenLogForReading(ctx, c));
  // The store's counters and offsets of this data dir's log: a store shared with other logs
  // (other data dirs, a topic made again) holds theirs too, under their identities.
  std::string log_id;
  if (auto id = log->LogId(c.log.topic); id.ok()) {
    log_id = *id;
  } else if (id.status().code() != StatusCode::kNotFound) {
    return id.status();
  }
  if (store.ok()) {
    st.has_store = true;
    DF_ASSIGN_OR_RETURN(st.store, (*store)->LogCounters(c.process.group, c.log.topic, log_id));
    // The pipeline's table does not exist before its first batch: 0 rows.
    auto rows = (*store)->Count(c.process.table);
    if (!rows.ok() && rows.status().code() != StatusCode::kNotFound) return rows.status();
    st.rows = rows.ok() ? *rows : 0;
  }
  auto info = log->DescribeTopic(c.log.topic);
  if (info.ok()) {
    for (const auto& p : info->partitions) {
      // The group's progress: the log's group offsets (Kafka: every member's commits), else
      // this store's own offsets (the embedded log's group file is written lazily).
      std::optional<int64_t> committed;
      if (log->Shared() || !store.ok()) {
        auto group = log->GroupOffset(c.process.group, c.log.topic, p.partition);
        if (group.ok()) committed = *group;
      } else {
        DF_ASSIGN_OR_RETURN(committed, (*store)->CommittedOffset(c.process.group, c.log.topic,
                                                                 p.partition, log_id));
      }
      int64_t done = committed.value_or(0);
      uint64_t lost = 0;
      if (store.ok()) {
        DF_ASSIGN_OR_RETURN(
            lost, (*store)->PartitionLost(c.process.group, c.log.topic, p.partition, log_id));
      }
      PartitionStatus ps{p.partition, p.start_offset, p.end_offset, done, lost};
      st.log_lag += ps.lag();
      st.deleted_unread += ps.deleted_unread();
      st.partitions.push_back(ps);
    }
  }
  return st;
}

}  // namespace

void AddStatusCommand(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "status", "Totals since the data dir was created, and each stage's position and lag");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print one JSON object");
  cmd->callback([&ctx, exit_code, json] {
    auto c = LoadConfig(ctx);
    auto st = c.ok() ? ReadStatus(ctx, *c) : Result<PipelineStatus>(c.status());
    if (!st.ok()) {
      *exit_code = ReportError(st.status());
      return;
    }
    const auto& s = st->staging;
    uint64_t dead = s.dead_lettered + st->store.dead_lettered;
    const char* role = st->has_staging && st->has_store ? "all"
                       : st->has_staging                ? "ingest"
                                                        : "process";
    uint64_t staging_lag = s.last_seq > s.relay_cursor ? s.last_seq - s.relay_cursor : 0;
    RunTotals totals;
    totals.fetched = s.fetched;
    totals.stored = st->store.stored;
    totals.dead_lettered = dead;
    totals.lost = st->store.lost;
    uint64_t in_flight = staging_lag + st->log_lag;
    if (*json) {
      std::string parts = "[";
      for (const auto& p : st->partitions) {
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
      for (const auto& [name, pos] : st->positions) positions.String(name, pos);
      fmt::print("{}\n",
                 JsonObjectWriter()
                     .String("role", role)
                     .Int("fetched", static_cast<int64_t>(s.fetched))
                     .Int("staged", static_cast<int64_t>(s.staged))
                     .Int("streamed", static_cast<int64_t>(s.streamed))
                     .Int("stored", static_cast<int64_t>(st->store.stored))
                     .Int("dead_lettered", static_cast<int64_t>(dead))
                     .Int("dead_lettered_source", static_cast<int64_t>(s.dead_lettered))
                     .Int("dead_lettered_process", static_cast<int64_t>(st->store.dead_lettered))
                     .Int("lost", static_cast<int64_t>(st->store.lost))
                     .Int("staging_rows", static_cast<int64_t>(s.distinct_keys))
                     .Int("store_rows", static_cast<int64_t>(st->rows))
                     .Int("outbox_last_seq", static_cast<int64_t>(s.last_seq))
                     .Int("relay_cursor", static_cast<int64_t>(s.relay_cursor))
                     .Int("staging_lag", static_cast<int64_t>(staging_lag))
                     .Int("log_lag", static_cast<int64_t>(st->log_lag))
                     .Int("in_flight", static_cast<int64_t>(in_flight))
                     .Int("deleted_unread", static_cast<int64_t>(st->deleted_unread))
                     .Bool("balanced", totals.stored + dead + totals.lost == s.fetched)
                     .Raw("source_positions", positions.Finish())
                     .Raw("partitions", parts)
                     .Finish());
    } else {
      fmt::print("data dir {} ({})\n", ctx.data_dir,
                 st->has_staging && st->has_store ? "the whole pipeline"
                 : st->has_staging                ? "role ingest: no store here"
                                                  : "role process: no staging here");
      fmt::print("  fetched        {:>12}\n", s.fetched);
      fmt::print("  staged         {:>12}   ({} distinct keys)\n", s.staged, s.distinct_keys);
      fmt::print("  streamed       {:>12}   (relay at outbox seq {} of {}, lag {})\n", s.streamed,
                 s.relay_cursor, s.last_seq, staging_lag);
      fmt::print("  stored         {:>12}   ({} rows in {}, log lag {})\n", st->store.stored,
                 st->rows, c->process.table, st->log_lag);
      fmt::print("  dead-lettered  {:>12}   (source {}, process {})\n", dead, s.dead_lettered,
                 st->store.dead_lettered);
      fmt::print("  lost           {:>12}   (deleted by the log before they were processed)\n",
                 st->store.lost);
      fmt::print("  {}\n", BalanceLine(totals, in_flight));
      if (st->deleted_unread > 0) {
        fmt::print(
            "  {} log records below the partitions' start offsets were deleted before they were "
            "processed: they are counted as lost when the processor reads on\n",
            st->deleted_unread);
      }
      for (const auto& [name, pos] : st->positions) {
        fmt::print("  source '{}' at {}\n", name, pos);
      }
      for (const auto& p : st->partitions) {
        fmt::print("  {}/{}: offsets {}..{}, processed to {}, lag {}, lost {}\n", c->log.topic,
                   p.partition, p.start_offset, p.end_offset, p.committed, p.lag(), p.lost);
      }
    }
    *exit_code = 0;
  });
}

}  // namespace dataforge
