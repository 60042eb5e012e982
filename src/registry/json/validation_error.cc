#include "registry/json/validation_error.h"

#include <array>
#include <string_view>
#include <utility>
#include <valijson/validation_results.hpp>

#include "registry/json/json_schema_documents.h"

namespace dataforge::registry::json_schema {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// valijson 1.0's descriptions (validation_visitor.hpp) and the keyword each reports. The order
// matters where one is a prefix of another ("less than or equal to" before "less than").
constexpr std::array<std::pair<std::string_view, std::string_view>, 29> kRules = {{
    {"Value type not permitted by 'type' constraint", "type"},
    {"Missing required property", "required"},
    {"Failed to match against any enum values", "enum"},
    {"Failed to match expected value set by 'const' constraint", "const"},
    {"Target value and comparison value are not equal", "const"},
    {"Expected number less than or equal to", "maximum"},
    {"Expected number less than", "exclusiveMaximum"},
    {"Expected number greater than or equal to", "minimum"},
    {"Expected number greater than", "exclusiveMinimum"},
    {"Array should contain no more than", "maxItems"},
    {"Array should contain no fewer than", "minItems"},
    {"String should be no more than", "maxLength"},
    {"String should be no fewer than", "minLength"},
    {"Object should have no more than", "maxProperties"},
    {"Object should have no fewer than", "minProperties"},
    {"Value should be a multiple of", "multipleOf"},
    {"Value could not be converted", "multipleOf"},
    {"Failed to validate against any schemas allowed by anyOf", "anyOf"},
    {"Failed to validate against any child schemas allowed by oneOf", "oneOf"},
    {"Failed to validate against exactly one child schema", "oneOf"},
    {"Failed to match regex specified by 'pattern'", "pattern"},
    {"Object contains a property that could not be validated", "additionalProperties"},
    {"String should be a valid", "format"},
    {"Array contains more items than allowed by items", "additionalItems"},
    {"Elements at indexes", "uniqueItems"},
    {"Missing dependency", "dependencies"},
    {"Failed to any values against subschema in 'contains'", "contains"},
    {"Failed to validate against a conditional schema", "if"},
    {"Target should not validate against schema specified in 'not'", "not"},
}};

// Errors that only say "a child failed" (the child's own error comes before them).
constexpr std::array<std::string_view, 8> kWrappers = {
    "Failed to validate against schema associated with property name",
    "Failed to validate item #",
    "Cannot validate item #",
    "Failed to validate against schema associated with pattern",
    "Failed to validate against additional properties schema",
    "Failed to validate against child schema #",
    "Failed to validate against dependent schema",
    "Failed to validate against a conditional schema",
};

bool IsWrapper(std::string_view description) {
  for (auto w : kWrappers) {
    if (StartsWith(description, w)) return true;
  }
  return false;
}

std::string_view RuleOf(std::string_view description) {
  for (const auto& [prefix, rule] : kRules) {
    if (StartsWith(description, prefix)) return rule;
  }
  return "schema";
}

bool IsPrefixContext(const std::vector<std::string>& prefix, const std::vector<std::string>& of) {
  if (prefix.size() > of.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (prefix[i] != of[i]) return false;
  }
  return true;
}

// 'name' quoted in a description, from the last pair of single quotes.
std::string QuotedName(std::string_view description) {
  const size_t close = description.rfind('\'');
  if (close == std::string_view::npos || close == 0) return "";
  const size_t open = description.rfind('\'', close - 1);
  if (open == std::string_view::npos) return "";
  return std::string(description.substr(open + 1, close - open - 1));
}

std::string EscapeToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Lower(std::string_view description) {
  std::string s(description);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string KindOf(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "array";
    case simdjson::dom::element_type::OBJECT:
      return "object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
      return "integer";
    case simdjson::dom::element_type::DOUBLE:
      return "number";
    case simdjson::dom::element_type::STRING:
      return "string";
    case simdjson::dom::element_type::BOOL:
      return "boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "value";
}

// Follows a local "$ref" ("#/...") from `node`, a few hops.
simdjson::dom::element Deref(simdjson::dom::element node, simdjson::dom::element root) {
  for (int hops = 0; hops < 8 && node.type() == simdjson::dom::element_type::OBJECT; ++hops) {
    std::string_view ref;
    if (node["$ref"].get(ref) != simdjson::SUCCESS || ref.empty() || ref[0] != '#') break;
    simdjson::dom::element target;
    if (!ResolvePointer(root, ref.substr(1), &target)) break;
    node = target;
  }
  return node;
}

// The subschema a record path leads to by properties/items/additionalProperties, if any.
bool SchemaAt(simdjson::dom::element root, std::string_view pointer, simdjson::dom::element* out) {
  simdjson::dom::element node = Deref(root, root);
  while (!pointer.empty()) {
    pointer.remove_prefix(1);
    const size_t end = pointer.find('/');
    std::string token;
    for (size_t i = 0; i < pointer.substr(0, end).size(); ++i) {
      const char c = pointer[i];
      if (c == '~' && i + 1 < pointer.size()) {
        token += pointer[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += c;
      }
    }
    pointer = end == std::string_view::npos ? std::string_view() : pointer.substr(end);
    if (node.type() != simdjson::dom::element_type::OBJECT) return false;
    simdjson::dom::element next, items;
    if (node["properties"][token].get(next) == simdjson::SUCCESS) {
      node = Deref(next, root);
    } else if (node["items"].get(items) == simdjson::SUCCESS) {
      if (items.type() == simdjson::dom::element_type::ARRAY) {
        if (token.empty() || token.find_first_not_of("0123456789") != std::string::npos) {
          return false;
        }
        if (items.at(std::stoul(token)).get(next) != simdjson::SUCCESS) return false;
        node = Deref(next, root);
      } else {
        node = Deref(items, root);
      }
    } else if (node["additionalProperties"].get(next) == simdjson::SUCCESS &&
               next.type() == simdjson::dom::element_type::OBJECT) {
      node = Deref(next, root);
    } else {
      return false;
    }
  }
  *out = node;
  return true;
}

// "string or null" from a schema's "type", or "" when it has none.
std::string ExpectedTypes(simdjson::dom::element schema) {
  simdjson::dom::element type;
  if (schema.type() != simdjson::dom::element_type::OBJECT ||
      schema["type"].get(type) != simdjson::SUCCESS) {
    return "";
  }
  std::string_view one;
  if (type.get_string().get(one) == simdjson::SUCCESS) return std::string(one);
  std::string all;
  simdjson::dom::array names;
  if (type.get_array().get(names) != simdjson::SUCCESS) return "";
  for (simdjson::dom::element n : names) {
    if (n.get_string().get(one) != simdjson::SUCCESS) return "";
    if (!all.empty()) all += " or ";
    all += one;
  }
  return all;
}

}  // namespace

std::string ContextToPointer(const std::vector<std::string>& context) {
  std::string pointer;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string_view token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
      token = token.substr(1, token.size() - 2);
    }
    pointer += '/';
    pointer += EscapeToken(token);
  }
  return pointer;
}

