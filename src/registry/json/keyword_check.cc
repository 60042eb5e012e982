#include "registry/json/keyword_check.h"

#include <string>
#include <string_view>

namespace dataforge::registry::json_schema {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// By value: a range-for over value_unsafe() of a temporary result would dangle.
simdjson::dom::object Obj(element e) {
  return e.get_object().value_unsafe();
}
simdjson::dom::array Arr(element e) {
  return e.get_array().value_unsafe();
}

bool IsNumber(element e) {
  const auto t = e.type();
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

bool IsNonNegativeInteger(element e) {
  if (e.type() == element_type::UINT64) return true;
  if (e.type() == element_type::INT64) return e.get_int64().value_unsafe() >= 0;
  return false;
}

bool IsSchema(element e) {
  return e.type() == element_type::OBJECT || e.type() == element_type::BOOL;
}

bool IsTypeName(std::string_view t) {
  return t == "string" || t == "number" || t == "integer" || t == "boolean" || t == "null" ||
         t == "object" || t == "array";
}

std::string Child(const std::string& path, std::string_view token) {
  std::string out = path;
  out += '/';
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

Status Bad(std::string_view keyword, const std::string& path, std::string_view what) {
  return Status::InvalidArgument("'" + std::string(keyword) + "' at #" + path + " must be " +
                                 std::string(what));
}

Status Check(element schema, const std::string& path, int depth);

Status CheckSchemaMap(element value, std::string_view keyword, const std::string& path, int depth) {
  if (value.type() != element_type::OBJECT) return Bad(keyword, path, "an object of schemas");
  for (auto [name, sub] : Obj(value)) {
    if (!IsSchema(sub)) return Bad(keyword, path, "an object of schemas");
    DF_RETURN_IF_ERROR(Check(sub, Child(Child(path, keyword), name), depth + 1));
  }
  return Status::OK();
}

Status CheckSchemaArray(element value, std::string_view keyword, const std::string& path, int depth,
                        bool non_empty) {
  if (value.type() != element_type::ARRAY) return Bad(keyword, path, "an array of schemas");
  size_t i = 0;
  for (element sub : Arr(value)) {
    if (!IsSchema(sub)) return Bad(keyword, path, "an array of schemas");
    DF_RETURN_IF_ERROR(Check(sub, Child(Child(path, keyword), std::to_string(i)), depth + 1));
    ++i;
  }
  if (non_empty && i == 0) return Bad(keyword, path, "a non-empty array of schemas");
  return Status::OK();
}

Status Check(element schema, const std::string& path, int depth) {
  if (depth > 200) return Status::InvalidArgument("the schema nests deeper than 200 levels");
  if (schema.type() != element_type::OBJECT) return Status::OK();
  for (auto [keyword, value] : Obj(schema)) {
    const auto t = value.type();
    if (keyword == "type") {
      if (t == element_type::STRING) {
        if (!IsTypeName(value.get_string().value_unsafe())) {
          return Bad(keyword, path,
                     "a JSON type name (string, number, integer, boolean, null, "
                     "object, array)");
        }
      } else if (t == element_type::ARRAY) {
        for (element name : Arr(value)) {
          if (name.type() != element_type::STRING ||
              !IsTypeName(name.get_string().value_unsafe())) {
            return Bad(keyword, path, "an array of JSON type names");
          }
        }
      } else {
        return Bad(keyword, path, "a type name or an array of type names");
      }
    } else if (keyword == "properties" || keyword == "patternProperties" ||
               keyword == "definitions" || keyword == "$defs") {
      DF_RETURN_IF_ERROR(CheckSchemaMap(value, keyword, path, depth));
    } else if (keyword == "required") {
      if (t != element_type::ARRAY) return Bad(keyword, path, "an array of strings");
      for (element name : Arr(value)) {
        if (name.type() != element_type::STRING) return Bad(keyword, path, "an array of strings");
      }
    } else if (keyword == "enum") {
      if (t != element_type::ARRAY) return Bad(keyword, path, "an array");
    } else if (keyword == "minimum" || keyword == "maximum" || keyword == "multipleOf" ||
               keyword == "exclusiveMinimum" || keyword == "exclusiveMaximum") {
      if (!IsNumber(value)) return Bad(keyword, path, "a number");
      if (keyword == "multipleOf" && value.get_double().value_unsafe() <= 0) {
        return Bad(keyword, path, "a number greater than 0");
      }
    } else if (keyword == "maxLength" || keyword == "minLength" || keyword == "maxItems" ||
               keyword == "minItems" || keyword == "maxProperties" || keyword == "minProperties") {
      if (!IsNonNegativeInteger(value)) return Bad(keyword, path, "a non-negative integer");
    } else if (keyword == "pattern" || keyword == "$ref" || keyword == "$id" ||
               keyword == "$schema" || keyword == "title" || keyword == "description" ||
               keyword == "format") {
      if (t != element_type::STRING) return Bad(keyword, path, "a string");
    } else if (keyword == "uniqueItems") {
      if (t != element_type::BOOL) return Bad(keyword, path, "a boolean");
    } else if (keyword == "items") {
      if (t == element_type::ARRAY) {
        DF_RETURN_IF_ERROR(CheckSchemaArray(value, keyword, path, depth, false));
      } else if (!IsSchema(value)) {
        return Bad(keyword, path, "a schema or an array of schemas");
      } else {
        DF_RETURN_IF_ERROR(Check(value, Child(path, keyword), depth + 1));
      }
    } else if (keyword == "additionalProperties" || keyword == "additionalItems" ||
               keyword == "not" || keyword == "contains" || keyword == "propertyNames" ||
               keyword == "if" || keyword == "then" || keyword == "else") {
      if (!IsSchema(value)) return Bad(keyword, path, "a schema (an object or a boolean)");
      DF_RETURN_IF_ERROR(Check(value, Child(path, keyword), depth + 1));
    } else if (keyword == "allOf" || keyword == "anyOf" || keyword == "oneOf") {
      DF_RETURN_IF_ERROR(CheckSchemaArray(value, keyword, path, depth, true));
    } else if (keyword == "dependencies") {
      if (t != element_type::OBJECT) return Bad(keyword, path, "an object");
      for (auto [name, dep] : Obj(value)) {
        if (dep.type() == element_type::ARRAY) {
          for (element n : Arr(dep)) {
            if (n.type() != element_type::STRING) {
              return Bad(keyword, path, "an object of schemas or arrays of strings");
            }
          }
        } else if (IsSchema(dep)) {
          DF_RETURN_IF_ERROR(Check(dep, Child(Child(path, keyword), name), depth + 1));
        } else {
          return Bad(keyword, path, "an object of schemas or arrays of strings");
        }
      }
    }
  }
  return Status::OK();
}

}  // namespace

Status CheckKeywords(simdjson::dom::element schema) {
  return Check(schema, "", 0);
}

}  // namespace dataforge::registry::json_schema
