// Plain JSON records against an Avro schema: the validator's first failure, the binary codec
// checked against python3-avro's encoder (tests/registry/avro_encode_oracle.py) and Apache Avro
// C's reader, and malformed payloads.
#include <avro.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "registry/schema_format.h"

namespace dataforge::registry {
namespace {

constexpr std::string_view kUserSchema = R"({"type":"record","name":"User","namespace":"com.acme",
 "fields":[
  {"name":"id","type":"long"},
  {"name":"name","type":"string"},
  {"name":"age","type":"int"},
  {"name":"score","type":"double"},
  {"name":"ratio","type":"float"},
  {"name":"active","type":"boolean"},
  {"name":"email","type":["null","string"],"default":null},
  {"name":"status","type":{"type":"enum","name":"Status","symbols":["ACTIVE","BLOCKED"]}},
  {"name":"location","type":{"type":"record","name":"Location","fields":[
     {"name":"city","type":"string"},{"name":"postcode","type":["null","int","string"]}]}},
  {"name":"tags","type":{"type":"array","items":"string"}},
  {"name":"attributes","type":{"type":"map","values":"long"}}]})";

constexpr std::string_view kRow =
    R"({"id":42,"name":"Zoë","age":31,"score":1.5,"ratio":0.25,"active":true,)"
    R"("email":"z@example.com","status":"ACTIVE","location":{"city":"Oslo","postcode":"N-0150"},)"
    R"("tags":["a","b"],"attributes":{"logins":7}})";

std::shared_ptr<const ParsedSchema> MustParse(std::string_view text) {
  auto r = AvroFormat().Parse(text, {});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

std::string Hex(std::string_view bytes) {
  std::string out;
  for (char c : bytes) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return out;
}

// python3-avro's encodings of `records` (hex, one per record).
std::vector<std::string> PythonEncodings(std::string_view schema,
                                         const std::vector<std::string>& records) {
  char path[] = "/tmp/df_avro_encode_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  std::string input =
      fmt::format(R"({{"schema":{},"records":[{}]}})", schema, fmt::join(records, ","));
  EXPECT_EQ(write(fd, input.data(), input.size()), static_cast<ssize_t>(input.size()));
  close(fd);
  const std::string cmd = fmt::format(
      "/usr/bin/python3 {}/tests/registry/avro_encode_oracle.py < {}", DATAFORGE_SOURCE_DIR, path);
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(p ? pclose(p) : -1, 0) << cmd;
  unlink(path);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(out.substr(start, nl - start));
  }
  return lines;
}

// Apache Avro C reads `payload` under `schema` and writes it back: the bytes must be the same
// and the reader must consume all of them.
void ExpectAvroCReadsBack(std::string_view schema, const std::string& payload) {
  avro_schema_t s = nullptr;
  ASSERT_EQ(avro_schema_from_json_length(schema.data(), schema.size(), &s), 0) << avro_strerror();
  avro_value_iface_t* iface = avro_generic_class_from_schema(s);
  ASSERT_NE(iface, nullptr);
  avro_value_t value;
  ASSERT_EQ(avro_generic_value_new(iface, &value), 0);
  avro_reader_t reader = avro_reader_memory(payload.data(), static_cast<int64_t>(payload.size()));
  EXPECT_EQ(avro_value_read(reader, &value), 0) << avro_strerror();
  std::string again(payload.size() + 64, '\0');
  avro_writer_t writer = avro_writer_memory(again.data(), static_cast<int64_t>(again.size()));
  EXPECT_EQ(avro_value_write(writer, &value), 0) << avro_strerror();
  again.resize(static_cast<size_t>(avro_writer_tell(writer)));
  EXPECT_EQ(Hex(again), Hex(payload));
  avro_writer_free(writer);
  avro_reader_free(reader);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(s);
}

TEST(AvroValidator, AcceptsAMatchingRow) {
  auto schema = MustParse(kUserSchema);
  ASSERT_NE(schema, nullptr);
  auto v = schema->NewValidator();
  EXPECT_EQ(v->Validate(kRow), std::nullopt);
  EXPECT_EQ(v->Validate(std::string(kRow).replace(std::string(kRow).find("1.5"), 3, R"("NaN")")),
            std::nullopt);
  // A missing nullable field with default null is fine; so is null for it.
  std::string row(kRow);
  row.replace(row.find(R"("email":"z@example.com",)"), 24, "");
  EXPECT_EQ(v->Validate(row), std::nullopt) << row;
}

struct Failure {
  std::string from, to;  // replace `from` in kRow with `to`
  std::string path, rule, message;
};

