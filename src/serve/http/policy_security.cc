// PolicySecurity: the server's security hooks over auth::AccessPolicy and auth::AuditLog. In a
// file of its own so that only binaries that call it link the auth library's code.
#include "auth/access_policy.h"
#include "auth/audit_log.h"
#include "serve/http/http_server.h"

namespace dataforge::http {

HttpSecurity PolicySecurity(auth::Authenticator* authenticator, const auth::AccessPolicy* policy,
                            auth::AuditLog* audit_log) {
  HttpSecurity s;
  s.authenticator = authenticator;
  s.policy = policy;
  if (policy != nullptr) {
    s.allows = [policy](const auth::Principal& p, auth::ResourceKind kind, std::string_view name,
                        auth::Action action) { return policy->Allows(p, kind, name, action); };
  } else if (authenticator != nullptr) {
    s.allows = [](const auth::Principal&, auth::ResourceKind, std::string_view, auth::Action) {
      return false;  // default deny: no policy, no grants
    };
  }
  s.denied_message = [](const auth::Principal& p, auth::ResourceKind kind, std::string_view name,
                        auth::Action action) {
    return auth::AccessPolicy::DeniedMessage(p, kind, name, action);
  };
  if (audit_log != nullptr) {
    s.audit = [audit_log](const auth::AuditEntry& e) { audit_log->Record(e); };
  }
  return s;
}

}  // namespace dataforge::http
