// The registry with the real formats (registry/avro/, registry/json/) over a SQLite staging
// file: the same schema written differently has one id, Avro's reader/writer rules decide 409,
// references name types or documents of other subjects, and ParsedById gives the pipeline a
// working codec and validator. The rules over both backends: tests/conformance/registry_*.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "registry/registry_error.h"
#include "registry/schema_registry.h"

namespace dataforge::registry {
namespace {

class RegistryFormatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_registry_formats_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto r = SchemaRegistry::Open("sqlite://" + dir_ + "/staging.db", OpenMode::kReadWrite);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::move(r).value();
  }
  void TearDown() override {
    registry_.reset();
    std::filesystem::remove_all(dir_);
  }

  Result<int64_t> Reg(std::string_view subject, std::string text,
                      std::vector<SchemaReference> refs = {}) {
    return registry_->Register(subject, SchemaText{SchemaType::kAvro, std::move(text), refs});
  }

  static std::string ErrorOf(const Result<int64_t>& r) {
    if (r.ok()) return "OK " + std::to_string(*r);
    RegistryError e = RegistryErrorOf(r.status());
    return std::to_string(e.error_code) + " " + e.message;
  }

  std::string dir_;
  std::unique_ptr<SchemaRegistry> registry_;
};

constexpr const char* kUser =
    R"({"type":"record","name":"User","namespace":"com.example","fields":[)"
    R"({"name":"id","type":"long"},{"name":"name","type":"string"}]})";
// The same schema: other whitespace, other attribute order.
constexpr const char* kUserSpaced = R"({
  "namespace": "com.example", "name": "User", "type": "record",
  "fields": [ {"type": "long", "name": "id"}, {"name": "name", "type": "string"} ]
})";

TEST_F(RegistryFormatsTest, OneSchemaWrittenTwoWaysHasOneIdInEverySubject) {
  EXPECT_EQ(ErrorOf(Reg("users-value", kUser)), "OK 1");
  EXPECT_EQ(ErrorOf(Reg("users-value", kUserSpaced)), "OK 1");
  EXPECT_EQ(ErrorOf(Reg("people-value", kUserSpaced)), "OK 1");
  EXPECT_EQ(*registry_->Versions("users-value", false), std::vector<int32_t>{1});
  // The id answers the text as first registered.
  EXPECT_EQ(registry_->SchemaById(1)->schema.schema, kUser);
  auto found =
      registry_->Lookup("people-value", SchemaText{SchemaType::kAvro, kUser, {}}, false, false);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->version, 1);
  EXPECT_EQ(found->id, 1);
}

TEST_F(RegistryFormatsTest, AvroResolutionDecidesCompatibility) {
  ASSERT_EQ(ErrorOf(Reg("users-value", kUser)), "OK 1");
  const std::string with_default =
      R"({"type":"record","name":"User","namespace":"com.example","fields":[)"
      R"({"name":"id","type":"long"},{"name":"name","type":"string"},)"
      R"({"name":"age","type":"int","default":0}]})";
  const std::string without_default =
      R"({"type":"record","name":"User","namespace":"com.example","fields":[)"
      R"({"name":"id","type":"long"},{"name":"name","type":"string"},)"
      R"({"name":"email","type":"string"}]})";
  EXPECT_EQ(ErrorOf(Reg("users-value", without_default)),
            "409 Schema being registered is incompatible with an earlier schema for subject "
            "\"users-value\", details: [{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', "
            "description:'The field 'email' at path '/fields/2' in the reader schema has no "
            "default value and is missing in the writer schema', additionalInfo:'email'}, "
            "{validateFields: 'false', compatibility: 'BACKWARD'}]");
  EXPECT_EQ(ErrorOf(Reg("users-value", with_default)), "OK 2");
  // FORWARD: the old schema must read the new; dropping a field without default is fine,
  // changing a type is not.
  ASSERT_TRUE(registry_->SetCompatibility("users-value", Compatibility::kForward).ok());
  const std::string renamed_type =
      R"({"type":"record","name":"User","namespace":"com.example","fields":[)"
      R"({"name":"id","type":"string"},{"name":"name","type":"string"}]})";
  EXPECT_EQ(ErrorOf(Reg("users-value", renamed_type)),
            "409 Schema being registered is incompatible with an earlier schema for subject "
            "\"users-value\", details: [{errorType:'TYPE_MISMATCH', description:'The type (path "
            "'/fields/0/type') of a field in the reader schema does not match with the writer "
            "schema', additionalInfo:'reader type: LONG not compatible with writer type: STRING'}, "
            "{validateFields: 'false', compatibility: 'FORWARD'}]");
}

