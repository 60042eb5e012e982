// The schema model the JSON Schema compatibility check compares (json_schema_diff.h), built
// as Confluent's loader (everit) classifies a schema: a typed schema per "type" (a type array is
// an anyOf of typed schemas), enum, const, allOf/anyOf/oneOf, not; several of these in one object
// make a synthetic allOf; no "type" but keywords of one type gives that type; none is the empty
// schema. "$ref" is followed (local pointers, and references by name through SchemaDocuments).
// Nodes are views into the documents (which must outlive them); combinator branches are
// classified when compared, so recursive schemas are fine. Thread-safe over immutable documents.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/json/json_schema_documents.h"

namespace dataforge::registry::json_schema::model {

using simdjson::dom::element;
using simdjson::dom::element_type;

// ---- reading keywords (by value: a range-for over value_unsafe() of a temporary dangles) ----

inline simdjson::dom::object Obj(element e) {
  return e.get_object().value_unsafe();
}
inline simdjson::dom::array Arr(element e) {
  return e.get_array().value_unsafe();
}
inline bool IsObject(element e) {
  return e.type() == element_type::OBJECT;
}
std::optional<element> Member(element schema, std::string_view key);
inline bool Has(element schema, std::string_view key) {
  return Member(schema, key).has_value();
}
// A numeric keyword as a double; nullopt when absent or not a number.
std::optional<double> Number(element schema, std::string_view key);
inline std::string Text(element e) {
  return simdjson::minify(e);
}
// A member's JSON text, or "" when absent (for equality of annotations).
std::string MemberText(element schema, std::string_view key);
bool IsFalse(element e);

// ---- the model ------------------------------------------------------------------------------

enum class Kind {
  kEmpty,
  kFalse,
  kString,
  kNumber,
  kBoolean,
  kNull,
  kObject,
  kArray,
  kEnum,
  kConst,
  kCombined,
  kNot
};

// A place in a document: the element and its document's root (for "#/..." references).
struct Loc {
  element el;
  element root;
};

struct Node {
  Kind kind = Kind::kEmpty;
  Loc at;
  bool requires_integer = false;  // kNumber: "integer"
  std::string criterion;          // kCombined: allOf, anyOf, oneOf
  std::vector<Node> parts;        // kCombined, synthetic: the parts of one object
  std::vector<Loc> subschemas;    // kCombined from allOf/anyOf/oneOf: classified when compared
  bool attributes = true;         // compare $id/title/description/default here
  std::string ref_key;            // reached through "$ref": which target
};

class Classifier {
 public:
  explicit Classifier(const SchemaDocuments& docs) : docs_(docs) {}
  // The node at `loc`, "$ref"s followed.
  Node Classify(Loc loc) const;
  // A combined node's branches (its synthetic parts, or its subschemas classified).
  std::vector<Node> Subs(const Node& n) const;

 private:
  static Node Typed(Loc loc, std::string_view type);
  static Node Combined(Loc loc, std::string criterion, std::vector<Node> parts);
  static Node ClassifyResolved(Loc loc);

  const SchemaDocuments& docs_;
};

}  // namespace dataforge::registry::json_schema::model
