#include "registry/json/json_schema_documents.h"

#include <utility>

#include "registry/json/keyword_check.h"

namespace dataforge::registry::json_schema {
namespace {

Result<std::unique_ptr<ParsedDocument>> ParseOne(std::string name, std::string_view text) {
  auto parsed = std::make_unique<ParsedDocument>();
  parsed->name = std::move(name);
  const std::string what =
      parsed->name.empty() ? "the schema" : "referenced schema '" + parsed->name + "'";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const simdjson::padded_string padded(text);
  if (auto err = parser.parse_into_document(parsed->doc, padded).get(root); err) {
    return Status::InvalidArgument(
        what + " is not valid JSON: " + std::string(simdjson::error_message(err)));
  }
  const auto type = root.type();
  if (type != simdjson::dom::element_type::OBJECT && type != simdjson::dom::element_type::BOOL) {
    return Status::InvalidArgument(what + " is not a JSON Schema: expected an object or a boolean");
  }
  if (Status st = CheckKeywords(root); !st.ok()) {
    return Status::InvalidArgument(
        (parsed->name.empty() ? "invalid JSON Schema: "
                              : "invalid JSON Schema in reference '" + parsed->name + "': ") +
        st.message());
  }
  parsed->root = root;
  return parsed;
}

}  // namespace

Result<std::unique_ptr<SchemaDocuments>> SchemaDocuments::Parse(
    std::string_view schema, const std::vector<ResolvedReference>& references) {
  auto docs = std::unique_ptr<SchemaDocuments>(new SchemaDocuments());
  DF_ASSIGN_OR_RETURN(docs->self_, ParseOne("", schema));
  for (const auto& ref : references) {
    if (ref.type != SchemaType::kJson) {
      return Status::InvalidArgument("reference '" + ref.name +
                                     "' is not a JSON Schema (a JSON Schema may only reference "
                                     "JSON Schemas)");
    }
    std::unique_ptr<ParsedDocument> parsed;
    DF_ASSIGN_OR_RETURN(parsed, ParseOne(ref.name, ref.schema));
    docs->references_.push_back(std::move(parsed));
  }
  return docs;
}

const ParsedDocument* SchemaDocuments::Reference(std::string_view uri) const {
  // A fragment ("x.json#/definitions/a") is not part of the document's name.
  if (const auto hash = uri.find('#'); hash != std::string_view::npos) uri = uri.substr(0, hash);
  for (const auto& ref : references_) {
    if (ref->name == uri) return ref.get();
  }
  const ParsedDocument* best = nullptr;
  for (const auto& ref : references_) {
    const std::string_view name = ref->name;
    if (name.empty() || uri.size() <= name.size()) continue;
    if (uri.substr(uri.size() - name.size()) != name) continue;
    if (uri[uri.size() - name.size() - 1] != '/') continue;
    if (best == nullptr || name.size() > best->name.size()) best = ref.get();
  }
  if (best != nullptr || uri.find("://") != std::string_view::npos || uri.substr(0, 4) == "urn:") {
    return best;
  }
  // A relative name ("defs.json") for a reference named by its URL (".../defs.json"): what
  // resolving it against a base URI in that directory ("$id") gives; only when unambiguous.
  for (const auto& ref : references_) {
    const std::string_view name = ref->name;
    if (name.size() <= uri.size() || name.substr(name.size() - uri.size()) != uri) continue;
    if (name[name.size() - uri.size() - 1] != '/') continue;
    if (best != nullptr) return nullptr;
    best = ref.get();
  }
  return best;
}

std::string SchemaDocuments::ReferenceNames() const {
  std::string names;
  for (const auto& ref : references_) {
    if (!names.empty()) names += ", ";
    names += ref->name;
  }
  return names.empty() ? "none" : names;
}

bool ResolvePointer(simdjson::dom::element root, std::string_view pointer,
                    simdjson::dom::element* out) {
  simdjson::dom::element at = root;
  while (!pointer.empty()) {
    if (pointer[0] != '/') return false;
    pointer.remove_prefix(1);
    const size_t end = pointer.find('/');
    std::string token;
    const std::string_view raw = pointer.substr(0, end);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += raw[i];
      }
    }
    pointer = end == std::string_view::npos ? std::string_view() : pointer.substr(end);
    simdjson::dom::element next;
    if (at.type() == simdjson::dom::element_type::OBJECT) {
      if (at.get_object().value_unsafe().at_key(token).get(next) != simdjson::SUCCESS) {
        return false;
      }
    } else if (at.type() == simdjson::dom::element_type::ARRAY) {
      size_t index = 0;
      if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos) {
        return false;
      }
      index = std::stoul(token);
      if (at.get_array().value_unsafe().at(index).get(next) != simdjson::SUCCESS) return false;
    } else {
      return false;
    }
    at = next;
  }
  *out = at;
  return true;
}

}  // namespace dataforge::registry::json_schema
