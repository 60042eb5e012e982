// JsonToValue / AppendValueAsJson: each type's JSON form, exact bytes both ways, and the errors.
#include <gtest/gtest.h>

#include "cql/testing/hex.h"
#include "cql/types.h"

namespace dataforge::cql {
namespace {

using testing::Hex;
using testing::Unhex;

DataType TypeNamed(const char* name) {
  return *ParseTypeName(name);
}

// JSON -> bytes as hex ("null" for a null value, the error text on failure).
std::string ToBytes(const char* type, std::string_view json) {
  auto v = JsonToValue(TypeNamed(type), json);
  if (!v.ok()) return v.status().message();
  return v->has_value() ? Hex(**v) : "null";
}

std::string ToJson(const char* type, const std::string& bytes) {
  std::string out;
  Status s = AppendValueAsJson(TypeNamed(type), bytes, &out);
  return s.ok() ? out : s.message();
}

struct Case {
  const char* type;
  const char* json;
  const char* hex;
  const char* back;  // the JSON written back; nullptr = same as json
};

TEST(ValueJsonTest, EveryTypeBothWays) {
  const Case cases[] = {
      {"text", R"("héllo")", "68 c3 a9 6c 6c 6f", nullptr},
      {"varchar", R"("a\"b")", "61 22 62", nullptr},
      {"ascii", R"("abc")", "61 62 63", nullptr},
      {"uuid", R"("00010203-0405-0607-0809-0a0b0c0d0e0f")",
       "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f", nullptr},
      {"timeuuid", R"("8d7e5c30-0d8a-11ef-9d0b-0242ac120002")",
       "8d 7e 5c 30 0d 8a 11 ef 9d 0b 02 42 ac 12 00 02", nullptr},
      {"int", "-2", "ff ff ff fe", nullptr},
      {"int", R"("42")", "00 00 00 2a", "42"},
      {"int", "7.0", "00 00 00 07", "7"},
      {"bigint", "9223372036854775807", "7f ff ff ff ff ff ff ff", nullptr},
      {"counter", "-1", "ff ff ff ff ff ff ff ff", nullptr},
      {"smallint", "-300", "fe d4", nullptr},
      {"tinyint", "-128", "80", nullptr},
      {"varint", "-129", "ff 7f", nullptr},
      {"varint", "128", "00 80", nullptr},
      {"double", "1.5", "3f f8 00 00 00 00 00 00", nullptr},
      // decimal: [int] scale + varint; JSON form the exact text (issue 22).
      {"decimal", R"("1.5")", "00 00 00 01 0f", nullptr},
      {"decimal", R"("-1.29")", "00 00 00 02 ff 7f", nullptr},
      {"decimal", R"("12345678901234567890.123456789")",
       "00 00 00 09 27 e4 1b 32 46 be c9 b1 6e 39 81 15", nullptr},
      {"decimal", R"("0.000000000000000000000000000001")", "00 00 00 1e 01", nullptr},
      {"decimal", "42", "00 00 00 00 2a", R"("42")"},
      {"decimal", R"("1e3")", "ff ff ff fd 01", R"("1E+3")"},
      {"decimal", R"("1000")", "00 00 00 00 03 e8", nullptr},
      {"double", "3", "40 08 00 00 00 00 00 00", nullptr},
      {"double", "-0.0", "80 00 00 00 00 00 00 00", nullptr},
      {"map<double, int>", R"({"NaN":1})",
       "00 00 00 01 00 00 00 08 7f f8 00 00 00 00 00 00 00 00 00 04 00 00 00 01", nullptr},
      {"double", R"("NaN")", "7f f8 00 00 00 00 00 00", nullptr},
      {"double", R"("-Infinity")", "ff f0 00 00 00 00 00 00", nullptr},
      {"float", "0.1", "3d cc cc cd", nullptr},
      {"float", "-0.0", "80 00 00 00", nullptr},  // "-0" would read back as +0 (fuzz finding)
      {"boolean", "true", "01", nullptr},
      {"boolean", R"("false")", "00", "false"},
      {"timestamp", R"("2024-05-01T12:30:00.250Z")", "00 00 01 8f 34 22 16 3a", nullptr},
      {"timestamp", "1714566600250", "00 00 01 8f 34 22 16 3a", R"("2024-05-01T12:30:00.250Z")"},
      {"timestamp", R"("2024-05-01T14:30:00.250+02:00")", "00 00 01 8f 34 22 16 3a",
       R"("2024-05-01T12:30:00.250Z")"},
      {"timestamp", "-9223372036854775808", "80 00 00 00 00 00 00 00", nullptr},
      {"date", R"("1970-01-02")", "80 00 00 01", nullptr},
      {"date", R"("1969-12-31")", "7f ff ff ff", nullptr},
      {"date", "0", "00 00 00 00", nullptr},
      {"time", R"("01:02:03.000000004")", "00 00 03 62 d4 17 ae 04", nullptr},
      {"time", R"("00:00:01")", "00 00 00 00 3b 9a ca 00", R"("00:00:01.000000000")"},
      {"blob", R"("0xCAFE")", "ca fe", R"("0xcafe")"},
      {"blob", R"("0x")", "", nullptr},
      {"inet", R"("127.0.0.1")", "7f 00 00 01", nullptr},
      {"inet", R"("::1")", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01", nullptr},
      {"list<int>", "[1,2]", "00 00 00 02 00 00 00 04 00 00 00 01 00 00 00 04 00 00 00 02",
       nullptr},
      {"set<text>", R"(["a"])", "00 00 00 01 00 00 00 01 61", nullptr},
      {"map<text, text>", R"({"class":"S"})",
       "00 00 00 01 00 00 00 05 63 6c 61 73 73 00 00 00 01 53", nullptr},
      {"map<int, boolean>", R"({"7":true})", "00 00 00 01 00 00 00 04 00 00 00 07 00 00 00 01 01",
       nullptr},
      {"list<frozen<list<int>>>", "[[]]", "00 00 00 01 00 00 00 04 00 00 00 00", nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.type) + " " + c.json);
    EXPECT_EQ(ToBytes(c.type, c.json), c.hex);
    EXPECT_EQ(ToJson(c.type, Unhex(c.hex)), c.back ? c.back : c.json);
  }
}

TEST(ValueJsonTest, NullBothWays) {
  EXPECT_EQ(ToBytes("int", "null"), "null");
  EXPECT_EQ(ToBytes("map<text, int>", " null "), "null");
  std::string out;
  ASSERT_TRUE(AppendValueAsJson(TypeNamed("int"), std::nullopt, &out).ok());
  EXPECT_EQ(out, "null");
}

TEST(ValueJsonTest, ConversionErrorsNameTheTypeAndValue) {
  EXPECT_EQ(ToBytes("int", "2147483648"),
            "cannot convert JSON value 2147483648 to CQL int: out of range [-2147483648, "
            "2147483647]");
  EXPECT_EQ(ToBytes("int", "1.5"), "cannot convert JSON value 1.5 to CQL int: not an integer");
  EXPECT_EQ(ToBytes("bigint", "18446744073709551615"),
            "cannot convert JSON value 18446744073709551615 to CQL bigint: out of range");
  EXPECT_EQ(ToBytes("tinyint", R"("x")"),
            R"(cannot convert JSON value "x" to CQL tinyint: not an integer)");
  EXPECT_EQ(ToBytes("text", "42"),
            "cannot convert JSON value 42 to CQL text: expected a JSON string");
  // ascii bytes and the timeuuid version: CheckValue (value_check.h), as for bound values.
  EXPECT_EQ(ToBytes("ascii", R"("aé")"), "CQL ascii value: non-ASCII byte 0xc3 at offset 1");
  EXPECT_EQ(
      ToBytes("uuid", R"("abc")"),
      R"(cannot convert JSON value "abc" to CQL uuid: not a UUID (36 characters, 8-4-4-4-12 hex digits))");
  EXPECT_EQ(ToBytes("timeuuid", R"("00010203-0405-4607-0809-0a0b0c0d0e0f")"),
            "CQL timeuuid value: a version 4 UUID; timeuuid needs version 1 (time-based)");
  EXPECT_EQ(
      ToBytes("timestamp", R"("yesterday")"),
      R"(cannot convert JSON value "yesterday" to CQL timestamp: expected "YYYY-MM-DDTHH:MM:SS.mmmZ" or epoch millis)");
  EXPECT_EQ(
      ToBytes("date", R"("2024-05-01T00:00:00Z")"),
      R"(cannot convert JSON value "2024-05-01T00:00:00Z" to CQL date: expected "YYYY-MM-DD")");
  EXPECT_EQ(
      ToBytes("blob", R"("cafe")"),
      R"(cannot convert JSON value "cafe" to CQL blob: expected "0x" and an even number of hex digits)");
  EXPECT_EQ(ToBytes("blob", R"("0xzz")"),
            R"(cannot convert JSON value "0xzz" to CQL blob: non-hex digit at offset 2)");
  EXPECT_EQ(ToBytes("inet", R"("1.2.3")"),
            R"(cannot convert JSON value "1.2.3" to CQL inet: not an IPv4 or IPv6 address)");
  EXPECT_EQ(ToBytes("float", "1e300"),
            "cannot convert JSON value 1e+300 to CQL float: out of float range");
  EXPECT_EQ(ToBytes("boolean", "1"),
            "cannot convert JSON value 1 to CQL boolean: expected true or false");
  EXPECT_EQ(ToBytes("list<int>", "[1,null]"),
            "cannot convert JSON value [1,null] to CQL list<int>: a collection element is null");
  EXPECT_EQ(ToBytes("map<int, int>", R"({"x":1})"),
            R"(cannot convert JSON value "x" to CQL int: not an integer)");
  EXPECT_EQ(ToBytes("decimal", R"("NaN")"),
            "cannot convert JSON value \"NaN\" to CQL decimal: not a decimal (digits, an optional "
            "point and exponent, at most 10000 digits; no NaN or Infinity)");
  EXPECT_EQ(
      ToBytes("tuple<int, int>", "1"),
      "CQL type tuple<int, int> has no JSON form in DataForge; use text, numbers, uuid, timestamp, "
      "date, time, inet, blob, boolean or list/set/map of those");
  EXPECT_EQ(ToBytes("int", "{"),
            "value { for CQL int is not valid JSON: The JSON document has an improper structure: "
            "missing or superfluous commas, braces, missing keys, etc.");
}

TEST(ValueJsonTest, LongValuesAreShortenedInErrors) {
  const std::string json = "\"" + std::string(200, 'a') + "\"";
  EXPECT_EQ(ToBytes("int", json), "cannot convert JSON value \"" + std::string(79, 'a') +
                                      "... (202 bytes) to CQL int: not an integer");
}

TEST(ValueJsonTest, DecodeErrors) {
  EXPECT_EQ(ToJson("int", Unhex("00 01")), "CQL int value: expected 4 bytes, got 2");
  EXPECT_EQ(ToJson("smallint", Unhex("00")), "CQL smallint value: expected 2 bytes, got 1");
  EXPECT_EQ(ToJson("inet", Unhex("01 02")), "CQL inet value: expected 4 or 16 bytes, got 2");
  EXPECT_EQ(ToJson("time", Unhex("ff ff ff ff ff ff ff ff")),
            "CQL time value -1 is outside [0, 86400000000000) nanoseconds");
  EXPECT_EQ(ToJson("varint", Unhex("01 00 00 00 00 00 00 00 00")),
            "CQL varint value of 9 bytes: DataForge converts 1 to 8 bytes (64-bit) only");
  EXPECT_EQ(ToJson("list<int>", Unhex("7f ff ff ff 00 00 00 00")),
            "CQL list<int> value: element count 2147483647 at byte 0 does not fit the 4 bytes "
            "left");
  EXPECT_EQ(ToJson("list<int>", Unhex("00 00 00 01 00 00 00 04 00 00 00 01 ff")),
            "CQL list<int> value: 1 bytes after the last element");
  EXPECT_EQ(ToJson("list<int>", Unhex("00 00 00 01 00 00 00 02 00 01")),
            "CQL int value: expected 4 bytes, got 2");
}

TEST(ValueJsonTest, FailedAppendLeavesOutputUntouched) {
  std::string out = "[";
  Status s = AppendValueAsJson(TypeNamed("list<int>"),
                               Unhex("00 00 00 02 00 00 00 04 00 00 00 01 00 00 00 01 00"), &out);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(out, "[");
}

// Out-of-range timestamps and dates are written as numbers, which JsonToValue reads back.
TEST(ValueJsonTest, OutOfRangeTimestampsRoundTripAsNumbers) {
  EXPECT_EQ(ToJson("timestamp", Unhex("7f ff ff ff ff ff ff ff")), "9223372036854775807");
  EXPECT_EQ(ToJson("date", Unhex("ff ff ff ff")), "4294967295");
  EXPECT_EQ(ToBytes("date", "4294967295"), "ff ff ff ff");
  EXPECT_EQ(ToJson("timestamp", Unhex("00 00 e6 77 d2 1f db ff")), R"("9999-12-31T23:59:59.999Z")");
}

}  // namespace
}  // namespace dataforge::cql
