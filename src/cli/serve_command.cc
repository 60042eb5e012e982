// `dataforge serve`: the data dir's store (and later the pipeline's state) over HTTP: the REST
// API of docs/serving.md.
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/http_endpoint.h"
#include "cli/option_checks.h"
#include "cli/served_store.h"
#include "cli/signal_waiter.h"

namespace dataforge {
namespace {

Status Serve(const CliContext& ctx, const PipelineConfig& config, const HttpEndpointFlags& flags) {
  SignalWaiter signals;  // before any thread starts
  // A request must not wait out the pipeline's patient retries (10 by default, ~25 s with
  // backoff) while Cassandra is down: an HTTP caller gets 503 after at most 2, and the next
  // request tries again.
  PipelineConfig served_config = config;
  served_config.store.cassandra.max_retries = std::min(config.store.cassandra.max_retries, 2);
  DF_ASSIGN_OR_RETURN(ServedStore served, OpenServedStore(ctx, served_config, "--http-port"));
  DF_ASSIGN_OR_RETURN(auto endpoint, HttpEndpoint::Start(ctx, config, served.store.get(), flags));
  signals.StartStopOnSignal("finishing in-flight requests and closing");
  fmt::print("serve: listening on {}\n", endpoint->Describe(served.description));
  std::fflush(stdout);
  signals.WaitForStop();
  endpoint->Stop();
  fmt::print("serve: stopped; {}\n", endpoint->Summary());
  std::fflush(stdout);
  return Status::OK();
}

}  // namespace

void AddHttpLimitOptions(CLI::App* cmd, HttpEndpointFlags* flags) {
  cmd->add_option("--max-body-bytes", flags->max_body_bytes,
                  "Refuse request bodies larger than this (413, before reading them)")
      ->capture_default_str()
      ->check(WholeNumber(1, int64_t{1} << 30));
  cmd->add_option("--workers", flags->workers,
                  "Connections served at once: each kept-alive connection holds a worker while "
                  "it is open; more connections wait for one to close (0 = 16 per core, at least "
                  "32, at most 256)")
      ->capture_default_str()
      ->check(WholeNumber(0, 1024));
  cmd->add_option("--read-timeout-ms", flags->read_timeout_ms,
                  "Close a connection whose client sends nothing for this long in the middle of "
                  "a request")
      ->capture_default_str()
      ->check(WholeNumber(1, 600000));
  cmd->add_option("--request-deadline-ms", flags->request_deadline_ms,
                  "Paging and aggregate requests stop after this long (504)")
      ->capture_default_str()
      ->check(WholeNumber(1, 3600000));
}

void AddServeCommand(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve the data dir over HTTP: the REST API of docs/serving.md (tables, rows, paging, "
      "filters, the pipeline's state, DAGs, dead-letter replay), the web console at /, GET "
      "/metrics "
      "(Prometheus) and GET /health. If another dataforge process (a `run`) uses the data dir, its "
      "store is served read-only (writes get an error naming that process); `dataforge run "
      "--http-port` serves a running pipeline instead. Requests authenticate once a user "
      "exists (`dataforge users add`) or with auth.required; off loopback, authentication must "
      "be on (or --insecure-no-auth given). Prints one line when ready; on SIGINT/SIGTERM "
      "finishes the requests in flight, prints a summary and exits 0.");
  HandleStopSignals(ctx, cmd);
  auto flags = std::make_shared<HttpEndpointFlags>();
  cmd->add_option("--http-port", flags->port,
                  "Port to listen on (0 = any free port, named in the ready line)")
      ->capture_default_str()
      ->check(WholeNumber(0, 65535));
  cmd->add_option("--host", flags->host,
                  "Address to listen on (off loopback only with authentication on, or "
                  "--insecure-no-auth)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", flags->tls_cert, "Serve HTTPS with this PEM certificate (chain)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", flags->tls_key, "The PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--insecure-no-auth", flags->insecure_no_auth,
                "Listen off loopback even though authentication is off (anyone who can reach "
                "the port can read and change the data)");
  AddHttpLimitOptions(cmd, flags.get());
  cmd->callback([&ctx, flags, exit_code] {
    WithConfig(ctx, exit_code,
               [&](const PipelineConfig& config) { return Serve(ctx, config, *flags); });
  });
}

}  // namespace dataforge
