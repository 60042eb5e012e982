// An Avro schema as a tree of nodes (Avro 1.11 specification, "Schema Declaration"), parsed from
// JSON text with its references, and its canonical text (the registry's identity of a schema).
//
// Named types (record, enum, fixed) may be used many times and recursively, so nodes refer to
// each other by pointer; an AvroSchema owns all of its nodes, including those defined in the
// referenced schemas. Immutable after ParseAvroSchema; thread-safe to share.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "registry/schema_types.h"

namespace dataforge::registry::avro {

enum class AvroType {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed,
};
// "null", "boolean", ... "union", "fixed" (the spec's names).
std::string_view AvroTypeName(AvroType type);

struct AvroNode;

// Lets a map keyed by std::string be searched with a std::string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct AvroField {
  std::string name;
  const AvroNode* type = nullptr;
  std::vector<std::string> aliases;  // as written (unqualified, as the spec says)
  std::string doc;
  std::string order;  // "" (ascending), "descending" or "ignore"
  bool has_default = false;
  std::string default_json;   // whitespace-free JSON of "default" when has_default
  std::string default_bytes;  // the default's binary encoding when has_default
  std::vector<std::pair<std::string, std::string>> props;  // other attributes, sorted by key
};

struct AvroNode {
  AvroType type = AvroType::kNull;
  // Logical type ("decimal", "date", "uuid", ...) when valid for the underlying type, else "".
  std::string logical_type;
  int32_t precision = 0;  // decimal
  int32_t scale = 0;      // decimal
  // Named types.
  std::string name;                  // unqualified
  std::string full_name;             // namespace.name
  std::vector<std::string> aliases;  // full names
  std::string doc;
  bool from_reference = false;  // defined in a referenced schema
  // record
  std::vector<AvroField> fields;
  // enum
  std::vector<std::string> symbols;
  std::optional<std::string> enum_default;
  // array items / map values
  const AvroNode* items = nullptr;
  // union
  std::vector<const AvroNode*> branches;
  // fixed
  uint64_t size = 0;
  // Whether a value of this type may encode to zero bytes (null, fixed(0), such records).
  bool may_be_empty = false;
  // Other attributes (logicalType, precision, scale, custom ones) as whitespace-free JSON,
  // sorted by key: part of the canonical text.
  std::vector<std::pair<std::string, std::string>> props;

  bool named() const {
    return type == AvroType::kRecord || type == AvroType::kEnum || type == AvroType::kFixed;
  }
  // Field name -> index in `fields` (records).
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> field_index;
};

class AvroSchema {
 public:
  const AvroNode& root() const { return *root_; }
  // Avro's Parsing Canonical Form extended with what it drops but the registry must keep apart
  // (Confluent keys schemas on Avro's Schema.toString()): full names, fixed attribute order,
  // doc, defaults, order, aliases, logical types and other attributes; no whitespace. Named
  // types defined in a referenced schema are written by name only, as Confluent does.
  const std::string& canonical() const { return canonical_; }

 private:
  friend class AvroSchemaParser;
  friend Result<std::shared_ptr<const AvroSchema>> ParseAvroSchema(
      std::string_view text, const std::vector<ResolvedReference>& references);
  std::vector<std::unique_ptr<AvroNode>> nodes_;
  const AvroNode* root_ = nullptr;
  std::string canonical_;
};

// Parses `text` with the named types of `references` (each an Avro schema, in dependency
// order) in scope. InvalidArgument with one line naming what is wrong and where (a JSON
// Pointer into the schema text, or the reference's name).
Result<std::shared_ptr<const AvroSchema>> ParseAvroSchema(
    std::string_view text, const std::vector<ResolvedReference>& references);

}  // namespace dataforge::registry::avro
