#include "cli/command_line_check.h"

#include <fmt/format.h>

#include "cli/auth_setup.h"
#include "cli/commands.h"
#include "common/redact.h"
#include "log/kafka/kafka_client.h"
#include "staging/staging.h"
#include "store/cassandra/cassandra_url.h"

namespace dataforge {
namespace {

// Commands that never read the pipeline file.
bool ReadsNoPipeline(const std::string& command) {
  return command == "mock-api" || command == "health";
}

// CLI::App::parse() without its last step, run_callback(): every value is parsed, converted and
// validated into the options' variables, and no command runs. (The commands' callbacks own those
// variables, so they stay; they are just never called.)
class ParseOnlyApp : public CLI::App {
 public:
  void ParseWithoutRunning(std::vector<std::string>& reversed_args) {
    parsed_ = 1;
    _validate();
    _configure();
    parent_ = nullptr;
    parsed_ = 0;
    _parse(reversed_args);
  }
};

// The option's value as given, or `fallback` when it was not.
std::string Value(CLI::App* cmd, const std::string& name, const std::string& fallback = "") {
  CLI::Option* o = cmd->get_option_no_throw(name);
  if (o == nullptr || o->count() == 0) return fallback;
  return o->as<std::string>();
}

bool Given(CLI::App* cmd, const std::string& name) {
  CLI::Option* o = cmd->get_option_no_throw(name);
  return o != nullptr && o->count() > 0;
}

Status CheckLogUrl(const std::string& url) {
  if (url.rfind("kafka://", 0) == 0) return ParseKafkaUrl(url).status();
  if (url.rfind("file://", 0) == 0 && url.size() > 7) return Status::OK();
  return Status::ConfigError(fmt::format(
      "log url '{}' is not file://DIR (the embedded log) or kafka://host:port[,host:port...]",
      url));
}

Status CheckStoreUrl(const PipelineConfig& config) {
  const std::string& url = config.store.url;
  if (url.rfind("cassandra://", 0) == 0) {
    return ParseCassandraUrl(url, config.store.cassandra).status();
  }
  if (url.rfind("rocksdb://", 0) == 0 && url.size() > 10) return Status::OK();
  return Status::ConfigError(fmt::format(
      "store url '{}' is not rocksdb://DIR or cassandra://host[:port][,host...][/keyspace]", url));
}

// What `run` refuses at start (pipeline.cc, run_command.cc), said the same way.
Status CheckRun(CLI::App* run, const PipelineConfig& config) {
  const std::string role = Value(run, "--role", "all");
  const bool shared_log = config.log.url.rfind("kafka://", 0) == 0;
  const bool max_records = Given(run, "--max-records") && Value(run, "--max-records") != "0";
  if (role == "scheduler") {
    if (config.dags.empty()) {
      return Status::ConfigError(
          "--role scheduler: the pipeline file declares no DAGs (add a 'dags:' section)");
    }
    if (max_records || Given(run, "--source-url")) {
      return Status::ConfigError(
          "--role scheduler runs DAGs only: --max-records and --source-url do not apply");
    }
  }
  if ((role == "ingest" || role == "process") && !shared_log) {
    return Status::ConfigError(fmt::format(
        "--role {} needs a log that several processes share, and {} belongs to this one: set "
        "log.url (or --log) to kafka://host:port, or run without --role",
        role, config.log.url));
  }
  if (role == "process" && max_records) {
    return Status::ConfigError(
        "--max-records counts fetched records: use it with --role ingest or without --role");
  }
  if (role == "process" && config.log.format != LogConfig::Format::kJson &&
      config.staging.url.rfind("sqlite:", 0) == 0) {
    return Status::ConfigError(fmt::format(
        "log.format {} with --role process reads the schemas from the registry in the staging "
        "database, and {} is this data dir's own: set staging.url (or --staging) to the "
        "ingest's PostgreSQL",
        LogFormatName(config.log.format), config.staging.url));
  }
  if (Given(run, "--cql-port") && (role == "ingest" || role == "scheduler")) {
    return Status::ConfigError("--cql-port: --role " + role + " has no store to serve");
  }
  if (Given(run, "--cql-port") && Given(run, "--http-port") &&
      Value(run, "--cql-port") == Value(run, "--http-port") && Value(run, "--cql-port") != "0") {
    return Status::ConfigError(fmt::format(
        "--http-port and --cql-port are both {}: give each its own", Value(run, "--cql-port")));
  }
  return Status::OK();
}

// "HTTP on 0.0.0.0:8080 (authentication required)": where a server of the command listens.
std::string Listener(const std::string& what, const std::string& host, const std::string& port,
                     const PipelineConfig& config, bool insecure) {
  std::string out = fmt::format("{} on {}:{}", what, host, port);
  if (IsLoopbackHost(host)) return out;
  if (config.auth.required) return out + " (authentication required)";
  if (insecure) return out + " (authentication off: --insecure-no-auth)";
  return out +
         " (off loopback it starts only while the staging database has a user; set auth.required: "
         "true to be sure)";
}

}  // namespace

Result<std::string> CheckCommandLine(const std::string& file, const PipelineConfig& file_config,
                                     std::vector<std::string> args) {
  if (!args.empty() && (args[0] == "dataforge" || args[0].ends_with("/dataforge"))) {
    args.erase(args.begin());
  }
  std::string shown = "dataforge";
  for (const auto& a : args) shown += " " + a;
  shown = Redact(shown);
  auto fail = [&](const std::string& what) {
    return Status::ConfigError(fmt::format("command line `{}`: {}", shown, what));
  };
  if (args.empty()) {
    return fail("nothing after --; give the arguments of dataforge, e.g. -- --config " + file +
                " run --role ingest");
  }

  ParseOnlyApp app;
  CliContext ctx;
  int exit_code = 0;
  std::string log_level;
  BuildCli(app, ctx, &exit_code, &log_level);
  // --config names the file as the command will see it; FILE is what is checked.
  if (CLI::Validator* exists = app.get_option("--config")->get_validator()) exists->active(false);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.ParseWithoutRunning(reversed);
  } catch (const CLI::CallForHelp&) {
    return fail("it asks for --help and starts nothing");
  } catch (const CLI::CallForAllHelp&) {
    return fail("it asks for --help and starts nothing");
  } catch (const CLI::CallForVersion&) {
    return fail("it asks for --version and starts nothing");
  } catch (const CLI::ParseError& e) {
    return fail(e.what());
  }

