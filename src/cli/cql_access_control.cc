#include "cli/cql_access_control.h"

#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "auth/access_policy.h"
#include "auth/audit_log.h"
#include "auth/authenticator.h"
#include "auth/credential_store.h"
#include "common/clock.h"
#include "pipeline/data_dir.h"

namespace dataforge {
namespace {

// How long a user's role is trusted before it is read from the credential store again.
constexpr int64_t kRoleRecheckMicros = 1'000'000;

class AuthCqlAccessControl final : public cql::CqlAccessControl {
 public:
  AuthCqlAccessControl(std::unique_ptr<auth::CredentialStore> store, auth::AccessPolicy policy,
                       std::unique_ptr<auth::AuditLog> audit,
                       std::unique_ptr<cql::StaticCqlAccessControl> static_user, Clock* clock)
      : store_(std::move(store)),
        policy_(std::move(policy)),
        audit_(std::move(audit)),
        static_user_(std::move(static_user)),
        clock_(clock) {}

  // Second step of construction: the authenticator points at store_ and policy_.
  Status Init(const AuthConfig& config) {
    DF_ASSIGN_OR_RETURN(authenticator_,
                        auth::Authenticator::Create(config, store_.get(), &policy_, clock_));
    return Status::OK();
  }

  bool Required() override { return static_user_ != nullptr || authenticator_->Required(); }

  Result<cql::CqlUser> Authenticate(std::string_view user, std::string_view password,
                                    std::string_view peer) override {
    if (static_user_ != nullptr && static_user_->Matches(user, password)) {
      return cql::CqlUser{static_user_->user(), static_user_->role()};
    }
    // With no stored user (and auth.required off), the authenticator would let anyone in as
    // the anonymous admin: only the --username user exists then.
    if (!authenticator_->Required()) {
      return Status::Unauthenticated("unknown user or wrong password");
    }
    DF_ASSIGN_OR_RETURN(auth::Principal p,
                        authenticator_->AuthenticatePassword(user, password, peer));
    Remember(p.name, p.role);
    return cql::CqlUser{p.name, p.role};
  }

  bool Allows(const cql::CqlUser& user, cql::CqlPermission permission, std::string_view keyspace,
              std::string_view table) override {
    std::optional<std::string> role = CurrentRole(user);
    if (!role) return false;  // removed since the connection authenticated
    auth::Principal p;
    p.name = user.name;
    p.role = *role;
    p.method = "password";
    std::string resource(keyspace);
    resource += table.empty() ? std::string(".*") : "." + std::string(table);
    auth::Action action =
        permission == cql::CqlPermission::kSelect ? auth::Action::kRead : auth::Action::kWrite;
    return policy_.Allows(p, auth::ResourceKind::kTables, resource, action);
  }

  void Audit(const cql::CqlSessionUser& who, std::string_view action,
             std::string_view result) override {
    auth::AuditEntry e;
    e.who.name = who.user.name;
    e.who.role = who.user.role;
    e.who.method = "password";
    e.from = who.peer;
    e.action = std::string(action);
    e.result = std::string(result);
    audit_->Record(e);
  }

 private:
  struct Known {
    std::optional<std::string> role;  // nullopt: the user is gone
    int64_t checked_micros = 0;
  };

  void Remember(const std::string& name, const std::string& role) {
    std::lock_guard lock(mu_);
    known_[name] = Known{role, clock_->MonotonicMicros()};
  }

  // The user's role now: the --username user's is fixed; a stored user's is read again from
  // the store when the last read is more than a second old (on a store error, the last one).
  std::optional<std::string> CurrentRole(const cql::CqlUser& user) {
    if (static_user_ != nullptr && user.name == static_user_->user() &&
        user.role == static_user_->role()) {
      return user.role;
    }
    int64_t now = clock_->MonotonicMicros();
    {
      std::shared_lock lock(mu_);  // every statement comes here: readers share
      auto it = known_.find(user.name);
      if (it != known_.end() && now - it->second.checked_micros < kRoleRecheckMicros) {
        return it->second.role;
      }
    }
    auto found = store_->FindUser(user.name);
    std::lock_guard lock(mu_);
    Known& k = known_[user.name];
    if (!found.ok()) {
      spdlog::warn("cql-serve: cannot re-check the role of user {}: {}", user.name,
                   found.status().message());
      if (k.checked_micros == 0) k.role = user.role;
      return k.role;
    }
    k.role = *found ? std::optional<std::string>((*found)->role) : std::nullopt;
    k.checked_micros = now;
    return k.role;
  }

  const std::unique_ptr<auth::CredentialStore> store_;
  const auth::AccessPolicy policy_;
  const std::unique_ptr<auth::AuditLog> audit_;
  const std::unique_ptr<cql::StaticCqlAccessControl> static_user_;  // null without --username
  Clock* const clock_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, Known> known_;  // GUARDED_BY(mu_): by user name
};

}  // namespace

Result<std::unique_ptr<cql::CqlAccessControl>> OpenCqlAccessControl(const CqlEndpointFlags& flags,
                                                                    const PipelineConfig& config,
                                                                    const std::string& data_dir,
                                                                    Clock* clock) {
  DF_ASSIGN_OR_RETURN(auth::AccessPolicy policy, auth::AccessPolicy::FromConfig(config.auth));
  DF_ASSIGN_OR_RETURN(auto store, auth::OpenCredentialStore(ResolveUrls(config, data_dir).staging,
                                                            OpenMode::kReadOnly));
  std::filesystem::path audit_path(config.auth.audit_log);
  if (audit_path.is_relative()) audit_path = std::filesystem::path(data_dir) / audit_path;
  DF_ASSIGN_OR_RETURN(auto audit, auth::AuditLog::Open(audit_path.string(), clock));
  std::unique_ptr<cql::StaticCqlAccessControl> static_user;
  if (!flags.username.empty()) {
    static_user = std::make_unique<cql::StaticCqlAccessControl>(flags.username, flags.password);
  }
  auto access = std::make_unique<AuthCqlAccessControl>(
      std::move(store), std::move(policy), std::move(audit), std::move(static_user), clock);
  DF_RETURN_IF_ERROR(access->Init(config.auth));
  return std::unique_ptr<cql::CqlAccessControl>(std::move(access));
}

}  // namespace dataforge
