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
  std::string log_url;
  std::string staging_url;  // --staging; overrides staging.url of the pipeline file  // --log;
                            // overrides log.url of the pipeline file
};

// Loads --config (or the default). Errors are ConfigError.
Result<PipelineConfig> LoadConfig(const CliContext& ctx);

// Prints "dataforge: <message>" to stderr and returns 2 for usage/config errors, 1 otherwise.
int ReportError(const Status& s);

}  // namespace dataforge
