// Confluent's JSON Schema compatibility rules (STRICT, the default), as a table of schema pairs
// written from the rules (io.confluent.kafka.schemaregistry.json.diff): each pair's backward
// verdict (can the update read what the original wrote) and every difference it finds, by
// Confluent's Difference type and JSON Pointer path.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "registry/json/json_schema_format.h"
#include "registry/schema_format.h"

namespace dataforge::registry {
namespace {

struct Pair {
  const char* name;
  std::string original;
  std::string update;
  bool compatible;
  std::vector<std::string> differences;  // "TYPE #/path", any order
  std::vector<ResolvedReference> original_refs = {};
  std::vector<ResolvedReference> update_refs = {};
};

std::string Obj(const std::string& properties, const std::string& rest = "") {
  return R"({"type": "object", "properties": {)" + properties + "}" +
         (rest.empty() ? "" : ", " + rest) + "}";
}

const std::string kStr = R"({"type": "string"})";
const std::string kInt = R"({"type": "integer"})";

std::vector<Pair> Table() {
  const ResolvedReference address_v1{"address.json", SchemaType::kJson,
                                     Obj(R"("city": {"type": "string", "maxLength": 40})")};
  const ResolvedReference address_v2{"address.json", SchemaType::kJson,
                                     Obj(R"("city": {"type": "string", "maxLength": 20})")};
  const ResolvedReference address_v3{"address.json", SchemaType::kJson,
                                     Obj(R"("city": {"type": "string", "maxLength": 80})")};
  const std::string with_ref = Obj(R"("home": {"$ref": "address.json"})");
  const std::string tree = R"({"definitions": {"node": {"type": "object", "properties":
      {"value": {"type": "integer"}, "next": {"$ref": "#/definitions/node"}}}},
      "$ref": "#/definitions/node"})";
  const std::string tree_wider = R"({"definitions": {"node": {"type": "object", "properties":
      {"value": {"type": "number"}, "next": {"$ref": "#/definitions/node"}}}},
      "$ref": "#/definitions/node"})";
  return {
      // Types.
      {"same schema",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("a": {"type": "string"})"),
       true,
       {}},
      {"string to integer", kStr, kInt, false, {"TYPE_CHANGED #/"}},
      {"integer to number", kInt, R"({"type": "number"})", true, {"TYPE_EXTENDED #/"}},
      {"number to integer", R"({"type": "number"})", kInt, false, {"TYPE_NARROWED #/"}},
      {"string to string or null",
       kStr,
       R"({"type": ["string", "null"]})",
       true,
       {"SUM_TYPE_EXTENDED #/"}},
      {"string or null to string",
       R"({"type": ["string", "null"]})",
       kStr,
       false,
       {"TYPE_CHANGED #/"}},
      {"type array extended",
       R"({"type": ["string", "null"]})",
       R"({"type": ["string", "null", "integer"]})",
       true,
       {"SUM_TYPE_EXTENDED #/"}},
      {"empty schema to string", "true", kStr, false, {"TYPE_CHANGED #/"}},
      {"string to empty schema", kStr, "{}", true, {}},
      {"false to anything", "false", kInt, true, {}},
      // String limits.
      {"maxLength increased",
       R"({"type": "string", "maxLength": 10})",
       R"({"type": "string", "maxLength": 20})",
       true,
       {"MAX_LENGTH_INCREASED #/maxLength"}},
      {"maxLength decreased",
       R"({"type": "string", "maxLength": 20})",
       R"({"type": "string", "maxLength": 10})",
       false,
       {"MAX_LENGTH_DECREASED #/maxLength"}},
      {"maxLength added",
       kStr,
       R"({"type": "string", "maxLength": 5})",
       false,
       {"MAX_LENGTH_ADDED #/maxLength"}},
      {"maxLength removed",
       R"({"type": "string", "maxLength": 5})",
       kStr,
       true,
       {"MAX_LENGTH_REMOVED #/maxLength"}},
      {"minLength increased",
       R"({"type": "string", "minLength": 2})",
       R"({"type": "string", "minLength": 3})",
       false,
       {"MIN_LENGTH_INCREASED #/minLength"}},
      {"pattern added",
       kStr,
       R"({"type": "string", "pattern": "^a"})",
       false,
       {"PATTERN_ADDED #/pattern"}},
      {"pattern changed",
       R"({"type": "string", "pattern": "^a"})",
       R"({"type": "string", "pattern": "^b"})",
       false,
       {"PATTERN_CHANGED #/pattern"}},
      {"pattern removed",
       R"({"type": "string", "pattern": "^a"})",
       kStr,
       true,
       {"PATTERN_REMOVED #/pattern"}},
      // Number limits.
      {"minimum decreased",
       R"({"type": "number", "minimum": 0})",
       R"({"type": "number", "minimum": -10})",
       true,
       {"MINIMUM_DECREASED #/minimum"}},
      {"maximum decreased",
       R"({"type": "number", "maximum": 100})",
       R"({"type": "number", "maximum": 50})",
       false,
       {"MAXIMUM_DECREASED #/maximum"}},
      {"maximum same value written differently",
       R"({"type": "number", "maximum": 10})",
       R"({"type": "number", "maximum": 10.0})",
       true,
       {}},
      {"exclusiveMinimum increased",
       R"({"type": "number", "exclusiveMinimum": 0})",
       R"({"type": "number", "exclusiveMinimum": 1})",
       false,
       {"EXCLUSIVE_MINIMUM_INCREASED #/exclusiveMinimum"}},
      {"multipleOf reduced",
       R"({"type": "integer", "multipleOf": 10})",
       R"({"type": "integer", "multipleOf": 5})",
       true,
       {"MULTIPLE_OF_REDUCED #/multipleOf"}},
      {"multipleOf expanded",
       R"({"type": "integer", "multipleOf": 5})",
       R"({"type": "integer", "multipleOf": 10})",
       false,
       {"MULTIPLE_OF_EXPANDED #/multipleOf"}},
      {"multipleOf changed",
       R"({"type": "integer", "multipleOf": 10})",
       R"({"type": "integer", "multipleOf": 3})",
       false,
       {"MULTIPLE_OF_CHANGED #/multipleOf"}},
      // Properties in an open content model (additionalProperties absent).
      {"optional property added to open model",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("a": {"type": "string"}, "b": {"type": "string"})"),
       false,
       {"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"}},
      {"required property added to open model",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("a": {"type": "string"}, "b": {"type": "string"})", R"("required": ["b"])"),
       false,
       {"REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"}},
      {"required property with default added to open model",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("a": {"type": "string"}, "b": {"type": "string", "default": "x"})",
           R"("required": ["b"])"),
       false,
       {"REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"}},
      {"property with empty schema added to open model",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("a": {"type": "string"}, "b": {})"),
       true,
       {"PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"}},
      {"property removed from open model",
       Obj(R"("a": {"type": "string"}, "b": {"type": "string"})"),
       Obj(R"("a": {"type": "string"})"),
       true,
       {"PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL #/properties/b"}},
      {"property renamed in open model",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("b": {"type": "string"})"),
       false,
       {"PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL #/properties/a",
        "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"}},
      // Closed content model (additionalProperties: false).
      {"optional property added to closed model",
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": false)"),
       Obj(R"("a": {"type": "string"}, "b": {"type": "string"})",
           R"("additionalProperties": false)"),
       true,
       {"OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"}},
      {"required property added to closed model",
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": false)"),
       Obj(R"("a": {"type": "string"}, "b": {"type": "string"})",
           R"("required": ["b"], "additionalProperties": false)"),
       false,
       {"REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"}},
      {"required property with default added to closed model",
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": false)"),
       Obj(R"("a": {"type": "string"}, "b": {"type": "string", "default": ""})",
           R"("required": ["b"], "additionalProperties": false)"),
       true,
       {"REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"}},
      {"property removed from closed model",
       Obj(R"("a": {"type": "string"}, "b": {"type": "string"})",
           R"("additionalProperties": false)"),
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": false)"),
       false,
       {"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"}},
      {"false property removed from closed model",
       Obj(R"("a": {"type": "string"}, "b": false)", R"("additionalProperties": false)"),
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": false)"),
       true,
       {"PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"}},
      {"model closed",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": false)"),
       false,
       {"ADDITIONAL_PROPERTIES_REMOVED #/additionalProperties"}},
      {"model opened",
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": false)"),
       Obj(R"("a": {"type": "string"})"),
       true,
       {"ADDITIONAL_PROPERTIES_ADDED #/additionalProperties"}},
      // Partially open content model (additionalProperties or patternProperties schemas).
      {"property added, covered by additionalProperties",
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": {"type": "string"})"),
       Obj(R"("a": {"type": "string"}, "b": {"type": "string"})",
           R"("additionalProperties": {"type": "string"})"),
       true,
       {"PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"}},
      {"property added, not covered by additionalProperties",
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": {"type": "string"})"),
       Obj(R"("a": {"type": "string"}, "b": {"type": "integer"})",
           R"("additionalProperties": {"type": "string"})"),
       false,
       {"TYPE_CHANGED #/properties/b",
        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"}},
      {"property removed, covered by additionalProperties",
       Obj(R"("a": {"type": "string"}, "b": {"type": "string"})",
           R"("additionalProperties": {"type": "string"})"),
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": {"type": "string"})"),
       true,
       {"PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/b"}},
      {"property added, covered by patternProperties",
       Obj(R"("a": {"type": "string"})", R"("patternProperties": {"^x_": {"type": "integer"}})"),
       Obj(R"("a": {"type": "string"}, "x_count": {"type": "integer", "minimum": 0})",
           R"("patternProperties": {"^x_": {"type": "integer"}})"),
       false,
       {"MINIMUM_ADDED #/properties/x_count/minimum",
        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/x_count",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/x_count"}},
      {"additionalProperties schema added",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": {"type": "string"})"),
       false,
       {"ADDITIONAL_PROPERTIES_NARROWED #/additionalProperties"}},
      {"additionalProperties schema removed",
       Obj(R"("a": {"type": "string"})", R"("additionalProperties": {"type": "string"})"),
       Obj(R"("a": {"type": "string"})"),
       true,
       {"ADDITIONAL_PROPERTIES_EXTENDED #/additionalProperties"}},
      // Required.
      {"required added",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("a": {"type": "string"})", R"("required": ["a"])"),
       false,
       {"REQUIRED_ATTRIBUTE_ADDED #/required/a"}},
      {"required removed",
       Obj(R"("a": {"type": "string"})", R"("required": ["a"])"),
       Obj(R"("a": {"type": "string"})"),
       true,
       {"REQUIRED_ATTRIBUTE_REMOVED #/required/a"}},
      {"required with default added",
       Obj(R"("a": {"type": "string"})"),
       Obj(R"("a": {"type": "string", "default": "x"})", R"("required": ["a"])"),
       true,
       {"REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED #/required/a", "DEFAULT_CHANGED #/properties/a"}},
      {"nested property added to open model",
       Obj(R"("location": {"type": "object", "properties": {"city": {"type": "string"}}})"),
       Obj(R"("location": {"type": "object", "properties": {"city": {"type": "string"},
              "zip": {"type": "string"}}})"),
       false,
       {"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/location/properties/zip"}},
      {"maxProperties added",
       R"({"type": "object"})",
       R"({"type": "object", "maxProperties": 3})",
       false,
       {"MAX_PROPERTIES_ADDED #/maxProperties"}},
      {"dependency array extended",
       R"({"dependencies": {"a": ["b"]}})",
       R"({"dependencies": {"a": ["b", "c"]}})",
       false,
       {"DEPENDENCY_ARRAY_EXTENDED #/dependencies/a"}},
      // Enums and const.
      {"enum extended",
       R"({"enum": ["a", "b"]})",
       R"({"enum": ["a", "b", "c"]})",
       true,
       {"ENUM_ARRAY_EXTENDED #/enum"}},
      {"enum narrowed",
       R"({"enum": ["a", "b"]})",
       R"({"enum": ["a"]})",
       false,
       {"ENUM_ARRAY_NARROWED #/enum"}},
      {"enum changed",
       R"({"enum": ["a", "b"]})",
       R"({"enum": ["a", "c"]})",
       false,
       {"ENUM_ARRAY_CHANGED #/enum"}},
      {"typed enum extended",
       R"({"type": "string", "enum": ["a"]})",
       R"({"type": "string", "enum": ["a", "b"]})",
       true,
       {"ENUM_ARRAY_EXTENDED #/allOf/1/enum"}},
      {"enum removed from typed enum",
       R"({"type": "string", "enum": ["a"]})",
       kStr,
       true,
       {"PRODUCT_TYPE_NARROWED #/"}},
      {"enum added to a type",
       kStr,
       R"({"type": "string", "enum": ["a"]})",
       false,
       {"TYPE_CHANGED #/"}},
      {"const changed",
       R"({"const": 1})",
       R"({"const": 2})",
       false,
       {"ENUM_ARRAY_CHANGED #/const"}},
      // Combined schemas.
      {"oneOf extended",
       R"({"oneOf": [{"type": "string"}, {"type": "integer"}]})",
       R"({"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]})",
       true,
       {"SUM_TYPE_EXTENDED #/"}},
      {"oneOf narrowed",
       R"({"oneOf": [{"type": "string"}, {"type": "integer"}]})",
       R"({"oneOf": [{"type": "string"}]})",
       false,
       {"SUM_TYPE_NARROWED #/"}},
      {"anyOf to oneOf",
       R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})",
       R"({"oneOf": [{"type": "string"}, {"type": "integer"}]})",
       false,
       {"COMBINED_TYPE_CHANGED #/"}},
      {"oneOf to anyOf",
       R"({"oneOf": [{"type": "string"}, {"type": "integer"}]})",
       R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})",
       true,
       {"COMBINED_TYPE_EXTENDED #/"}},
      {"allOf extended",
       R"({"allOf": [{"type": "string"}]})",
       R"({"allOf": [{"type": "string"}, {"maxLength": 3}]})",
       false,
       {"PRODUCT_TYPE_EXTENDED #/"}},
      {"anyOf subschema changed",
       R"({"anyOf": [{"type": "string"}]})",
       R"({"anyOf": [{"type": "integer"}]})",
       false,
       {"COMBINED_TYPE_SUBSCHEMAS_CHANGED #/"}},
      {"anyOf subschema widened",
       R"({"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]})",
       R"({"anyOf": [{"type": "string", "maxLength": 9}, {"type": "null"}]})",
       true,
       {"MAX_LENGTH_INCREASED #/anyOf/0/maxLength"}},
      {"not narrowed",
       R"({"not": {"type": ["string", "null"]}})",
       R"({"not": {"type": "string"}})",
       true,
       {"NOT_TYPE_NARROWED #/not"}},
      {"not extended",
       R"({"not": {"type": "string"}})",
       R"({"not": {"type": ["string", "null"]}})",
       false,
       {"NOT_TYPE_EXTENDED #/not"}},
      // Arrays.
      {"items type changed",
       R"({"type": "array", "items": {"type": "string"}})",
       R"({"type": "array", "items": {"type": "integer"}})",
       false,
       {"TYPE_CHANGED #/items"}},
      {"items added",
       R"({"type": "array"})",
       R"({"type": "array", "items": {"type": "string"}})",
       false,
       {"SCHEMA_ADDED #/items"}},
      {"items removed",
       R"({"type": "array", "items": {"type": "string"}})",
       R"({"type": "array"})",
       true,
       {"SCHEMA_REMOVED #/items"}},
      {"maxItems decreased and uniqueItems added",
       R"({"type": "array", "maxItems": 5})",
       R"({"type": "array", "maxItems": 4, "uniqueItems": true})",
       false,
       {"MAX_ITEMS_DECREASED #/maxItems", "UNIQUE_ITEMS_ADDED #/uniqueItems"}},
      {"minItems decreased",
       R"({"type": "array", "minItems": 2})",
       R"({"type": "array", "minItems": 1})",
       true,
       {"MIN_ITEMS_DECREASED #/minItems"}},
      {"tuple item added to open model",
       R"({"type": "array", "items": [{"type": "string"}]})",
       R"({"type": "array", "items": [{"type": "string"}, {"type": "integer"}]})",
       false,
       {"ITEM_ADDED_TO_OPEN_CONTENT_MODEL #/items/1"}},
      {"tuple item added to closed model",
       R"({"type": "array", "items": [{"type": "string"}], "additionalItems": false})",
       R"({"type": "array", "items": [{"type": "string"}, {"type": "integer"}],
           "additionalItems": false})",
       true,
       {"ITEM_ADDED_TO_CLOSED_CONTENT_MODEL #/items/1"}},
      {"tuple item removed from closed model",
       R"({"type": "array", "items": [{"type": "string"}, {"type": "integer"}],
           "additionalItems": false})",
       R"({"type": "array", "items": [{"type": "string"}], "additionalItems": false})",
       false,
       {"ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL #/items/1"}},
      {"tuple item removed from open model",
       R"({"type": "array", "items": [{"type": "string"}, {"type": "integer"}]})",
       R"({"type": "array", "items": [{"type": "string"}]})",
       true,
       {"ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL #/items/1"}},
      // Annotations.
      {"title, description and default changed",
       R"({"type": "string", "title": "a", "description": "x", "default": "p"})",
       R"({"type": "string", "title": "b", "description": "y", "default": "q"})",
       true,
       {"TITLE_CHANGED #/", "DESCRIPTION_CHANGED #/", "DEFAULT_CHANGED #/"}},
      // References.
      {"referenced schema narrowed",
       with_ref,
       with_ref,
       false,
       {"MAX_LENGTH_DECREASED #/properties/home/properties/city/maxLength"},
       {address_v1},
       {address_v2}},
      {"referenced schema widened",
       with_ref,
       with_ref,
       true,
       {"MAX_LENGTH_INCREASED #/properties/home/properties/city/maxLength"},
       {address_v1},
       {address_v3}},
      {"inlined reference",
       with_ref,
       Obj(R"("home": {"type": "object", "properties": {"city": {"type": "string",
              "maxLength": 40}}})"),
       true,
       {},
       {address_v1}},
      {"recursive schema unchanged", tree, tree, true, {}},
      {"recursive schema widened", tree, tree_wider, true, {"TYPE_EXTENDED #/properties/value"}},
  };
}

