// JSON -> CQL value bytes for a member of a document the caller already parsed with simdjson
// (types.h JsonToValue parses JSON text; this skips the text). Pure; thread-safe.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>

#include "common/status.h"
#include "cql/types.h"

namespace dataforge::cql {

// JsonToValue for `element` (e.g. one column of a row parsed once): the same forms, checks
// (CheckValue) and errors, appended to `out` as a [value]: [int] length then the bytes, -1 for
// JSON null. Nothing is appended on error. No allocation per call once warm (a per-thread
// scratch buffer).
Status AppendJsonElementAsValue(const DataType& t, const simdjson::dom::element& element,
                                std::string* out);
// JsonToValue for `element`: the value's bytes (nullopt for JSON null), same checks and errors.
Result<std::optional<std::string>> JsonElementToValue(const DataType& t,
                                                      const simdjson::dom::element& element);

}  // namespace dataforge::cql
