// The JSON Schema format: parsing (malformed schemas, references), validation of records with
// the first failure's path and rule, the simdjson adapter's edge cases, canonical text, codec.
#include "registry/json/json_schema_format.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "registry/json/canonical_json.h"
#include "registry/schema_format.h"

namespace dataforge::registry {
namespace {

std::shared_ptr<const ParsedSchema> MustParseJsonSchema(
    const std::string& schema, const std::vector<ResolvedReference>& refs = {}) {
  auto parsed = JsonSchemaFormat().Parse(schema, refs);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : nullptr;
}

std::string JsonSchemaParseError(const std::string& schema,
                                 const std::vector<ResolvedReference>& refs = {}) {
  auto parsed = JsonSchemaFormat().Parse(schema, refs);
  if (parsed.ok()) return "(parsed)";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  return parsed.status().message();
}

// "path rule" of the first failure, or "ok".
std::string Check(RecordValidator& v, const std::string& record) {
  auto error = v.Validate(record);
  if (!error) return "ok";
  return error->path + " " + error->rule;
}

constexpr char kRowSchema[] = R"({
  "type": "object",
  "properties": {
    "id": {"type": "string", "pattern": "^[0-9a-f-]{36}$"},
    "first_name": {"type": "string", "maxLength": 8},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "gender": {"enum": ["male", "female"]},
    "location": {
      "type": "object",
      "properties": {"postcode": {"type": ["string", "integer"]}},
      "required": ["postcode"]
    },
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "uniqueItems": true},
    "score": {"type": "number", "exclusiveMaximum": 1},
    "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}
  },
  "required": ["id", "first_name"],
  "additionalProperties": false
})";

constexpr char kId[] = R"("id": "2f1d8b2e-6a43-4c2e-9d0e-3b1f0c7a9e11")";

std::string Row(const std::string& fields) {
  return std::string("{") + kId + (fields.empty() ? "" : ", " + fields) + "}";
}

TEST(JsonSchemaValidate, FirstFailurePathAndRule) {
  auto schema = MustParseJsonSchema(kRowSchema);
  ASSERT_NE(schema, nullptr);
  auto v = schema->NewValidator();
  EXPECT_EQ(Check(*v, Row(R"("first_name": "Ann", "age": 30, "gender": "female",
      "location": {"postcode": 1234}, "tags": ["a", "b"], "score": 0.5, "note": null)")),
            "ok");
  EXPECT_EQ(Check(*v, Row(R"("first_name": 123)")), "/first_name type");
  EXPECT_EQ(Check(*v, Row("")), " required");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "Bartholomew")")), "/first_name maxLength");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "age": -1)")), "/age minimum");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "age": 151)")), "/age maximum");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "age": 1.5)")), "/age type");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "gender": "x")")), "/gender enum");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "location": {})")), "/location required");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "location": {"postcode": 1.5})")),
            "/location/postcode type");  // a type array is one "type" keyword
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "tags": ["a", 1])")), "/tags/1 type");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "tags": ["a", "b", "c"])")), "/tags maxItems");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "tags": ["a", "a"])")), "/tags uniqueItems");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "extra": 1)")), "/extra additionalProperties");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "score": 1)")), "/score exclusiveMaximum");
  EXPECT_EQ(Check(*v, Row(R"("first_name": "A", "note": 5)")), "/note anyOf");
  EXPECT_EQ(Check(*v, R"({"id": "zz", "first_name": "A"})"), "/id pattern");
  EXPECT_EQ(Check(*v, "[1, 2]"), " type");
  EXPECT_EQ(Check(*v, "{"), " json");
  EXPECT_EQ(Check(*v, ""), " json");
  // The same validator, reused after failures, still accepts a good record.
  EXPECT_EQ(Check(*v, Row(R"("first_name": "Ann")")), "ok");
}

