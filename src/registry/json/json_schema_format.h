// The JSON Schema format (SchemaFormat for SchemaType::kJson, registry/schema_format.h):
// draft-07 (and draft-04 documents, whose keywords draft-07 reads alike) validated by valijson
// over simdjson (registry/json/simdjson_adapter.h); references resolved by name through
// valijson's external-document callback; canonical text as Confluent's (canonical_json.h);
// compatibility by Confluent's rules (json_schema_diff.h).
//
// A RecordValidator parses each record with its own simdjson parser and validates it against
// the schema parsed once at Parse (valijson::Schema, shared, read-only). A flat record schema
// with simple keywords also gets a fast path (fast_path.h) that accepts matching records without
// valijson; otherwise a record that matches costs one valijson pass, and a failing one is
// validated again to collect the error (the first failure: ValidationError{JSON Pointer path,
// keyword, message}).
// Known limits of valijson 1.0: "format" checks only date, time and date-time (and compiles
// their regular expressions on every check: slow), other formats pass.
#pragma once

#include <memory>
#include <vector>

#include "registry/json/json_schema_diff.h"
#include "registry/schema_format.h"

namespace dataforge::registry::json_schema {

// The differences CompareSchemas finds between two parsed JSON Schemas (both must come from
// JsonSchemaFormat()); empty when either is not one. For tests and diagnostics.
std::vector<Difference> SchemaDifferences(const ParsedSchema& original, const ParsedSchema& update);

// Whether `schema` (a JSON Schema) validates with the fast path; a validator that never uses
// it (valijson alone). For tests that compare the two.
bool HasFastPath(const ParsedSchema& schema);
std::unique_ptr<RecordValidator> NewValijsonOnlyValidator(const ParsedSchema& schema);

}  // namespace dataforge::registry::json_schema
