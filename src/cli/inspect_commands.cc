// Inspection commands: table, topic, staging, deadletter. All open the stages read-only.
#include <algorithm>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/read_only_backends.h"
#include "common/dead_letter_reason.h"
#include "common/json_writer.h"
#include "pipeline/dead_letter_replay.h"

namespace dataforge {
namespace {

std::string DeadLetterJson(const StoredDeadLetter& d) {
  std::string payload;
  AppendJsonOrString(&payload, d.letter.payload);
  return JsonObjectWriter()
      .Int("id", static_cast<int64_t>(d.id))
      .String("stage", d.letter.stage)
      .String("reason", d.letter.reason)
      .String("reason_class", DeadLetterReasonClass(d.letter.reason))
      .String("location", d.letter.location)
      .Int("at_us", d.letter.at_us)
      .Raw("payload", payload)
      .Raw("replay", ReplayMarkerJson(d.replay))
      .Finish();
}

}  // namespace

void AddTableCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* table = app.add_subcommand("table", "Read the store's tables");
  table->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  auto limit = std::make_shared<size_t>(0);

  auto* count = table->add_subcommand("count", "Print the number of rows in TABLE");
  count->add_option("TABLE", *name, "Table (default: the pipeline's, dataforge.created_users)");
  count->callback([&ctx, exit_code, name] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto store, OpenStoreForReading(ctx, c));
      const std::string& table = name->empty() ? c.process.table : *name;
      DF_RETURN_IF_ERROR(CheckTableExists(*store, table));
      DF_ASSIGN_OR_RETURN(uint64_t n, store->Count(table));
      fmt::print("{}\n", n);
      return Status::OK();
    });
  });

  auto* get = table->add_subcommand("get", "Print one row of TABLE as a JSON object");
  get->add_option("TABLE", *name, "Table")->required();
  get->add_option("KEY", *key, "Primary key")->required();
  get->callback([&ctx, exit_code, name, key] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto store, OpenStoreForReading(ctx, c));
      DF_RETURN_IF_ERROR(CheckTableExists(*store, *name));
      auto row = store->Get(*name, *key);
      if (!row.ok()) return row.status();
      fmt::print("{}\n", *row);
      return Status::OK();
    });
  });

  auto* scan = table->add_subcommand(
      "scan",
      "Print rows of TABLE as JSON lines, in the store's scan order (RocksDB: key order; "
      "Cassandra: token order)");
  scan->add_option("TABLE", *name, "Table (default: the pipeline's)");
  scan->add_option("--limit", *limit, "At most this many rows (0 = all)");
  scan->add_option("--after", *key,
                   "Start after this key: the last key of the previous page (with --limit, "
                   "pages neither skip nor repeat rows)");
  scan->callback([&ctx, exit_code, name, limit, key] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto store, OpenStoreForReading(ctx, c));
      const std::string& table = name->empty() ? c.process.table : *name;
      DF_RETURN_IF_ERROR(CheckTableExists(*store, table));
      std::string out;
      Status s = store->Scan(table, *key, *limit, [&](const std::string&, const std::string& row) {
        out += row;
        out += '\n';
        if (out.size() > (1 << 16)) {
          std::fwrite(out.data(), 1, out.size(), stdout);
          out.clear();
        }
        return true;
      });
      std::fwrite(out.data(), 1, out.size(), stdout);
      return s;
    });
  });
}

void AddStagingCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* staging = app.add_subcommand("staging", "Read the staging database");
  staging->require_subcommand(1);
  auto* count = staging->add_subcommand(
      "count",
      "Print the number of staged records (keys) in the upsert view (during a run it may trail the "
      "newest records by up to an eighth of its rows; exact once the run drains)");
  count->callback([&ctx, exit_code] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto staging, OpenStagingForReading(ctx, c));
      DF_ASSIGN_OR_RETURN(auto counters, staging->Counters());
      fmt::print("{}\n", counters.distinct_keys);
      return Status::OK();
    });
  });

  auto key = std::make_shared<std::string>();
  auto* get = staging->add_subcommand(
      "get", "Print the latest staged version of the record KEY: its raw JSON, as fetched");
  get->add_option("KEY", *key, "Record key (the pipeline's source.key, e.g. login.uuid)")
      ->required();
  get->callback([&ctx, exit_code, key] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_ASSIGN_OR_RETURN(auto staging, OpenStagingForReading(ctx, c));
      auto row = staging->Get(*key);
      if (!row.ok() && row.status().code() == StatusCode::kNotFound) {
        return Status::NotFound(fmt::format("no staged record {}", *key));
      }
      if (!row.ok()) return row.status();
      fmt::print("{}\n", row->raw);
      return Status::OK();
    });
  });

  auto* dl = app.add_subcommand(
      "deadletter",
      "Read the dead-letter tables of every stage; replay them through the current mapping");
  dl->require_subcommand(1);
  auto limit = std::make_shared<size_t>(100);
  auto* list = dl->add_subcommand(
      "list", "Print dead letters as JSON lines (oldest first): stage, reason, location, payload");
  list->add_option("--limit", *limit, "At most this many (0 = all)")->capture_default_str();
  auto reason = std::make_shared<std::string>();
  list->add_option("--reason", *reason,
                   "Only letters of this reason class: invalid_json, missing_key, missing_field, "
                   "type_mismatch, too_large, schema, wire_format, other");
  list->callback([&ctx, exit_code, limit, reason] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& c) -> Status {
      DF_RETURN_IF_ERROR(CheckReasonClass(*reason));
      size_t max = *limit == 0 ? SIZE_MAX : *limit;
      // With a class, every letter is read and filtered here.
      size_t read = reason->empty() ? max : 0;
      std::vector<StoredDeadLetter> all;
      // A data dir of one role has only its stage: staging (ingest) or store (process).
      auto staging = OpenStagingForReading(ctx, c);
      auto store = OpenStoreForReading(ctx, c);
      if (!staging.ok() && !store.ok()) return staging.status();
      if (staging.ok()) DF_RETURN_IF_ERROR((*staging)->ListDeadLetters(0, read, &all));
      std::vector<StoredDeadLetter> processed;
      if (store.ok()) DF_RETURN_IF_ERROR((*store)->ListDeadLetters(0, read, &processed));
      all.insert(all.end(), processed.begin(), processed.end());
      if (!reason->empty()) {
        std::erase_if(all, [&](const StoredDeadLetter& d) {
          return DeadLetterReasonClass(d.letter.reason) != *reason;
        });
      }
      std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return a.letter.at_us < b.letter.at_us;
      });
      if (all.size() > max) all.resize(max);
      for (const auto& d : all) fmt::print("{}\n", DeadLetterJson(d));
      return Status::OK();
    });
  });
  AddDeadLetterReplayCommand(dl, ctx, exit_code);
}

}  // namespace dataforge
