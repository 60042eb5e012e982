// `dataforge status [--json]`: totals since the data dir was created, and each stage's
// position and lag.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/read_only_backends.h"
#include "pipeline/pipeline.h"
#include "pipeline/status_report.h"

namespace dataforge {
namespace {

Result<PipelineStatus> ReadStatus(const CliContext& ctx, const PipelineConfig& c) {
  // A data dir of one role has only its stages: staging (ingest) or store (process).
  auto staging = OpenStagingForReading(ctx, c);
  auto store = OpenStoreForReading(ctx, c);
  if (!staging.ok() && !store.ok()) return staging.status();
  // Absent is a role's data dir; unreachable or misconfigured is an error to show.
  if (!staging.ok() && staging.status().code() != StatusCode::kNotFound) return staging.status();
  DF_ASSIGN_OR_RETURN(auto log, OpenLogForReading(ctx, c));
  return ReadPipelineStatus(staging.ok() ? staging->get() : nullptr, *log,
                            store.ok() ? store->get() : nullptr, c);
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
    uint64_t dead = st->dead_lettered();
    uint64_t staging_lag = st->staging_lag();
    RunTotals totals;
    totals.fetched = s.fetched;
    totals.stored = st->store.stored;
    totals.dead_lettered = dead;
    totals.lost = st->store.lost;
    totals.filtered = st->store.filtered;
    uint64_t in_flight = st->in_flight();
    if (*json) {
      fmt::print("{}\n", PipelineStatusJson(*st));
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
      if (st->store.filtered > 0 || !c->process.where.empty()) {
        fmt::print("  filtered       {:>12}   (process.where dropped them)\n", st->store.filtered);
      }
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
