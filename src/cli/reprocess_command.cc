// `dataforge reprocess (--from-beginning | --from-offset P:O[,P:O...] | --from-time TIME)
// (--into-suffix SUFFIX | --in-place --yes) [--tables T,...] [--group NAME] [--allow-lost]`:
// rebuilds the tables the processor writes from the log with the pipeline file's mapping as it is
// now (pipeline/reprocess.h, docs/reprocess.md). Progress lines on stderr, a summary on stdout.
#include <cmath>
#include <stop_token>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/signal_waiter.h"
#include "pipeline/reprocess.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

struct ReprocessFlags {
  bool from_beginning = false;
  std::string from_offset;
  std::string from_time;
  std::string into_suffix;
  bool in_place = false;
  bool yes = false;
  bool allow_lost = false;
  std::string group;
  std::vector<std::string> tables;
  double progress_seconds = 5;
};

std::string Tables(const ReprocessProgress& p) {
  std::string out;
  for (const auto& [live, rebuilt] : p.tables) {
    if (!out.empty()) out += ", ";
    out += live == rebuilt ? live + " in place" : live + " -> " + rebuilt;
  }
  return out;
}

std::string Ranges(const ReprocessProgress& p) {
  std::string out;
  for (const auto& r : p.ranges) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}:{}..{}", r.partition, r.from, r.to);
  }
  return out;
}

uint64_t Rate(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<uint64_t>(std::llround(static_cast<double>(n) / seconds)) : n;
}

// Two lines: what was rebuilt, and the counts.
std::string Summary(const ReprocessProgress& p) {
  std::string first =
      fmt::format("reprocessed {} into {} (group {}{}{})", p.topic, Tables(p), p.group,
                  p.resumed ? ", resumed" : "", p.truncated ? ", emptied first" : "");
  std::string second = fmt::format(
      "read {} records in {:.1f} s ({} records/s): stored {}, dead-lettered {}, lost {}, "
      "filtered {}",
      p.read, p.seconds, Rate(p.read, p.seconds), p.stored, p.dead_lettered, p.lost, p.filtered);
  if (p.duplicates > 0) second += fmt::format(", duplicates skipped {}", p.duplicates);
  return first + "\n" + second + "\n";
}

Status RunReprocess(const PipelineConfig& config, const CliContext& ctx, const ReprocessFlags& f) {
  ReprocessOptions o;
  o.data_dir = ctx.data_dir;
  int chosen = int{f.from_beginning} + int{!f.from_offset.empty()} + int{!f.from_time.empty()};
  if (chosen != 1) {
    return Status::ConfigError(
        "reprocess: say where to start with one of --from-beginning, --from-offset P:O[,P:O...] "
        "or --from-time TIME");
  }
  if (f.from_beginning) o.from = ReprocessOptions::From::kBeginning;
  if (!f.from_offset.empty()) {
    o.from = ReprocessOptions::From::kOffsets;
    DF_ASSIGN_OR_RETURN(o.offsets, ParsePartitionOffsets(f.from_offset));
  }
  if (!f.from_time.empty()) {
    o.from = ReprocessOptions::From::kTime;
    auto t = ParseInstant(f.from_time);
    if (!t.ok()) return Status::ConfigError(fmt::format("--from-time: {}", t.status().message()));
    o.time_us = *t;
  }
  if (f.in_place == !f.into_suffix.empty()) {
    return Status::ConfigError(
        "reprocess: say where the rebuilt rows go: --into-suffix SUFFIX (new tables beside the "
        "live ones) or --in-place --yes (the live tables rebuilt)");
  }
  DF_ASSIGN_OR_RETURN(std::vector<std::string> tables,
                      SelectReprocessTables(config.process, f.tables));
  if (f.in_place && !f.yes) {
    return Status::ConfigError(fmt::format(
        "reprocess --in-place rewrites the live {} {} (from the beginning: every row removed "
        "first): add --yes to confirm, or rebuild into new tables with --into-suffix _v2",
        f.tables.empty() || tables.size() == 1 ? "table" : "tables",
        f.tables.empty() ? config.process.table : fmt::format("{}", fmt::join(tables, ", "))));
  }
  o.tables = f.tables;
  o.into_suffix = f.into_suffix;
  o.in_place = f.in_place;
  o.allow_lost = f.allow_lost;
  o.group = f.group;
  o.progress_every_us = static_cast<int64_t>(f.progress_seconds * 1e6);

  SignalWaiter signals;  // before any thread starts
  std::stop_source stop;
  auto request_stop = [&stop] { stop.request_stop(); };
  signals.Start(request_stop, request_stop, "stopping the reprocess after its current batch");
  auto on_start = [](const ReprocessProgress& p) {
    spdlog::info(
        "reprocess: {} records of {} (partition:from..to {}) into {} with group {}{}; if it "
        "stops early, the same command{} resumes it",
        p.total, p.topic, Ranges(p), Tables(p), p.group, p.resumed ? " (resuming)" : "",
        p.tables.front().first == p.tables.front().second ? fmt::format(" with --group {}", p.group)
                                                          : "");
  };
  auto on_progress = [](const ReprocessProgress& p) {
    uint64_t done = p.read + p.lost;
    spdlog::info("reprocess: {} of {} records ({}%), {} records/s; stored {}, dead-lettered {}",
                 done, p.total, p.total ? done * 100 / p.total : 100, Rate(p.read, p.seconds),
                 p.stored, p.dead_lettered);
  };
  DF_ASSIGN_OR_RETURN(ReprocessProgress p,
                      Reprocess(config, o, Clock::Real(), stop.get_token(), on_start, on_progress));
  fmt::print("{}", Summary(p));
  std::fflush(stdout);
  if (!p.finished) {
    return Status::Cancelled(fmt::format(
        "reprocess stopped before the end of {}: run the same command{} again to resume", p.topic,
        f.group.empty() && !f.in_place ? "" : fmt::format(" with --group {}", p.group)));
  }
  if (p.lost > 0 && !f.allow_lost) {
    return Status::FailedPrecondition(fmt::format(
        "reprocess: {} records of {} were deleted from the log while it read them (retention): "
        "they are counted lost",
        p.lost, p.topic));
  }
  return Status::OK();
}

}  // namespace

