// A dead letter's reason as a bounded class, for metrics labels (docs/metrics.md
// `dataforge_dead_letters_total`) and the reason filter of GET /v1/deadletters and the console.
// The reason text itself stays free text; this only sorts it.
#pragma once

#include <string_view>

#include "common/status.h"

namespace dataforge {

// One of "invalid_json" (not JSON, not an object, no results array), "missing_key" (no key, or
// a delete without its key), "missing_field" (a column with no value), "type_mismatch" (a value
// that is not the column's type), "too_large" (over a size limit), "schema" (a mapped row that
// fails process.schema: "schema <subject> id <id> v<version>: <path>: <rule>: ..."),
// "wire_format" (log.format: a record the relay could not encode with the subject's schema, or
// one the processor could not decode: no wire header, unknown schema id, payload not matching),
// "other".
std::string_view DeadLetterReasonClass(std::string_view reason);

// The classes above, in that order.
inline constexpr std::string_view kDeadLetterReasonClasses[] = {
    "invalid_json", "missing_key", "missing_field", "type_mismatch",
    "too_large",    "schema",      "wire_format",   "other"};

// OK for "" (no filter) and the classes above; else InvalidArgument "reason class 'x' is not one
// of: invalid_json, ..." (the `reason=` filter of GET /v1/deadletters and `deadletter list`).
Status CheckReasonClass(std::string_view reason_class);

}  // namespace dataforge
