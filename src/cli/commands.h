// The subcommands. Each Add*Command registers itself on the CLI11 app; the callback sets
// `*exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/cli_context.h"

namespace dataforge {

// The whole command line of `dataforge` on `app`: the global options (into `ctx`; --log-level into
// `log_level`) and every command, whose callbacks set `*exit_code`. RunCli parses argv with it;
// `config check FILE -- ARGS` (command_line_check.h) parses ARGS with it without running a
// callback.
void BuildCli(CLI::App& app, CliContext& ctx, int* exit_code, std::string* log_level);

void AddRunCommand(CLI::App& app, CliContext& ctx, int* exit_code);
void AddMockApiCommand(CLI::App& app, CliContext& ctx, int* exit_code);
void AddConfigCommands(CLI::App& app, CliContext& ctx, int* exit_code);
void AddTableCommands(CLI::App& app, CliContext& ctx, int* exit_code);
void AddTopicCommands(CLI::App& app, CliContext& ctx, int* exit_code);
void AddStagingCommands(CLI::App& app, CliContext& ctx, int* exit_code);
// deadletter replay (deadletter_replay_command.cc), under the `deadletter` command
void AddDeadLetterReplayCommand(CLI::App* deadletter, CliContext& ctx, int* exit_code);
void AddStatusCommand(CLI::App& app, CliContext& ctx, int* exit_code);
// top: the overview in the terminal (top_command.cc)
void AddTopCommand(CLI::App& app, CliContext& ctx, int* exit_code);
// reprocess: rebuild the processor's tables from the log (reprocess_command.cc)
void AddReprocessCommand(CLI::App& app, CliContext& ctx, int* exit_code);
// dags, runs, tasks
void AddOrchestrationCommands(CLI::App& app, CliContext& ctx, int* exit_code);
// cql-serve: the store over the CQL native protocol
void AddCqlServeCommand(CLI::App& app, CliContext& ctx, int* exit_code);
// users, keys: the REST API's and CQL endpoint's users and API keys
void AddUserCommands(CLI::App& app, CliContext& ctx, int* exit_code);
// serve: the REST API over HTTP (serve_command.cc)
void AddServeCommand(CLI::App& app, CliContext& ctx, int* exit_code);
// health: GET an endpoint's /health, exit 0/1/2 (health_command.cc; the image's HEALTHCHECK)
void AddHealthCommand(CLI::App& app, int* exit_code);
struct HttpEndpointFlags;
// --max-body-bytes, --workers, --read-timeout-ms, --request-deadline-ms (serve, run --http-port)
void AddHttpLimitOptions(CLI::App* cmd, HttpEndpointFlags* flags);

}  // namespace dataforge
