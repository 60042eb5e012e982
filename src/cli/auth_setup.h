// Authentication as the serving commands (`serve`, `run --http-port`, `cql-serve`,
// `run --cql-port`) decide and build it, and the off-loopback rule.
//
// Authentication is on when the data dir's credential store has a user or the pipeline file
// says `auth.required: true` (docs/security.md). With it off, a server may listen on loopback
// only, unless the user insists with --insecure-no-auth.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "cli/cli_context.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "serve/http/http_server.h"

namespace dataforge::auth {
class AccessPolicy;
class AuditLog;
class Authenticator;
class CredentialStore;
}  // namespace dataforge::auth

namespace dataforge {

// Whether `host` names only this machine: 127.0.0.0/8, ::1, "localhost".
bool IsLoopbackHost(std::string_view host);

// Whether authentication is on for the data dir (see above).
Result<bool> AuthIsOn(const CliContext& ctx, const PipelineConfig& config);

// ConfigError (exit 2) when `host` is off loopback, authentication is off and the user did not
// pass --insecure-no-auth: one line naming the flag (`what`, e.g. "--host 0.0.0.0") and how to
// turn authentication on.
Status CheckListenAddress(std::string_view what, std::string_view host, bool auth_on,
                          bool insecure_no_auth);

// What an HTTP server needs to authenticate, authorize and audit. Owns the objects the hooks
// point to; must outlive the server.
struct ServerAuth {
  std::unique_ptr<auth::CredentialStore> credentials;
  std::unique_ptr<auth::AccessPolicy> policy;
  std::unique_ptr<auth::Authenticator> authenticator;
  // shared_ptr: its deleter is bound where it is opened, so this header links without it.
  std::shared_ptr<auth::AuditLog> audit_log;
  http::HttpSecurity security;  // authenticator null: auth off
  ServerAuth();
  ~ServerAuth();
  ServerAuth(ServerAuth&&) noexcept;
};

// The credential store (read-only), policy, authenticator and audit log of the data dir.
Result<std::unique_ptr<ServerAuth>> OpenServerAuth(const CliContext& ctx,
                                                   const PipelineConfig& config);

}  // namespace dataforge
