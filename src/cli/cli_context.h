// What every command shares: the pipeline file, the data dir, and how a Status becomes an
// exit code and a one-line error.
#pragma once

#include <string>

#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge {

struct CliContext {
  std::string config_path;  // --config; "" = built-in default
  std::string data_dir = "./dataforge-data";
  std::string log_url;      // --log; overrides log.url of the pipeline file
  std::string staging_url;  // --staging; overrides staging.url of the pipeline file
  std::string store_url;    // --store; overrides store.url of the pipeline file
};

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
