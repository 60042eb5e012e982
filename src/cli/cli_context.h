// What every command shares: the pipeline file, the data dir, and how a Status becomes an
// exit code and a one-line error.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/pipeline_config.h"

namespace CLI {
class App;
}

namespace dataforge {

struct CliContext {
  std::string config_path;  // --config; "" = built-in default
  std::string data_dir = "./dataforge-data";
  std::string log_url;      // --log; overrides log.url of the pipeline file
  std::string staging_url;  // --staging; overrides staging.url of the pipeline file
  std::string store_url;    // --store; overrides store.url of the pipeline file
  // The commands that handle SIGINT/SIGTERM themselves with a SignalWaiter (HandleStopSignals).
  struct StopSignalCommand {
    const CLI::App* command;
    std::function<bool()> when;  // null = always
  };
  std::vector<StopSignalCommand> stop_signal_commands;
};

// Declares that `command` handles SIGINT/SIGTERM itself with a SignalWaiter (drain or stop, then
// a summary), when `when()` is true for the command line given (null: always; e.g. `dags trigger`
// only with --wait). RunCli keeps both signals blocked from its start for such a command, so one
// that arrives while it still reads its flags and pipeline file stays pending and is handled
// like a later one; every other command gets the default action back once the command line is
// parsed (cli.cc).
void HandleStopSignals(CliContext& ctx, const CLI::App* command,
                       std::function<bool()> when = nullptr);

// Loads --config (or the default) and applies the --log/--staging/--store flags. A backend
// that neither a flag nor the pipeline file names (still the built-in default) is the one the
// data dir was run with (<data_dir>/backends, see RecordedBackends), if it was. Errors are
// ConfigError.
Result<PipelineConfig> LoadConfig(const CliContext& ctx);

// Prints "dataforge: <message>" to stderr and returns 2 for usage/config errors, 1 otherwise.
int ReportError(const Status& s);

// Runs `body(config)` with the loaded config; errors become the exit code.
template <typename Fn>
void WithConfig(CliContext& ctx, int* exit_code, Fn body) {
  auto config = LoadConfig(ctx);
  if (!config.ok()) {
    *exit_code = ReportError(config.status());
    return;
  }
  Status s = body(*config);
  *exit_code = s.ok() ? 0 : ReportError(s);
}

}  // namespace dataforge
