#include "cli/cql_access_control.h"

namespace dataforge {

// TODO(merge): until src/auth's implementations (helpers auth, users) are merged, only the
// --username user exists; with it absent, authentication is off.
Result<std::unique_ptr<cql::CqlAccessControl>> OpenCqlAccessControl(
    const CqlEndpointFlags& flags, const PipelineConfig& /*config*/,
    const std::string& /*data_dir*/) {
  if (flags.username.empty()) return std::unique_ptr<cql::CqlAccessControl>();
  return std::unique_ptr<cql::CqlAccessControl>(
      std::make_unique<cql::StaticCqlAccessControl>(flags.username, flags.password));
}

}  // namespace dataforge
