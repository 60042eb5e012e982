// The schema registry's plain value types (Confluent Schema Registry's model,
// docs/schema-registry.md): schema types, references, compatibility levels and modes, with their
// wire names. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dataforge::registry {

enum class SchemaType { kAvro, kJson };
std::string_view SchemaTypeName(SchemaType type);  // "AVRO", "JSON"
// "AVRO" or "JSON", exactly (Confluent's names); PROTOBUF is not supported.
std::optional<SchemaType> ParseSchemaType(std::string_view name);

// A reference from a schema to another subject's version: `name` is how the referring schema
// names it (Avro: the full name of the named type; JSON Schema: the "$ref" URL).
struct SchemaReference {
  std::string name;
  std::string subject;
  int32_t version = 0;
  bool operator==(const SchemaReference&) const = default;
};

// A schema as a client sends it (POST /subjects/{s}/versions): type, text, references.
struct SchemaText {
  SchemaType type = SchemaType::kAvro;
  std::string schema;
  std::vector<SchemaReference> references;
};

// A referenced schema, resolved: its name (SchemaReference::name) and text, with its own
// references resolved first (dependency order: a schema comes after those it references).
struct ResolvedReference {
  std::string name;
  SchemaType type = SchemaType::kAvro;
  std::string schema;
};

// Compatibility levels. BACKWARD: the new schema can read data written with the previous
// one (checked against the latest version; *_TRANSITIVE: against every version). FORWARD: the
// previous can read the new. FULL: both.
enum class Compatibility {
  kNone,
  kBackward,
  kBackwardTransitive,
  kForward,
  kForwardTransitive,
  kFull,
  kFullTransitive,
};
std::string_view CompatibilityName(Compatibility level);  // "BACKWARD_TRANSITIVE", ...
// Case-insensitive, as Confluent accepts "backward".
std::optional<Compatibility> ParseCompatibility(std::string_view name);

enum class Mode { kReadWrite, kReadOnly, kImport };
std::string_view ModeName(Mode mode);                  // "READWRITE", "READONLY", "IMPORT"
std::optional<Mode> ParseMode(std::string_view name);  // case-insensitive

}  // namespace dataforge::registry
