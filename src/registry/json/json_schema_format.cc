#include "registry/json/json_schema_format.h"

#include "registry/json/valijson_includes.h"  // first: see there

#include <simdjson.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "registry/json/canonical_json.h"
#include "registry/json/fast_path.h"
#include "registry/json/json_schema_documents.h"
#include "registry/json/simdjson_adapter.h"
#include "registry/json/validation_error.h"

namespace dataforge::registry {
namespace json_schema {
namespace {

using valijson::adapters::SimdjsonAdapter;

// valijson resolves a relative "$ref" document against the current base URI by concatenation;
// a name that is one of the schema's references is taken as it is (Confluent: the reference
// name is what "$ref" says).
class ReferenceAwareParser : public valijson::SchemaParser {
 public:
  explicit ReferenceAwareParser(const SchemaDocuments& docs)
      : valijson::SchemaParser(valijson::SchemaParser::kDraft7), docs_(docs) {}

 private:
  opt::optional<std::string> resolveDocumentUri(
      const opt::optional<std::string>& resolution_scope,
      const opt::optional<std::string>& document_uri) override {
    if (document_uri && docs_.Reference(*document_uri) != nullptr) return document_uri;
    // valijson's own rule otherwise, with a relative URI resolved against the scope's directory
    // (valijson appends it to the whole scope).
    if (!resolution_scope) return document_uri;
    if (!document_uri) return resolution_scope;
    if (valijson::internal::uri::isUriAbsolute(*document_uri) ||
        valijson::internal::uri::isUrn(*document_uri)) {
      return document_uri;
    }
    const size_t slash = resolution_scope->rfind('/');
    return (slash == std::string::npos ? std::string() : resolution_scope->substr(0, slash + 1)) +
           *document_uri;
  }

  const SchemaDocuments& docs_;
};

// What a validation found, or nullopt; `validator` keeps valijson's regex cache between calls.
std::optional<ValidationError> ValidateRecord(const valijson::Schema& schema,
                                              simdjson::dom::element schema_root,
                                              const FastSchema* fast,
                                              valijson::Validator* validator,
                                              simdjson::dom::parser* parser, std::string* buffer,
                                              std::string_view json) {
  // A padded copy in a buffer kept between calls (simdjson would allocate one per call).
  buffer->reserve(json.size() + simdjson::SIMDJSON_PADDING);
  buffer->assign(json.data(), json.size());
  simdjson::dom::element root;
  if (auto err = parser->parse(buffer->data(), buffer->size(), false).get(root); err) {
    return ValidationError{"", "json",
                           "not valid JSON: " + std::string(simdjson::error_message(err))};
  }
  if (fast != nullptr && fast->Accepts(root)) return std::nullopt;
  try {
    const SimdjsonAdapter adapter(root);
    // Without the fast path, a first pass that stops at the first failure; a record the fast
    // path did not accept most likely fails, so its errors are collected at once.
    if (fast == nullptr && validator->validate(schema, adapter, nullptr)) return std::nullopt;
    valijson::ValidationResults results;
    if (validator->validate(schema, adapter, &results)) return std::nullopt;
    if (results.numErrors() == 0) {
      return ValidationError{"", "schema", "the record does not match the schema"};
    }
    return FirstValidationError(results, root, schema_root);
  } catch (const std::exception& e) {
    return ValidationError{"", "schema", std::string("cannot validate: ") + e.what()};
  }
}

class JsonParsedSchema;

class JsonValidator final : public RecordValidator {
 public:
  explicit JsonValidator(std::shared_ptr<const JsonParsedSchema> schema, bool use_fast = true);
  std::optional<ValidationError> Validate(std::string_view json) override;

 private:
  std::shared_ptr<const JsonParsedSchema> schema_;
  bool use_fast_;
  valijson::Validator validator_{valijson::Validator::kStrongTypes};
  simdjson::dom::parser parser_;
  std::string buffer_;
};

class JsonCodec final : public RecordCodec {
 public:
  explicit JsonCodec(std::shared_ptr<const JsonParsedSchema> schema)
      : validator_(std::move(schema)) {}
  Status Encode(std::string_view json, std::string* out) override {
    if (auto error = validator_.Validate(json)) {
      return Status::InvalidArgument("record does not match the JSON Schema at '" + error->path +
                                     "' (" + error->rule + "): " + error->message);
    }
    out->append(json);
    return Status::OK();
  }
  Status Decode(std::string_view payload, std::string* out) override {
    if (auto error = validator_.Validate(payload)) {
      return Status::InvalidArgument("payload does not match the JSON Schema at '" + error->path +
                                     "' (" + error->rule + "): " + error->message);
    }
    out->append(payload);
    return Status::OK();
  }

