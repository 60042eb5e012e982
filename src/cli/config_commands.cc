// `dataforge config show` and `dataforge config check FILE`.
#include <fmt/format.h>

#include "cli/commands.h"
#include "config/pipeline_file.h"

namespace dataforge {

void AddConfigCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* config = app.add_subcommand("config", "Show or check pipeline files");
  config->require_subcommand(1);

  auto* show = config->add_subcommand(
      "show",
      "Print the effective pipeline (--config over the built-in defaults, ${ENV} "
      "replaced)");
  show->callback([&ctx, exit_code] {
    auto c = LoadConfig(ctx);
    if (!c.ok()) {
      *exit_code = ReportError(c.status());
      return;
    }
    fmt::print("# effective pipeline ({})\n{}",
               ctx.config_path.empty() ? "built-in default" : ctx.config_path,
               PipelineConfigToYaml(*c));
    *exit_code = 0;
  });

  auto* check = config->add_subcommand(
      "check", "Validate a pipeline file; errors name the line. Exit 0 if valid, 2 if not");
  auto file = std::make_shared<std::string>();
  check->add_option("FILE", *file, "Pipeline file to check")->required();
  check->callback([file, exit_code] {
    auto c = LoadPipelineConfig(*file);
    if (!c.ok()) {
      *exit_code = ReportError(c.status());
      return;
    }
    fmt::print("{}: ok ({} columns into {}, topic {} with {} partitions)\n", *file,
               c->process.columns.size(), c->process.table, c->log.topic, c->log.partitions);
    *exit_code = 0;
  });
}

}  // namespace dataforge
