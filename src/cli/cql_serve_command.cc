// `dataforge cql-serve`: the data dir's store over the CQL native protocol v4.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <shared_mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/auth_setup.h"
#include "cli/commands.h"
#include "cli/cql_endpoint.h"
#include "cli/option_checks.h"
#include "cli/served_store.h"
#include "cli/signal_waiter.h"
#include "common/redact.h"
#include "pipeline/data_dir.h"

namespace dataforge {
namespace {

Status ServeCql(const CliContext& ctx, const PipelineConfig& config, CqlEndpointFlags flags,
                bool insecure_no_auth) {
  DF_RETURN_IF_ERROR(ResolveCqlEndpointFlags(&flags));
  DF_ASSIGN_OR_RETURN(bool auth_on, AuthIsOn(ctx, config));
  DF_RETURN_IF_ERROR(CheckListenAddress(fmt::format("--host {}", flags.host), flags.host,
                                        auth_on || !flags.username.empty(), insecure_no_auth));
  SignalWaiter signals;  // before any thread starts
  DF_ASSIGN_OR_RETURN(ServedStore served, OpenServedStore(ctx, config, "--cql-port"));
  DF_ASSIGN_OR_RETURN(auto endpoint,
                      CqlEndpoint::Start(served.store.get(), flags, config, ctx.data_dir));
  signals.StartStopOnSignal("finishing in-flight requests and closing");
  fmt::print("cql-serve: listening on {}\n", endpoint->Describe(served.description));
  std::fflush(stdout);
  signals.WaitForStop();
  endpoint->Stop();
  fmt::print("cql-serve: stopped; {}\n", endpoint->Summary());
  std::fflush(stdout);
  return Status::OK();
}

}  // namespace

void AddCqlServeCommand(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "cql-serve",
      "Serve the data dir's store (the pipeline file's store.url, RocksDB by default) over the "
      "CQL native protocol v4, so Cassandra drivers and tools (cqlsh, the DataStax drivers) can "
      "create keyspaces and tables, insert, and select by key or page through a table. If "
      "another dataforge process uses the data dir, its store is served read-only (writes get "
      "an error naming that process; once it has exited, the next write takes the data dir and "
      "the store is served read-write); `dataforge run --cql-port` serves a running pipeline's "
      "store instead. Prints "
      "one line when ready; stops on SIGINT/SIGTERM.");
  HandleStopSignals(ctx, cmd);
  auto flags = std::make_shared<CqlEndpointFlags>();
  cmd->add_option("--host", flags->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", flags->port,
                  "Port to listen on (0 = any free port, named in the "
                  "ready line)")
      ->capture_default_str()
      ->check(WholeNumber(0, 65535));
  cmd->add_option("--username", flags->username,
                  "One more user, with role admin, beside the data dir's users (dataforge users "
                  "add); with it authentication is always on (PasswordAuthenticator)");
  cmd->add_option("--password", flags->password,
                  "The user's password (or set DATAFORGE_CQL_PASSWORD, which keeps it out of "
                  "the process list)");
  cmd->add_option("--tls-cert", flags->tls_cert, "Serve TLS with this PEM certificate (chain)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", flags->tls_key, "The PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  auto insecure_no_auth = std::make_shared<bool>(false);
  cmd->add_flag("--insecure-no-auth", *insecure_no_auth,
                "Listen off loopback even though authentication is off (anyone who can reach "
                "the port can read and change the data)");
  cmd->add_option("--max-frame-bytes", flags->max_frame_bytes,
                  "Refuse frames whose body is larger (ERROR, then the connection is closed)")
      ->capture_default_str()
      ->check(WholeNumber(1024, int64_t{256} << 20));
  cmd->callback([&ctx, flags, insecure_no_auth, exit_code] {
    WithConfig(ctx, exit_code, [&](const PipelineConfig& config) {
      return ServeCql(ctx, config, *flags, *insecure_no_auth);
    });
  });
}

}  // namespace dataforge