 private:
  JsonValidator validator_;
};

class JsonParsedSchema final : public ParsedSchema,
                               public std::enable_shared_from_this<JsonParsedSchema> {
 public:
  JsonParsedSchema(std::string text, std::string canonical, std::unique_ptr<SchemaDocuments> docs,
                   std::unique_ptr<valijson::Schema> schema)
      : text_(std::move(text)),
        canonical_(std::move(canonical)),
        docs_(std::move(docs)),
        schema_(std::move(schema)),
        fast_(FastSchema::Compile(docs_->root())) {}

  SchemaType type() const override { return SchemaType::kJson; }
  const std::string& canonical() const override { return canonical_; }
  const std::string& text() const override { return text_; }

  std::vector<std::string> BackwardIncompatibilities(const ParsedSchema& previous) const override {
    const auto* old = dynamic_cast<const JsonParsedSchema*>(&previous);
    if (old == nullptr) return {"Incompatible because of different schema type"};
    std::vector<std::string> messages;
    for (const auto& d : CompareSchemas(*old->docs_, *docs_)) {
      if (!IsCompatibleChange(d.type)) messages.push_back(DifferenceMessage(d));
    }
    return messages;
  }

  std::unique_ptr<RecordValidator> NewValidator() const override {
    return std::make_unique<JsonValidator>(shared_from_this());
  }
  std::unique_ptr<RecordCodec> NewCodec() const override {
    return std::make_unique<JsonCodec>(shared_from_this());
  }

  const valijson::Schema& schema() const { return *schema_; }
  const FastSchema* fast() const { return fast_ ? &*fast_ : nullptr; }
  std::unique_ptr<RecordValidator> NewValijsonValidator() const {
    return std::make_unique<JsonValidator>(shared_from_this(), false);
  }
  const SchemaDocuments& documents() const { return *docs_; }

 private:
  std::string text_;
  std::string canonical_;
  std::unique_ptr<SchemaDocuments> docs_;  // outlives schema_, which was built from it
  std::unique_ptr<valijson::Schema> schema_;
  std::optional<FastSchema> fast_;
};

// Records nest at most this deep (simdjson refuses deeper ones: rule "json"): valijson
// validates recursively, and a recursive schema would follow a record of simdjson's default
// depth (1024) down the stack of a pipeline thread.
constexpr size_t kMaxRecordDepth = 128;

JsonValidator::JsonValidator(std::shared_ptr<const JsonParsedSchema> schema, bool use_fast)
    : schema_(std::move(schema)), use_fast_(use_fast) {
  // Only fails to allocate memory; parse() then reports it per record.
  if (parser_.allocate(4096, kMaxRecordDepth) != simdjson::SUCCESS) return;
}

std::optional<ValidationError> JsonValidator::Validate(std::string_view json) {
  return ValidateRecord(schema_->schema(), schema_->documents().root(),
                        use_fast_ ? schema_->fast() : nullptr, &validator_, &parser_, &buffer_,
                        json);
}

// One line from valijson's parse error.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

class JsonFormat final : public SchemaFormat {
 public:
  SchemaType type() const override { return SchemaType::kJson; }

  Result<std::shared_ptr<const ParsedSchema>> Parse(
      std::string_view schema, const std::vector<ResolvedReference>& references) const override {
    std::unique_ptr<SchemaDocuments> docs;
    DF_ASSIGN_OR_RETURN(docs, SchemaDocuments::Parse(schema, references));
    std::string canonical;
    DF_ASSIGN_OR_RETURN(canonical, CanonicalJson(schema));

    auto parsed = std::make_unique<valijson::Schema>();
    std::string unknown_ref;
    const SchemaDocuments& d = *docs;
    auto fetch = [&d, &unknown_ref](const std::string& uri) -> const simdjson::dom::element* {
      const ParsedDocument* ref = d.Reference(uri);
      if (ref == nullptr) {
        if (unknown_ref.empty()) unknown_ref = uri;
        return nullptr;
      }
      return &ref->root;
    };
    auto release = [](const simdjson::dom::element*) {};  // the documents own them
    try {
      ReferenceAwareParser parser(d);
      parser.populateSchema(SimdjsonAdapter(d.root()), *parsed, fetch, release);
    } catch (const std::exception& e) {
      if (!unknown_ref.empty()) {
        return Status::InvalidArgument("unknown $ref '" + unknown_ref +
                                       "': not one of the schema's references (" +
                                       d.ReferenceNames() + ")");
      }
      return Status::InvalidArgument("invalid JSON Schema: " + OneLine(e.what()));
    }
    return std::shared_ptr<const ParsedSchema>(std::make_shared<JsonParsedSchema>(
        std::string(schema), std::move(canonical), std::move(docs), std::move(parsed)));
  }
};

}  // namespace

std::vector<Difference> SchemaDifferences(const ParsedSchema& original,
                                          const ParsedSchema& update) {
  const auto* o = dynamic_cast<const JsonParsedSchema*>(&original);
  const auto* u = dynamic_cast<const JsonParsedSchema*>(&update);
  if (o == nullptr || u == nullptr) return {};
  return CompareSchemas(o->documents(), u->documents());
}

bool HasFastPath(const ParsedSchema& schema) {
  const auto* s = dynamic_cast<const JsonParsedSchema*>(&schema);
  return s != nullptr && s->fast() != nullptr;
}

std::unique_ptr<RecordValidator> NewValijsonOnlyValidator(const ParsedSchema& schema) {
  const auto* s = dynamic_cast<const JsonParsedSchema*>(&schema);
  return s == nullptr ? nullptr : s->NewValijsonValidator();
}

}  // namespace json_schema

const SchemaFormat& JsonSchemaFormat() {
  static const json_schema::JsonFormat format;
  return format;
}

}  // namespace dataforge::registry
