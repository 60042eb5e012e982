// `dataforge deadletter replay [ID...] [--ids ID,...] [--all] [--stage S] [--reason CLASS]
// [--dry-run]`: maps dead letters again with the pipeline file's mapping, validating the rows
// with process.schema like the processor (pipeline/dead_letter_replay.h). Writes the store, so it
// takes the data dir lock; while a `run` holds it, the running pipeline replays them over HTTP
// instead.
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/read_only_backends.h"
#include "pipeline/data_dir.h"
#include "pipeline/dead_letter_replay.h"
#include "pipeline/log_format.h"
#include "process/row_schema.h"

namespace dataforge {
namespace {

std::string ResultLine(const ReplayResult& r, bool dry_run) {
  const char* would = dry_run ? "would be " : "";
  if (r.outcome == "stored") return fmt::format("{}: {}stored key {}", r.id, would, r.key);
  if (r.outcome == "dead_lettered")
    return fmt::format("{}: {}dead-lettered again: {}", r.id, would, r.reason);
  return fmt::format("{}: refused: {}", r.id, r.reason);
}

// process.schema for the replay: bound like the processor binds it at start (a real replay
// registers the mapping's schema with auto_register; a dry run only reads the registry).
Result<std::shared_ptr<const RowSchema>> ReplaySchema(const CliContext& ctx,
                                                      const PipelineConfig& config, bool dry_run) {
  if (config.process.schema.subject.empty()) return std::shared_ptr<const RowSchema>();
  std::unique_ptr<registry::SchemaRegistry> registry;
  if (dry_run) {
    DF_ASSIGN_OR_RETURN(registry, OpenRegistryForReading(ctx, config));
    if (!registry) {
      return Status::NotFound(fmt::format(
          "process.schema: the data dir {} has no staging database, so no schema registry",
          ctx.data_dir));
    }
  } else {
    DF_ASSIGN_OR_RETURN(registry,
                        registry::SchemaRegistry::Open(ResolveUrls(config, ctx.data_dir).staging,
                                                       OpenMode::kReadWrite));
  }
  return BindRowSchema(registry.get(), config.process, config.path, /*may_register=*/!dry_run);
}

Status HeldByRun(const CliContext& ctx, const Status& lock, const std::vector<std::string>& ids) {
  std::string body = "{\"ids\":[";
  for (size_t i = 0; i < ids.size() && i < 3; ++i) {
    body += (i ? ",\"" : "\"") + ids[i] + "\"";
  }
  body += "]}";
  return Status::FailedPrecondition(fmt::format(
      "cannot replay while another dataforge uses data dir {} ({}): replay through the running "
      "pipeline instead, started with `dataforge run --http-port PORT`: curl -X POST "
      "http://127.0.0.1:PORT/v1/deadletters/replay -H 'Authorization: Bearer <key>' -d '{}'",
      ctx.data_dir, lock.message(), body));
}

}  // namespace

void AddDeadLetterReplayCommand(CLI::App* deadletter, CliContext& ctx, int* exit_code) {
  auto ids = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  auto reason = std::make_shared<std::string>();
  auto id_list = std::make_shared<std::vector<std::string>>();
  auto stage = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  auto* cmd = deadletter->add_subcommand(
      "replay",
      "Map dead letters again with the pipeline file's mapping as it is now. A letter that maps "
      "is stored (its row written once: a letter is never stored twice) and no longer counted "
      "as dead-lettered; one the mapping refuses again stays a dead letter with the new reason "
      "(and can be replayed after another fix). With process.schema, rows are validated like the "
      "processor validates them (a row that fails stays a dead letter, reason class schema). "
      "--dry-run prints what would happen and writes nothing. Source-stage letters never reached "
      "the log and "
      "are refused. Prints one line per letter and a summary. Exit 0 when every letter was "
      "stored or dead-lettered again, 1 when one was refused or on a failure, 2 for unknown ids. "
      "Needs the data dir free: while `dataforge run --http-port` runs on it, use POST "
      "/v1/deadletters/replay");
  cmd->add_option("ID", *ids,
                  "Letters to replay: process:N (the store's letter N, as `deadletter list` shows "
                  "it; a bare N is the same) or source:N");
  cmd->add_flag("--all", *all, "Every process-stage letter not yet stored by a replay");
  cmd->add_option("--reason", *reason,
                  "Only letters of this reason class: invalid_json, missing_key, missing_field, "
                  "type_mismatch, too_large, schema, wire_format, other");
  cmd->add_option("--ids", *id_list, "The letters as one comma-separated list (1,2,process:3)")
      ->delimiter(',');
  cmd->add_option("--stage", *stage,
                  "Only letters of this stage: process, or source (with --all: every source "
                  "letter, each refused: they never reached the log)")
      ->check(CLI::IsMember({"process", "source"}));
  cmd->add_flag("--dry-run", *dry_run,
                "Map and validate (process.schema) the letters and print what would happen; "
                "write nothing");
  cmd->callback([&ctx, exit_code, ids, all, reason, id_list, stage, dry_run] {
    ids->insert(ids->end(), id_list->begin(), id_list->end());
    auto config = LoadConfig(ctx);
    if (!config.ok()) {
      *exit_code = ReportError(config.status());
      return;
    }
    std::vector<LetterId> parsed;
    for (const auto& text : *ids) {
      auto id = ParseLetterId(text);
      if (!id.ok()) {
        *exit_code = ReportError(Status::ConfigError(id.status().message()));
        return;
      }
      parsed.push_back(*id);
    }
    if (parsed.empty() != *all) {
      *exit_code = ReportError(Status::ConfigError(
          "deadletter replay: name the letters (process:N ...) or pass --all, not both"));
      return;
    }
    std::vector<ReplayResult> results;
    Status s = [&]() -> Status {
      DF_RETURN_IF_ERROR(PrepareDataDir(ctx.data_dir, /*create=*/false));
      auto lock = DataDirLock::Acquire(ctx.data_dir);
      if (!lock.ok()) {
        if (lock.status().code() != StatusCode::kUnavailable) return lock.status();
        return HeldByRun(ctx, lock.status(), *ids);
      }
      std::string url = ResolveUrls(*config, ctx.data_dir).store;
      DF_ASSIGN_OR_RETURN(auto store,
                          OpenStore(url, *dry_run ? OpenMode::kReadOnly : OpenMode::kReadWrite,
                                    StoreOptionsFor(config->store)));
      std::unique_ptr<Staging> staging;
      if (auto opened = OpenStagingForReading(ctx, *config); opened.ok()) {
        staging = std::move(opened).value();
      }
      DF_ASSIGN_OR_RETURN(auto schema, ReplaySchema(ctx, *config, *dry_run));
      DF_ASSIGN_OR_RETURN(auto replayer, Replayer::Create(*config, store.get(), staging.get(),
                                                          Clock::Real(), std::move(schema)));
      replayer->set_dry_run(*dry_run);
      // log.format confluent-*: letters of undecodable values are decoded again.
      std::unique_ptr<registry::SchemaRegistry> registry;
      std::unique_ptr<WireDecoder> decoder;
      if (config->log.format != LogConfig::Format::kJson) {
        DF_ASSIGN_OR_RETURN(registry, OpenRegistryForReading(ctx, *config));
        if (registry) {
          decoder =
              std::make_unique<WireDecoder>(registry.get(), LogSchemaType(config->log.format));
          replayer->SetWireDecoder(decoder.get());
        }
      }
      Status selected = replayer->Select(parsed, *all, *reason, *stage);
      if (selected.code() == StatusCode::kInvalidArgument) {
        return Status::ConfigError(selected.message());  // exit 2: bad ids or class
      }
      DF_RETURN_IF_ERROR(selected);
      const bool tty = isatty(STDERR_FILENO) && replayer->selected() >= 100;
      Status ran = replayer->Run(&results, [&](size_t done, size_t total) {
        fmt::print("{}\n", ResultLine(results.back(), *dry_run));
        if (tty && (done % 100 == 0 || done == total)) {
          fmt::print(stderr, "\rreplayed {} of {} letters", done, total);
          if (done == total) fmt::print(stderr, "\n");
        }
      });
      std::fflush(stdout);
      return ran;
    }();
    if (!s.ok()) {
      if (!results.empty()) fmt::print("{}\n", ReplaySummary(results, *dry_run));
      *exit_code = ReportError(s);
      return;
    }
    fmt::print("{}\n", ReplaySummary(results, *dry_run));
    bool refused = std::any_of(results.begin(), results.end(),
                               [](const ReplayResult& r) { return r.outcome == "refused"; });
    *exit_code = refused ? 1 : 0;
  });
}

}  // namespace dataforge
