#include "registry/json/json_schema_diff.h"

namespace dataforge::registry::json_schema {

std::vector<Difference> CompareSchemas(const SchemaDocuments&, const SchemaDocuments&) {
  return {};
}
bool IsCompatibleChange(std::string_view) {
  return true;
}
std::string DifferenceMessage(const Difference& d) {
  return d.type + " " + d.path;
}

}  // namespace dataforge::registry::json_schema
