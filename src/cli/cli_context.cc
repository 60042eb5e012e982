#include "cli/cli_context.h"

#include <fmt/format.h>

#include "config/pipeline_file.h"

namespace dataforge {

Result<PipelineConfig> LoadConfig(const CliContext& ctx) {
  if (ctx.config_path.empty()) return DefaultPipelineConfig();
  return LoadPipelineConfig(ctx.config_path);
}

int ReportError(const Status& s) {
  fmt::print(stderr, "dataforge: {}\n", s.message());
  return s.code() == StatusCode::kConfigError || s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace dataforge
