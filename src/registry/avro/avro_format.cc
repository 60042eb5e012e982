// The Avro schema type of the registry (registry/schema_format.h): parsing with references and
// the canonical text (avro_schema.h), reader/writer compatibility (avro_compatibility.h), and
// plain JSON records validated and encoded (avro_json.h).
#include <fmt/format.h>
#include <simdjson.h>

#include "registry/avro/avro_compatibility.h"
#include "registry/avro/avro_json.h"
#include "registry/avro/avro_schema.h"
#include "registry/schema_format.h"

namespace dataforge::registry {
namespace {

using avro::AvroSchema;

// Parses one JSON document per call, reusing the parser's buffers.
class JsonInput {
 public:
  std::optional<ValidationError> Parse(std::string_view json, simdjson::dom::element* out) {
    if (auto err = parser_.parse(json.data(), json.size(), true).get(*out); err) {
      return ValidationError{"", "json", fmt::format("not JSON: {}", simdjson::error_message(err))};
    }
    return std::nullopt;
  }

 private:
  simdjson::dom::parser parser_;
};

class AvroValidator final : public RecordValidator {
 public:
  explicit AvroValidator(std::shared_ptr<const AvroSchema> schema) : schema_(std::move(schema)) {}
  std::optional<ValidationError> Validate(std::string_view json) override {
    simdjson::dom::element value;
    if (auto err = input_.Parse(json, &value)) return err;
    auto mismatch = walker_.Run(schema_->root(), value, nullptr, json.size());
    if (!mismatch) return std::nullopt;
    return ValidationError{std::move(mismatch->path), std::move(mismatch->rule),
                           std::move(mismatch->message)};
  }

 private:
  std::shared_ptr<const AvroSchema> schema_;
  JsonInput input_;
  avro::JsonToAvro walker_;
};

class AvroCodec final : public RecordCodec {
 public:
  explicit AvroCodec(std::shared_ptr<const AvroSchema> schema) : schema_(std::move(schema)) {}
  Status Encode(std::string_view json, std::string* out) override {
    simdjson::dom::element value;
    if (auto err = input_.Parse(json, &value)) {
      return Status::InvalidArgument(fmt::format("record is {}", err->message));
    }
    auto mismatch = walker_.Run(schema_->root(), value, out, json.size());
    if (!mismatch) return Status::OK();
    return Status::InvalidArgument(
        fmt::format("record does not match the Avro schema at '{}' ({}): {}", mismatch->path,
                    mismatch->rule, mismatch->message));
  }
  Status Decode(std::string_view payload, std::string* out) override {
    return decoder_.Run(schema_->root(), payload, out);
  }

 private:
  std::shared_ptr<const AvroSchema> schema_;
  JsonInput input_;
  avro::JsonToAvro walker_;
  avro::AvroToJson decoder_;
};

class AvroParsedSchema final : public ParsedSchema {
 public:
  AvroParsedSchema(std::shared_ptr<const AvroSchema> schema, std::string text)
      : schema_(std::move(schema)), text_(std::move(text)) {}
  SchemaType type() const override { return SchemaType::kAvro; }
  const std::string& canonical() const override { return schema_->canonical(); }
  const std::string& text() const override { return text_; }
  std::vector<std::string> BackwardIncompatibilities(const ParsedSchema& previous) const override {
    const auto* prev = dynamic_cast<const AvroParsedSchema*>(&previous);
    if (prev == nullptr) return {"Incompatible because of different schema type"};
    return avro::ReaderWriterIncompatibilities(schema_->root(), prev->schema_->root());
  }
  std::unique_ptr<RecordValidator> NewValidator() const override {
    return std::make_unique<AvroValidator>(schema_);
  }
  std::unique_ptr<RecordCodec> NewCodec() const override {
    return std::make_unique<AvroCodec>(schema_);
  }

 private:
  std::shared_ptr<const AvroSchema> schema_;
  std::string text_;
};

class Format final : public SchemaFormat {
 public:
  SchemaType type() const override { return SchemaType::kAvro; }
  Result<std::shared_ptr<const ParsedSchema>> Parse(
      std::string_view schema, const std::vector<ResolvedReference>& references) const override {
    DF_ASSIGN_OR_RETURN(auto parsed, avro::ParseAvroSchema(schema, references));
    return std::shared_ptr<const ParsedSchema>(
        std::make_shared<AvroParsedSchema>(std::move(parsed), std::string(schema)));
  }
};

}  // namespace

const SchemaFormat& AvroFormat() {
  static const Format format;
  return format;
}

}  // namespace dataforge::registry
