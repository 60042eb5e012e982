// Parsing Avro schemas: canonical text (same schema, same id), references, malformed schemas
// (one line: what and where), and the compatibility messages.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "registry/schema_format.h"

namespace dataforge::registry {
namespace {

std::shared_ptr<const ParsedSchema> MustParseAvro(std::string_view text,
                                                  const std::vector<ResolvedReference>& refs = {}) {
  auto r = AvroFormat().Parse(text, refs);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

std::string ParseError(std::string_view text, const std::vector<ResolvedReference>& refs = {}) {
  auto r = AvroFormat().Parse(text, refs);
  if (r.ok()) return "parsed";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(AvroSchema, CanonicalTextIgnoresWhitespaceAttributeOrderAndNamespaceForm) {
  auto a = MustParseAvro(R"({"type":"record","name":"User","namespace":"com.acme","fields":[
      {"name":"id","type":"long"},{"name":"tags","type":{"type":"array","items":"string"}},
      {"name":"e","type":["null",{"type":"string"}],"default":null}]})");
  auto b = MustParseAvro(R"(  {"fields":[{"type":"long","name":"id"},
      {"type":{"items":"string","type":"array"},"name":"tags"},
      {"default":null,"type":["null","string"],"name":"e"}],
      "name":"com.acme.User","type":"record"} )");
  EXPECT_EQ(a->canonical(),
            R"({"type":"record","name":"com.acme.User","fields":[{"name":"id","type":"long"},)"
            R"({"name":"tags","type":{"type":"array","items":"string"}},)"
            R"({"name":"e","type":["null","string"],"default":null}]})");
  EXPECT_EQ(b->canonical(), a->canonical());
  EXPECT_EQ(MustParseAvro(R"({"type":"int"})")->canonical(), R"("int")");
  EXPECT_EQ(MustParseAvro(R"("int")")->text(), R"("int")");
}

TEST(AvroSchema, CanonicalTextKeepsWhatChangesMeaning) {
  const std::string base = R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"}]})";
  auto plain = MustParseAvro(base);
  for (
      std::string_view other : {
          R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1}]})",
          R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","aliases":["b"]}]})",
          R"({"type":"record","name":"R","aliases":["Q"],"fields":[{"name":"a","type":"int"}]})",
          R"({"type":"record","name":"R","doc":"d","fields":[{"name":"a","type":"int"}]})",
          R"({"type":"record","name":"R","fields":[{"name":"a","type":{"type":"int","logicalType":"date"}}]})",
          R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"descending"}]})",
          R"({"type":"record","name":"S","fields":[{"name":"a","type":"int"}]})",
      }) {
    EXPECT_NE(MustParseAvro(other)->canonical(), plain->canonical()) << other;
  }
  EXPECT_EQ(
      MustParseAvro(
          R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1,"x-b":[1, 2],"x-a":"y"}]})")
          ->canonical(),
      R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","default":1,"x-a":"y","x-b":[1,2]}]})");
}

TEST(AvroSchema, CanonicalTextParsesBackToItself) {
  std::vector<std::string> texts = {
      // An enum in the null namespace inside a namespaced record.
      R"({"type":"record","name":"R","namespace":"a","fields":[
          {"name":"e","type":{"type":"enum","name":"E","namespace":"","symbols":["X"]}},
          {"name":"f","type":{"type":"fixed","name":"F","size":1}}]})",
      R"({"type":"record","name":"R","fields":[{"name":"d","type":{"type":"bytes",
          "logicalType":"decimal","precision":4,"scale":2},"default":"\u0001\u00ff"}]})",
  };
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(
      parser.load(std::string(DATAFORGE_SOURCE_DIR) + "/tests/registry/avro_compat_pairs.json")
          .get(doc),
      simdjson::SUCCESS);
  for (simdjson::dom::element p : doc["pairs"].get_array()) {
    texts.emplace_back(simdjson::minify(p["old"]));
    texts.emplace_back(simdjson::minify(p["new"]));
  }
  for (const std::string& text : texts) {
    auto once = MustParseAvro(text);
    ASSERT_TRUE(once) << text;
    auto twice = MustParseAvro(once->canonical());
    ASSERT_TRUE(twice) << once->canonical();
    EXPECT_EQ(twice->canonical(), once->canonical()) << text;
    // The same schema: each reads the other.
    EXPECT_TRUE(twice->BackwardIncompatibilities(*once).empty()) << text;
    EXPECT_TRUE(once->BackwardIncompatibilities(*twice).empty()) << text;
  }
  EXPECT_EQ(
      MustParseAvro(texts[0])->canonical(),
      R"({"type":"record","name":"a.R","fields":[{"name":"e","type":{"type":"enum","name":"E",)"
      R"("namespace":"","symbols":["X"]}},{"name":"f","type":{"type":"fixed","name":"a.F","size":1}}]})");
  // A decimal's default is Avro's JSON encoding of its bytes: 0x01ff = 511 -> 5.11.
  std::string json;
  ASSERT_TRUE(
      MustParseAvro(texts[1])->NewCodec()->Decode(std::string("\x04\x01\xff", 3), &json).ok());
  EXPECT_EQ(json, R"({"d":5.11})");
  std::string bytes;
  ASSERT_TRUE(MustParseAvro(texts[1])->NewCodec()->Encode("{}", &bytes).ok());
  EXPECT_EQ(bytes, std::string("\x04\x01\xff", 3));
}