ValidationError FirstValidationError(const valijson::ValidationResults& results,
                                     simdjson::dom::element record, simdjson::dom::element schema) {
  std::vector<valijson::ValidationResults::Error> errors(results.begin(), results.end());
  // The first real failure; then, up to the end of its top-level branch (the first error at
  // the root), the outermost anyOf/oneOf above it that failed: its branches' errors come first.
  size_t chosen = errors.size();
  for (size_t i = 0; i < errors.size(); ++i) {
    if (!IsWrapper(errors[i].description)) {
      chosen = i;
      break;
    }
  }
  if (chosen == errors.size()) chosen = 0;
  for (size_t j = chosen + 1; j < errors.size(); ++j) {
    const auto rule = RuleOf(errors[j].description);
    if ((rule == "anyOf" || rule == "oneOf") &&
        IsPrefixContext(errors[j].context, errors[chosen].context)) {
      chosen = j;
    }
    if (errors[j].context.size() <= 1) break;
  }
  const auto& e = errors[chosen];
  ValidationError out;
  out.rule = std::string(RuleOf(e.description));
  out.path = ContextToPointer(e.context);
  out.message = Lower(e.description);
  if (out.rule == "additionalProperties") {
    const std::string name = QuotedName(e.description);
    out.path += "/" + EscapeToken(name);
    out.message = "property '" + name + "' is not allowed (additionalProperties)";
  } else if (out.rule == "required") {
    out.message = "missing required property '" + QuotedName(e.description) + "'";
  } else if (out.rule == "type") {
    simdjson::dom::element at;
    if (SchemaAt(schema, out.path, &at)) {
      if (const std::string expected = ExpectedTypes(at); !expected.empty()) {
        out.message = "expected " + expected;
      }
    }
  }
  if (out.rule != "required") {
    simdjson::dom::element at;
    if (ResolvePointer(record, out.path, &at)) {
      std::string value = simdjson::minify(at);
      if (value.size() > 60) value = value.substr(0, 57) + "...";
      out.message += ", got " + KindOf(at) + " " + value;
    }
  }
  return out;
}

}  // namespace dataforge::registry::json_schema
