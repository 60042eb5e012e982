// Reads the `auth:` section of a pipeline file (see AuthConfig in config/pipeline_config.h and
// docs/security.md). Checks the shape (unknown keys, kinds of resource, lists of actions) with
// the file's line; which actions a kind has is checked by auth::AccessPolicy::FromConfig.
// Thread-compatible.
#pragma once

#include <yaml-cpp/yaml.h>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "config/yaml_reader.h"

namespace dataforge {

class AuthReader : public YamlReader {
 public:
  using YamlReader::YamlReader;

  // `auth`: replaces what the file names; `roles` replaces the roles as a whole.
  Status Read(const YAML::Node& auth, AuthConfig* out);

 private:
  Status ReadJwt(const YAML::Node& n, JwtConfig* jwt);
  Status ReadRole(const std::string& name, const YAML::Node& n, AuthRoleConfig* role);
};

}  // namespace dataforge
