// log.format confluent-json / confluent-avro at pipeline start (docs/pipeline-file.md
// "log.format"): which schema the relay encodes with, and the registry the processor decodes by.
//
// The schema of `log.subject`:
//   - log.schema_file set: the file is registered under the subject (SchemaRegistry::Register:
//     the id it has if already there, a new version if compatible, else the registry's refusal
//     as a ConfigError naming the file, the subject and the verdict);
//   - else the subject's latest version;
//   - else (the subject has none): confluent-json registers the permissive schema
//     kPermissiveJsonSchema ({"type":"object"}: any JSON object) so a pipeline works out of the
//     box, and says so in the log; confluent-avro is a ConfigError naming the fix (Avro needs a
//     schema to encode: log.schema_file, e.g. schemas/randomuser.avsc).
// A schema of the other type (an AVRO subject with confluent-json) is a ConfigError.
// Thread-compatible; called once at start.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "registry/schema_registry.h"

namespace dataforge {

inline constexpr std::string_view kPermissiveJsonSchema = R"({"type":"object"})";

// The schema type a confluent format writes (kJson for confluent-json). REQUIRES: not kJson.
registry::SchemaType LogSchemaType(LogConfig::Format format);

struct LogSchema {
  int64_t id = 0;
  int32_t version = 0;
  std::shared_ptr<const registry::ParsedSchema> schema;
};

// Finds (registering when the rules above say so) the schema the relay encodes with.
// REQUIRES: config.format is a confluent format.
Result<LogSchema> ResolveLogSchema(const LogConfig& config, registry::SchemaRegistry* registry);

}  // namespace dataforge
