#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"
#include "source/source.h"

namespace dataforge {

// The source for `effective_url` (http://, https://, file://); ConfigError for anything else.
Result<std::unique_ptr<Source>> MakeSource(const SourceConfig& config,
                                           const std::string& effective_url, Clock* clock);

}  // namespace dataforge