std::vector<std::string> Strings(const std::vector<json_schema::Difference>& diffs) {
  std::vector<std::string> out;
  for (const auto& d : diffs) out.push_back(d.type + " " + d.path);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(JsonSchemaCompatibility, TableOfPairs) {
  const auto table = Table();
  EXPECT_EQ(table.size(), 81u);
  for (const auto& pair : table) {
    SCOPED_TRACE(pair.name);
    auto original = JsonSchemaFormat().Parse(pair.original, pair.original_refs);
    auto update = JsonSchemaFormat().Parse(pair.update, pair.update_refs);
    ASSERT_TRUE(original.ok()) << original.status().message();
    ASSERT_TRUE(update.ok()) << update.status().message();
    auto expected = pair.differences;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(Strings(json_schema::SchemaDifferences(**original, **update)), expected);
    const auto incompatibilities = (*update)->BackwardIncompatibilities(**original);
    EXPECT_EQ(incompatibilities.empty(), pair.compatible);
  }
}

TEST(JsonSchemaCompatibility, MessagesNameTypeAndPath) {
  auto original = JsonSchemaFormat().Parse(Obj(R"("a": {"type": "string"})"), {});
  auto update = JsonSchemaFormat().Parse(
      Obj(R"("a": {"type": "integer"}, "x": {"type": "string"})", R"("required": ["a"])"), {});
  ASSERT_TRUE(original.ok());
  ASSERT_TRUE(update.ok());
  auto messages = (*update)->BackwardIncompatibilities(**original);
  std::sort(messages.begin(), messages.end());
  const std::vector<std::string> expected = {
      "{errorType:\"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL\", description:\"The new "
      "schema has an open content model and has a property or item at path '#/properties/x' "
      "which is missing in the old schema\"}",
      "{errorType:\"REQUIRED_ATTRIBUTE_ADDED\", description:\"The keyword at path "
      "'#/required/a' in the new schema is not present in the old schema\"}",
      "{errorType:\"TYPE_CHANGED\", description:\"A type at path '#/properties/a' is different "
      "between the new schema and the old schema\"}",
  };
  EXPECT_EQ(messages, expected);
  // Compatible changes are not reported.
  EXPECT_TRUE((*original)->BackwardIncompatibilities(**original).empty());
}

TEST(JsonSchemaCompatibility, OtherSchemaTypeIsIncompatible) {
  class Other final : public ParsedSchema {
   public:
    SchemaType type() const override { return SchemaType::kAvro; }
    const std::string& canonical() const override { return text_; }
    const std::string& text() const override { return text_; }
    std::vector<std::string> BackwardIncompatibilities(const ParsedSchema&) const override {
      return {};
    }
    std::unique_ptr<RecordValidator> NewValidator() const override { return nullptr; }
    std::unique_ptr<RecordCodec> NewCodec() const override { return nullptr; }

   private:
    std::string text_ = "\"string\"";
  };
  auto json = JsonSchemaFormat().Parse(kStr, {});
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)->BackwardIncompatibilities(Other()),
            std::vector<std::string>{"Incompatible because of different schema type"});
}

}  // namespace
}  // namespace dataforge::registry