TEST(JsonSchemaValidate, Messages) {
  auto schema = MustParseJsonSchema(kRowSchema);
  ASSERT_NE(schema, nullptr);
  auto v = schema->NewValidator();
  auto e = v->Validate(Row(R"("first_name": 123)"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "expected string, got integer 123");
  e = v->Validate(Row(R"("first_name": "A", "location": {"postcode": 1.5})"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "expected string or integer, got number 1.5");
  e = v->Validate(Row(R"("first_name": "A", "tags": ["a", {"b": null}])"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "expected string, got object {\"b\":null}");
  e = v->Validate(Row(""));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "missing required property 'first_name'");
  e = v->Validate(Row(R"("first_name": "A", "extra": [1])"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "property 'extra' is not allowed (additionalProperties), got array [1]");
  e = v->Validate(Row(R"("first_name": "Bartholomew")"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message,
            "string should be no more than 8 characters in length, got string \"Bartholomew\"");
  e = v->Validate("{\"id\": ");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message.substr(0, 15), "not valid JSON:");
}

TEST(JsonSchemaValidate, PointerEscapesNamesWithSlashAndTilde) {
  auto schema = MustParseJsonSchema(
      R"({"properties": {"a/b": {"type": "string"}, "c~d": {"type": "string"}}})");
  ASSERT_NE(schema, nullptr);
  auto v = schema->NewValidator();
  EXPECT_EQ(Check(*v, R"({"a/b": 1})"), "/a~1b type");
  EXPECT_EQ(Check(*v, R"({"c~d": 1})"), "/c~0d type");
}

// valijson 1.0 applies "format" to any value: null is checked as "" (and fails a date-time);
// the documented way to allow null is anyOf (docs/json-schema.md).
TEST(JsonSchemaValidate, FormatOnNullableColumns) {
  auto plain =
      MustParseJsonSchema(R"({"type": "object", "properties": {"ts": {"type": ["string", "null"],
                            "format": "date-time"}}})");
  auto any_of =
      MustParseJsonSchema(R"({"type": "object", "properties": {"ts": {"anyOf": [{"type": "null"},
                             {"type": "string", "format": "date-time"}]}}})");
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(any_of, nullptr);
  auto vp = plain->NewValidator();
  auto va = any_of->NewValidator();
  EXPECT_EQ(Check(*vp, R"({"ts": "2016-08-11T06:51:52.086Z"})"), "ok");
  EXPECT_EQ(Check(*vp, R"({"ts": "2016-08-11"})"), "/ts format");
  EXPECT_EQ(Check(*vp, R"({"ts": null})"), "/ts format");
  EXPECT_EQ(Check(*va, R"({"ts": null})"), "ok");
  EXPECT_EQ(Check(*va, R"({"ts": "2016-08-11T06:51:52.086Z"})"), "ok");
  EXPECT_EQ(Check(*va, R"({"ts": "2016-08-11"})"), "/ts anyOf");
}

TEST(JsonSchemaAdapter, BigIntegersAndDoubles) {
  auto integer = MustParseJsonSchema(R"({"type": "integer"})");
  auto bounded = MustParseJsonSchema(R"({"type": "integer", "maximum": 100})");
  auto number = MustParseJsonSchema(R"({"type": "number", "minimum": -1.5})");
  ASSERT_NE(integer, nullptr);
  ASSERT_NE(bounded, nullptr);
  ASSERT_NE(number, nullptr);
  auto vi = integer->NewValidator();
  auto vb = bounded->NewValidator();
  auto vn = number->NewValidator();
  EXPECT_EQ(Check(*vi, "9223372036854775807"), "ok");   // INT64_MAX
  EXPECT_EQ(Check(*vi, "-9223372036854775808"), "ok");  // INT64_MIN
  EXPECT_EQ(Check(*vi, "18446744073709551615"), "ok");  // UINT64_MAX: an integer too
  EXPECT_EQ(Check(*vb, "18446744073709551615"), " maximum");
  EXPECT_EQ(Check(*vb, "100"), "ok");
  EXPECT_EQ(Check(*vi, "1.0"), " type");  // strict: a number written with a fraction
  EXPECT_EQ(Check(*vi, "1e3"), " type");
  EXPECT_EQ(Check(*vi, "\"1\""), " type");
  EXPECT_EQ(Check(*vn, "-1.5"), "ok");
  EXPECT_EQ(Check(*vn, "-1.5000001"), " minimum");
  EXPECT_EQ(Check(*vn, "2.5e300"), "ok");
  EXPECT_EQ(Check(*vn, "7"), "ok");         // an integer is a number
  EXPECT_EQ(Check(*vn, "1e400"), " json");  // beyond double: simdjson refuses it
  EXPECT_EQ(Check(*vn, "123456789012345678901234567890"), " json");  // beyond 64 bits
}

