// Turns valijson's validation results (a list of errors, each a context such as
// ["<root>", "[location]", "[0]"] and an English description) into the registry's one
// ValidationError: the first failure, its JSON Pointer path and the JSON Schema keyword that
// failed (registry/schema_format.h). Pure function; thread-safe.
#pragma once

#include <simdjson.h>

#include <string>
#include <vector>

#include "registry/schema_format.h"

namespace valijson {
class ValidationResults;
}

namespace dataforge::registry::json_schema {

// valijson's context (["<root>", "[a]", "[0]"]) as a JSON Pointer ("/a/0"); '~' and '/' in
// names escaped as "~0" and "~1".
std::string ContextToPointer(const std::vector<std::string>& context);

// The first failure in `results` (which must hold at least one error). valijson reports
// children before their parents; wrappers ("failed to validate property x") are skipped, and a
// failed anyOf/oneOf is reported as itself rather than as its first branch's failure. `record`
// (the validated document) supplies the offending value for the message; `schema` (the
// schema's root) the expected types of a "type" failure when the record's path leads to them
// through properties/items/additionalProperties and local "$ref"s.
ValidationError FirstValidationError(const valijson::ValidationResults& results,
                                     simdjson::dom::element record, simdjson::dom::element schema);

}  // namespace dataforge::registry::json_schema
