// Timestamp normalisation for the mapping. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dataforge {

// Parses "YYYY-MM-DD[T| ]HH:MM:SS[.f...][Z|±HH:MM|±HHMM|±HH]" and "YYYY-MM-DD" into
// milliseconds since the Unix epoch (UTC; no offset = UTC); nullopt if it is none of these.
// PostgreSQL's timestamptz output ("2026-01-02 03:04:05.123456+00", "+05:30") is one of these.
// Fraction digits after the third are cut (toward the past): the result is milliseconds.
std::optional<int64_t> ParseTimestampMillis(std::string_view text);

// Formats milliseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatTimestampMillis(int64_t millis);

}  // namespace dataforge
