// CheckValue / CompareValues / StorableType: each check's exact error, canonical sets and maps
// in Cassandra's order, and the literal path (JsonToValue) going through the same check.
#include "cql/value_check.h"

#include <gtest/gtest.h>

#include "cql/testing/hex.h"

namespace dataforge::cql {
namespace {

using testing::Hex;
using testing::Unhex;

DataType T(const char* name) {
  return *ParseTypeName(name);
}

// The canonical bytes as hex, or the error text.
std::string Check(const char* type, const std::string& bytes) {
  std::string v = bytes;
  Status s = CheckValue(T(type), &v);
  if (!s.ok()) {
    EXPECT_EQ(v, bytes) << "a refused value is left as it was";
    return s.message();
  }
  return Hex(v);
}

std::string CheckHex(const char* type, const char* hex) {
  return Check(type, Unhex(hex));
}

TEST(ValueCheckTest, WellFormedScalarsPassUnchanged) {
  EXPECT_EQ(Check("text", "zo\xc3\xab \xe2\x9c\x93"), "7a 6f c3 ab 20 e2 9c 93");
  EXPECT_EQ(Check("ascii", "abc"), "61 62 63");
  EXPECT_EQ(Check("blob", std::string("\xff\x00", 2)), "ff 00");
  EXPECT_EQ(CheckHex("int", "ff ff ff fe"), "ff ff ff fe");
  EXPECT_EQ(CheckHex("bigint", "00 00 00 00 00 00 00 2a"), "00 00 00 00 00 00 00 2a");
  EXPECT_EQ(CheckHex("timeuuid", "8d 7e 5c 30 0d 8a 11 ef 9d 0b 02 42 ac 12 00 02"),
            "8d 7e 5c 30 0d 8a 11 ef 9d 0b 02 42 ac 12 00 02");
  EXPECT_EQ(CheckHex("varint", "ff 7f"), "ff 7f");
  EXPECT_EQ(CheckHex("inet", "7f 00 00 01"), "7f 00 00 01");
  EXPECT_EQ(CheckHex("boolean", "01"), "01");
  EXPECT_EQ(CheckHex("boolean", "07"), "01");  // any non-zero byte is true
}

TEST(ValueCheckTest, TextEncodings) {
  EXPECT_EQ(Check("ascii", "ab\xc3\xa9"), "CQL ascii value: non-ASCII byte 0xc3 at offset 2");
  EXPECT_EQ(Check("text", "ok\xff"), "CQL text value: invalid UTF-8 at byte 2 (0xff)");
  EXPECT_EQ(Check("varchar", "a\xc3"), "CQL text value: invalid UTF-8 at byte 1 (0xc3)");
  // Overlong "/" and a UTF-16 surrogate are not UTF-8.
  EXPECT_EQ(Check("text", "\xc0\xaf"), "CQL text value: invalid UTF-8 at byte 0 (0xc0)");
  EXPECT_EQ(Check("text", "x\xed\xa0\x80"), "CQL text value: invalid UTF-8 at byte 1 (0xed)");
}

TEST(ValueCheckTest, WrongSizes) {
  EXPECT_EQ(CheckHex("int", "00 01"), "CQL int value: expected 4 bytes, got 2");
  EXPECT_EQ(CheckHex("int", ""), "CQL int value: expected 4 bytes, got 0");
  EXPECT_EQ(CheckHex("bigint", "00 00 00 01"), "CQL bigint value: expected 8 bytes, got 4");
  EXPECT_EQ(CheckHex("double", "00"), "CQL double value: expected 8 bytes, got 1");
  EXPECT_EQ(CheckHex("float", "00 00 00 00 00"), "CQL float value: expected 4 bytes, got 5");
  EXPECT_EQ(CheckHex("boolean", "00 01"), "CQL boolean value: expected 1 bytes, got 2");
  EXPECT_EQ(CheckHex("uuid", "00 01 02"), "CQL uuid value: expected 16 bytes, got 3");
  EXPECT_EQ(CheckHex("timestamp", "00 00 01"), "CQL timestamp value: expected 8 bytes, got 3");
  EXPECT_EQ(CheckHex("date", "00 00"), "CQL date value: expected 4 bytes, got 2");
  EXPECT_EQ(CheckHex("smallint", "00"), "CQL smallint value: expected 2 bytes, got 1");
  EXPECT_EQ(CheckHex("tinyint", "00 00"), "CQL tinyint value: expected 1 bytes, got 2");
  EXPECT_EQ(CheckHex("inet", "01 02"), "CQL inet value: expected 4 or 16 bytes, got 2");
  EXPECT_EQ(CheckHex("varint", "01 00 00 00 00 00 00 00 00"),
            "CQL varint value: 9 bytes; DataForge stores varints of 1 to 8 bytes (64-bit)");
  EXPECT_EQ(CheckHex("time", "ff ff ff ff ff ff ff ff"),
            "CQL time value: -1 is outside [0, 86400000000000) nanoseconds");
}

TEST(ValueCheckTest, TimeuuidMustBeVersion1) {
  EXPECT_EQ(CheckHex("timeuuid", "6f 1c 2a 4e 9b 7d 4c 3e 8f 2a 1d 5b 6c 7e 8f 90"),
            "CQL timeuuid value: a version 4 UUID; timeuuid needs version 1 (time-based)");
  // A uuid column takes any version.
  EXPECT_EQ(CheckHex("uuid", "6f 1c 2a 4e 9b 7d 4c 3e 8f 2a 1d 5b 6c 7e 8f 90"),
            "6f 1c 2a 4e 9b 7d 4c 3e 8f 2a 1d 5b 6c 7e 8f 90");
}

TEST(ValueCheckTest, TypesWithoutAStoredForm) {
  EXPECT_EQ(CheckHex("tuple<int, int>", "00 00 00 00"),
            "CQL type tuple<int, int> has no stored form in DataForge; use text, numbers, uuid, "
            "timestamp, date, time, inet, blob, boolean or list/set/map of those");
}

TEST(ValueCheckTest, CollectionsAreCheckedElementByElement) {
  EXPECT_EQ(CheckHex("list<int>", "00 00 00 01 00 00 00 02 00 01"),
            "CQL list<int> value: element 0: CQL int value: expected 4 bytes, got 2");
  EXPECT_EQ(CheckHex("list<int>", "00 00 00 01 ff ff ff ff"),
            "CQL list<int> value: element 0 is null (collections cannot hold nulls)");
  EXPECT_EQ(CheckHex("set<ascii>", "00 00 00 02 00 00 00 01 61 00 00 00 01 80"),
            "CQL set<ascii> value: element 1: CQL ascii value: non-ASCII byte 0x80 at offset 0");
  EXPECT_EQ(CheckHex("map<text, int>", "00 00 00 01 00 00 00 01 61 00 00 00 01 05"),
            "CQL map<text, int> value: value 0: CQL int value: expected 4 bytes, got 1");
  EXPECT_EQ(CheckHex("list<int>", "7f ff ff ff 00 00 00 00"),
            "CQL list<int> value: element count 2147483647 does not fit the 4 bytes after it");
  EXPECT_EQ(CheckHex("list<int>", "00 00 00 01 00 00 00 04 00 00 00 01 ff"),
            "CQL list<int> value: 1 bytes after the last element");
  EXPECT_EQ(CheckHex("list<int>", "00 00 00 02 00 00 00 04 00 00 00 01 00 00 00 09 00"),
            "CQL list<int> value: element 1 at byte 12: its length does not fit the 5 bytes "
            "left");
  EXPECT_EQ(CheckHex("list<int>", "00 00"),
            "CQL list<int> value: expected a 4-byte element count, got 2 bytes");
  // A list keeps its order and duplicates.
  EXPECT_EQ(CheckHex("list<int>", "00 00 00 02 00 00 00 04 00 00 00 02 00 00 00 04 00 00 00 02"),
            "00 00 00 02 00 00 00 04 00 00 00 02 00 00 00 04 00 00 00 02");
}

TEST(ValueCheckTest, SetIsSortedWithoutDuplicates) {
  // {3, -1, 3} -> {-1, 3}: signed order, one 3.
  EXPECT_EQ(CheckHex("set<int>",
                     "00 00 00 03 00 00 00 04 00 00 00 03 00 00 00 04 ff ff ff ff "
                     "00 00 00 04 00 00 00 03"),
            "00 00 00 02 00 00 00 04 ff ff ff ff 00 00 00 04 00 00 00 03");
  // Text: unsigned bytes, "B" < "a" < "é".
  EXPECT_EQ(CheckHex("set<text>", "00 00 00 03 00 00 00 02 c3 a9 00 00 00 01 61 00 00 00 01 42"),
            "00 00 00 03 00 00 00 01 42 00 00 00 01 61 00 00 00 02 c3 a9");
}

TEST(ValueCheckTest, MapKeepsTheLastValuePerKeySortedByKey) {
  // {'b': 1, 'a': 2, 'b': 3} -> {'a': 2, 'b': 3}
  EXPECT_EQ(CheckHex("map<text, int>",
                     "00 00 00 03 00 00 00 01 62 00 00 00 04 00 00 00 01 "
                     "00 00 00 01 61 00 00 00 04 00 00 00 02 "
                     "00 00 00 01 62 00 00 00 04 00 00 00 03"),
            "00 00 00 02 00 00 00 01 61 00 00 00 04 00 00 00 02 "
            "00 00 00 01 62 00 00 00 04 00 00 00 03");
}

int Cmp(const char* type, const char* a, const char* b) {
  return CompareValues(T(type), Unhex(a), Unhex(b));
}

TEST(ValueCheckTest, CassandraOrderOfEachType) {
  EXPECT_LT(Cmp("bigint", "ff ff ff ff ff ff ff ff", "00 00 00 00 00 00 00 00"), 0);
  EXPECT_LT(Cmp("timestamp", "80 00 00 00 00 00 00 00", "00 00 00 00 00 00 00 01"), 0);
  EXPECT_LT(Cmp("date", "7f ff ff ff", "80 00 00 00"), 0);  // 1969-12-31 < 1970-01-01
  EXPECT_LT(Cmp("varint", "ff", "00 80"), 0);               // -1 < 128
  EXPECT_LT(Cmp("double", "80 00 00 00 00 00 00 00", "00 00 00 00 00 00 00 00"), 0);  // -0 < 0
  EXPECT_GT(Cmp("double", "7f f8 00 00 00 00 00 00", "7f f0 00 00 00 00 00 00"), 0);  // NaN > inf
  EXPECT_EQ(Cmp("double", "7f f8 00 00 00 00 00 00", "7f f8 00 00 00 00 00 01"), 0);  // NaNs
  EXPECT_LT(Cmp("boolean", "00", "01"), 0);
  EXPECT_LT(Cmp("blob", "ff", "ff 00"), 0);
  // timeuuid: by time (time_hi, then time_mid, then time_low), whatever the byte order says.
  EXPECT_LT(Cmp("timeuuid", "ff ff ff ff 00 00 11 00 00 00 00 00 00 00 00 00",
                "00 00 00 00 00 01 11 00 00 00 00 00 00 00 00 00"),
            0);
  // timeuuid: equal times compare the rest as signed bytes (0x80 < 0x7f).
  EXPECT_LT(Cmp("timeuuid", "00 00 00 00 00 00 11 00 80 00 00 00 00 00 00 00",
                "00 00 00 00 00 00 11 00 7f 00 00 00 00 00 00 00"),
            0);
  // uuid: version first, then unsigned bytes.
  EXPECT_LT(Cmp("uuid", "ff 00 00 00 00 00 40 00 00 00 00 00 00 00 00 00",
                "00 00 00 00 00 00 50 00 00 00 00 00 00 00 00 00"),
            0);
  EXPECT_LT(Cmp("uuid", "00 00 00 00 00 00 40 00 7f 00 00 00 00 00 00 00",
                "00 00 00 00 00 00 40 00 80 00 00 00 00 00 00 00"),
            0);
  // Frozen lists: element by element, then the shorter first.
  EXPECT_LT(Cmp("list<int>", "00 00 00 01 00 00 00 04 00 00 00 05",
                "00 00 00 02 00 00 00 04 00 00 00 05 00 00 00 04 00 00 00 00"),
            0);
}

TEST(ValueCheckTest, LiteralsGoThroughTheSameCheck) {
  // JSON arrays for sets are sorted and deduplicated, JSON objects keep the last key.
  auto v = JsonToValue(T("set<int>"), "[3,1,3]");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(Hex(**v), "00 00 00 02 00 00 00 04 00 00 00 01 00 00 00 04 00 00 00 03");
  v = JsonToValue(T("map<int, text>"), R"({"2":"x","1":"y","2":"z"})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(Hex(**v),
            "00 00 00 02 00 00 00 04 00 00 00 01 00 00 00 01 79 "
            "00 00 00 04 00 00 00 02 00 00 00 01 7a");
  v = JsonToValue(T("ascii"), R"("é")");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "CQL ascii value: non-ASCII byte 0xc3 at offset 0");
}

// Issue 22: decimal is stored (int32 scale + varint unscaled value), canonical with a minimal
// varint, and ordered numerically.
TEST(ValueCheckTest, Decimal) {
  EXPECT_EQ(CheckHex("decimal", "00 00 00 01 0f"), "00 00 00 01 0f");
  EXPECT_EQ(CheckHex("decimal", "00 00 00 01 00 00 0f"), "00 00 00 01 0f");
  EXPECT_EQ(CheckHex("decimal", "00 00 00 02 ff ff 7f"), "00 00 00 02 ff 7f");
  EXPECT_EQ(CheckHex("decimal", "00 00 00 01"),
            "CQL decimal value: expected at least 5 bytes (scale and unscaled value), got 4");
  EXPECT_EQ(CheckHex("set<decimal>",
                     "00 00 00 02 00 00 00 05 00 00 00 01 0f 00 00 00 05 00 00 "
                     "00 00 01"),
            "00 00 00 02 00 00 00 05 00 00 00 00 01 00 00 00 05 00 00 00 01 0f");
  EXPECT_LT(Cmp("decimal", "00 00 00 02 ff 7f", "00 00 00 00 00"), 0);  // -1.29 < 0
  EXPECT_GT(Cmp("decimal", "00 00 00 01 0f", "00 00 00 00 01"), 0);     // 1.5 > 1
  EXPECT_EQ(Cmp("decimal", "00 00 00 01 0f", "00 00 00 02 00 96"), 0);  // 1.5 == 1.50
}

TEST(ValueCheckTest, StorableTypes) {
  std::string why;
  EXPECT_TRUE(StorableType(T("map<text, frozen<list<int>>>"), &why));
  EXPECT_TRUE(StorableType(T("varint"), &why));
  EXPECT_FALSE(StorableType(T("counter"), &why));
  EXPECT_EQ(why,
            "CQL type counter is not supported by the DataForge CQL endpoint (no counter "
            "updates); use bigint");
  EXPECT_TRUE(StorableType(T("list<decimal>"), &why));
  EXPECT_FALSE(StorableType(T("frozen<tuple<int, text>>"), &why));
  EXPECT_EQ(why,
            "CQL type tuple<int, text> has no stored form in DataForge; use text, numbers, uuid, "
            "timestamp, date, time, inet, blob, boolean or list/set/map of those");
}

}  // namespace
}  // namespace dataforge::cql
