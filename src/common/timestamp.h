// Timestamp normalisation for the mapping. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dataforge {

// Parses "YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM|±HHMM]", "YYYY-MM-DD HH:MM:SS" and "YYYY-MM-DD"
// into milliseconds since the Unix epoch (UTC); nullopt if it is none of these.
std::optional<int64_t> ParseTimestampMillis(std::string_view text);

// Formats milliseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatTimestampMillis(int64_t millis);

}  // namespace dataforge
