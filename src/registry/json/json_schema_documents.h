// A parsed JSON Schema document with its resolved references, as the JSON Schema format keeps
// them (registry/json/): the schema's own text parsed once with simdjson, and each reference
// (ResolvedReference: the name a "$ref" uses, and the referenced schema's text) likewise.
// Immutable after Parse; the elements borrow the documents owned here. Thread-safe to read.
#pragma once

#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "registry/schema_types.h"

namespace dataforge::registry::json_schema {

struct ParsedDocument {
  std::string name;  // the reference name ("" for the schema itself)
  simdjson::dom::document doc;
  simdjson::dom::element root;
};

class SchemaDocuments {
 public:
  // Parses `schema` and each reference's text: InvalidArgument (one line, naming the reference
  // when it is one of them) for text that is not JSON, or JSON that is neither an object nor a
  // boolean (what JSON Schema allows as a schema), or keywords of the wrong JSON type
  // (keyword_check.h).
  static Result<std::unique_ptr<SchemaDocuments>> Parse(
      std::string_view schema, const std::vector<ResolvedReference>& references);

  simdjson::dom::element root() const { return self_->root; }
  // The referenced document named `uri` (its fragment ignored): exactly; else the longest
  // reference name that `uri` ends with after a '/' (a relative name resolved against a base
  // URI); else, for a relative `uri`, the one reference whose URL ends with "/" + `uri` (valijson
  // does not carry "$id" base URIs into nested "$ref"s). Null if none (or ambiguous).
  const ParsedDocument* Reference(std::string_view uri) const;
  // The reference names, comma-separated (for error messages).
  std::string ReferenceNames() const;

 private:
  std::unique_ptr<ParsedDocument> self_;
  std::vector<std::unique_ptr<ParsedDocument>> references_;
};

// Resolves a JSON Pointer fragment ("/definitions/a", "" = the root; '~0' '~1' escapes, and
// percent-encoding is not decoded) inside `root`. False when it names nothing.
bool ResolvePointer(simdjson::dom::element root, std::string_view pointer,
                    simdjson::dom::element* out);

}  // namespace dataforge::registry::json_schema
