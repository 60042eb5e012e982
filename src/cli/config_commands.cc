// `dataforge config show` and `dataforge config check FILE`.
#include <fmt/format.h>

#include "cli/commands.h"
#include "common/redact.h"
#include "config/pipeline_file.h"
#include "store/cassandra/cassandra_url.h"

namespace dataforge {

void AddConfigCommands(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* config = app.add_subcommand("config", "Show or check pipeline files");
  config->require_subcommand(1);

  auto* show = config->add_subcommand(
      "show",
      "Print the effective pipeline (--config over the built-in defaults, ${ENV} "
      "replaced, the options of a cassandra:// URL applied); passwords, tokens and keys are "
      "printed as ***");
  show->callback([&ctx, exit_code] {
    auto c = LoadConfig(ctx);
    if (!c.ok()) {
      *exit_code = ReportError(c.status());
      return;
    }
    if (c->store.url.rfind("cassandra://", 0) == 0) {
      // What the store will use: the URL's options (consistency, local_dc, tls, ...) override
      // the store: section.
      auto url = ParseCassandraUrl(c->store.url, c->store.cassandra);
      if (!url.ok()) {
        *exit_code = ReportError(url.status());
        return;
      }
      c->store.cassandra = url->options;
    }
    fmt::print("# effective pipeline ({})\n{}",
               ctx.config_path.empty() ? "built-in default" : Redact(ctx.config_path),
               Redact(PipelineConfigToYaml(*c)));
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
