// The registry's request bodies and answer shapes (registry_json.h), without a server: what
// Confluent's clients send and read, and the errors with their codes.
#include "serve/registry/registry_json.h"

#include <gtest/gtest.h>

#include "registry/registry_error.h"

namespace dataforge::serve_registry {
namespace {

registry::RegistryError RegistryErrorOf(const Status& s) {
  EXPECT_FALSE(s.ok());
  return registry::RegistryErrorOf(s);
}

TEST(RegistryJsonTest, SchemaRequestTakesConfluentsFieldsAndIgnoresOthers) {
  auto r = ParseSchemaRequest(
      R"({"schema":"{\"type\":\"string\"}","schemaType":"JSON","references":[{"name":"a.json",)"
      R"("subject":"a","version":-1}],"metadata":{"properties":{"x":"y"}},"ruleSet":{},"id":7,)"
      R"("version":3})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema.schema, R"({"type":"string"})");
  EXPECT_EQ(r->schema.type, registry::SchemaType::kJson);
  ASSERT_EQ(r->schema.references.size(), 1u);
  EXPECT_EQ(r->schema.references[0], (registry::SchemaReference{"a.json", "a", -1}));
  EXPECT_EQ(r->id, 7);
  EXPECT_EQ(r->version, 3);
  auto avro = ParseSchemaRequest(R"({"schema":"\"int\""})");
  ASSERT_TRUE(avro.ok());
  EXPECT_EQ(avro->schema.type, registry::SchemaType::kAvro);
  EXPECT_FALSE(avro->id.has_value());
}

TEST(RegistryJsonTest, SchemaRequestErrorsHaveConfluentsCodes) {
  auto e = RegistryErrorOf(ParseSchemaRequest("{not json").status());
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.error_code, 400);
  EXPECT_EQ(e.message.rfind("the request body is not valid JSON", 0), 0u) << e.message;
  e = RegistryErrorOf(ParseSchemaRequest("[1]").status());
  EXPECT_EQ(e.error_code, 400);
  EXPECT_EQ(e.message, R"(the request body must be a JSON object like {"schema": "...", )"
                       R"("schemaType": "JSON"})");
  e = RegistryErrorOf(ParseSchemaRequest(R"({"schema":42})").status());
  EXPECT_EQ(e.message, R"(the request body field "schema" must be a string)");
  e = RegistryErrorOf(ParseSchemaRequest(R"({"schemaType":"AVRO"})").status());
  EXPECT_EQ(e.error_code, registry::kInvalidSchema);
  EXPECT_EQ(e.message, "Empty schema");
  e = RegistryErrorOf(ParseSchemaRequest(R"({"schema":"x","schemaType":"PROTOBUF"})").status());
  EXPECT_EQ(e.error_code, registry::kInvalidSchema);
  EXPECT_EQ(e.message, "Invalid schema type PROTOBUF (this registry serves AVRO and JSON)");
  e = RegistryErrorOf(ParseSchemaRequest(R"({"schema":"x","references":{}})").status());
  EXPECT_EQ(e.error_code, 400);
  e = RegistryErrorOf(ParseSchemaRequest(R"({"schema":"x","version":0})").status());
  EXPECT_EQ(e.message,
            R"(the request body field "version" must be a whole number from 1 to 2147483647)");
}

TEST(RegistryJsonTest, ConfigAndModeRequests) {
  auto level = ParseConfigRequest(R"({"compatibility":"backward_transitive"})");
  ASSERT_TRUE(level.ok());
  EXPECT_EQ(*level, registry::Compatibility::kBackwardTransitive);
  level = ParseConfigRequest(R"({"compatibilityLevel":"FULL"})");
  ASSERT_TRUE(level.ok());
  EXPECT_EQ(*level, registry::Compatibility::kFull);
  EXPECT_EQ(
      RegistryErrorOf(ParseConfigRequest(R"({"compatibility":"SIDEWAYS"})").status()).error_code,
      registry::kInvalidCompatibilityLevel);
  EXPECT_EQ(RegistryErrorOf(ParseConfigRequest("{}").status()).error_code,
            registry::kInvalidCompatibilityLevel);
  auto mode = ParseModeRequest(R"({"mode":"readonly"})");
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, registry::Mode::kReadOnly);
  EXPECT_EQ(RegistryErrorOf(ParseModeRequest(R"({"mode":"SOMETIMES"})").status()).error_code,
            registry::kInvalidMode);
}

TEST(RegistryJsonTest, AnswersHaveConfluentsShapes) {
  registry::SubjectVersion v;
  v.subject = "users-value";
  v.version = 2;
  v.id = 5;
  v.schema.schema = R"({"type":"string"})";
  EXPECT_EQ(SubjectVersionJson(v),
            R"({"subject":"users-value","version":2,"id":5,"schema":"{\"type\":\"string\"}"})");
  v.schema.type = registry::SchemaType::kJson;
  v.schema.references = {{"a.json", "a", 1}};
  v.deleted = true;
  EXPECT_EQ(SubjectVersionJson(v),
            R"({"subject":"users-value","version":2,"id":5,"schemaType":"JSON",)"
            R"("references":[{"name":"a.json","subject":"a","version":1}],)"
            R"("schema":"{\"type\":\"string\"}","deleted":true})");
  EXPECT_EQ(
      SchemaRecordJson(registry::SchemaRecord{5, {registry::SchemaType::kAvro, "\"int\"", {}}}),
      R"({"schema":"\"int\""})");
  EXPECT_EQ(StringArrayJson({"a", "b\"c"}), R"(["a","b\"c"])");
  EXPECT_EQ(IntArrayJson(std::vector<int32_t>{1, 2}), "[1,2]");
  EXPECT_EQ(IntArrayJson(std::vector<int64_t>{}), "[]");

  http::ApiResponse r = RegistryErrorResponse(
      registry::RegistryStatus(registry::kSubjectNotFound, "Subject 'x' not found."));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, kContentType);
  EXPECT_EQ(r.body, R"({"error_code":40401,"message":"Subject 'x' not found."})");
  r = RegistryServerError(401, "unauthenticated", "missing credentials");
  EXPECT_EQ(r.body, R"({"error_code":40101,"message":"missing credentials"})");
  r = RegistryServerError(403, "forbidden", "no");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"error_code":40301,"message":"no"})");
  r = RegistryServerError(405, "method_not_allowed", "no");
  EXPECT_EQ(r.body, R"({"error_code":405,"message":"no"})");
}

}  // namespace
}  // namespace dataforge::serve_registry
