// Checks the JSON types of a JSON Schema's keywords (draft-07: exclusiveMaximum/Minimum are
// numbers, draft-04's booleans are refused as valijson's draft-07 parser does) through every
// subschema, before valijson parses it: valijson ignores some wrong types ({"minimum": "0"},
// {"anyOf": {}}), which Confluent's registry refuses as invalid schemas. Unknown keywords are
// allowed (annotations). Pure function; thread-safe.
#pragma once

#include <simdjson.h>

#include "common/status.h"

namespace dataforge::registry::json_schema {

// OK, or InvalidArgument "'<keyword>' at #/<path> must be <what>".
Status CheckKeywords(simdjson::dom::element schema);

}  // namespace dataforge::registry::json_schema
