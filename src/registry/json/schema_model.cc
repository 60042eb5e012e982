#include "registry/json/schema_model.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace dataforge::registry::json_schema::model {

std::optional<element> Member(element schema, std::string_view key) {
  if (!IsObject(schema)) return std::nullopt;
  element v;
  if (Obj(schema).at_key(key).get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<double> Number(element schema, std::string_view key) {
  auto v = Member(schema, key);
  double d = 0;
  if (!v || v->get_double().get(d) != simdjson::SUCCESS) return std::nullopt;
  return d;
}

std::string MemberText(element schema, std::string_view key) {
  auto v = Member(schema, key);
  return v ? Text(*v) : std::string();
}

bool IsFalse(element e) {
  bool b = true;
  return e.type() == element_type::BOOL && e.get_bool().get(b) == simdjson::SUCCESS && !b;
}

Node Classifier::Classify(Loc loc) const {
  std::string ref_key;
  for (int hops = 0; hops < 64; ++hops) {
    auto ref = Member(loc.el, "$ref");
    if (!ref || ref->type() != element_type::STRING) break;
    std::string_view r = ref->get_string().value_unsafe();
    const size_t hash = r.find('#');
    const std::string_view doc = r.substr(0, hash);
    const std::string_view fragment =
        hash == std::string_view::npos ? std::string_view() : r.substr(hash + 1);
    element root = loc.root;
    if (!doc.empty()) {
      const ParsedDocument* d = docs_.Reference(doc);
      if (d == nullptr) break;  // Parse resolved every reference valijson reached
      root = d->root;
    }
    element target;
    if (!ResolvePointer(root, fragment, &target)) break;
    ref_key = std::string(doc) + "#" + std::string(fragment);
    loc = Loc{target, root};
  }
  Node n = ClassifyResolved(loc);
  n.ref_key = ref_key;
  return n;
}

std::vector<Node> Classifier::Subs(const Node& n) const {
  if (!n.parts.empty()) return n.parts;
  std::vector<Node> subs;
  for (const auto& loc : n.subschemas) subs.push_back(Classify(loc));
  return subs;
}

Node Classifier::Typed(Loc loc, std::string_view type) {
  Node n;
  n.at = loc;
  if (type == "string") n.kind = Kind::kString;
  if (type == "number") n.kind = Kind::kNumber;
  if (type == "integer") {
    n.kind = Kind::kNumber;
    n.requires_integer = true;
  }
  if (type == "boolean") n.kind = Kind::kBoolean;
  if (type == "null") n.kind = Kind::kNull;
  if (type == "object") n.kind = Kind::kObject;
  if (type == "array") n.kind = Kind::kArray;
  return n;
}

Node Classifier::Combined(Loc loc, std::string criterion, std::vector<Node> parts) {
  Node n;
  n.kind = Kind::kCombined;
  n.at = loc;
  n.criterion = std::move(criterion);
  for (auto& p : parts) p.attributes = false;
  n.parts = std::move(parts);
  return n;
}

Node Classifier::ClassifyResolved(Loc loc) {
  Node empty;
  empty.at = loc;
  if (loc.el.type() == element_type::BOOL) {
    if (IsFalse(loc.el)) empty.kind = Kind::kFalse;
    return empty;
  }
  if (!IsObject(loc.el)) return empty;
  std::vector<Node> parts;
  if (auto type = Member(loc.el, "type")) {
    if (type->type() == element_type::STRING) {
      parts.push_back(Typed(loc, type->get_string().value_unsafe()));
    } else if (type->type() == element_type::ARRAY) {
      std::vector<Node> alternatives;
      for (element t : Arr(*type)) {
        if (t.type() == element_type::STRING) {
          alternatives.push_back(Typed(loc, t.get_string().value_unsafe()));
        }
      }
      parts.push_back(Combined(loc, "anyOf", std::move(alternatives)));
    }
  } else {
    // No "type": the kinds whose keywords appear.
    static constexpr std::string_view kObjectWords[] = {
        "properties",   "required",      "additionalProperties", "patternProperties",
        "dependencies", "minProperties", "maxProperties",        "propertyNames"};
    static constexpr std::string_view kArrayWords[] = {"items",    "additionalItems", "minItems",
                                                       "maxItems", "uniqueItems",     "contains"};
    static constexpr std::string_view kStringWords[] = {"minLength", "maxLength", "pattern"};
    static constexpr std::string_view kNumberWords[] = {"minimum", "maximum", "exclusiveMinimum",
                                                        "exclusiveMaximum", "multipleOf"};
    std::vector<Node> inferred;
    auto any = [&](auto& words) {
      return std::any_of(std::begin(words), std::end(words),
                         [&](std::string_view w) { return Has(loc.el, w); });
    };
    if (any(kObjectWords)) inferred.push_back(Typed(loc, "object"));
    if (any(kArrayWords)) inferred.push_back(Typed(loc, "array"));
    if (any(kStringWords)) inferred.push_back(Typed(loc, "string"));
    if (any(kNumberWords)) inferred.push_back(Typed(loc, "number"));
    if (inferred.size() == 1) parts.push_back(std::move(inferred[0]));
    if (inferred.size() > 1) parts.push_back(Combined(loc, "anyOf", std::move(inferred)));
  }
  if (Has(loc.el, "enum")) {
    Node n;
    n.kind = Kind::kEnum;
    n.at = loc;
    parts.push_back(n);
  }
  if (Has(loc.el, "const")) {
    Node n;
    n.kind = Kind::kConst;
    n.at = loc;
    parts.push_back(n);
  }
  for (const char* criterion : {"allOf", "anyOf", "oneOf"}) {
    auto subs = Member(loc.el, criterion);
    if (!subs || subs->type() != element_type::ARRAY) continue;
    Node n;
    n.kind = Kind::kCombined;
    n.at = loc;
    n.criterion = criterion;
    for (element s : Arr(*subs)) n.subschemas.push_back(Loc{s, loc.root});
    parts.push_back(std::move(n));
  }
  if (Has(loc.el, "not")) {
    Node n;
    n.kind = Kind::kNot;
    n.at = loc;
    parts.push_back(n);
  }
  if (parts.empty()) return empty;
  if (parts.size() == 1) return std::move(parts[0]);
  return Combined(loc, "allOf", std::move(parts));
}

}  // namespace dataforge::registry::json_schema::model
