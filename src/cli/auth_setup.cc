#include "cli/auth_setup.h"

#include <arpa/inet.h>

#include <fmt/format.h>

#include "auth/access_policy.h"
#include "auth/audit_log.h"
#include "auth/authenticator.h"
#include "auth/credential_store.h"
#include "common/clock.h"
#include "pipeline/data_dir.h"

namespace dataforge {

bool IsLoopbackHost(std::string_view host) {
  std::string h(host);
  if (h == "localhost") return true;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;  // a host name other than localhost may resolve anywhere
}

Result<bool> AuthIsOn(const CliContext& ctx, const PipelineConfig& config) {
  if (config.auth.required) return true;
  DF_ASSIGN_OR_RETURN(
      auto store,
      auth::OpenCredentialStore(ResolveUrls(config, ctx.data_dir).staging, OpenMode::kReadOnly));
  DF_ASSIGN_OR_RETURN(uint64_t users, store->UserCount());
  return users > 0;
}

Status CheckListenAddress(std::string_view what, std::string_view host, bool auth_on,
                          bool insecure_no_auth) {
  if (auth_on || insecure_no_auth || IsLoopbackHost(host)) return Status::OK();
  return Status::ConfigError(fmt::format(
      "{}: refusing to listen off loopback with authentication off (anyone who can reach it "
      "could read and change the data); turn authentication on with `dataforge users add NAME "
      "--role admin --password-stdin` (or `auth.required: true` in the pipeline file), or pass "
      "--insecure-no-auth to insist",
      what));
}

ServerAuth::ServerAuth() = default;
ServerAuth::~ServerAuth() = default;
ServerAuth::ServerAuth(ServerAuth&&) noexcept = default;

Result<std::unique_ptr<ServerAuth>> OpenServerAuth(const CliContext& ctx,
                                                   const PipelineConfig& config) {
  auto out = std::make_unique<ServerAuth>();
  DF_ASSIGN_OR_RETURN(auto policy, auth::AccessPolicy::FromConfig(config.auth));
  out->policy = std::make_unique<auth::AccessPolicy>(std::move(policy));
  DF_ASSIGN_OR_RETURN(
      out->credentials,
      auth::OpenCredentialStore(ResolveUrls(config, ctx.data_dir).staging, OpenMode::kReadOnly));
  DF_ASSIGN_OR_RETURN(out->authenticator,
                      auth::Authenticator::Create(config.auth, out->credentials.get(),
                                                  out->policy.get(), Clock::Real()));
  std::string audit = config.auth.audit_log;
  if (!audit.empty() && audit.front() != '/') audit = ctx.data_dir + "/" + audit;
  if (!audit.empty()) {
    DF_ASSIGN_OR_RETURN(auto audit_log, auth::AuditLog::Open(audit));
    out->audit_log = std::move(audit_log);
  }
  out->security =
      http::PolicySecurity(out->authenticator.get(), out->policy.get(), out->audit_log.get());
  return out;
}

}  // namespace dataforge
