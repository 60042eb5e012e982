// Confluent's compatible difference types (STRICT) and its messages for json_schema_diff.h.
#include <algorithm>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>

#include "registry/json/json_schema_diff.h"

namespace dataforge::registry::json_schema {
namespace {

const std::set<std::string_view>& CompatibleStrict() {
  static const std::set<std::string_view> kSet = {
      "ID_CHANGED",
      "DESCRIPTION_CHANGED",
      "TITLE_CHANGED",
      "DEFAULT_CHANGED",
      "SCHEMA_REMOVED",
      "TYPE_EXTENDED",
      "MAX_LENGTH_INCREASED",
      "MAX_LENGTH_REMOVED",
      "MIN_LENGTH_DECREASED",
      "MIN_LENGTH_REMOVED",
      "PATTERN_REMOVED",
      "MAXIMUM_INCREASED",
      "MAXIMUM_REMOVED",
      "MINIMUM_DECREASED",
      "MINIMUM_REMOVED",
      "EXCLUSIVE_MAXIMUM_INCREASED",
      "EXCLUSIVE_MAXIMUM_REMOVED",
      "EXCLUSIVE_MINIMUM_DECREASED",
      "EXCLUSIVE_MINIMUM_REMOVED",
      "MULTIPLE_OF_REDUCED",
      "MULTIPLE_OF_REMOVED",
      "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
      "REQUIRED_ATTRIBUTE_REMOVED",
      "DEPENDENCY_ARRAY_NARROWED",
      "DEPENDENCY_ARRAY_REMOVED",
      "DEPENDENCY_SCHEMA_REMOVED",
      "MAX_PROPERTIES_INCREASED",
      "MAX_PROPERTIES_REMOVED",
      "MIN_PROPERTIES_DECREASED",
      "MIN_PROPERTIES_REMOVED",
      "ADDITIONAL_PROPERTIES_ADDED",
      "ADDITIONAL_PROPERTIES_EXTENDED",
      "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
      "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
      "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
      "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
      "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
      "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
      "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
      "MAX_ITEMS_INCREASED",
      "MAX_ITEMS_REMOVED",
      "MIN_ITEMS_DECREASED",
      "MIN_ITEMS_REMOVED",
      "UNIQUE_ITEMS_REMOVED",
      "ADDITIONAL_ITEMS_ADDED",
      "ADDITIONAL_ITEMS_EXTENDED",
      "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
      "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
      "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
      "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
      "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
      "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
      "ENUM_ARRAY_EXTENDED",
      "COMBINED_TYPE_EXTENDED",
      "PRODUCT_TYPE_NARROWED",
      "SUM_TYPE_EXTENDED",
      "NOT_TYPE_NARROWED",
  };
  return kSet;
}

bool In(std::string_view type, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), type) != list.end();
}

}  // namespace

bool IsCompatibleChange(std::string_view type) {
  return CompatibleStrict().count(type) > 0;
}

std::string DifferenceMessage(const Difference& d) {
  const std::string_view t = d.type;
  const std::string at = "'" + d.path + "'";
  std::string text;
  if (In(t,
         {"MAXIMUM_ADDED", "MINIMUM_ADDED", "EXCLUSIVE_MAXIMUM_ADDED", "EXCLUSIVE_MINIMUM_ADDED",
          "MULTIPLE_OF_ADDED", "MAX_LENGTH_ADDED", "MIN_LENGTH_ADDED", "PATTERN_ADDED",
          "REQUIRED_ATTRIBUTE_ADDED", "MAX_PROPERTIES_ADDED", "MIN_PROPERTIES_ADDED",
          "DEPENDENCY_ARRAY_ADDED", "DEPENDENCY_SCHEMA_ADDED", "MAX_ITEMS_ADDED", "MIN_ITEMS_ADDED",
          "UNIQUE_ITEMS_ADDED", "ADDITIONAL_ITEMS_REMOVED", "ADDITIONAL_PROPERTIES_REMOVED"})) {
    text = "The keyword at path " + at + " in the new schema is not present in the old schema";
  } else if (In(t, {"MIN_LENGTH_INCREASED", "MINIMUM_INCREASED", "EXCLUSIVE_MINIMUM_INCREASED",
                    "MIN_PROPERTIES_INCREASED", "MULTIPLE_OF_EXPANDED", "MIN_ITEMS_INCREASED"})) {
    text =
        "The value at path " + at + " in the new schema is more than its value in the old schema";
  } else if (In(t, {"MAX_LENGTH_DECREASED", "MAXIMUM_DECREASED", "MAX_ITEMS_DECREASED",
                    "EXCLUSIVE_MAXIMUM_DECREASED", "MAX_PROPERTIES_DECREASED"})) {
    text =
        "The value at path " + at + " in the new schema is less than its value in the old schema";
  } else if (In(t, {"PATTERN_CHANGED", "MULTIPLE_OF_CHANGED", "DEPENDENCY_ARRAY_CHANGED"})) {
    text = "The value at path " + at + " is different between the new and old schema";
  } else if (In(t, {"ADDITIONAL_ITEMS_NARROWED", "ENUM_ARRAY_NARROWED", "SUM_TYPE_NARROWED",
                    "ADDITIONAL_PROPERTIES_NARROWED"})) {
    text = "An array or combined type at path " + at +
           " has fewer elements in the new schema than the old schema";
  } else if (In(t, {"DEPENDENCY_ARRAY_EXTENDED", "PRODUCT_TYPE_EXTENDED", "SUM_TYPE_EXTENDED",
                    "NOT_TYPE_EXTENDED"})) {
    text = "An array or combined type at path " + at +
           " has more elements in the new schema than the old schema";
  } else if (In(t, {"TYPE_CHANGED", "TYPE_NARROWED", "COMBINED_TYPE_CHANGED",
                    "COMBINED_TYPE_SUBSCHEMAS_CHANGED", "ENUM_ARRAY_CHANGED"})) {
    text = "A type at path " + at + " is different between the new schema and the old schema";
  } else if (In(t, {"REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
                    "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL",
                    "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
                    "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"})) {
    text = "The new schema has an open content model and has a property or item at path " + at +
           " which is missing in the old schema";
  } else if (t == "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL") {
    text = "The new schema has an unopen content model and has a required property at path " + at +
           " which is missing in the old schema";
  } else if (In(t, {"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
                    "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"})) {
    text =
        "The new has a closed content model and is missing a property or item present at "
        "path " +
        at + " in the old schema";
  } else if (In(t, {"PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                    "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"})) {
    text = "A property or item is missing in the new schema but present at path " + at +
           " in the old schema and is not covered by its partially open content model";
  } else if (In(t, {"PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                    "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"})) {
    text = "The new schema has a property or item at path " + at +
           " which is missing in the old schema and is not covered by its partially open "
           "content model";
  } else {
    text = "The schemas differ at path " + at;
  }
  return "{errorType:\"" + d.type + "\", description:\"" + text + "\"}";
}

}  // namespace dataforge::registry::json_schema