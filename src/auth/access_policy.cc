#include "auth/access_policy.h"

#include <fnmatch.h>

#include <algorithm>
#include <initializer_list>

#include <fmt/format.h>

namespace dataforge::auth {
namespace {

using K = ResourceKind;
using A = Action;

// The actions each kind of resource has (access.h).
std::vector<Action> ActionsOf(ResourceKind kind) {
  switch (kind) {
    case K::kTables:
      return {A::kRead, A::kWrite};
    case K::kPipeline:
      return {A::kRead};
    case K::kDeadLetters:
      return {A::kReplay};
    case K::kDags:
      return {A::kRead, A::kTrigger, A::kClear, A::kPause};
    case K::kAdmin:
      return {A::kAdmin};
    case K::kSubjects:
      return {A::kRead, A::kWrite};
  }
  return {};
}

std::string ActionNames(const std::vector<Action>& actions) {
  std::string out;
  for (Action a : actions) {
    if (!out.empty()) out += ", ";
    out += ActionName(a);
  }
  return out;
}

AccessPolicy::Grant All(ResourceKind kind) {
  return {kind, "*", ActionsOf(kind)};
}

std::vector<AccessPolicy::Role> BuiltInRoles() {
  std::vector<AccessPolicy::Role> roles;
  roles.push_back({"admin",
                   {All(K::kTables), All(K::kPipeline), All(K::kDeadLetters), All(K::kDags),
                    All(K::kAdmin), All(K::kSubjects)}});
  roles.push_back({"operator",
                   {{K::kTables, "*", {A::kRead}},
                    {K::kPipeline, "*", {A::kRead}},
                    {K::kDeadLetters, "*", {A::kReplay}},
                    {K::kDags, "*", {A::kRead, A::kTrigger, A::kClear, A::kPause}},
                    {K::kSubjects, "*", {A::kRead, A::kWrite}}}});
  roles.push_back({"reader",
                   {{K::kTables, "*", {A::kRead}},
                    {K::kPipeline, "*", {A::kRead}},
                    {K::kSubjects, "*", {A::kRead}}}});
  return roles;
}

bool IsBuiltIn(std::string_view role) {
  return role == "admin" || role == "operator" || role == "reader";
}

Status RoleError(const AuthRoleConfig& role, int line, const std::string& what) {
  return Status::ConfigError(
      fmt::format("auth.roles.{} (line {}): {}", role.name, line > 0 ? line : role.line, what));
}

}  // namespace

Result<AccessPolicy> AccessPolicy::FromConfig(const AuthConfig& config) {
  AccessPolicy policy;
  policy.roles_ = BuiltInRoles();
  for (const AuthRoleConfig& rc : config.roles) {
    if (rc.name.empty()) return RoleError(rc, 0, "a role needs a name");
    if (IsBuiltIn(rc.name)) {
      return RoleError(rc, 0,
                       fmt::format("'{}' is a built-in role and cannot be redefined; give the "
                                   "new role another name",
                                   rc.name));
    }
    if (policy.HasRole(rc.name)) {
      return RoleError(rc, 0, fmt::format("role '{}' is defined twice", rc.name));
    }
    Role role{rc.name, {}};
    for (const AuthGrantConfig& gc : rc.grants) {
      auto kind = ParseResourceKind(gc.kind);
      if (!kind) {
        return RoleError(rc, gc.line,
                         fmt::format("'{}' is not a kind of resource (kinds: tables, pipeline, "
                                     "deadletters, dags, admin, subjects)",
                                     gc.kind));
      }
      if (gc.glob.empty()) {
        return RoleError(rc, gc.line,
                         fmt::format("the {} glob is empty; write \"*\" for every one", gc.kind));
      }
      const std::vector<Action> allowed = ActionsOf(*kind);
      Grant grant{*kind, gc.glob, {}};
      for (const std::string& name : gc.actions) {
        auto action = ParseAction(name);
        if (!action || std::find(allowed.begin(), allowed.end(), *action) == allowed.end()) {
          return RoleError(rc, gc.line,
                           fmt::format("'{}' is not an action of {} (its actions: {})", name,
                                       gc.kind, ActionNames(allowed)));
        }
        grant.actions.push_back(*action);
      }
      if (grant.actions.empty()) {
        return RoleError(rc, gc.line,
                         fmt::format("the {} grant '{}' lists no actions (its actions: {})",
                                     gc.kind, gc.glob, ActionNames(allowed)));
      }
      role.grants.push_back(std::move(grant));
    }
    policy.roles_.push_back(std::move(role));
  }
  return policy;
}

bool AccessPolicy::HasRole(std::string_view role) const {
  for (const Role& r : roles_) {
    if (r.name == role) return true;
  }
  return false;
}

std::vector<std::string> AccessPolicy::RoleNames() const {
  std::vector<std::string> names;
  for (const Role& r : roles_) names.push_back(r.name);
  std::sort(names.begin(), names.end());
  return names;
}

bool AccessPolicy::Allows(const Principal& principal, ResourceKind kind, std::string_view name,
                          Action action) const {
  const std::string name_z(name);  // fnmatch needs NUL-terminated text
  for (const Role& r : roles_) {
    if (r.name != principal.role) continue;
    for (const Grant& g : r.grants) {
      if (g.kind != kind) continue;
      if (std::find(g.actions.begin(), g.actions.end(), action) == g.actions.end()) continue;
      if (fnmatch(g.glob.c_str(), name_z.c_str(), 0) == 0) return true;
    }
    return false;
  }
  return false;  // an unknown role grants nothing
}

std::string AccessPolicy::DeniedMessage(const Principal& principal, ResourceKind kind,
                                        std::string_view name, Action action) {
  std::string what = fmt::format("role '{}' may not {} {}", principal.role, ActionName(action),
                                 ResourceKindName(kind));
  if (!name.empty() && name != "*") what += fmt::format(" '{}'", name);
  if (IsBuiltIn(principal.role)) {
    // A built-in role cannot be changed: the fix is another role.
    return what + fmt::format(
                      " ('{}' is a built-in role: give the user a role from auth.roles "
                      "that grants it)",
                      principal.role);
  }
  return what + fmt::format(" (grant it in auth.roles.{})", principal.role);
}

}  // namespace dataforge::auth
