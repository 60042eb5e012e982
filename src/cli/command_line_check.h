// `dataforge config check FILE -- ARGS...`: would the command line `dataforge ARGS...` start with
// FILE as its pipeline file? Checked before a deployment (a compose file, a systemd unit, a
// Kubernetes manifest) without starting anything, opening a data dir or reaching a server.
//
// ARGS are parsed by dataforge's own parser (BuildCli in commands.h; no callback runs), so
// an unknown or misspelt flag, a missing value or a bad number fails exactly as the command would.
// ARGS name FILE by the path the command will see (e.g. /etc/dataforge/pipeline.yaml inside a
// container): their --config must be given, and is not opened. Then FILE's backends with ARGS's
// --log/--staging/--store over them, checked as the command would open them:
//   - each URL parses (sqlite:// or postgresql://; file:// or kafka://; rocksdb:// or
//   cassandra://);
//   - `run --role ingest|process` needs a shared log (kafka://), `--role process` takes no
//     --max-records, a confluent log.format with --role process needs a PostgreSQL staging;
//   - `run --role scheduler` needs dags and takes no --max-records or --source-url;
//   - `run --cql-port` needs a store (not --role ingest or scheduler); --http-port and --cql-port
//     differ.
// What it cannot know without the servers (users in the staging database, reachable brokers) is
// left to the command. Thread-compatible; no I/O.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge {

// `file` is FILE as given to config check and `config` the pipeline loaded from it. `args` is the
// command line after `--`, with or without a leading `dataforge`. Returns the verdict line
// ("dataforge run --role process ...: ok (log kafka://..., store cassandra://...)") or a
// ConfigError "command line `dataforge ...`: <what is wrong and how to fix it>".
Result<std::string> CheckCommandLine(const std::string& file, const PipelineConfig& config,
                                     std::vector<std::string> args);

}  // namespace dataforge
