// Opens a data dir's stages read-only for inspection. Never blocks or changes a pipeline that
// is running on the same data dir, and never creates the data dir. A stage kept in the data
// dir (the embedded SQLite, log and RocksDB store) needs the data dir to exist: NotFound with
// the fix otherwise. An external one (postgresql://, kafka://, cassandra://) is read without
// a data dir; a shared PostgreSQL staging is then read for every instance (see OpenStaging).
#pragma once

#include <memory>

#include "cli/cli_context.h"
#include "common/json_or_string.h"  // AppendJsonOrString, for the commands that print
#include "log/log.h"
#include "orchestrate/state/run_store.h"
#include "registry/schema_registry.h"
#include "staging/staging.h"
#include "store/store.h"

namespace dataforge {

Result<std::unique_ptr<Staging>> OpenStagingForReading(const CliContext& ctx,
                                                       const PipelineConfig& config);
Result<std::unique_ptr<Log>> OpenLogForReading(const CliContext& ctx, const PipelineConfig& config);
Result<std::unique_ptr<Store>> OpenStoreForReading(const CliContext& ctx,
                                                   const PipelineConfig& config);

// The run store for reading, or nullptr when no scheduler ever wrote one: no data dir, a
// staging database without the orchestrator's tables (a `run --max-records` hosts no
// scheduler), or a PostgreSQL database without DataForge's schema. Creates nothing.
Result<std::unique_ptr<RunStore>> OpenRunStoreForReading(const CliContext& ctx,
                                                         const PipelineConfig& config);

// The schema registry in the staging database, read-only, or nullptr when there is none yet
// (an embedded staging database that no run created: an empty registry). Creates nothing.
Result<std::unique_ptr<registry::SchemaRegistry>> OpenRegistryForReading(
    const CliContext& ctx, const PipelineConfig& config);

// NotFound "no table T; tables: a, b" unless `table` is one of the store's tables.
Status CheckTableExists(Store& store, const std::string& table);

}  // namespace dataforge
