// `dataforge config show` and `dataforge config check FILE [-- ARGS...]` (with process.schema: the
// registry's verdict on the mapping, read-only, from the --data-dir's staging database; with
// ARGS: whether `dataforge ARGS...` would start with FILE, command_line_check.h).
#include <fmt/format.h>

#include "cli/command_line_check.h"
#include "cli/commands.h"
#include "cli/read_only_backends.h"
#include "common/redact.h"
#include "config/pipeline_file.h"
#include "process/outputs/outputs_stage.h"
#include "process/row_schema.h"
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
      "check",
      "Validate a pipeline file; errors name the line. With process.schema, also the schema "
      "registry's verdict on the mapping (read-only, from the --data-dir's staging database: "
      "the subject's version, or the 409 an incompatible mapping would get). After --, a whole "
      "command line (config check FILE -- --config PATH --log kafka://... run --role process): "
      "parsed by dataforge's own parser and checked against FILE without starting anything "
      "(flags, backend URLs, --role against the log, DAGs for --role scheduler, listen "
      "addresses). Exit 0 if valid, 2 if not");
  auto file = std::make_shared<std::string>();
  auto command_line = std::make_shared<std::vector<std::string>>();
  check->add_option("FILE", *file, "Pipeline file to check")->required();
  check->add_option("ARGS", *command_line,
                    "After --: the arguments of a dataforge command that will run with FILE "
                    "(its --config names FILE as that command sees it)");
  check->callback([&ctx, file, command_line, exit_code] {
    auto c = LoadPipelineConfig(*file);
    if (!c.ok()) {
      *exit_code = ReportError(c.status());
      return;
    }
    if (Status outputs = CheckOutputs(*c); !outputs.ok()) {  // process.outputs
      *exit_code = ReportError(outputs);
      return;
    }
    std::string schema_line;
    if (!c->process.schema.subject.empty()) {
      // process.schema: the registry's verdict on the mapping, as the run would get it
      // (read-only: nothing is registered).
      auto verdict = [&]() -> Result<std::string> {
        DF_ASSIGN_OR_RETURN(auto registry, OpenRegistryForReading(ctx, *c));
        return CheckRowSchema(registry.get(), c->process, c->path);
      }();
      if (!verdict.ok()) {
        *exit_code = ReportError(verdict.status());
        return;
      }
      schema_line = *verdict + "\n";
    }
    std::string command_line_verdict;
    if (!command_line->empty()) {
      auto verdict = CheckCommandLine(*file, *c, *command_line);
      if (!verdict.ok()) {
        *exit_code = ReportError(verdict.status());
        return;
      }
      command_line_verdict = *verdict + "\n";
    }
    fmt::print("{}: ok ({} columns into {}, topic {} with {} partitions)\n{}{}", *file,
               c->process.columns.size(), c->process.table, c->log.topic, c->log.partitions,
               schema_line, command_line_verdict);
    *exit_code = 0;
  });
}

}  // namespace dataforge
