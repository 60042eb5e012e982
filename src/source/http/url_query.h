// Query-string helpers for paginated API URLs. Stateless; thread-safe.
#pragma once

#include <optional>
#include <string>

namespace dataforge {

// The raw value of query parameter `name` in `url`, if present.
std::optional<std::string> QueryParam(const std::string& url, const std::string& name);

// `url` with parameter `name` set to `value` (replaced if present, appended otherwise).
std::string WithQueryParam(const std::string& url, const std::string& name,
                           const std::string& value);

}  // namespace dataforge
