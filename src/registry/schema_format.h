// One schema type's rules (Avro in registry/avro/, JSON Schema in registry/json/): parsing with
// references, the canonical text that decides "same schema, same id", compatibility between two
// versions, and record validation and encoding for the pipeline (process.schema, log.format).
//
// Thread-safety: a SchemaFormat and a ParsedSchema are immutable and shared across threads;
// a RecordValidator / RecordCodec is thread-compatible (one per thread: it keeps parsers and
// buffers between calls).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "registry/schema_types.h"

namespace dataforge::registry {

// Why a record does not match a schema: where (a JSON Pointer into the record, "" = the
// record itself, e.g. "/location/postcode") and which rule failed ("type", "required",
// "maxLength", "enum", "additionalProperties", Avro: "type", "union", "missing field"...), plus
// one line for people ("expected integer, got string \"abc\"").
struct ValidationError {
  std::string path;
  std::string rule;
  std::string message;
};

// Checks JSON records (one object per call) against one schema.
class RecordValidator {
 public:
  virtual ~RecordValidator() = default;
  // nullopt when `json` matches; the first failure otherwise (also for text that is not JSON:
  // path "", rule "json").
  virtual std::optional<ValidationError> Validate(std::string_view json) = 0;
};

// Converts records between JSON text (what the mapper reads) and the schema's wire payload
// (Confluent's serializers: Avro binary encoding; JSON Schema: the JSON text itself). No magic
// byte or schema id here: registry/wire_format.h adds and strips those.
class RecordCodec {
 public:
  virtual ~RecordCodec() = default;
  // Appends the payload of `json` to *out; InvalidArgument naming the path and rule when the
  // record does not match the schema (*out is then unspecified).
  virtual Status Encode(std::string_view json, std::string* out) = 0;
  // Appends the record as JSON text to *out; InvalidArgument (with the byte offset) when the
  // payload is not a valid encoding under the schema.
  virtual Status Decode(std::string_view payload, std::string* out) = 0;
};

class ParsedSchema {
 public:
  virtual ~ParsedSchema() = default;
  virtual SchemaType type() const = 0;
  // The text that identifies the schema: registering two texts with the same canonical text
  // under any subjects gives one id. Avro: Parsing Canonical Form plus the attributes it drops
  // that change meaning (defaults, aliases, logical types), whitespace-free; JSON Schema: the
  // document with its whitespace removed (keys kept in their order, as Confluent compares).
  virtual const std::string& canonical() const = 0;
  // The schema as it was registered (GET /schemas/ids/{id} answers it unchanged).
  virtual const std::string& text() const = 0;
  // Compatibility of this (newer) schema with `previous`: empty when this schema can read what
  // `previous` wrote (Avro: reader = this, writer = previous, by the Avro spec's schema
  // resolution; JSON Schema: Confluent's backward rules with previous as the original). Else one
  // line per incompatibility, as Confluent's verbose messages ("reader field 'x' has no default
  // and is missing in the writer at /fields/2").
  virtual std::vector<std::string> BackwardIncompatibilities(
      const ParsedSchema& previous) const = 0;

  virtual std::unique_ptr<RecordValidator> NewValidator() const = 0;
  virtual std::unique_ptr<RecordCodec> NewCodec() const = 0;
};

class SchemaFormat {
 public:
  virtual ~SchemaFormat() = default;
  virtual SchemaType type() const = 0;
  // Parses `schema` with its references already resolved (dependency order, see
  // ResolvedReference). InvalidArgument with one line (what and where) for a malformed schema
  // or an unresolved reference: the registry answers it as 42201.
  virtual Result<std::shared_ptr<const ParsedSchema>> Parse(
      std::string_view schema, const std::vector<ResolvedReference>& references) const = 0;
};

// The formats, one instance each for the life of the process (never null).
const SchemaFormat& AvroFormat();        // registry/avro/
const SchemaFormat& JsonSchemaFormat();  // registry/json/
const SchemaFormat& FormatFor(SchemaType type);

}  // namespace dataforge::registry