TEST(JsonSchemaAdapter, UnicodeLengthsAndEscapes) {
  auto schema = MustParseJsonSchema(R"({"type": "string", "maxLength": 3, "minLength": 2})");
  ASSERT_NE(schema, nullptr);
  auto v = schema->NewValidator();
  EXPECT_EQ(Check(*v, "\"日本語\""), "ok");  // 9 bytes, 3 characters
  EXPECT_EQ(Check(*v, "\"日本語!\""), " maxLength");
  EXPECT_EQ(Check(*v, R"("\u00e9\u00e9")"), "ok");
  EXPECT_EQ(Check(*v, R"("\ud83d\ude00")"), " minLength");  // one character (a surrogate pair)
  auto en = MustParseJsonSchema(R"({"enum": ["é", {"a": [1, 2]}, [null, true], 2.5]})");
  ASSERT_NE(en, nullptr);
  auto ve = en->NewValidator();
  EXPECT_EQ(Check(*ve, R"("\u00e9")"), "ok");
  EXPECT_EQ(Check(*ve, R"({"a": [1, 2]})"), "ok");
  EXPECT_EQ(Check(*ve, R"({"a": [2, 1]})"), " enum");
  EXPECT_EQ(Check(*ve, "[null, true]"), "ok");
  EXPECT_EQ(Check(*ve, "2.5"), "ok");
  EXPECT_EQ(Check(*ve, "\"e\""), " enum");
}

TEST(JsonSchemaAdapter, NestedArraysAndObjects) {
  auto schema = MustParseJsonSchema(R"({
    "type": "array",
    "items": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
    "uniqueItems": true
  })");
  ASSERT_NE(schema, nullptr);
  auto v = schema->NewValidator();
  EXPECT_EQ(Check(*v, "[[1, 2], [3]]"), "ok");
  EXPECT_EQ(Check(*v, "[]"), "ok");
  EXPECT_EQ(Check(*v, "[[1, 2], [3, \"x\"]]"), "/1/1 type");
  EXPECT_EQ(Check(*v, "[[1], []]"), "/1 minItems");
  EXPECT_EQ(Check(*v, "[[1, 2], [1, 2]]"), " uniqueItems");
  EXPECT_EQ(Check(*v, "[[1, 2], [2, 1]]"), "ok");
  auto tuple = MustParseJsonSchema(
      R"({"type": "array", "items": [{"type": "string"}, {"type": "integer"}],
          "additionalItems": false})");
  ASSERT_NE(tuple, nullptr);
  auto vt = tuple->NewValidator();
  EXPECT_EQ(Check(*vt, R"(["a", 1])"), "ok");
  EXPECT_EQ(Check(*vt, R"(["a", "b"])"), "/1 type");
  EXPECT_EQ(Check(*vt, R"(["a", 1, 2])"), " additionalItems");
  auto recursive = MustParseJsonSchema(R"({"items": {"$ref": "#"}})");
  ASSERT_NE(recursive, nullptr);
  auto vr = recursive->NewValidator();
  EXPECT_EQ(Check(*vr, std::string(128, '[') + std::string(128, ']')), "ok");
  const auto too_deep = vr->Validate(std::string(129, '[') + std::string(129, ']'));
  ASSERT_TRUE(too_deep);
  EXPECT_EQ(too_deep->rule, "json");
  EXPECT_EQ(too_deep->message.substr(0, 16), "not valid JSON: ");
  auto deep = MustParseJsonSchema(R"({"properties": {"a": {"properties": {"b": {"properties":
      {"c": {"const": 1}}}}}}})");
  ASSERT_NE(deep, nullptr);
  auto vd = deep->NewValidator();
  EXPECT_EQ(Check(*vd, R"({"a": {"b": {"c": 1}}})"), "ok");
  EXPECT_EQ(Check(*vd, R"({"a": {"b": {"c": 2}}})"), "/a/b/c const");
}

TEST(JsonSchemaReferences, ResolvedByName) {
  const ResolvedReference address{"address.json", SchemaType::kJson,
                                  R"({"type": "object", "properties": {"city":
                                     {"type": "string"}}, "required": ["city"]})"};
  auto schema = MustParseJsonSchema(
      R"({"type": "object", "properties": {"home": {"$ref": "address.json"}}})", {address});
  ASSERT_NE(schema, nullptr);
  auto v = schema->NewValidator();
  EXPECT_EQ(Check(*v, R"({"home": {"city": "Oslo"}})"), "ok");
  EXPECT_EQ(Check(*v, R"({"home": {"city": 5}})"), "/home/city type");
  EXPECT_EQ(Check(*v, R"({"home": {}})"), "/home required");
}

