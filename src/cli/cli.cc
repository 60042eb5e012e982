#include "cli/cli.h"
#include "cli/signal_waiter.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "common/file_util.h"
#include "common/redact.h"
#include "common/redacting_sink.h"

namespace dataforge {

void BuildCli(CLI::App& app, CliContext& ctx, int* exit_code, std::string* log_level) {
  app.description(
      "DataForge: a real-time data pipeline in one binary.\n"
      "REST API -> staging (SQLite) -> log -> processing -> store (RocksDB), no servers needed;\n"
      "PostgreSQL, Kafka and Cassandra when one machine is not enough,\n"
      "with a built-in scheduler for DAGs (dags, runs, tasks).");
  app.set_version_flag("--version", std::string("dataforge ") + DATAFORGE_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  // CLI11's own errors can quote a URL given on the command line.
  // One line, like every other error: what is wrong and where to look.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return Redact(fmt::format("dataforge: {} (see --help)\n", e.what()));
  });
  app.add_option("--config", ctx.config_path, "Pipeline file (YAML); default: the built-in one")
      ->check(CLI::ExistingFile);
  app.add_option("--data-dir", ctx.data_dir, "Directory holding all state")
      ->envname("DATAFORGE_DATA_DIR")  // the container image sets /data (docs/deploy.md)
      ->capture_default_str();
  app.add_option("--log", ctx.log_url,
                 "The log: file://DIR (embedded, the default) or "
                 "kafka://host:port[,host:port...][?librdkafka.property=value&...]");
  app.add_option("--staging", ctx.staging_url,
                 "The staging database: sqlite://FILE (embedded, the default) or "
                 "postgresql://user:password@host:port/db[?sslmode=...]");
  app.add_option("--store", ctx.store_url,
                 "The store: rocksdb://DIR (embedded, the default) or "
                 "cassandra://[user:password@]host[:port][,host...][/keyspace][?consistency=...]");
  app.add_option("--log-level", *log_level, "trace, debug, info, warn, error, off")
      ->check(OneOf({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();

  AddRunCommand(app, ctx, exit_code);
  AddMockApiCommand(app, ctx, exit_code);
  AddTableCommands(app, ctx, exit_code);
  AddTopicCommands(app, ctx, exit_code);
  AddStagingCommands(app, ctx, exit_code);
  AddStatusCommand(app, ctx, exit_code);
  AddReprocessCommand(app, ctx, exit_code);
  AddTopCommand(app, ctx, exit_code);
  AddConfigCommands(app, ctx, exit_code);
  AddOrchestrationCommands(app, ctx, exit_code);
  AddCqlServeCommand(app, ctx, exit_code);
  AddUserCommands(app, ctx, exit_code);
  AddServeCommand(app, ctx, exit_code);
  AddHealthCommand(app, exit_code);
  ExplainNumericOptions(app);  // "--max-records: 'abc' is not a whole number >= 0"
}

namespace {

// RunCli blocks SIGINT/SIGTERM before anything else, so one that arrives while a command that
// handles them (HandleStopSignals, cli_context.h) reads its flags and pipeline file stays
// pending and is handled as any later one, instead of killing the process before it has printed
// anything (exit 143). Every other command gets the default action back (and any pending signal)
// as soon as the command line is parsed.
void SetStopSignalsBlocked(bool blocked) {
  sigset_t set = StopSignals();
  pthread_sigmask(blocked ? SIG_BLOCK : SIG_UNBLOCK, &set, nullptr);
}

// Whether the command the command line runs (its innermost subcommand) handles them.
bool HandlesStopSignals(const CLI::App& app, const CliContext& ctx) {
  const CLI::App* command = &app;
  while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
  for (const auto& [handler, when] : ctx.stop_signal_commands) {
    if (handler == command) return !when || when();
  }
  return false;
}

}  // namespace

int RunCli(int argc, char** argv) {
  SetStopSignalsBlocked(true);  // no thread exists yet: every later one inherits the mask
  // Every log line goes through Redact() (common/redact.h): no password, token or key is printed.
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "dataforge", MakeRedactingSink(std::make_shared<spdlog::sinks::stderr_color_sink_mt>())));
  // libpq uses PGPASSWORD when the URL has no password; it stays masked wherever it shows.
  if (const char* pg_password = std::getenv("PGPASSWORD")) RegisterSecret(pg_password);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  CliContext ctx;
  std::string log_level = "info";
  int exit_code = 0;
  CLI::App app;
  BuildCli(app, ctx, &exit_code, &log_level);
  app.parse_complete_callback([&] {
    spdlog::set_level(spdlog::level::from_str(log_level));
    if (!HandlesStopSignals(app, ctx)) SetStopSignalsBlocked(false);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // Paths relative to a working directory that was deleted (or unmounted) under the shell.
    Status cwd = CheckWorkingDirectory();
    fmt::print(stderr, "dataforge: {}\n", cwd.ok() ? std::string(e.what()) : cwd.message());
    return 1;
  } catch (const std::exception& e) {
    // A bug (every expected failure is a Status): one line instead of an abort.
    fmt::print(stderr, "dataforge: internal error: {}; please report it with the command line\n",
               e.what());
    return 1;
  }
  return exit_code;
}

}  // namespace dataforge
