// Text that may or may not be JSON (a log record's value, a dead letter's payload), written
// into a JSON document. Stateless, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace dataforge {

// Appends `text` to `out` as JSON: as it is if it is valid JSON, else as a JSON string.
void AppendJsonOrString(std::string* out, std::string_view text);

}  // namespace dataforge