TEST(AvroValidator, ReportsTheFirstFailureWithPathAndRule) {
  auto schema = MustParse(kUserSchema);
  ASSERT_NE(schema, nullptr);
  auto v = schema->NewValidator();
  const std::vector<Failure> cases = {
      {R"("age":31)", R"("age":"31")", "/age", "type", R"(expected int, got string "31")"},
      {R"("age":31)", R"("age":3000000000)", "/age", "range", "3000000000 out of range for int"},
      {R"("age":31)", R"("age":31.5)", "/age", "type", "expected int, got number 31.5"},
      {R"("id":42)", R"("id":18446744073709551615)", "/id", "range",
       "integer 18446744073709551615 out of range for long"},
      {R"("name":"Zoë",)", "", "/name", "missing field",
       R"(field "name" of record com.acme.User is missing and has no default)"},
      {R"("active":true)", R"("active":true,"extra":1)", "/extra", "unknown field",
       R"(field "extra" is not in record com.acme.User)"},
      {R"("ACTIVE")", R"("GONE")", "/status", "enum",
       R"("GONE" is not a symbol of enum com.acme.Status)"},
      {R"("N-0150")", "1.5", "/location/postcode", "union",
       "number 1.5 matches no branch of the union [null, int, string]"},
      {R"("tags":["a","b"])", R"("tags":["a",2])", "/tags/1", "type",
       "expected string, got integer 2"},
      {R"({"logins":7})", R"({"logins":7,"a/b":"x"})", "/attributes/a~1b", "type",
       R"(expected long, got string "x")"},
      {R"("email":"z@example.com")", R"("email":5)", "/email", "union",
       "integer 5 matches no branch of the union [null, string]"},
      {R"("score":1.5)", R"("score":null)", "/score", "type", "expected double, got null null"},
      {R"("score":1.5)", R"("score":"nan")", "/score", "type",
       R"(expected double, got string "nan")"},
  };
  for (const Failure& c : cases) {
    std::string row(kRow);
    const size_t at = row.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    row.replace(at, c.from.size(), c.to);
    if (c.to.empty() && row[at] == ',') row.erase(at, 1);
    auto err = v->Validate(row);
    ASSERT_TRUE(err.has_value()) << row;
    EXPECT_EQ(err->path, c.path) << row;
    EXPECT_EQ(err->rule, c.rule) << row;
    EXPECT_EQ(err->message, c.message) << row;
  }
  auto err = v->Validate("{\"id\":");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "");
  EXPECT_EQ(err->rule, "json");
  err = v->Validate("[1]");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->path, "");
  EXPECT_EQ(err->message, "expected record com.acme.User, got array");
}

TEST(AvroCodec, EncodesLikePythonAvroAndRoundTrips) {
  auto schema = MustParse(kUserSchema);
  ASSERT_NE(schema, nullptr);
  auto codec = schema->NewCodec();
  const std::vector<std::string> records = {
      std::string(kRow),
      R"({"id":-1,"name":"","age":-2147483648,"score":-0.0,"ratio":3.4e38,"active":false,)"
      R"("email":null,"status":"BLOCKED","location":{"city":"x","postcode":null},"tags":[],)"
      R"("attributes":{}})",
      R"({"id":9223372036854775807,"name":"a\"b\\c\n","age":2147483647,"score":1e-300,)"
      R"("ratio":-1,"active":true,"status":"ACTIVE","location":{"city":"","postcode":1234},)"
      R"("tags":["x","y","z"],"attributes":{"a":-9223372036854775808,"b":0}})",
  };
  const std::vector<std::string> python = PythonEncodings(kUserSchema, records);
  ASSERT_EQ(python.size(), records.size());
  // Decoding writes every field in schema order, floats in their shortest form.
  const std::vector<std::string> decoded = {
      R"({"id":42,"name":"Zoë","age":31,"score":1.5,"ratio":0.25,"active":true,)"
      R"("email":"z@example.com","status":"ACTIVE","location":{"city":"Oslo","postcode":"N-0150"},)"
      R"("tags":["a","b"],"attributes":{"logins":7}})",
      R"({"id":-1,"name":"","age":-2147483648,"score":-0,"ratio":3.4e+38,"active":false,)"
      R"("email":null,"status":"BLOCKED","location":{"city":"x","postcode":null},"tags":[],)"
      R"("attributes":{}})",
      R"({"id":9223372036854775807,"name":"a\"b\\c\n","age":2147483647,"score":1e-300,)"
      R"("ratio":-1,"active":true,"email":null,"status":"ACTIVE","location":{"city":"",)"
      R"("postcode":1234},"tags":["x","y","z"],"attributes":{"a":-9223372036854775808,"b":0}})",
  };
  for (size_t i = 0; i < records.size(); ++i) {
    std::string bytes;
    ASSERT_TRUE(codec->Encode(records[i], &bytes).ok()) << records[i];
    EXPECT_EQ(Hex(bytes), python[i]) << records[i];
    ExpectAvroCReadsBack(kUserSchema, bytes);
    std::string json;
    ASSERT_TRUE(codec->Decode(bytes, &json).ok()) << codec->Decode(bytes, &json).ToString();
    EXPECT_EQ(json, decoded[i]);
  }
  // The first record's bytes, spelled out: id 42 = zig-zag 84 = 0x54, "Zoë" (4 bytes) ...
  std::string bytes;
  ASSERT_TRUE(codec->Encode(kRow, &bytes).ok());
  // Keys in another order than the schema's give the same bytes.
  std::string reordered;
  ASSERT_TRUE(
      codec
          ->Encode(R"({"attributes":{"logins":7},"tags":["a","b"],"location":{"postcode":)"
                   R"("N-0150","city":"Oslo"},"status":"ACTIVE","email":"z@example.com",)"
                   R"("active":true,"ratio":0.25,"score":1.5,"age":31,"name":"Zoë","id":42})",
                   &reordered)
          .ok());
  EXPECT_EQ(Hex(reordered), Hex(bytes));
  EXPECT_EQ(Hex(bytes.substr(0, 7)), "54085a6fc3ab3e");
}

