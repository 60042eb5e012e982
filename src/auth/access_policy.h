// Roles and what they grant: the pipeline file's `auth.roles` plus the built-in roles.
// Default deny: a role grants an action on a resource only through a grant that names the
// resource kind, a glob matching the resource name and the action.
//
// Built-in roles (a pipeline file may not redefine them):
//   admin     everything
//   operator  read every resource; replay dead letters; trigger, clear and pause every DAG;
//             register and delete schemas (subjects read, write)
//   reader    read tables, pipeline state and the schema registry's subjects
//
// Thread-safety: immutable after construction; Allows() from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/access.h"
#include "auth/principal.h"
#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge::auth {

class AccessPolicy {
 public:
  // ConfigError naming the role and the bad kind/action/glob, or a built-in role redefined.
  static Result<AccessPolicy> FromConfig(const AuthConfig& config);

  bool HasRole(std::string_view role) const;
  std::vector<std::string> RoleNames() const;  // sorted, built-ins included

  // Whether `principal`'s role grants `action` on (kind, name). An unknown role grants nothing.
  bool Allows(const Principal& principal, ResourceKind kind, std::string_view name,
              Action action) const;

  // PermissionDenied text for a refused request: "role 'analyst' may not write tables
  // 'dataforge.users' (grant it in auth.roles.analyst)". The name is left out for the kinds
  // with one resource ("role 'analyst' may not replay deadletters (...)"); for a built-in role,
  // which a file cannot change, the hint is "('reader' is a built-in role: give the user a role
  // from auth.roles that grants it)". (The groundwork's example named the built-in reader.)
  static std::string DeniedMessage(const Principal& principal, ResourceKind kind,
                                   std::string_view name, Action action);

  struct Grant {
    ResourceKind kind;
    std::string glob;  // fnmatch-style: *, ?, [..]
    std::vector<Action> actions;
  };
  struct Role {
    std::string name;
    std::vector<Grant> grants;
  };

 private:
  std::vector<Role> roles_;
};

}  // namespace dataforge::auth