TEST_F(RegistryFormatsTest, ReferencesNameTypesOfOtherSubjects) {
  const std::string address =
      R"({"type":"record","name":"Address","namespace":"com.example","fields":[)"
      R"({"name":"city","type":"string"}]})";
  const std::string customer =
      R"({"type":"record","name":"Customer","namespace":"com.example","fields":[)"
      R"({"name":"home","type":"com.example.Address"}]})";
  ASSERT_EQ(ErrorOf(Reg("address-value", address)), "OK 1");
  EXPECT_EQ(ErrorOf(Reg("customer-value", customer, {{"com.example.Address", "address-value", 1}})),
            "OK 2");
  EXPECT_EQ(*registry_->ReferencedBy("address-value", 1), std::vector<int64_t>{2});
  EXPECT_EQ(ErrorOf(Reg("other-value", customer)),
            "42201 Invalid schema: invalid Avro schema: unknown type 'com.example.Address' (not "
            "defined before this use and not a referenced schema's type) at /fields/0/type");
  EXPECT_EQ(ErrorOf(Reg("other-value", customer, {{"com.example.Address", "nope", 1}})),
            "42201 Invalid schema: reference 'com.example.Address' (subject 'nope' version 1) not "
            "found");

  // The pipeline decodes by id: the parsed schema resolves its references.
  auto parsed = registry_->ParsedById(2);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto codec = (*parsed)->NewCodec();
  std::string payload, json;
  ASSERT_TRUE(codec->Encode(R"({"home":{"city":"Oslo"}})", &payload).ok());
  EXPECT_EQ(payload, std::string("\x08Oslo", 5));
  ASSERT_TRUE(codec->Decode(payload, &json).ok());
  EXPECT_EQ(json, R"({"home":{"city":"Oslo"}})");
}

TEST_F(RegistryFormatsTest, MalformedAvroIs42201) {
  EXPECT_EQ(
      ErrorOf(Reg("s", R"({"type":"record","name":"X"})")),
      "42201 Invalid schema: invalid Avro schema: record 'X' without a \"fields\" array at /");
  EXPECT_EQ(ErrorOf(Reg("s", "{not json")),
            "42201 Invalid schema: invalid Avro schema: not JSON (The JSON document has an "
            "improper structure: missing or superfluous commas, braces, missing keys, etc.)");
  // Nothing refused took an id.
  EXPECT_EQ(ErrorOf(Reg("s", R"("string")")), "OK 1");
}

// JSON Schema through the registry: the same document with other whitespace has one id, a
// "$ref" names a reference of another subject, ParsedById validates records.
TEST_F(RegistryFormatsTest, JsonSchemaDedupReferencesAndValidation) {
  auto json = [&](std::string_view subject, std::string text,
                  std::vector<SchemaReference> refs = {}) {
    return registry_->Register(subject, SchemaText{SchemaType::kJson, std::move(text), refs});
  };
  const std::string address = R"({"type":"object","properties":{"city":{"type":"string"}},)"
                              R"("required":["city"]})";
  EXPECT_EQ(ErrorOf(json("address-value", address)), "OK 1");
  EXPECT_EQ(ErrorOf(json("address-value", R"({ "type": "object", "properties": { "city": )"
                                          R"({ "type": "string" } }, "required": [ "city" ] })")),
            "OK 1");
  // The same text as Avro is another schema.
  EXPECT_EQ(ErrorOf(Reg("avro-value", R"("string")")), "OK 2");
  const std::string customer =
      R"({"type":"object","properties":{"home":{"$ref":"address.json"}},"required":["home"]})";
  EXPECT_EQ(ErrorOf(json("customer-value", customer, {{"address.json", "address-value", 1}})),
            "OK 3");
  EXPECT_EQ(*registry_->ReferencedBy("address-value", 1), std::vector<int64_t>{3});
  EXPECT_EQ(ErrorOf(json("other-value", customer)),
            "42201 Invalid schema: unknown $ref 'address.json': not one of the schema's "
            "references (none)");
  EXPECT_EQ(RegistryErrorOf(json("bad-value", R"({"type": 7})").status()).error_code,
            kInvalidSchema);

  // Confluent's content models: a property added to an open model is not backward compatible;
  // to a closed one (additionalProperties false) it is.
  const std::string open_v1 = R"({"type":"object","properties":{"a":{"type":"string"}}})";
  const std::string open_v2 =
      R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}})";
  EXPECT_EQ(ErrorOf(json("open-value", open_v1)), "OK 4");
  EXPECT_EQ(
      ErrorOf(json("open-value", open_v2)),
      "409 Schema being registered is incompatible with an earlier schema for subject "
      "\"open-value\", details: [{errorType:\"OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL\", "
      "description:\"The new schema has an open content model and has a property or item at "
      "path '#/properties/b' which is missing in the old schema\"}, {validateFields: 'false', "
      "compatibility: 'BACKWARD'}]");
  const std::string closed_v1 =
      R"({"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false})";
  const std::string closed_v2 =
      R"({"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},)"
      R"("additionalProperties":false})";
  EXPECT_EQ(ErrorOf(json("closed-value", closed_v1)), "OK 5");
  EXPECT_EQ(ErrorOf(json("closed-value", closed_v2)), "OK 6");

  auto parsed = registry_->ParsedById(3);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto validator = (*parsed)->NewValidator();
  EXPECT_EQ(validator->Validate(R"({"home":{"city":"Oslo"}})"), std::nullopt);
  auto failure = validator->Validate(R"({"home":{"city":7}})");
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->path, "/home/city");
  EXPECT_EQ(failure->rule, "type");
}

}  // namespace
}  // namespace dataforge::registry