TEST(AvroCodec, AUnionValueTakesTheFirstBranchItMatches) {
  constexpr std::string_view kSchema = R"({"type":"record","name":"U","fields":[
    {"name":"a","type":["int","double"]},
    {"name":"b","type":["double","int"]},
    {"name":"c","type":["null",{"type":"map","values":"int"},{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}]},
    {"name":"d","type":[{"type":"record","name":"Q","fields":[{"name":"y","type":"string"}]},"P"]}]})";
  auto schema = MustParse(kSchema);
  ASSERT_NE(schema, nullptr);
  auto codec = schema->NewCodec();
  const std::vector<std::string> records = {
      R"({"a":2,"b":2,"c":{"x":1},"d":{"x":3}})",
      R"({"a":2.5,"b":2.5,"c":null,"d":{"y":"q"}})",
  };
  // a: int 2 (00 04), b: double 2.0 (00 + 8 bytes), c: the map branch ({"x":1} is a map of
  // int as well as a P), d: branch 1 (P). python3-avro 1.11.1 takes the LAST branch that
  // validates (io.py write_union has no break), so it is compared on the unambiguous record only.
  std::string bytes;
  ASSERT_TRUE(codec->Encode(records[0], &bytes).ok());
  EXPECT_EQ(Hex(bytes),
            "0004"
            "000000000000000040"
            "02"
            "0202780200"
            "0206");
  const std::vector<std::string> python = PythonEncodings(kSchema, {records[1]});
  ASSERT_EQ(python.size(), 1u);
  bytes.clear();
  ASSERT_TRUE(codec->Encode(records[1], &bytes).ok());
  EXPECT_EQ(Hex(bytes), python[0]);
  EXPECT_EQ(Hex(bytes), "02000000000000044000000000000000044000000271");
  std::string json;
  ASSERT_TRUE(codec->Decode(bytes, &json).ok());
  EXPECT_EQ(json, R"({"a":2.5,"b":2.5,"c":null,"d":{"y":"q"}})");
}

