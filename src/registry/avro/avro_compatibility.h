// Avro schema resolution (the specification's "Schema Resolution"; the checks of Avro's
// org.apache.avro.SchemaCompatibility and python3-avro's ReaderWriterCompatibilityChecker):
// can `reader` read every datum written with `writer`? Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "registry/avro/avro_schema.h"

namespace dataforge::registry::avro {

// One line per incompatibility, empty when the reader reads everything the writer writes.
// Each line is Confluent's verbose form, with "reader"/"writer" for the schemas:
//   {errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'x' at path
//   '/fields/1' in the reader schema has no default value and is missing in the writer
//   schema', additionalInfo:'x'}
// errorType is one of NAME_MISMATCH, FIXED_SIZE_MISMATCH, MISSING_ENUM_SYMBOLS,
// READER_FIELD_MISSING_DEFAULT_VALUE, TYPE_MISMATCH, MISSING_UNION_BRANCH; the path is a JSON
// Pointer into the reader schema ("/fields/1/type/items").
std::vector<std::string> ReaderWriterIncompatibilities(const AvroNode& reader,
                                                       const AvroNode& writer);

}  // namespace dataforge::registry::avro
