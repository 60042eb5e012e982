// PLACEHOLDER (groundwork for issue 17): replaced by the json helper's implementation.
#include "registry/schema_format.h"

namespace dataforge::registry {
namespace {

class Unbuilt final : public SchemaFormat {
 public:
  SchemaType type() const override { return SchemaType::kJson; }
  Result<std::shared_ptr<const ParsedSchema>> Parse(
      std::string_view, const std::vector<ResolvedReference>&) const override {
    return Status::Internal("the json schema format is not built yet");
  }
};

}  // namespace

const SchemaFormat& JsonSchemaFormat() {
  static const Unbuilt format;
  return format;
}

}  // namespace dataforge::registry