TEST(AvroCodec, DefaultsBytesFixedAndDecimal) {
  constexpr std::string_view kSchema = R"({"type":"record","name":"R","fields":[
    {"name":"n","type":"int","default":7},
    {"name":"u","type":["string","null"],"default":"dflt"},
    {"name":"b","type":"bytes"},
    {"name":"f","type":{"type":"fixed","name":"F","size":3}},
    {"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":6,"scale":2}},
    {"name":"df","type":{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":8,"scale":1}}]})";
  auto schema = MustParse(kSchema);
  ASSERT_NE(schema, nullptr);
  auto codec = schema->NewCodec();
  std::string bytes;
  ASSERT_TRUE(codec->Encode(R"({"b":"\u0000\u00ff","f":"abc","d":"-12.5","df":3})", &bytes).ok());
  // n=7 (0e), u = branch 0 "dflt" (00 08 64666c74), b = 2 bytes 00 ff (04 00ff), f = 616263,
  // d = -1250 = 0xfb1e (04 fb1e), df = 30 sign-extended to 4 bytes (0000001e).
  EXPECT_EQ(Hex(bytes),
            "0e000864666c7404"
            "00ff"
            "616263"
            "04fb1e"
            "0000001e");
  ExpectAvroCReadsBack(kSchema, bytes);
  std::string json;
  ASSERT_TRUE(codec->Decode(bytes, &json).ok());
  EXPECT_EQ(json, R"({"n":7,"u":"dflt","b":"\u0000ÿ","f":"abc","d":-12.50,"df":3.0})");
  // What does not fit.
  EXPECT_EQ(codec->Encode(R"({"b":"ā","f":"abc","d":1,"df":1})", &bytes).message(),
            "record does not match the Avro schema at '/b' (type): bytes has a character beyond "
            "U+00FF: bytes are written as a string of characters U+0000..U+00FF");
  EXPECT_EQ(codec->Encode(R"({"b":"","f":"ab","d":1,"df":1})", &bytes).message(),
            "record does not match the Avro schema at '/f' (size): fixed F holds 3 bytes, got 2");
  EXPECT_EQ(
      codec->Encode(R"({"b":"","f":"abc","d":"1.234","df":1})", &bytes).message(),
      "record does not match the Avro schema at '/d' (scale): string \"1.234\" has more than 2 "
      "fraction digits");
  EXPECT_EQ(codec->Encode(R"({"b":"","f":"abc","d":12345.6,"df":1})", &bytes).message(),
            "record does not match the Avro schema at '/d' (precision): number 12345.6 has more "
            "than 6 digits");
}

TEST(AvroCodec, NonFiniteFloatsAreSpelledAsAvroJsonDoes) {
  constexpr std::string_view kSchema = R"({"type":"record","name":"N","fields":[
    {"name":"d","type":{"type":"array","items":"double"}},{"name":"f","type":"float"}]})";
  auto schema = MustParse(kSchema);
  ASSERT_NE(schema, nullptr);
  auto codec = schema->NewCodec();
  std::string bytes;
  ASSERT_TRUE(
      codec->Encode(R"({"d":["NaN","Infinity","-Infinity",0.5],"f":"-Infinity"})", &bytes).ok());
  EXPECT_EQ(Hex(bytes),
            "08"
            "000000000000f87f"
            "000000000000f07f"
            "000000000000f0ff"
            "000000000000e03f"
            "00"
            "000080ff");
  ExpectAvroCReadsBack(kSchema, bytes);
  std::string json;
  ASSERT_TRUE(codec->Decode(bytes, &json).ok());
  EXPECT_EQ(json, R"({"d":["NaN","Infinity","-Infinity",0.5],"f":"-Infinity"})");
}

TEST(AvroCodec, MalformedPayloadsAreInvalidArgumentWithTheOffset) {
  auto schema = MustParse(kUserSchema);
  ASSERT_NE(schema, nullptr);
  auto codec = schema->NewCodec();
  std::string good;
  ASSERT_TRUE(codec->Encode(kRow, &good).ok());
  // Every truncation fails cleanly.
  for (size_t len = 0; len < good.size(); ++len) {
    std::string out;
    Status s = codec->Decode(std::string_view(good).substr(0, len), &out);
    ASSERT_EQ(s.code(), StatusCode::kInvalidArgument) << len;
    EXPECT_NE(s.message().find("at offset"), std::string::npos) << s.message();
  }
  std::string out;
  EXPECT_EQ(codec->Decode(good + "x", &out).message(),
            fmt::format("invalid Avro payload: 1 trailing bytes after the record at offset {}",
                        good.size()));
  EXPECT_EQ(codec->Decode(std::string(11, '\xff'), &out).message(),
            "invalid Avro payload: varint longer than 64 bits at offset 9");
  // name: length -1.
  EXPECT_EQ(codec->Decode(std::string("\x54\x01", 2), &out).message(),
            "invalid Avro payload: negative length -1 at offset 1");
  // name: a length beyond the payload.
  EXPECT_EQ(codec->Decode(std::string("\x54\x7e", 2), &out).message(),
            "invalid Avro payload: truncated string (63 bytes needed, 0 left) at offset 2");
  // name: not UTF-8.
  EXPECT_EQ(codec->Decode(std::string("\x54\x02\xff", 3), &out).message(),
            "invalid Avro payload: string is not UTF-8 at offset 2");
  // email: union index 2 of 2 branches (after id, name "", age 0, score, ratio, active).
  std::string prefix("\x54\x00\x00", 3);
  prefix += std::string(12, '\0');
  prefix += '\x01';
  EXPECT_EQ(codec->Decode(prefix + "\x04", &out).message(),
            "invalid Avro payload: union index 2 out of range (2 branches) at offset 16");
  EXPECT_EQ(codec->Decode(prefix.substr(0, 15) + std::string("\x02", 1), &out).message(),
            "invalid Avro payload: boolean byte 2 at offset 15");
  // status: enum index 5.
  EXPECT_EQ(codec->Decode(prefix + std::string("\x00\x0a", 2), &out).message(),
            "invalid Avro payload: enum index 5 out of range for com.acme.Status (2 symbols) at "
            "offset 17");
  // An array of nulls claiming 2^62 items is refused, not looped over.
  auto nulls = MustParse(R"({"type":"array","items":"null"})");
  EXPECT_EQ(
      nulls->NewCodec()
          ->Decode(std::string("\xfe\xff\xff\xff\xff\xff\xff\xff\x7f\x00", 10), &out)
          .message(),
      "invalid Avro payload: more than 1048576 items of a type that takes no bytes at offset 0");
  // Random bytes never crash (ASan/UBSan watch), and every failure is InvalidArgument.
  std::mt19937 rng(17);
  int ok = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string payload(rng() % 64, '\0');
    for (char& c : payload) c = static_cast<char>(rng());
    out.clear();
    Status s = codec->Decode(payload, &out);
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_LT(ok, 3000);
}