TEST(AvroSchema, RecursiveTypesAreWrittenByNameAfterTheirFirstUse) {
  auto s = MustParseAvro(R"({"type":"record","name":"Node","namespace":"n","fields":[
      {"name":"next","type":["null","Node"],"default":null},
      {"name":"kids","type":{"type":"array","items":"n.Node"}}]})");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->canonical(),
            R"({"type":"record","name":"n.Node","fields":[{"name":"next","type":["null","n.Node"],)"
            R"("default":null},{"name":"kids","type":{"type":"array","items":"n.Node"}}]})");
  std::string json;
  auto codec = s->NewCodec();
  std::string bytes;
  ASSERT_TRUE(codec->Encode(R"({"next":{"kids":[]},"kids":[{"kids":[]}]})", &bytes).ok());
  ASSERT_TRUE(codec->Decode(bytes, &json).ok());
  EXPECT_EQ(json, R"({"next":{"next":null,"kids":[]},"kids":[{"next":null,"kids":[]}]})");
}

TEST(AvroSchema, ReferencesNameTypesOfOtherSchemas) {
  const std::vector<ResolvedReference> refs = {
      {"com.acme.Status", SchemaType::kAvro,
       R"({"type":"enum","name":"Status","namespace":"com.acme","symbols":["ON","OFF"]})"},
      {"com.acme.Address", SchemaType::kAvro,
       R"({"type":"record","name":"Address","namespace":"com.acme","fields":[
           {"name":"city","type":"string"},{"name":"status","type":"Status"}]})"},
  };
  auto s = MustParseAvro(R"({"type":"record","name":"User","namespace":"com.acme","fields":[
      {"name":"home","type":"Address"},{"name":"work","type":["null","com.acme.Address"]}]})",
                         refs);
  ASSERT_NE(s, nullptr);
  // Referenced types by name only, as Confluent's canonical string has them.
  EXPECT_EQ(
      s->canonical(),
      R"({"type":"record","name":"com.acme.User","fields":[{"name":"home","type":"com.acme.Address"},)"
      R"({"name":"work","type":["null","com.acme.Address"]}]})");
  auto v = s->NewValidator();
  EXPECT_EQ(v->Validate(R"({"home":{"city":"Oslo","status":"ON"},"work":null})"), std::nullopt);
  auto err = v->Validate(R"({"home":{"city":"Oslo","status":"MAYBE"},"work":null})");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->path, "/home/status");
  EXPECT_EQ(err->rule, "enum");

  EXPECT_EQ(
      ParseError(
          R"({"type":"record","name":"User","fields":[{"name":"home","type":"com.acme.Address"}]})"),
      "invalid Avro schema: unknown type 'com.acme.Address' (not defined before this use and "
      "not a referenced schema's type) at /fields/0/type");
  // The same referenced schema twice (reached through two paths) is one definition.
  std::vector<ResolvedReference> twice = refs;
  twice.push_back(refs[0]);
  twice.back().name = "again";
  EXPECT_EQ(MustParseAvro(R"(["null","com.acme.Status"])", twice)->canonical(),
            R"(["null","com.acme.Status"])");
  EXPECT_EQ(
      ParseError(R"("int")", {refs[0],
                              {"other", SchemaType::kAvro,
                               R"({"type":"enum",)"
                               R"("name":"com.acme.Status","symbols":["X"]})"}}),
      "invalid Avro schema (reference 'other'): type 'com.acme.Status' is defined twice at /name");
  EXPECT_EQ(ParseError(R"("int")", {{"x.json", SchemaType::kJson, "{}"}}),
            "invalid Avro schema: reference 'x.json' is a JSON schema; an Avro schema can only "
            "reference Avro schemas");
  EXPECT_EQ(ParseError(R"("int")", {{"a.B", SchemaType::kAvro, R"({"type":"fixed","name":"B"})"}}),
            "invalid Avro schema (reference 'a.B'): fixed 'B' needs a non-negative integer "
            "\"size\" at /");
}

