// The mapping's generated schema (JSON Schema and Avro) accepts every row the mapping writes and
// refuses rows that break it, with the dead letter's reason naming schema, path and rule.
#include "process/row_schema.h"

#include <gtest/gtest.h>

#include "config/pipeline_file.h"
#include "process/mapper.h"

namespace dataforge {
namespace {

// A randomuser record of the default mapping's shape.
constexpr const char* kUser =
    R"({"gender":"female","name":{"title":"Ms","first":"Ada","last":"Byron"},)"
    R"("location":{"street":{"number":12,"name":"Main St"},"city":"Bath","state":"Somerset",)"
    R"("country":"United Kingdom","postcode":"BA1 1AA"},"email":"ada@example.com",)"
    R"("login":{"uuid":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed","username":"ada"},)"
    R"("dob":{"date":"1985-12-10T08:30:00.000Z","age":41},)"
    R"("registered":{"date":"2015-03-01T10:00:00.000Z","age":11},"phone":"01225 000000",)"
    R"("picture":{"medium":"https://example.com/ada.jpg"}})";

std::shared_ptr<const RowSchema> Bind(const ProcessConfig& process) {
  auto parsed =
      registry::FormatFor(RowSchemaType(process.schema)).Parse(MappingSchema(process).schema, {});
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << MappingSchema(process).schema;
  if (!parsed.ok()) return nullptr;
  auto s = std::make_shared<RowSchema>();
  s->subject = "users-row";
  s->id = 3;
  s->version = 2;
  s->parsed = *parsed;
  return s;
}

class RowSchemaTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RowSchemaTest, TheDefaultMappingsRowsMatchItsSchema) {
  PipelineConfig config = DefaultPipelineConfig();
  config.process.schema.subject = "users-row";
  config.process.schema.type = GetParam();
  auto schema = Bind(config.process);
  ASSERT_TRUE(schema);
  auto mapper = Mapper::Create(config.process);
  ASSERT_TRUE(mapper.ok());
  RowValidator validator(schema);
  MapResult full = mapper->Map("1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", kUser);
  ASSERT_TRUE(full.ok) << full.error;
  EXPECT_EQ(validator.Check(full.row_json), std::nullopt) << full.row_json;
  // Only the key: the other columns are optional (left out of the row, or null).
  MapResult bare = mapper->Map("1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", "{}");
  ASSERT_TRUE(bare.ok) << bare.error;
  EXPECT_EQ(validator.Check(bare.row_json), std::nullopt) << bare.row_json;
  EXPECT_EQ(validator.Check(R"({"id":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed","email":null})"),
            std::nullopt);
  // A row that breaks it: the reason names the schema, the path and the rule.
  auto failed = validator.Check(R"({"id":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed","email":7})");
  ASSERT_TRUE(failed);
  EXPECT_TRUE(failed->starts_with("schema users-row id 3 v2: /email: ")) << *failed;
  failed = validator.Check(R"({"email":"a@b"})");
  ASSERT_TRUE(failed);
  EXPECT_TRUE(failed->starts_with("schema users-row id 3 v2: ")) << *failed;
}

INSTANTIATE_TEST_SUITE_P(Types, RowSchemaTest, ::testing::Values("json", "avro"));

TEST(RowSchemaTextTest, ColumnTypesAndNullability) {
  ProcessConfig p;
  p.table = "shop.orders";
  p.key_column = "id";
  p.schema.subject = "orders-row";
  auto col = [](std::string name, std::string type, bool required) {
    ColumnSpec c;
    c.name = std::move(name);
    c.type = std::move(type);
    c.paths = {"x"};
    c.required = required;
    return c;
  };
  p.columns = {col("id", "uuid", false),      col("n", "int", true),
               col("total", "bigint", false), col("ratio", "double", false),
               col("paid", "boolean", true),  col("at", "timestamp", false),
               col("price", "decimal", true)};
  EXPECT_EQ(
      MappingSchema(p).schema,
      R"({"$schema":"http://json-schema.org/draft-07/schema#","title":"shop.orders","type":"object",)"
      R"("properties":{"id":{"type":"string","format":"uuid"},"n":{"type":"integer"},)"
      R"("total":{"type":["integer","null"]},)"
      R"("ratio":{"anyOf":[{"type":"number"},{"enum":["NaN","Infinity","-Infinity"]},{"type":"null"}]},)"
      R"("paid":{"type":"boolean"},"at":{"type":["string","null"]},)"
      R"("price":{"type":"string"}},"required":["id","n","paid","price"],)"
      R"("additionalProperties":false})");
  p.schema.type = "avro";
  EXPECT_EQ(MappingSchema(p).schema,
            R"({"type":"record","name":"orders","namespace":"shop","fields":[)"
            R"({"name":"id","type":{"type":"string","logicalType":"uuid"}},)"
            R"({"name":"n","type":"int"},)"
            R"({"name":"total","type":["null","long"],"default":null},)"
            R"({"name":"ratio","type":["null","double"],"default":null},)"
            R"({"name":"paid","type":"boolean"},)"
            R"({"name":"at","type":["null","string"],"default":null},)"
            R"({"name":"price","type":"string"}]})");
  // Both parse, and a NaN double (the mapper writes "NaN") matches the JSON Schema.
  auto avro = Bind(p);
  p.schema.type = "json";
  auto js = Bind(p);
  ASSERT_TRUE(js && avro);
  RowValidator v(js);
  EXPECT_EQ(v.Check(R"({"id":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed","n":1,"ratio":"NaN",)"
                    R"("paid":true,"at":"2026-12-03T10:00:00.000Z","price":"1.50"})"),
            std::nullopt);
  auto failed = v.Check(R"({"id":"1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed","n":"x","paid":true,)"
                        R"("price":"1.50"})");
  ASSERT_TRUE(failed);
  EXPECT_TRUE(failed->starts_with("schema users-row id 3 v2: /n: type: ")) << *failed;
}

}  // namespace
}  // namespace dataforge