TEST(AvroCodec, NestingIsBoundedInBothDirections) {
  auto schema =
      MustParse(R"({"type":"record","name":"L","fields":[{"name":"n","type":["null","L"]}]})");
  ASSERT_NE(schema, nullptr);
  auto codec = schema->NewCodec();
  auto nested = [](int depth) {
    std::string json;
    for (int i = 0; i < depth; ++i) json += R"({"n":)";
    json += "null";
    for (int i = 0; i < depth; ++i) json += "}";
    return json;
  };
  std::string bytes;
  ASSERT_TRUE(codec->Encode(nested(256), &bytes).ok());
  EXPECT_EQ(bytes.size(), 256u);  // 255 x branch 1, then branch 0
  std::string json;
  ASSERT_TRUE(codec->Decode(bytes, &json).ok());
  EXPECT_EQ(json, nested(256));
  bytes.clear();
  Status deep = codec->Encode(nested(257), &bytes);
  EXPECT_EQ(deep.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(deep.message().find("(depth): record nested more than 256 levels deep"),
            std::string::npos)
      << deep.message();
  std::string payload(600, '\x02');  // each byte: union branch 1, one level deeper
  payload.push_back('\0');
  EXPECT_EQ(codec->Decode(payload, &json).message(),
            "invalid Avro payload: value nested deeper than 1024 levels at offset 512");
}

TEST(AvroCodec, UnionsOfSimilarRecordsCannotMakeMatchingExponential) {
  // Each level of the record fits B (b has a default) but not A (no "a"), found only after A's
  // walk of the whole subtree: without a bound, each level would double the work.
  auto schema = MustParse(R"({"type":"record","name":"A","fields":[
      {"name":"c","type":["null","A",{"type":"record","name":"B","fields":[
          {"name":"c","type":["null","A","B"]},{"name":"b","type":"int","default":0}]}]},
      {"name":"a","type":"int"}]})");
  ASSERT_NE(schema, nullptr);
  std::string json;
  for (int i = 0; i < 40; ++i) json += R"({"c":)";
  json += R"({"c":null})";
  for (int i = 0; i < 40; ++i) json += "}";
  auto err = schema->NewValidator()->Validate(json);
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->rule, "complexity");
  // The budget: 1,000,000 + 32 steps per byte of the record's text.
  EXPECT_EQ(json.size(), 250u);
  EXPECT_EQ(err->message,
            "matching the record to the schema took more than 1008000 steps (unions of similar "
            "records nested deeply)");
}

TEST(AvroSchema, RandomlyDamagedSchemasAreRefusedOrParsedNeverACrash) {
  const std::string base(kUserSchema);
  std::mt19937 rng(17);
  int parsed = 0, refused = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string text = base;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) {
      text[rng() % text.size()] = "{}[]\",:0a \\"[rng() % 11];
    }
    auto r = AvroFormat().Parse(text, {});
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
      EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
      ++refused;
      continue;
    }
    ++parsed;
    auto again = AvroFormat().Parse((*r)->canonical(), {});
    ASSERT_TRUE(again.ok()) << (*r)->canonical() << ": " << again.status().ToString();
    EXPECT_EQ((*again)->canonical(), (*r)->canonical());
    (void)(*r)->NewValidator()->Validate(kRow);
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace dataforge::registry