TEST(AvroSchema, MalformedSchemasSayWhatAndWhere) {
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
      {R"({"type":"record","name":"R","fields":[)",
       "invalid Avro schema: not JSON (The JSON document has an improper structure: missing or "
       "superfluous commas, braces, missing keys, etc.)"},
      {R"("integer")",
       "invalid Avro schema: unknown type 'integer' (not defined before this use and not a "
       "referenced schema's type) at /"},
      {R"(42)",
       "invalid Avro schema: a schema must be a type name, an object or an array (union) at /"},
      {R"({"name":"R","fields":[]})", "invalid Avro schema: missing or non-string \"type\" at /"},
      {R"({"type":"record","fields":[]})",
       "invalid Avro schema: a named type without a string \"name\" at /"},
      {R"({"type":"record","name":"R"})",
       "invalid Avro schema: record 'R' without a \"fields\" array at /"},
      {R"({"type":"record","name":"1R","fields":[]})",
       "invalid Avro schema: invalid name '1R' at /name"},
      {R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]})",
       "invalid Avro schema: duplicate field 'a' at /fields/1/name"},
      {R"({"type":"record","name":"R","fields":[{"name":"a"}]})",
       "invalid Avro schema: field 'a' without \"type\" at /fields/0"},
      {R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]})",
       "invalid Avro schema: default \"x\" of field 'a' at /fields/0 is not a valid int: expected "
       "int, got string \"x\""},
      {R"({"type":"record","name":"R","fields":[{"name":"a","type":["null","int"],"default":1}]})",
       "invalid Avro schema: default 1 of field 'a' at /fields/0 is not a valid null (a union's "
       "default must match its first branch): expected null, got integer 1"},
      {R"(["int","int"])", "invalid Avro schema: duplicate union branch 'int' at /1"},
      {R"(["int",["null"]])", "invalid Avro schema: a union may not hold a union at /1"},
      {R"({"type":"enum","name":"E","symbols":["A","A"]})",
       "invalid Avro schema: duplicate enum symbol 'A' at /symbols"},
      {R"({"type":"enum","name":"E","symbols":["A"],"default":"B"})",
       "invalid Avro schema: an enum's default must be one of its symbols at /default"},
      {R"({"type":"array"})", "invalid Avro schema: array without \"items\" at /"},
      {R"({"type":"map","values":{"type":"fixed","name":"F","size":-1}})",
       "invalid Avro schema: fixed 'F' needs a non-negative integer \"size\" at /values"},
      {R"([{"type":"enum","name":"E","symbols":["A"]},{"type":"enum","name":"E","symbols":["B"]}])",
       "invalid Avro schema: type 'E' is defined twice at /1/name"},
      {R"({"type":"record","name":"int","fields":[]})",
       "invalid Avro schema: 'int' is a primitive type and cannot be redefined at /name"},
      {R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"up"}]})",
       "invalid Avro schema: order must be \"ascending\", \"descending\" or \"ignore\" at "
       "/fields/0/order"},
  };
  for (const auto& [text, message] : cases) EXPECT_EQ(ParseError(text), message) << text;
}

TEST(AvroSchema, IncompatibilityMessagesNameTheTypeAndPath) {
  auto old_schema = MustParseAvro(R"({"type":"record","name":"R","fields":[
      {"name":"a","type":"string"},{"name":"c","type":{"type":"enum","name":"E","symbols":["X","Y","Z"]}}]})");
  ASSERT_NE(old_schema, nullptr);
  auto new_schema = MustParseAvro(R"({"type":"record","name":"R","fields":[
      {"name":"a","type":"int"},{"name":"b","type":"int"},
      {"name":"c","type":{"type":"enum","name":"E","symbols":["X"]}}]})");
  ASSERT_NE(new_schema, nullptr);
  EXPECT_EQ(new_schema->BackwardIncompatibilities(*old_schema),
            (std::vector<std::string>{
                "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') of a "
                "field in the reader schema does not match with the writer schema', "
                "additionalInfo:'reader type: INT not compatible with writer type: STRING'}",
                "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at "
                "path '/fields/1' in the reader schema has no default value and is missing in the "
                "writer schema', additionalInfo:'b'}",
                "{errorType:'MISSING_ENUM_SYMBOLS', description:'The reader schema is missing enum "
                "symbols '[Y, Z]' at path '/fields/2/type/symbols' in the writer schema', "
                "additionalInfo:'[Y, Z]'}",
            }));
  EXPECT_EQ(MustParseAvro(R"(["null","int"])")
                ->BackwardIncompatibilities(*MustParseAvro(R"(["int","string"])")),
            (std::vector<std::string>{
                "{errorType:'MISSING_UNION_BRANCH', description:'The reader schema is missing a "
                "type inside a union field at path '/1' in the writer schema', "
                "additionalInfo:'reader union lacking writer type: STRING'}"}));
  EXPECT_EQ(
      MustParseAvro(R"({"type":"fixed","name":"F","size":2})")
          ->BackwardIncompatibilities(*MustParseAvro(R"({"type":"fixed","name":"G","size":3})")),
      (std::vector<std::string>{
          "{errorType:'NAME_MISMATCH', description:'The name of the schema has changed (path "
          "'/name')', additionalInfo:'expected: G'}",
          "{errorType:'FIXED_SIZE_MISMATCH', description:'The size of FIXED type field at "
          "path '/size' in the reader schema does not match with the writer schema', "
          "additionalInfo:'expected: 3, found: 2'}"}));
  auto json = JsonSchemaFormat().Parse("{}", {});
  if (json.ok()) {
    EXPECT_EQ(new_schema->BackwardIncompatibilities(**json),
              (std::vector<std::string>{"Incompatible because of different schema type"}));
  }
}

}  // namespace
}  // namespace dataforge::registry