TEST(JsonSchemaReferences, UrlNamesFragmentsAndBaseUri) {
  const ResolvedReference defs{"https://example.com/schemas/defs.json", SchemaType::kJson,
                               R"({"definitions": {"code": {"type": "string", "maxLength": 4}}})"};
  // An absolute URL with a fragment.
  auto a = MustParseJsonSchema(
      R"({"$ref": "https://example.com/schemas/defs.json#/definitions/code"})", {defs});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(Check(*a->NewValidator(), "\"abcde\""), " maxLength");
  // A relative name against the schema's $id resolves to the reference's URL.
  auto b = MustParseJsonSchema(R"({"$id": "https://example.com/schemas/main.json",
                          "properties": {"p": {"$ref": "defs.json#/definitions/code"}}})",
                               {defs});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(Check(*b->NewValidator(), R"({"p": "abc"})"), "ok");
  EXPECT_EQ(Check(*b->NewValidator(), R"({"p": 7})"), "/p type");
  // A reference that references another (dependency order).
  const ResolvedReference code{
      "code.json", SchemaType::kJson,
      R"({"$ref": "https://example.com/schemas/defs.json#/definitions/code"})"};
  auto c = MustParseJsonSchema(R"({"properties": {"c": {"$ref": "code.json"}}})", {defs, code});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Check(*c->NewValidator(), R"({"c": "toolong"})"), "/c maxLength");
  // Local definitions need no reference.
  auto d = MustParseJsonSchema(R"({"definitions": {"n": {"type": "integer"}},
                          "properties": {"n": {"$ref": "#/definitions/n"}}})");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(Check(*d->NewValidator(), R"({"n": "x"})"), "/n type");
}

TEST(JsonSchemaReferences, UnknownReferenceIsNamed) {
  const ResolvedReference address{"address.json", SchemaType::kJson, R"({"type": "object"})"};
  EXPECT_EQ(JsonSchemaParseError(R"({"properties": {"a": {"$ref": "missing.json"}}})", {address}),
            "unknown $ref 'missing.json': not one of the schema's references (address.json)");
  EXPECT_EQ(JsonSchemaParseError(R"({"$ref": "https://example.com/x.json#/definitions/a"})"),
            "unknown $ref 'https://example.com/x.json': not one of the schema's references "
            "(none)");
  EXPECT_EQ(JsonSchemaParseError(R"({"$ref": "a.json"})",
                                 {{"a.json", SchemaType::kAvro, R"({"type": "string"})"}}),
            "reference 'a.json' is not a JSON Schema (a JSON Schema may only reference JSON "
            "Schemas)");
  EXPECT_EQ(JsonSchemaParseError(R"({"$ref": "a.json"})", {{"a.json", SchemaType::kJson, "{"}})
                .substr(0, 46),
            "referenced schema 'a.json' is not valid JSON: ");
}

TEST(JsonSchemaParse, MalformedSchemasAreOneLineInvalidArgument) {
  EXPECT_EQ(JsonSchemaParseError("not json").substr(0, 30), "the schema is not valid JSON: ");
  EXPECT_EQ(JsonSchemaParseError(""), JsonSchemaParseError(""));
  EXPECT_EQ(JsonSchemaParseError("[1, 2]"),
            "the schema is not a JSON Schema: expected an object or a boolean");
  EXPECT_EQ(JsonSchemaParseError("\"string\""),
            "the schema is not a JSON Schema: expected an object or a boolean");
  for (const std::string bad :
       {R"({"type": 5})", R"({"type": "strng"})", R"({"maxLength": "x"})", R"({"properties": []})",
        R"({"required": "a"})", R"({"minimum": "0"})", R"({"items": 3})", R"({"anyOf": {}})",
        R"({"$ref": 5})", R"({"enum": 1})", R"({"pattern": 3})"}) {
    const std::string message = JsonSchemaParseError(bad);
    EXPECT_EQ(message.substr(0, 21), "invalid JSON Schema: ") << bad << ": " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << bad;
  }
  EXPECT_EQ(JsonSchemaParseError(R"({"properties": {"a": {"minimum": "0"}}})"),
            "invalid JSON Schema: 'minimum' at #/properties/a must be a number");
  EXPECT_EQ(JsonSchemaParseError(R"({"anyOf": []})"),
            "invalid JSON Schema: 'anyOf' at # must be a non-empty array of schemas");
  EXPECT_EQ(JsonSchemaParseError(R"({"items": [{"type": "string"}, {"maxLength": -1}]})"),
            "invalid JSON Schema: 'maxLength' at #/items/1 must be a non-negative integer");
  EXPECT_EQ(JsonSchemaParseError(R"({"$ref": "a.json"})",
                                 {{"a.json", SchemaType::kJson, R"({"type": "int"})"}}),
            "invalid JSON Schema in reference 'a.json': 'type' at # must be a JSON type name "
            "(string, number, integer, boolean, null, object, array)");
  EXPECT_EQ(JsonSchemaParseError(R"({"exclusiveMaximum": true, "maximum": 3})"),
            "invalid JSON Schema: 'exclusiveMaximum' at # must be a number");
  EXPECT_NE(MustParseJsonSchema(R"({"x-custom": 5, "exclusiveMaximum": 3})"), nullptr);
  EXPECT_NE(MustParseJsonSchema("true"), nullptr);
  EXPECT_NE(MustParseJsonSchema("{}"), nullptr);
  auto never = MustParseJsonSchema("false");
  ASSERT_NE(never, nullptr);
  EXPECT_EQ(Check(*never->NewValidator(), "{}"), " schema");
}

TEST(JsonSchemaCanonical, WhitespaceRemovedOrderKeptNumbersAndStringsAsConfluent) {
  auto s = MustParseJsonSchema(
      "{ \"b\" : 1,\n  \"a\" : [ 1.50 , 1e2, -0, 0.0000001, \"x\\/y\\u00e9\\n\\u0001\" ],"
      " \"c\": {\"d\": true, \"e\": null} }");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->canonical(),
            "{\"b\":1,\"a\":[1.50,1E+2,0,1E-7,\"x/y\xc3\xa9\\n\\u0001\"],\"c\":{\"d\":true,"
            "\"e\":null}}");
  EXPECT_EQ(s->text().substr(0, 8), "{ \"b\" : ");
  auto same = MustParseJsonSchema(
      R"({"b":1,"a":[1.50,1E+2,0,1E-7,"x/yé\n\u0001"],"c":{"d":true,"e":null}})");
  ASSERT_NE(same, nullptr);
  EXPECT_EQ(same->canonical(), s->canonical());
  auto reordered = MustParseJsonSchema(
      R"({"a":[1.50,1E+2,0,1E-7,"x/yé\n\u0001"],"b":1,"c":{"d":true,"e":null}})");
  ASSERT_NE(reordered, nullptr);
  EXPECT_NE(reordered->canonical(), s->canonical());
}

