#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace dataforge {

// Replaces ${VAR} and ${VAR:-fallback} in `text` from the process environment. "$$" is a
// literal "$". An unset ${VAR} without a fallback is a ConfigError naming it.
Result<std::string> InterpolateEnv(std::string_view text);

}  // namespace dataforge
