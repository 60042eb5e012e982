// [option] encodings (section 4.2.5.2), type names and scalar codecs (section 6).
#include "cql/types.h"

#include <gtest/gtest.h>

#include "common/uuid.h"
#include "cql/testing/hex.h"

namespace dataforge::cql {
namespace {

using testing::Hex;
using testing::Unhex;

std::string Written(const DataType& t) {
  std::string out;
  WireWriter w(&out);
  WriteType(t, &w);
  return Hex(out);
}

DataType Read(const std::string& bytes, std::string* error) {
  WireReader r(bytes);
  DataType t = ReadType(&r);
  *error = r.error();
  if (r.ok() && r.remaining() != 0) *error = "trailing bytes";
  return t;
}

TEST(TypeOptionTest, CollectionTypesExactBytes) {
  EXPECT_EQ(Written(DataType::Of(TypeId::kVarchar)), "00 0d");
  EXPECT_EQ(Written(DataType::List(DataType::Of(TypeId::kInt))), "00 20 00 09");
  EXPECT_EQ(Written(DataType::Set(DataType::Of(TypeId::kVarchar))), "00 22 00 0d");
  EXPECT_EQ(Written(DataType::Map(DataType::Of(TypeId::kVarchar),
                                  DataType::List(DataType::Of(TypeId::kUuid)))),
            "00 21 00 0d 00 20 00 0c");
}

TEST(TypeOptionTest, CustomUdtTupleRoundTrip) {
  DataType custom = DataType::Of(TypeId::kCustom);
  custom.custom = "a.B";
  EXPECT_EQ(Written(custom), "00 00 00 03 61 2e 42");
  DataType udt = DataType::Of(TypeId::kUdt);
  udt.udt_keyspace = "ks";
  udt.udt_name = "addr";
  udt.udt_fields = {{"n", DataType::Of(TypeId::kInt)}};
  EXPECT_EQ(Written(udt), "00 30 00 02 6b 73 00 04 61 64 64 72 00 01 00 01 6e 00 09");
  DataType tuple = DataType::Of(TypeId::kTuple);
  tuple.params = {DataType::Of(TypeId::kInt), DataType::Of(TypeId::kVarchar)};
  EXPECT_EQ(Written(tuple), "00 31 00 02 00 09 00 0d");
  for (const DataType& t : {custom, udt, tuple}) {
    std::string out, error;
    WireWriter w(&out);
    WriteType(t, &w);
    EXPECT_EQ(Read(out, &error), t);
    EXPECT_EQ(error, "");
  }
}

TEST(TypeOptionTest, NestingDepthLimit) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += Unhex("00 20");
  deep += Unhex("00 09");
  std::string error;
  Read(deep, &error);
  EXPECT_EQ(error, "[option] at byte 34 nests deeper than 16 levels");
  std::string ok;
  for (int i = 0; i < 16; ++i) ok += Unhex("00 20");
  ok += Unhex("00 09");
  Read(ok, &error);
  EXPECT_EQ(error, "");
}

TEST(TypeOptionTest, UnknownTypeId) {
  std::string error;
  Read(Unhex("00 21 00 0d 00 7f"), &error);
  EXPECT_EQ(error, "unknown [option] type id 0x007f at byte 4");
}

TEST(TypeOptionTest, TruncatedMapValueType) {
  std::string error;
  Read(Unhex("00 21 00 0d"), &error);
  EXPECT_EQ(error, "truncated [short] at byte 4 of 4 (needs 2 more bytes, 0 left)");
}

TEST(TypeOptionTest, HugeUdtFieldCount) {
  std::string error;
  Read(Unhex("00 30 00 00 00 00 ff ff 00 00"), &error);
  EXPECT_EQ(error, "UDT field count 65535 at byte 6 exceeds the 2 bytes left");
}

TEST(TypeOptionTest, HugeTupleCount) {
  std::string error;
  Read(Unhex("00 31 ff ff"), &error);
  EXPECT_EQ(error, "tuple element count 65535 at byte 2 exceeds the 0 bytes left");
}

TEST(TypeNameTest, NamesAndParsing) {
  EXPECT_EQ(TypeName(DataType::Of(TypeId::kVarchar)), "text");
  EXPECT_EQ(TypeName(DataType::Map(DataType::Of(TypeId::kVarchar), DataType::Of(TypeId::kInt))),
            "map<text, int>");
  auto t = ParseTypeName(" Frozen<MAP<varchar, list<BIGINT>>> ");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, DataType::Map(DataType::Of(TypeId::kVarchar),
                              DataType::List(DataType::Of(TypeId::kBigint))));
  EXPECT_EQ(TypeName(*ParseTypeName("tuple<int, text>")), "tuple<int, text>");
  for (const char* name : {"ascii", "bigint", "blob", "boolean", "counter", "decimal", "double",
                           "float", "int", "timestamp", "uuid", "text", "varint", "timeuuid",
                           "inet", "date", "time", "smallint", "tinyint"}) {
    auto parsed = ParseTypeName(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(TypeName(*parsed), name);
  }
}

TEST(TypeNameTest, Errors) {
  EXPECT_EQ(ParseTypeName("strin").status().ToString(),
            "InvalidArgument: unknown CQL type 'strin' in 'strin'; expected one of text, int, "
            "bigint, uuid, timestamp, double, boolean, ... or list<T>, set<T>, map<K, V>");
  EXPECT_EQ(ParseTypeName("map<text>").status().ToString(),
            "InvalidArgument: CQL type 'map<text>' in 'map<text>' takes 2 parameter(s), got 1");
  EXPECT_EQ(ParseTypeName("list<int").status().ToString(),
            "InvalidArgument: CQL type 'list<int' in 'list<int' does not end with '>'");
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "list<";
  deep += "int" + std::string(20, '>');
  EXPECT_FALSE(ParseTypeName(deep).ok());
}

TEST(ScalarCodecTest, ExactBytes) {
  EXPECT_EQ(Hex(EncodeInt(-1)), "ff ff ff ff");
  EXPECT_EQ(Hex(EncodeBigint(1)), "00 00 00 00 00 00 00 01");
  EXPECT_EQ(Hex(EncodeDouble(1.5)), "3f f8 00 00 00 00 00 00");
  EXPECT_EQ(Hex(EncodeBoolean(true)), "01");
  EXPECT_EQ(Hex(*EncodeUuid("00010203-0405-0607-0809-0A0B0C0D0E0F")),
            "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
  EXPECT_EQ(*DecodeUuid(Unhex("000102030405060708090a0b0c0d0e0f")),
            "00010203-0405-0607-0809-0a0b0c0d0e0f");
  EXPECT_EQ(*DecodeUuid(Unhex("f0e1d2c3b4a5968778695a4b3c2d1e0f")),
            "f0e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f");
  for (int byte = 0; byte < 256; ++byte) {  // every byte value, as FormatUuid writes it
    unsigned char b[16];
    for (int i = 0; i < 16; ++i) b[i] = static_cast<unsigned char>(byte + i);
    EXPECT_EQ(*DecodeUuid(std::string_view(reinterpret_cast<const char*>(b), 16)), FormatUuid(b));
  }
  EXPECT_EQ(*DecodeInt(Unhex("ff ff ff fe")), -2);
  EXPECT_EQ(*DecodeBigint(Unhex("80 00 00 00 00 00 00 00")), INT64_MIN);
  EXPECT_EQ(*DecodeDouble(Unhex("3f f8 00 00 00 00 00 00")), 1.5);
  EXPECT_TRUE(*DecodeBoolean(Unhex("02")));
}

TEST(ScalarCodecTest, WrongSizes) {
  EXPECT_EQ(DecodeInt(Unhex("00 00 01")).status().ToString(),
            "InvalidArgument: CQL int value: expected 4 bytes, got 3");
  EXPECT_EQ(DecodeBigint("").status().ToString(),
            "InvalidArgument: CQL bigint value: expected 8 bytes, got 0");
  EXPECT_FALSE(DecodeUuid("short").ok());
  EXPECT_EQ(EncodeUuid("0001").status().ToString(),
            "InvalidArgument: '0001' is not a UUID (wrong length); expected 36 characters like "
            "'123e4567-e89b-12d3-a456-426614174000'");
  EXPECT_FALSE(EncodeUuid("00010203x0405-0607-0809-0a0b0c0d0e0f").ok());
  EXPECT_FALSE(EncodeUuid("0001020g-0405-0607-0809-0a0b0c0d0e0f").ok());
}

// [int] n, then n [bytes] (a map: key, value, key, value ...).
TEST(CollectionValueTest, ExactBytes) {
  EXPECT_EQ(Hex(EncodeStringSet({"a", "bc"})), "00 00 00 02 00 00 00 01 61 00 00 00 02 62 63");
  EXPECT_EQ(Hex(EncodeStringMap({{"class", "S"}})),
            "00 00 00 01 00 00 00 05 63 6c 61 73 73 00 00 00 01 53");
  EXPECT_EQ(Hex(EncodeCollection({})), "00 00 00 00");
}

}  // namespace
}  // namespace dataforge::cql