TEST(JsonSchemaCanonical, BigDecimalText) {
  using json_schema::BigDecimalText;
  EXPECT_EQ(BigDecimalText("1.5e300"), "1.5E+300");
  EXPECT_EQ(BigDecimalText("0.000001"), "0.000001");
  EXPECT_EQ(BigDecimalText("0.0000001"), "1E-7");
  EXPECT_EQ(BigDecimalText("123.4e-2"), "1.234");
  EXPECT_EQ(BigDecimalText("1e0"), "1");
  EXPECT_EQ(BigDecimalText("-2.50E1"), "-25.0");
  EXPECT_EQ(BigDecimalText("100e-2"), "1.00");
  EXPECT_EQ(BigDecimalText("0e5"), "0E+5");
  EXPECT_EQ(BigDecimalText("-0.0"), "0.0");
  EXPECT_EQ(BigDecimalText("12.5E+3"), "1.25E+4");
  EXPECT_EQ(BigDecimalText("0.00"), "0.00");
}

TEST(JsonSchemaCodec, PayloadIsTheJsonTextValidated) {
  auto schema = MustParseJsonSchema(kRowSchema);
  ASSERT_NE(schema, nullptr);
  auto codec = schema->NewCodec();
  const std::string good = Row(R"("first_name": "Ann")");
  std::string out = "prefix:";
  ASSERT_TRUE(codec->Encode(good, &out).ok());
  EXPECT_EQ(out, "prefix:" + good);
  std::string decoded;
  ASSERT_TRUE(codec->Decode(good, &decoded).ok());
  EXPECT_EQ(decoded, good);
  std::string bad_out;
  const Status enc = codec->Encode(Row(R"("first_name": 1)"), &bad_out);
  EXPECT_EQ(enc.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(enc.message(),
            "record does not match the JSON Schema at '/first_name' (type): expected string, got "
            "integer 1");
  const Status dec = codec->Decode("{\"id\":", &bad_out);
  EXPECT_EQ(dec.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dec.message().substr(0, 51), "payload does not match the JSON Schema at '' (json)");
}

}  // namespace
}  // namespace dataforge::registry
