// PLACEHOLDER (groundwork for issue 17): replaced by the avro helper's implementation.
#include "registry/schema_format.h"

namespace dataforge::registry {
namespace {

class Unbuilt final : public SchemaFormat {
 public:
  SchemaType type() const override { return SchemaType::kAvro; }
  Result<std::shared_ptr<const ParsedSchema>> Parse(
      std::string_view, const std::vector<ResolvedReference>&) const override {
    return Status::Internal("the avro schema format is not built yet");
  }
};

}  // namespace

const SchemaFormat& AvroFormat() {
  static const Unbuilt format;
  return format;
}

}  // namespace dataforge::registry
