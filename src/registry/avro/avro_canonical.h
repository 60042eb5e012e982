// The canonical text of an Avro schema (AvroSchema::canonical()). Pure; thread-safe.
#pragma once

#include <string>

#include "registry/avro/avro_schema.h"

namespace dataforge::registry::avro {

// Writes `root` as whitespace-free JSON in a fixed form: a named type in full at its first use
// (name as its full name, no namespace), by full name after that and always by name when it
// comes from a referenced schema; attributes in the order of Avro's Schema.toString() (type,
// name, doc, fields/symbols/size/items/values, default, aliases), then the others sorted by key;
// a primitive without attributes as its bare name.
std::string CanonicalText(const AvroNode& root);

}  // namespace dataforge::registry::avro
