// Confluent's JSON Schema compatibility rules (io.confluent.kafka.schemaregistry.json.diff,
// STRICT policy, the default): the differences between an original schema and its update,
// each a Difference type (Confluent's names) at a JSON Pointer path into the schema
// ("#/properties/x"), and which of them break backward compatibility (the update must read
// what the original wrote).
//
// Schemas are classified as Confluent's loader (everit) does (schema_model.h); a cycle of
// references compares as compatible the second time round. Messages and the compatible set:
// difference_types.cc.
// Not covered: draft 2019+ keywords (unevaluated*, *Contains, dependentSchemas), if/then/else,
// propertyNames, format; Confluent's connect.type=bytes exception.
// Pure functions; thread-safe over immutable documents.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "registry/json/json_schema_documents.h"

namespace dataforge::registry::json_schema {

struct Difference {
  std::string type;  // "TYPE_CHANGED", "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", ...
  std::string path;  // "#/properties/x"
  bool operator==(const Difference&) const = default;
};

// Every difference from `original` to `update`, compatible ones included.
std::vector<Difference> CompareSchemas(const SchemaDocuments& original,
                                       const SchemaDocuments& update);

// Whether a difference type keeps backward compatibility (Confluent's COMPATIBLE_CHANGES_STRICT).
bool IsCompatibleChange(std::string_view type);

// Confluent's message for one difference: {errorType:"T", description:"..."} with the
// sentence Confluent's Difference.error() gives ("new"/"old" for its two schemas).
std::string DifferenceMessage(const Difference& difference);

}  // namespace dataforge::registry::json_schema