void AddReprocessCommand(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto f = std::make_shared<ReprocessFlags>();
  auto* cmd = app.add_subcommand(
      "reprocess",
      "Rebuild the tables the processor writes (process.table, and the tables of process.outputs "
      "and process.aggregates) from the log with the pipeline file's mapping as it is now, e.g. "
      "after a column was added or renamed. It reads each partition from where you say to the "
      "log's end as of its start, with its own consumer group (the live group's offsets and "
      "counters stay as they are), then prints a summary. Exactly once: killed and run again, "
      "it resumes from its last batch. Over the embedded log or store it needs the data dir "
      "free (stop `run` first); over Kafka and Cassandra it runs beside the live pipeline. "
      "Exit 0 done, 1 failed or interrupted, 2 bad flags.\n\n"
      "Examples:\n"
      "  dataforge reprocess --from-beginning --into-suffix _v2\n"
      "      new tables dataforge.created_users_v2 (...), the live ones untouched\n"
      "  dataforge reprocess --from-beginning --in-place --yes\n"
      "      process.table emptied (atomically with the first rebuilt batch) and rebuilt\n"
      "  dataforge reprocess --from-offset 0:1200,1:800 --into-suffix _fix\n"
      "      only partition 0 from offset 1200 and partition 1 from 800\n"
      "  dataforge reprocess --from-time 2026-12-01T00:00:00Z --in-place --yes\n"
      "      records since that time rewritten in place (upserts, nothing removed)\n"
      "  dataforge reprocess --from-beginning --in-place --yes --tables users_per_country_hour\n"
      "      one aggregate rebuilt after its window changed, every other table untouched");
  HandleStopSignals(ctx, cmd);
  auto* beginning = cmd->add_flag("--from-beginning", f->from_beginning,
                                  "Read every partition from its first offset");
  auto* offset = cmd->add_option("--from-offset", f->from_offset,
                                 "Read the named partitions from these offsets, PARTITION:OFFSET "
                                 "comma-separated (0:1200,1:0); other partitions are not read");
  auto* time = cmd->add_option("--from-time", f->from_time,
                               "Read each partition from its first record at or after TIME "
                               "(ISO 8601, UTC without an offset, or Unix milliseconds)");
  beginning->excludes(offset)->excludes(time);
  offset->excludes(time);
  auto* suffix = cmd->add_option("--into-suffix", f->into_suffix,
                                 "Write new tables: each rebuilt table's name with SUFFIX appended "
                                 "(letters, digits, _), created with the mapping's columns");
  auto* in_place = cmd->add_flag("--in-place", f->in_place,
                                 "Rewrite the live tables; with --from-beginning process.table is "
                                 "emptied first (atomically with the first batch). Needs --yes");
  suffix->excludes(in_place);
  cmd->add_flag("--yes", f->yes, "Confirm --in-place");
  cmd->add_option("--group", f->group,
                  "The reprocess's consumer group (default: <process.group>-reprocess<SUFFIX>, or "
                  "-reprocess-<UTC time> in place); the same group resumes an interrupted one");
  cmd->add_option("--tables", f->tables,
                  "Rebuild only these tables, comma-separated (process.table, a process.outputs "
                  "table or a process.aggregates table, with or without its keyspace); the "
                  "others are neither read nor written")
      ->delimiter(',');
  cmd->add_flag("--allow-lost", f->allow_lost,
                "Records the log no longer has (retention) are counted lost and skipped instead "
                "of refusing");
  cmd->add_option("--progress-every", f->progress_seconds,
                  "Seconds between progress lines on stderr")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([&ctx, exit_code, f] {
    WithConfig(ctx, exit_code,
               [&](const PipelineConfig& config) { return RunReprocess(config, ctx, *f); });
  });
}

}  // namespace dataforge