  // The command: "run", "users add", ...
  std::string command;
  CLI::App* leaf = &app;
  for (;;) {
    auto parsed = leaf->get_subcommands();
    if (parsed.empty()) break;
    leaf = parsed[0];
    command += (command.empty() ? "" : " ") + leaf->get_name();
  }
  if (ReadsNoPipeline(command)) return shown + ": ok (does not read the pipeline file)";
  if (ctx.config_path.empty()) {
    return fail(fmt::format(
        "it has no --config, so it runs the built-in pipeline, not {}; add --config with the "
        "path the command sees",
        file));
  }

  PipelineConfig config = file_config;
  if (!ctx.log_url.empty()) config.log.url = ctx.log_url;
  if (!ctx.staging_url.empty()) config.staging.url = ctx.staging_url;
  if (!ctx.store_url.empty()) config.store.url = ctx.store_url;
  Status s = ParseStagingUrl(config.staging.url).status();
  if (s.ok()) s = CheckLogUrl(config.log.url);
  if (s.ok()) s = CheckStoreUrl(config);
  if (s.ok() && command == "run") s = CheckRun(leaf, config);
  if (!s.ok()) return fail(s.message());

  std::string role = command == "run" ? Value(leaf, "--role", "all") : "";
  std::vector<std::string> parts;
  if (role != "process") parts.push_back("staging " + config.staging.url);
  if (role != "scheduler") parts.push_back("log " + config.log.url);
  if (role != "ingest" && role != "scheduler") parts.push_back("store " + config.store.url);
  const bool insecure = Given(leaf, "--insecure-no-auth");
  if (command == "run" && Given(leaf, "--http-port")) {
    parts.push_back(Listener("HTTP", Value(leaf, "--http-host", "127.0.0.1"),
                             Value(leaf, "--http-port"), config, insecure));
  }
  if (command == "run" && Given(leaf, "--cql-port")) {
    parts.push_back(Listener("CQL", Value(leaf, "--cql-host", "127.0.0.1"),
                             Value(leaf, "--cql-port"), config, insecure));
  }
  if (command == "serve") {
    parts.push_back(Listener("HTTP", Value(leaf, "--host", "127.0.0.1"),
                             Value(leaf, "--http-port", "8080"), config, insecure));
  }
  return Redact(fmt::format("{}: ok ({})", shown, fmt::join(parts, ", ")));
}

}  // namespace dataforge
