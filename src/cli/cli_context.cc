#include "cli/cli_context.h"

#include <fmt/format.h>

#include "common/redact.h"
#include "config/pipeline_file.h"
#include "pipeline/data_dir.h"

namespace dataforge {

Result<PipelineConfig> LoadConfig(const CliContext& ctx) {
  PipelineConfig config;
  if (ctx.config_path.empty()) {
    config = DefaultPipelineConfig();
  } else {
    DF_ASSIGN_OR_RETURN(config, LoadPipelineConfig(ctx.config_path));
  }
  // What neither a flag nor the pipeline file names comes from the data dir's record.
  DF_ASSIGN_OR_RETURN(auto recorded, ReadRecordedBackends(ctx.data_dir));
  if (recorded) {
    const PipelineConfig defaults;
    if (ctx.log_url.empty() && config.log.url == defaults.log.url) config.log.url = recorded->log;
    if (ctx.staging_url.empty() && config.staging.url == defaults.staging.url) {
      config.staging.url = recorded->staging;
    }
    if (ctx.store_url.empty() && config.store.url == defaults.store.url) {
      config.store.url = recorded->store;
    }
  }
  if (!ctx.log_url.empty()) config.log.url = ctx.log_url;
  if (!ctx.staging_url.empty()) config.staging.url = ctx.staging_url;
  if (!ctx.store_url.empty()) config.store.url = ctx.store_url;
  RegisterConfigSecrets(config);
  return config;
}

void HandleStopSignals(CliContext& ctx, const CLI::App* command, std::function<bool()> when) {
  ctx.stop_signal_commands.push_back({command, std::move(when)});
}

int ReportError(const Status& s) {
  fmt::print(stderr, "dataforge: {}\n", Redact(s.message()));
  return s.code() == StatusCode::kConfigError || s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace dataforge
