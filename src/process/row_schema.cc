#include "process/row_schema.h"

#include <fmt/format.h>

#include "common/json_writer.h"
#include "registry/registry_error.h"

namespace dataforge {
namespace {

using registry::SchemaType;

// The JSON Schema of one column's values.
std::string JsonColumnSchema(const ColumnSpec& c, bool required) {
  std::string base, extra;
  if (c.type == "int" || c.type == "bigint") {
    base = "integer";
  } else if (c.type == "double") {
    // The mapper writes NaN and the infinities as strings (process/mapper.cc).
    return required ? R"({"anyOf":[{"type":"number"},{"enum":["NaN","Infinity","-Infinity"]}]})"
                    : R"({"anyOf":[{"type":"number"},{"enum":["NaN","Infinity","-Infinity"]},)"
                      R"({"type":"null"}]})";
  } else if (c.type == "boolean") {
    base = "boolean";
  } else {
    base = "string";
    // valijson does not check "uuid" (draft-07 has no such format): it documents the column.
    // A timestamp carries no "format":"date-time": the mapper already writes every timestamp in
    // RFC 3339 (common/timestamp.h), and valijson compiles a std::regex for each date-time value
    // it checks (~0.6 ms a value: docs/benchmarks.md "process.schema").
    if (c.type == "uuid") extra = R"(,"format":"uuid")";
  }
  std::string type = required ? JsonString(base) : fmt::format(R"(["{}","null"])", base);
  return fmt::format(R"({{"type":{}{}}})", type, extra);
}

std::string AvroColumnType(const ColumnSpec& c) {
  if (c.type == "int") return R"("int")";
  if (c.type == "bigint") return R"("long")";
  if (c.type == "double") return R"("double")";
  if (c.type == "boolean") return R"("boolean")";
  if (c.type == "uuid") return R"({"type":"string","logicalType":"uuid"})";
  return R"("string")";  // text, timestamp (RFC 3339 text), decimal (its digits)
}

// An Avro name from `text`: letters, digits and '_' ('_' for anything else, not a digit first).
std::string AvroName(std::string_view text) {
  std::string name;
  for (char ch : text) {
    bool ok = isalnum(static_cast<unsigned char>(ch)) || ch == '_';
    name.push_back(ok ? ch : '_');
  }
  if (name.empty() || isdigit(static_cast<unsigned char>(name[0]))) name.insert(0, "_");
  return name;
}

bool IsRequired(const ProcessConfig& config, const ColumnSpec& c) {
  return c.required || c.name == config.key_column;
}

std::string Where(const ProcessConfig& config, const std::string& config_file) {
  if (config_file.empty() || config.schema.line == 0) return "process.schema";
  return fmt::format("process.schema ({}:{})", config_file, config.schema.line);
}

int ErrorCode(const Status& s) {
  return registry::RegistryErrorOf(s).error_code;
}

std::string TypeName(SchemaType type) {
  return type == SchemaType::kAvro ? "Avro" : "JSON";
}

// The one-line refusal for a mapping schema the subject's compatibility rejects.
Status Incompatible(registry::SchemaRegistry* registry, const ProcessConfig& config,
                    const std::string& config_file, const registry::SchemaText& text,
                    const registry::CompatibilityVerdict& verdict) {
  const std::string& subject = config.schema.subject;
  std::string level = "BACKWARD";
  if (auto l = registry->GetCompatibility(subject, /*default_to_global=*/true); l.ok()) {
    level = std::string(registry::CompatibilityName(*l));
  }
  std::string latest = "?";
  if (auto v = registry->Version(subject, std::nullopt, false); v.ok()) {
    latest = std::to_string(v->version);
  }
  return Status::ConfigError(fmt::format(
      "{}: the registry refuses the mapping's {} schema under subject '{}' (409 incompatible with "
      "version {}, compatibility {}): {}; change the mapping back, or register the change under "
      "a new subject (process.schema.subject)",
      Where(config, config_file), TypeName(text.type), subject, latest, level,
      verdict.messages.empty() ? std::string("no details")
                               : fmt::format("{}", fmt::join(verdict.messages, "; "))));
}

Status MissingSubject(const ProcessConfig& config, const std::string& config_file,
                      const Status& s) {
  const std::string& subject = config.schema.subject;
  return Status::ConfigError(fmt::format(
      "{}: subject '{}' has no schema in the registry ({}): register one (POST "
      "/registry/subjects/{}/versions) or set process.schema.auto_register: true to register the "
      "mapping's own",
      Where(config, config_file), subject, s.message(), subject));
}

Result<std::shared_ptr<const RowSchema>> Bound(registry::SchemaRegistry* registry,
                                               const ProcessConfig& config,
                                               const std::string& config_file, int64_t id,
                                               int32_t version) {
  DF_ASSIGN_OR_RETURN(auto parsed, registry->ParsedById(id));
  if (parsed->type() != RowSchemaType(config.schema)) {
    return Status::ConfigError(fmt::format(
        "{}: version {} of subject '{}' is an {} schema and process.schema.type is {}: set "
        "type: {}",
        Where(config, config_file), version, config.schema.subject,
        registry::SchemaTypeName(parsed->type()), config.schema.type,
        parsed->type() == SchemaType::kAvro ? "avro" : "json"));
  }
  auto bound = std::make_shared<RowSchema>();
  bound->subject = config.schema.subject;
  bound->id = id;
  bound->version = version;
  bound->parsed = std::move(parsed);
  return std::shared_ptr<const RowSchema>(std::move(bound));
}

Status WithContext(const Status& s, const ProcessConfig& config, const std::string& config_file,
                   const char* doing) {
  if (s.code() == StatusCode::kConfigError) return s;
  return s.WithContext(
      fmt::format("{}: {} subject '{}'", Where(config, config_file), doing, config.schema.subject));
}

}  // namespace

registry::SchemaType RowSchemaType(const ProcessSchemaConfig& schema) {
  return schema.type == "avro" ? SchemaType::kAvro : SchemaType::kJson;
}

registry::SchemaText MappingSchema(const ProcessConfig& config) {
  registry::SchemaText text;
  text.type = RowSchemaType(config.schema);
  std::string& s = text.schema;
  if (text.type == SchemaType::kJson) {
    s = R"({"$schema":"http://json-schema.org/draft-07/schema#","title":)";
    AppendJsonString(&s, config.table);
    s += R"(,"type":"object","properties":{)";
    std::string required;
    for (size_t i = 0; i < config.columns.size(); ++i) {
      const ColumnSpec& c = config.columns[i];
      if (i) s += ',';
      AppendJsonString(&s, c.name);
      s += ':';
      s += JsonColumnSchema(c, IsRequired(config, c));
      if (IsRequired(config, c)) {
        if (!required.empty()) required += ',';
        AppendJsonString(&required, c.name);
      }
    }
    s += R"(},"required":[)" + required + R"(],"additionalProperties":false})";
    return text;
  }
  std::string table = config.table;
  std::string ns;
  if (size_t dot = table.rfind('.'); dot != std::string::npos) {
    ns = AvroName(table.substr(0, dot));
    table = table.substr(dot + 1);
  }
  s = R"({"type":"record","name":)" + JsonString(AvroName(table));
  if (!ns.empty()) s += R"(,"namespace":)" + JsonString(ns);
  s += R"(,"fields":[)";
  for (size_t i = 0; i < config.columns.size(); ++i) {
    const ColumnSpec& c = config.columns[i];
    if (i) s += ',';
    s += R"({"name":)" + JsonString(c.name) + R"(,"type":)";
    if (IsRequired(config, c)) {
      s += AvroColumnType(c) + "}";
    } else {
      s += R"(["null",)" + AvroColumnType(c) + R"(],"default":null})";
    }
  }
  s += "]}";
  return text;
}

std::string RowSchema::Name() const {
  if (id == 0) return fmt::format("schema {} (unregistered mapping schema)", subject);
  return fmt::format("schema {} id {} v{}", subject, id, version);
}

Result<std::shared_ptr<const RowSchema>> BindRowSchema(registry::SchemaRegistry* registry,
                                                       const ProcessConfig& config,
                                                       const std::string& config_file,
                                                       bool may_register) {
  const std::string& subject = config.schema.subject;
  if (!config.schema.auto_register) {
    auto latest = registry->Version(subject, std::nullopt, /*include_deleted=*/false);
    if (!latest.ok()) {
      if (ErrorCode(latest.status()) == registry::kSubjectNotFound) {
        return MissingSubject(config, config_file, latest.status());
      }
      return WithContext(latest.status(), config, config_file, "reading");
    }
    return Bound(registry, config, config_file, latest->id, latest->version);
  }
  registry::SchemaText text = MappingSchema(config);
  auto found = registry->Lookup(subject, text, /*normalize=*/false, /*include_deleted=*/false);
  if (found.ok()) return Bound(registry, config, config_file, found->id, found->version);
  int code = ErrorCode(found.status());
  if (code != registry::kSubjectNotFound && code != registry::kSchemaNotFound) {
    return WithContext(found.status(), config, config_file, "looking the mapping's schema up in");
  }
  if (code == registry::kSchemaNotFound) {
    auto verdict = registry->TestCompatibility(subject, std::nullopt, false, text);
    if (!verdict.ok()) {
      return WithContext(verdict.status(), config, config_file, "testing the mapping's schema on");
    }
    if (!verdict->compatible) return Incompatible(registry, config, config_file, text, *verdict);
  }
  if (!may_register) {
    auto parsed = registry->Parse(text);
    if (!parsed.ok()) return WithContext(parsed.status(), config, config_file, "parsing for");
    auto bound = std::make_shared<RowSchema>();
    bound->subject = subject;
    bound->parsed = std::move(parsed).value();
    return std::shared_ptr<const RowSchema>(std::move(bound));
  }
  auto id = registry->Register(subject, text);
  if (!id.ok()) {
    if (ErrorCode(id.status()) == registry::kIncompatibleSchema) {
      // Registered by someone else since the test: the verdict as `config check` gives it.
      auto verdict = registry->TestCompatibility(subject, std::nullopt, false, text);
      if (verdict.ok() && !verdict->compatible) {
        return Incompatible(registry, config, config_file, text, *verdict);
      }
    }
    return WithContext(id.status(), config, config_file, "registering the mapping's schema under");
  }
  auto registered = registry->Lookup(subject, text, false, false);
  if (!registered.ok()) {
    return WithContext(registered.status(), config, config_file,
                       "looking the mapping's schema up in");
  }
  return Bound(registry, config, config_file, *id, registered->version);
}

Result<std::string> CheckRowSchema(registry::SchemaRegistry* registry, const ProcessConfig& config,
                                   const std::string& config_file) {
  const std::string& subject = config.schema.subject;
  registry::SchemaText text = MappingSchema(config);
  if (registry == nullptr) {  // no staging database yet: an empty registry
    if (!config.schema.auto_register) {
      return MissingSubject(
          config, config_file,
          registry::RegistryStatus(registry::kSubjectNotFound,
                                   fmt::format("Subject '{}' not found.", subject)));
    }
    return fmt::format(
        "process.schema: subject '{}' has no schema yet: the run registers the "
        "mapping's {} schema as its version 1",
        subject, TypeName(text.type));
  }
  if (!config.schema.auto_register) {
    DF_ASSIGN_OR_RETURN(auto bound, BindRowSchema(registry, config, config_file, false));
    return fmt::format(
        "process.schema: rows are validated against version {} (id {}) of subject "
        "'{}' ({})",
        bound->version, bound->id, subject, TypeName(bound->parsed->type()));
  }
  auto found = registry->Lookup(subject, text, false, false);
  if (found.ok()) {
    return fmt::format(
        "process.schema: the mapping's {} schema is version {} (id {}) of subject "
        "'{}'",
        TypeName(text.type), found->version, found->id, subject);
  }
  int code = ErrorCode(found.status());
  if (code == registry::kSubjectNotFound) {
    DF_RETURN_IF_ERROR(registry->Parse(text).status());  // a mapping the registry cannot parse
    return fmt::format(
        "process.schema: subject '{}' has no schema yet: the run registers the "
        "mapping's {} schema as its version 1",
        subject, TypeName(text.type));
  }
  if (code != registry::kSchemaNotFound) {
    return WithContext(found.status(), config, config_file, "looking the mapping's schema up in");
  }
  auto verdict = registry->TestCompatibility(subject, std::nullopt, false, text);
  if (!verdict.ok()) {
    return WithContext(verdict.status(), config, config_file, "testing the mapping's schema on");
  }
  if (!verdict->compatible) return Incompatible(registry, config, config_file, text, *verdict);
  DF_ASSIGN_OR_RETURN(auto latest, registry->Version(subject, std::nullopt, false));
  return fmt::format(
      "process.schema: the mapping's {} schema is compatible with version {} of "
      "subject '{}': the run registers it as version {}",
      TypeName(text.type), latest.version, subject, latest.version + 1);
}

RowValidator::RowValidator(std::shared_ptr<const RowSchema> schema)
    : schema_(std::move(schema)),
      validator_(schema_->parsed->NewValidator()),
      prefix_(schema_->Name() + ": ") {}

std::optional<std::string> RowValidator::Check(std::string_view row_json) {
  std::optional<registry::ValidationError> e = validator_->Validate(row_json);
  if (!e) return std::nullopt;
  return fmt::format("{}{}: {}: {}", prefix_, e->path.empty() ? "(row)" : e->path, e->rule,
                     e->message);
}

}  // namespace dataforge
