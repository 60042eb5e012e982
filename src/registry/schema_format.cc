#include "registry/schema_format.h"

namespace dataforge::registry {

const SchemaFormat& FormatFor(SchemaType type) {
  return type == SchemaType::kAvro ? AvroFormat() : JsonSchemaFormat();
}

}  // namespace dataforge::registry
