#include "pipeline/log_format.h"

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "registry/registry_error.h"

namespace dataforge {

registry::SchemaType LogSchemaType(LogConfig::Format format) {
  return format == LogConfig::Format::kConfluentAvro ? registry::SchemaType::kAvro
                                                     : registry::SchemaType::kJson;
}

Result<LogSchema> ResolveLogSchema(const LogConfig& config, registry::SchemaRegistry* registry) {
  const registry::SchemaType type = LogSchemaType(config.format);
  const std::string_view format = LogFormatName(config.format);
  std::optional<registry::SchemaText> to_register;
  if (!config.schema_file.empty()) {
    std::ifstream in(config.schema_file, std::ios::binary);
    if (!in) {
      return Status::ConfigError(fmt::format("log.schema_file {}: cannot read it: {}",
                                             config.schema_file, std::strerror(errno)));
    }
    std::stringstream text;
    text << in.rdbuf();
    to_register = registry::SchemaText{type, text.str(), {}};
  } else {
    auto latest = registry->Version(config.subject, std::nullopt, false);
    if (latest.ok()) {
      if (latest->schema.type != type) {
        return Status::ConfigError(fmt::format(
            "log.format {} needs a {} schema, and the latest version ({}) of subject '{}' is "
            "{}: use log.format {}, or another log.subject",
            format, registry::SchemaTypeName(type), latest->version, config.subject,
            registry::SchemaTypeName(latest->schema.type),
            latest->schema.type == registry::SchemaType::kAvro ? "confluent-avro"
                                                               : "confluent-json"));
      }
      DF_ASSIGN_OR_RETURN(auto parsed, registry->ParsedById(latest->id));
      return LogSchema{latest->id, latest->version, std::move(parsed)};
    }
    if (registry::RegistryErrorOf(latest.status()).error_code != registry::kSubjectNotFound) {
      return latest.status().WithContext(
          fmt::format("log.format: reading subject '{}' from the schema registry", config.subject));
    }
    if (type == registry::SchemaType::kAvro) {
      return Status::ConfigError(fmt::format(
          "log.format confluent-avro: subject '{}' has no schema in the registry: set "
          "log.schema_file (e.g. schemas/randomuser.avsc for the default pipeline) or register "
          "one under the subject first",
          config.subject));
    }
    spdlog::info(
        "log.format confluent-json: subject '{}' has no schema; registering {} (any JSON "
        "object). Set log.schema_file to check records against a real schema",
        config.subject, kPermissiveJsonSchema);
    to_register = registry::SchemaText{type, std::string(kPermissiveJsonSchema), {}};
  }
  auto id = registry->Register(config.subject, *to_register);
  if (!id.ok()) {
    auto e = registry::RegistryErrorOf(id.status());
    std::string what = config.schema_file.empty() ? std::string(kPermissiveJsonSchema)
                                                  : "log.schema_file " + config.schema_file;
    if (e.error_code == registry::kIncompatibleSchema || e.error_code == registry::kInvalidSchema ||
        e.error_code == registry::kSchemaTooLarge ||
        e.error_code == registry::kOperationNotPermitted) {
      return Status::ConfigError(
          fmt::format("{}: the schema registry refused it under subject '{}': {} {}", what,
                      config.subject, e.error_code, e.message));
    }
    return id.status().WithContext(
        fmt::format("log.format: registering {} under subject '{}'", what, config.subject));
  }
  DF_ASSIGN_OR_RETURN(auto parsed, registry->ParsedById(*id));
  auto version = registry->Lookup(config.subject, *to_register, false, false);
  return LogSchema{*id, version.ok() ? version->version : 0, std::move(parsed)};
}

}  // namespace dataforge
