#include "cql/wire.h"

#include <gtest/gtest.h>

#include "cql/testing/hex.h"

namespace dataforge::cql {
namespace {

using testing::Hex;
using testing::Unhex;

TEST(WireWriterTest, IntegersAreBigEndian) {
  std::string out;
  WireWriter w(&out);
  w.Byte(0xAB);
  w.Short(0x0102);
  w.Int(-2);
  w.Long(0x0102030405060708);
  EXPECT_EQ(Hex(out), "ab 01 02 ff ff ff fe 01 02 03 04 05 06 07 08");
}

TEST(WireWriterTest, StringsAndBytes) {
  std::string out;
  WireWriter w(&out);
  w.String("abc");
  w.LongString("de");
  w.Bytes(std::nullopt);
  w.BytesView("");
  w.ShortBytes("\x01");
  EXPECT_EQ(Hex(out), "00 03 61 62 63 00 00 00 02 64 65 ff ff ff ff 00 00 00 00 00 01 01");
}

// [value] (section 3): -1 is null, -2 is "not set".
TEST(WireWriterTest, ValueNullAndUnset) {
  std::string out;
  WireWriter w(&out);
  w.ValueBytes(Value::Null());
  w.ValueBytes(Value::Unset());
  w.ValueBytes(Value::Of("x"));
  EXPECT_EQ(Hex(out), "ff ff ff ff ff ff ff fe 00 00 00 01 78");
}

TEST(WireReaderTest, ValueNullAndUnset) {
  const std::string in = Unhex("ffffffff fffffffe 00000001 78 00000000");
  WireReader r(in);
  EXPECT_TRUE(r.ValueBytes().is_null());
  EXPECT_TRUE(r.ValueBytes().unset);
  Value v = r.ValueBytes();
  ASSERT_TRUE(v.bytes.has_value());
  EXPECT_EQ(*v.bytes, "x");
  Value empty = r.ValueBytes();
  ASSERT_TRUE(empty.bytes.has_value());
  EXPECT_EQ(*empty.bytes, "");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(WireTest, CollectionsRoundTrip) {
  std::string out;
  WireWriter w(&out);
  w.StringList({"a", "bc"});
  w.StringMap({{"CQL_VERSION", "3.0.0"}});
  w.StringMultimap({{"COMPRESSION", {}}, {"CQL_VERSION", {"3.4.5"}}});
  EXPECT_EQ(Hex(out),
            "00 02 00 01 61 00 02 62 63 "
            "00 01 00 0b 43 51 4c 5f 56 45 52 53 49 4f 4e 00 05 33 2e 30 2e 30 "
            "00 02 00 0b 43 4f 4d 50 52 45 53 53 49 4f 4e 00 00 "
            "00 0b 43 51 4c 5f 56 45 52 53 49 4f 4e 00 01 00 05 33 2e 34 2e 35");
  WireReader r(out);
  EXPECT_EQ(r.StringList(), (std::vector<std::string>{"a", "bc"}));
  auto map = r.StringMap();
  ASSERT_EQ(map.size(), 1u);
  EXPECT_EQ(map[0].first, "CQL_VERSION");
  EXPECT_EQ(map[0].second, "3.0.0");
  auto multimap = r.StringMultimap();
  ASSERT_EQ(multimap.size(), 2u);
  EXPECT_TRUE(multimap[0].second.empty());
  EXPECT_EQ(multimap[1].second, std::vector<std::string>{"3.4.5"});
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(WireTest, InetAndUuid) {
  std::string out;
  WireWriter w(&out);
  w.Inet(std::string("\x7f\x00\x00\x01", 4), 9042);
  const uint8_t uuid[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  w.Uuid(uuid);
  EXPECT_EQ(Hex(out), "04 7f 00 00 01 00 00 23 52 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
  WireReader r(std::string_view(out).substr(9));
  uint8_t back[16];
  EXPECT_TRUE(r.Uuid(&back));
  EXPECT_EQ(back[15], 15);
}

TEST(WireTest, PatchIntFillsALength) {
  std::string out;
  WireWriter w(&out);
  w.Int(0);
  w.Raw("abc");
  w.PatchInt(0, 3);
  EXPECT_EQ(Hex(out), "00 00 00 03 61 62 63");
}

// --- One test per truncation/corruption case ---

TEST(WireReaderTest, TruncatedInt) {
  const std::string in = Unhex("00 00 01");
  WireReader r(in);
  EXPECT_EQ(r.Int(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "truncated [int] at byte 0 of 3 (needs 4 more bytes, 3 left)");
}

TEST(WireReaderTest, TruncatedString) {
  const std::string in = Unhex("00 05 61 62");
  WireReader r(in);
  EXPECT_EQ(r.String(), "");
  EXPECT_EQ(r.error(), "truncated [string] at byte 0 of 4 (length 5, 2 bytes left)");
  EXPECT_EQ(r.ToStatus("STARTUP body").ToString(),
            "InvalidArgument: STARTUP body: truncated [string] at byte 0 of 4 (length 5, 2 bytes "
            "left)");
}

TEST(WireReaderTest, ErrorIsStickyAndFirstWins) {
  const std::string in = Unhex("00 01");
  WireReader r(in);
  r.Int();
  r.Short();  // would succeed on its own; the reader stays failed
  EXPECT_EQ(r.error(), "truncated [int] at byte 0 of 2 (needs 4 more bytes, 2 left)");
  EXPECT_EQ(r.position(), 0u);
}

TEST(WireReaderTest, NegativeBytesLength) {
  const std::string in = Unhex("ff ff ff fe 00");
  WireReader r(in);
  EXPECT_EQ(r.Bytes(), std::nullopt);
  EXPECT_EQ(r.error(), "negative [bytes] length -2 at byte 0 of 5");
}

TEST(WireReaderTest, NegativeValueLength) {
  const std::string in = Unhex("ff ff ff fd");
  WireReader r(in);
  EXPECT_TRUE(r.ValueBytes().is_null());
  EXPECT_EQ(r.error(), "negative [value] length -3 at byte 0 of 4");
}

TEST(WireReaderTest, NegativeLongStringLength) {
  const std::string in = Unhex("80 00 00 00");
  WireReader r(in);
  EXPECT_EQ(r.LongString(), "");
  EXPECT_EQ(r.error(), "negative [long string] length -2147483648 at byte 0 of 4");
}

TEST(WireReaderTest, HugeBytesLengthFailsWithoutAllocating) {
  const std::string in = Unhex("7f ff ff ff 00 00");
  WireReader r(in);
  EXPECT_EQ(r.Bytes(), std::nullopt);
  EXPECT_EQ(r.error(), "truncated [bytes] at byte 0 of 6 (length 2147483647, 2 bytes left)");
}

TEST(WireReaderTest, HugeStringMapCount) {
  // 65535 entries announced in a 10-byte body.
  const std::string in = Unhex("ff ff 00 01 61 00 01 62 00 00");
  WireReader r(in);
  EXPECT_TRUE(r.StringMap().empty());
  EXPECT_EQ(r.error(), "[string map] count 65535 at byte 0 of 10 exceeds the 8 bytes left");
}

TEST(WireReaderTest, HugeStringListCount) {
  const std::string in = Unhex("80 00 00 00");
  WireReader r(in);
  EXPECT_TRUE(r.StringList().empty());
  EXPECT_EQ(r.error(), "[string list] count 32768 at byte 0 of 4 exceeds the 2 bytes left");
}

TEST(WireReaderTest, TruncatedStringListElement) {
  const std::string in = Unhex("00 02 00 01 61 00 05 62");
  WireReader r(in);
  EXPECT_TRUE(r.StringList().empty());
  EXPECT_EQ(r.error(), "truncated [string] at byte 5 of 8 (length 5, 1 bytes left)");
}

TEST(WireReaderTest, TruncatedUuid) {
  const std::string in = Unhex("00 01 02");
  WireReader r(in);
  uint8_t uuid[16];
  EXPECT_FALSE(r.Uuid(&uuid));
  EXPECT_EQ(r.error(), "truncated [uuid] at byte 0 of 3 (needs 16 more bytes, 3 left)");
}

}  // namespace
}  // namespace dataforge::cql
