#include "source/postgres_cdc/pgoutput.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace dataforge::pgoutput {
namespace {

// Test-only builder of big-endian wire bytes.
class Wire {
 public:
  Wire& U8(uint8_t v) {
    s_.push_back(static_cast<char>(v));
    return *this;
  }
  Wire& U16(uint16_t v) { return Int(v, 2); }
  Wire& U32(uint32_t v) { return Int(v, 4); }
  Wire& U64(uint64_t v) { return Int(v, 8); }
  Wire& Str(std::string_view v) {  // NUL-terminated
    s_.append(v);
    s_.push_back('\0');
    return *this;
  }
  Wire& Text(std::string_view v) {  // one TupleData 't' column
    U8('t').U32(static_cast<uint32_t>(v.size()));
    s_.append(v);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  Wire& Int(uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) s_.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  std::string s_;
};

constexpr int64_t kCommitUnixUs = 1795575845123456;  // 2026-11-25T03:04:05.123456Z
constexpr int64_t kCommitPgUs = kCommitUnixUs - 946684800000000;

template <typename T>
T DecodeAs(const std::string& bytes) {
  Result<Message> m = Decode(bytes);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*m));
  if (!std::holds_alternative<T>(*m)) return T{};
  return std::get<T>(*m);
}

// public.users (id int4 key, name text, score float8, meta jsonb), replica identity default.
std::string UsersRelationBytes() {
  return Wire()
      .U8('R')
      .U32(16384)
      .Str("public")
      .Str("users")
      .U8('d')
      .U16(4)
      .U8(1)
      .Str("id")
      .U32(23)
      .U32(0xFFFFFFFF)
      .U8(0)
      .Str("name")
      .U32(25)
      .U32(0xFFFFFFFF)
      .U8(0)
      .Str("score")
      .U32(701)
      .U32(0xFFFFFFFF)
      .U8(0)
      .Str("meta")
      .U32(3802)
      .U32(0xFFFFFFFF)
      .str();
}

std::string InsertBytes() {
  return Wire()
      .U8('I')
      .U32(16384)
      .U8('N')
      .U16(4)
      .Text("42")
      .Text("Ann \"A\"")
      .U8('n')
      .Text("{\"a\": 1}")
      .str();
}

Begin Txn() {
  Begin b;
  b.final_lsn = 0x16B374D848;
  b.commit_time_us = kCommitUnixUs;
  b.xid = 777;
  return b;
}

Value T(std::string s) {
  return Value{ValueKind::kText, std::move(s)};
}
Value N() {
  return Value{ValueKind::kNull, ""};
}

// ---- LSN ----

TEST(PgoutputLsn, FormatAndParseRoundTrip) {
  EXPECT_EQ(FormatLsn(0), "0/0");
  EXPECT_EQ(FormatLsn(0x16B374D848), "16/B374D848");
  EXPECT_EQ(FormatLsn(~uint64_t{0}), "FFFFFFFF/FFFFFFFF");
  EXPECT_EQ(FormatLsn(0x100000000), "1/0");
  for (uint64_t lsn : {uint64_t{0}, uint64_t{0x16B374D848}, ~uint64_t{0}, uint64_t{0xA}}) {
    Result<uint64_t> parsed = ParseLsn(FormatLsn(lsn));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, lsn);
  }
  EXPECT_EQ(*ParseLsn("16/b374d848"), uint64_t{0x16B374D848});
  EXPECT_EQ(*ParseLsn("00000000/00000001"), uint64_t{1});
}

TEST(PgoutputLsn, BadTextIsError) {
  for (const char* bad : {"", "/", "16", "16/", "/B3", "G/0", "1/2/3", " 1/2", "1/2 ", "-1/2",
                          "0x1/2", "123456789/0", "0/123456789", "1/+2"}) {
    Result<uint64_t> r = ParseLsn(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseLsn("1/x").status().message(),
            "bad LSN \"1/x\": want two hex numbers of 1-8 digits like \"16/B374D848\"");
}

// ---- CopyData framing ----

TEST(PgoutputCopyData, XLogData) {
  std::string bytes =
      Wire().U8('w').U64(0x16B374D848).U64(0x16B374D900).U64(kCommitPgUs).str() + "BODY";
  auto r = ParseCopyData(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(std::holds_alternative<XLogData>(*r));
  const XLogData& x = std::get<XLogData>(*r);
  EXPECT_EQ(x.wal_start, uint64_t{0x16B374D848});
  EXPECT_EQ(x.wal_end, uint64_t{0x16B374D900});
  EXPECT_EQ(x.send_time_us, kCommitUnixUs);
  EXPECT_EQ(x.payload, "BODY");

  // An empty payload is allowed; a short header is not.
  EXPECT_TRUE(ParseCopyData(bytes.substr(0, 25)).ok());
  auto short_header = ParseCopyData(bytes.substr(0, 24));
  ASSERT_FALSE(short_header.ok());
  EXPECT_EQ(short_header.status().message(),
            "XLogData ('w') message is 24 bytes, shorter than its 25-byte header");
}

TEST(PgoutputCopyData, Keepalive) {
  std::string bytes = Wire().U8('k').U64(0x10).U64(kCommitPgUs).U8(1).str();
  auto r = ParseCopyData(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(std::holds_alternative<Keepalive>(*r));
  const Keepalive& k = std::get<Keepalive>(*r);
  EXPECT_EQ(k.wal_end, uint64_t{0x10});
  EXPECT_EQ(k.send_time_us, kCommitUnixUs);
  EXPECT_TRUE(k.reply_requested);

  bytes.back() = 0;
  EXPECT_FALSE(std::get<Keepalive>(*ParseCopyData(bytes)).reply_requested);

  auto too_long = ParseCopyData(bytes + "x");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().message(),
            "Primary keepalive ('k') message is 19 bytes; it must be 18");
  EXPECT_FALSE(ParseCopyData(bytes.substr(0, 17)).ok());
}

TEST(PgoutputCopyData, BadTypeIsError) {
  auto r = ParseCopyData("x123");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(r.status().message(),
            "unexpected CopyData message type 0x78 ('x') (4 bytes) in the replication stream; "
            "expected 'w' (XLogData) or 'k' (keepalive)");
  EXPECT_FALSE(ParseCopyData("").ok());
}

TEST(PgoutputCopyData, StandbyStatusUpdateBytes) {
  std::string msg = StandbyStatusUpdate(0x0102030405060708, 0x16B374D848, 0x10, kCommitUnixUs,
                                        /*reply_requested=*/true);
  std::string want = Wire()
                         .U8('r')
                         .U64(0x0102030405060708)
                         .U64(0x16B374D848)
                         .U64(0x10)
                         .U64(kCommitPgUs)
                         .U8(1)
                         .str();
  ASSERT_EQ(msg.size(), 34u);
  EXPECT_EQ(msg, want);
  EXPECT_EQ(msg.substr(0, 9), std::string("r\x01\x02\x03\x04\x05\x06\x07\x08", 9));
  EXPECT_EQ(StandbyStatusUpdate(0, 0, 0, 946684800000000, false),
            std::string("r") + std::string(33, '\0'));
}

// ---- pgoutput messages ----

TEST(PgoutputDecode, Begin) {
  Begin b = DecodeAs<Begin>(Wire().U8('B').U64(0x16B374D848).U64(kCommitPgUs).U32(777).str());
  EXPECT_EQ(b.final_lsn, uint64_t{0x16B374D848});
  EXPECT_EQ(b.commit_time_us, kCommitUnixUs);
  EXPECT_EQ(b.xid, 777u);
}

TEST(PgoutputDecode, Commit) {
  Commit c = DecodeAs<Commit>(
      Wire().U8('C').U8(0).U64(0x16B374D848).U64(0x16B374D878).U64(kCommitPgUs).str());
  EXPECT_EQ(c.flags, 0);
  EXPECT_EQ(c.commit_lsn, uint64_t{0x16B374D848});
  EXPECT_EQ(c.end_lsn, uint64_t{0x16B374D878});
  EXPECT_EQ(c.commit_time_us, kCommitUnixUs);
}

TEST(PgoutputDecode, Relation) {
  Relation r = DecodeAs<Relation>(UsersRelationBytes());
  EXPECT_EQ(r.oid, 16384u);
  EXPECT_EQ(r.schema, "public");
  EXPECT_EQ(r.name, "users");
  EXPECT_EQ(r.replica_identity, 'd');
  ASSERT_EQ(r.columns.size(), 4u);
  EXPECT_TRUE(r.columns[0].key);
  EXPECT_EQ(r.columns[0].name, "id");
  EXPECT_EQ(r.columns[0].type_oid, 23u);
  EXPECT_EQ(r.columns[0].type_modifier, -1);
  EXPECT_FALSE(r.columns[1].key);
  EXPECT_EQ(r.columns[1].name, "name");
  EXPECT_EQ(r.columns[1].type_oid, 25u);
  EXPECT_EQ(r.columns[2].name, "score");
  EXPECT_EQ(r.columns[2].type_oid, 701u);
  EXPECT_EQ(r.columns[3].name, "meta");
  EXPECT_EQ(r.columns[3].type_oid, 3802u);
}

TEST(PgoutputDecode, RelationEmptyNamespaceIsPgCatalogAndTypmod) {
  Relation r = DecodeAs<Relation>(Wire()
                                      .U8('R')
                                      .U32(1259)
                                      .Str("")
                                      .Str("t")
                                      .U8('f')
                                      .U16(1)
                                      .U8(1)
                                      .Str("v")
                                      .U32(1043)
                                      .U32(14)  // varchar(10): atttypmod = 10 + 4
                                      .str());
  EXPECT_EQ(r.schema, "pg_catalog");
  EXPECT_EQ(r.replica_identity, 'f');
  ASSERT_EQ(r.columns.size(), 1u);
  EXPECT_TRUE(r.columns[0].key);
  EXPECT_EQ(r.columns[0].type_modifier, 14);
}

TEST(PgoutputDecode, Insert) {
  Change c = DecodeAs<Change>(InsertBytes());
  EXPECT_EQ(c.op, 'I');
  EXPECT_EQ(c.relation_oid, 16384u);
  EXPECT_EQ(c.old_kind, 0);
  EXPECT_TRUE(c.old_values.empty());
  ASSERT_EQ(c.new_values.size(), 4u);
  EXPECT_EQ(c.new_values[0].kind, ValueKind::kText);
  EXPECT_EQ(c.new_values[0].data, "42");
  EXPECT_EQ(c.new_values[1].data, "Ann \"A\"");
  EXPECT_EQ(c.new_values[2].kind, ValueKind::kNull);
  EXPECT_EQ(c.new_values[2].data, "");
  EXPECT_EQ(c.new_values[3].data, "{\"a\": 1}");
}

TEST(PgoutputDecode, UpdateWithOldTuple) {
  Change c = DecodeAs<Change>(Wire()
                                  .U8('U')
                                  .U32(16384)
                                  .U8('O')
                                  .U16(2)
                                  .Text("1")
                                  .U8('n')
                                  .U8('N')
                                  .U16(2)
                                  .Text("1")
                                  .U8('u')
                                  .str());
  EXPECT_EQ(c.op, 'U');
  EXPECT_EQ(c.relation_oid, 16384u);
  EXPECT_EQ(c.old_kind, 'O');
  ASSERT_EQ(c.old_values.size(), 2u);
  EXPECT_EQ(c.old_values[0].data, "1");
  EXPECT_EQ(c.old_values[1].kind, ValueKind::kNull);
  ASSERT_EQ(c.new_values.size(), 2u);
  EXPECT_EQ(c.new_values[0].data, "1");
  EXPECT_EQ(c.new_values[1].kind, ValueKind::kUnchangedToast);
}

TEST(PgoutputDecode, UpdateWithKeyAndWithoutOld) {
  Change k = DecodeAs<Change>(
      Wire().U8('U').U32(7).U8('K').U16(1).Text("1").U8('N').U16(1).Text("2").str());
  EXPECT_EQ(k.old_kind, 'K');
  ASSERT_EQ(k.old_values.size(), 1u);
  EXPECT_EQ(k.old_values[0].data, "1");
  ASSERT_EQ(k.new_values.size(), 1u);
  EXPECT_EQ(k.new_values[0].data, "2");

  Change n = DecodeAs<Change>(Wire().U8('U').U32(7).U8('N').U16(1).Text("2").str());
  EXPECT_EQ(n.old_kind, 0);
  EXPECT_TRUE(n.old_values.empty());
  ASSERT_EQ(n.new_values.size(), 1u);
  EXPECT_EQ(n.new_values[0].data, "2");
}

TEST(PgoutputDecode, DeleteWithKeyAndBinaryValue) {
  Change c = DecodeAs<Change>(
      Wire().U8('D').U32(16384).U8('K').U16(2).Text("42").U8('b').U32(2).U8(0).U8(0xff).str());
  EXPECT_EQ(c.op, 'D');
  EXPECT_EQ(c.old_kind, 'K');
  ASSERT_EQ(c.old_values.size(), 2u);
  EXPECT_EQ(c.old_values[0].data, "42");
  EXPECT_EQ(c.old_values[1].kind, ValueKind::kBinary);
  EXPECT_EQ(c.old_values[1].data, std::string("\0\xff", 2));
  EXPECT_TRUE(c.new_values.empty());
}

TEST(PgoutputDecode, Truncate) {
  Truncate t = DecodeAs<Truncate>(Wire().U8('T').U32(2).U8(3).U32(16384).U32(16390).str());
  EXPECT_EQ(t.options, 3);
  EXPECT_EQ(t.relation_oids, (std::vector<uint32_t>{16384, 16390}));
}

TEST(PgoutputDecode, OriginTypeMessageAreOther) {
  EXPECT_EQ(DecodeAs<Other>(Wire().U8('O').U64(5).Str("node1").str()).tag, 'O');
  EXPECT_EQ(DecodeAs<Other>(Wire().U8('Y').U32(90000).Str("public").Str("mood").str()).tag, 'Y');
  EXPECT_EQ(DecodeAs<Other>(Wire().U8('M').U8(1).U64(5).Str("pfx").U32(3).Str("ab").str()).tag,
            'M');
  // The content length of 'M' is checked.
  EXPECT_FALSE(Decode(Wire().U8('M').U8(1).U64(5).Str("pfx").U32(4).Str("ab").str()).ok());
}

TEST(PgoutputDecode, ErrorsNameTagAndOffset) {
  std::string insert = InsertBytes();
  auto cut = Decode(insert.substr(0, 3));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(cut.status().message(),
            "pgoutput Insert ('I') message truncated at offset 1 of 3 bytes: relation oid needs 4 "
            "bytes, 2 left");

  auto value = Decode(insert.substr(0, 14));  // inside the first value's bytes
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().message(),
            "pgoutput Insert ('I') message truncated at offset 13 of 14 bytes (tuple column 0): "
            "value needs 2 bytes, 1 left");

  auto trailing = Decode(insert + "zz");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.status().message(), "pgoutput Insert ('I') message malformed at offset " +
                                             std::to_string(insert.size()) + " of " +
                                             std::to_string(insert.size() + 2) +
                                             " bytes: 2 unexpected bytes after the message");

  auto marker = Decode(Wire().U8('D').U32(1).U8('N').U16(0).str());
  ASSERT_FALSE(marker.ok());
  EXPECT_EQ(marker.status().message(),
            "pgoutput Delete ('D') message malformed at offset 6 of 8 bytes: tuple marker 0x4e "
            "('N') is not 'K' or 'O'");

  auto kind = Decode(Wire().U8('I').U32(1).U8('N').U16(2).U8('n').U8('x').str());
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.status().message(),
            "pgoutput Insert ('I') message malformed at offset 10 of 10 bytes (tuple column 1): "
            "value kind 0x78 ('x') is not 'n', 'u', 't' or 'b'");
}

TEST(PgoutputDecode, UnknownStreamingAndEmptyAreErrors) {
  auto unknown = Decode("Zabc");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "unknown pgoutput message tag 0x5a ('Z') at offset 0 of 4 bytes");
  auto stream = Decode(Wire().U8('S').U32(1).U8(1).str());
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.status().message(),
            "pgoutput stream message 0x53 ('S') at offset 0: streaming of in-progress "
            "transactions is not supported; start replication with streaming off");
  EXPECT_FALSE(Decode(Wire().U8('P').str()).ok());
  EXPECT_EQ(Decode("").status().message(), "empty pgoutput message");
}

TEST(PgoutputDecode, HugeCountsAndNegativeLengthsAreErrors) {
  // Counts far beyond the bytes present must fail before allocating.
  EXPECT_FALSE(Decode(Wire().U8('T').U32(0xFFFFFFFF).U8(0).U32(1).str()).ok());
  EXPECT_FALSE(Decode(Wire().U8('I').U32(1).U8('N').U16(0xFFFF).U8('n').str()).ok());
  EXPECT_FALSE(Decode(Wire().U8('R').U32(1).Str("s").Str("t").U8('d').U16(0xFFFF).str()).ok());
  auto neg = Decode(Wire().U8('I').U32(1).U8('N').U16(1).U8('t').U32(0xFFFFFFFF).str());
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().message(),
            "pgoutput Insert ('I') message malformed at offset 13 of 13 bytes (tuple column 0): "
            "negative value length -1");
}

// Every strict prefix of valid messages is an error, never a crash (run under ASan/UBSan).
TEST(PgoutputDecode, EveryTruncatedPrefixIsError) {
  std::string messages[] = {
      InsertBytes(),
      UsersRelationBytes(),
      Wire().U8('U').U32(7).U8('K').U16(1).Text("1").U8('N').U16(1).Text("2").str(),
      Wire().U8('B').U64(1).U64(2).U32(3).str(),
      Wire().U8('T').U32(2).U8(0).U32(1).U32(2).str(),
      Wire().U8('M').U8(1).U64(5).Str("pfx").U32(2).Str("a").str(),
  };
  for (const std::string& full : messages) {
    ASSERT_TRUE(Decode(full).ok()) << Decode(full).status().ToString();
    for (size_t len = 0; len < full.size(); ++len) {
      // A fresh heap copy so ASan catches any read past the end.
      std::string prefix = full.substr(0, len);
      Result<Message> r = Decode(prefix);
      EXPECT_FALSE(r.ok()) << "tag " << full[0] << " prefix length " << len;
      if (len > 0) {
        EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
        EXPECT_NE(r.status().message().find(std::string("('") + full[0] + "')"), std::string::npos)
            << r.status().message();
      }
    }
  }
}

// Random single-byte corruptions of valid messages decode or fail cleanly, never crash.
TEST(PgoutputDecode, RandomByteFlipsNeverCrash) {
  std::string messages[] = {
      InsertBytes(),
      UsersRelationBytes(),
      Wire().U8('U').U32(7).U8('O').U16(1).Text("1").U8('N').U16(1).Text("2").str(),
      Wire().U8('T').U32(2).U8(0).U32(1).U32(2).str(),
  };
  std::mt19937 rng(20261125);
  int failures = 0;
  for (const std::string& full : messages) {
    for (int round = 0; round < 2000; ++round) {
      std::string m = full;
      m[rng() % m.size()] = static_cast<char>(rng() % 256);
      if (!Decode(m).ok()) ++failures;
    }
  }
  EXPECT_GT(failures, 0);
}

TEST(PgoutputDecode, CheckChangeMatches) {
  Relation rel = DecodeAs<Relation>(UsersRelationBytes());
  Change ins = DecodeAs<Change>(InsertBytes());
  EXPECT_TRUE(CheckChangeMatches(rel, ins).ok());
  ins.new_values.pop_back();
  EXPECT_EQ(CheckChangeMatches(rel, ins).message(),
            "new tuple of a change to public.users has 3 values; the relation has 4 columns");
  ins.relation_oid = 1;
  EXPECT_EQ(CheckChangeMatches(rel, ins).message(),
            "change for relation oid 1 checked against public.users (oid 16384)");
}

// ---- JSON ----

std::string ValueJson(uint32_t oid, const Value& v) {
  std::string out;
  AppendValueJson(&out, oid, v);
  return out;
}

TEST(PgoutputJson, Bool) {
  EXPECT_EQ(ValueJson(16, T("t")), "true");
  EXPECT_EQ(ValueJson(16, T("f")), "false");
  EXPECT_EQ(ValueJson(16, N()), "null");
}

TEST(PgoutputJson, Integers) {
  EXPECT_EQ(ValueJson(21, T("-32768")), "-32768");
  EXPECT_EQ(ValueJson(23, T("0")), "0");
  EXPECT_EQ(ValueJson(20, T("9223372036854775807")), "9223372036854775807");
  EXPECT_EQ(ValueJson(26, T("4294967295")), "4294967295");
  EXPECT_EQ(ValueJson(23, T("1.5")), "\"1.5\"");  // not an integer: kept valid as a string
  EXPECT_EQ(ValueJson(23, N()), "null");
}

TEST(PgoutputJson, FloatsAndNumeric) {
  EXPECT_EQ(ValueJson(701, T("3.14")), "3.14");
  EXPECT_EQ(ValueJson(700, T("-1.5e-07")), "-1.5e-07");
  EXPECT_EQ(ValueJson(701, T("1e+20")), "1e+20");
  EXPECT_EQ(ValueJson(701, T("NaN")), "\"NaN\"");
  EXPECT_EQ(ValueJson(700, T("Infinity")), "\"Infinity\"");
  EXPECT_EQ(ValueJson(701, T("-Infinity")), "\"-Infinity\"");
}

// Issue 22: -0 arrived as 0, because JSON readers (simdjson) take "-0" for the integer 0.
TEST(PgoutputJson, NegativeZeroFloatIsADouble) {
  EXPECT_EQ(ValueJson(701, T("-0")), "-0.0");
  EXPECT_EQ(ValueJson(700, T("-0")), "-0.0");
  EXPECT_EQ(ValueJson(701, T("0")), "0");
}

// Issue 22: numeric went through a double in the mapper (12345678901234567890.123456789 lost
// digits; 2^64 and beyond made the whole event unreadable). Its exact text is a JSON string.
TEST(PgoutputJson, NumericIsItsExactText) {
  EXPECT_EQ(ValueJson(1700, T("12345678901234567890.123456789")),
            "\"12345678901234567890.123456789\"");
  EXPECT_EQ(ValueJson(1700, T("12345678901234567890.000100")), "\"12345678901234567890.000100\"");
  EXPECT_EQ(ValueJson(1700, T("18446744073709551616")), "\"18446744073709551616\"");
  EXPECT_EQ(ValueJson(1700, T("0.000000000000000000000000000001")),
            "\"0.000000000000000000000000000001\"");
  EXPECT_EQ(ValueJson(1700, T("-5")), "\"-5\"");
  EXPECT_EQ(ValueJson(1700, T("NaN")), "\"NaN\"");
  EXPECT_EQ(ValueJson(1700, T("Infinity")), "\"Infinity\"");
  EXPECT_EQ(ValueJson(1700, T("-Infinity")), "\"-Infinity\"");
  EXPECT_EQ(ValueJson(1700, N()), "null");
}

// Issue 22: a jsonb null became SQL NULL, and 1e400 inside json made the event unreadable. The
// JSON text is a JSON string; only SQL NULL is null.
TEST(PgoutputJson, JsonIsItsTextAsAString) {
  EXPECT_EQ(ValueJson(114, T("{\"a\": [1, 2]}")), "\"{\\\"a\\\": [1, 2]}\"");
  EXPECT_EQ(ValueJson(3802, T("\"s\"")), "\"\\\"s\\\"\"");
  EXPECT_EQ(ValueJson(3802, T("null")), "\"null\"");
  EXPECT_EQ(ValueJson(3802, N()), "null");
  EXPECT_EQ(ValueJson(114, T("[1e400, 18446744073709551616]")),
            "\"[1e400, 18446744073709551616]\"");
}

TEST(PgoutputJson, StringsAndBinary) {
  EXPECT_EQ(ValueJson(25, T("say \"hi\"\\\n\t")), "\"say \\\"hi\\\"\\\\\\n\\t\"");
  EXPECT_EQ(ValueJson(2950, T("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
            "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
  EXPECT_EQ(ValueJson(1184, T("2026-11-25 03:04:05.123456+00")),
            "\"2026-11-25 03:04:05.123456+00\"");
  EXPECT_EQ(ValueJson(17, T("\\xdeadbeef")), "\"\\\\xdeadbeef\"");
  EXPECT_EQ(ValueJson(1007, T("{1,2,3}")), "\"{1,2,3}\"");
  EXPECT_EQ(ValueJson(25, Value{ValueKind::kBinary, std::string("\0\xff", 2)}), "\"\\\\x00ff\"");
}

// Found by tests/fuzz/pgoutput_fuzz (corpus/pgoutput/crash_text_not_utf8): text from a
// SQL_ASCII or LATIN1 database was copied into the change event as is, which made the event
// invalid JSON (JSON text is UTF-8): every such row was dead-lettered by the mapper and refused
// by a PostgreSQL staging. Such text, and such table and column names, are kept as hex.
TEST(PgoutputJson, TextThatIsNotUtf8IsHex) {
  EXPECT_EQ(ValueJson(25, T("caf\xe9")), "\"\\\\x636166e9\"");
  EXPECT_EQ(ValueJson(1043, T("\xc3(")), "\"\\\\xc328\"");
  EXPECT_EQ(ValueJson(25, T("caf\xc3\xa9 \xe2\x82\xac")),
            "\"caf\xc3\xa9 \xe2\x82\xac\"");  // UTF-8 as is
  Relation rel;
  rel.oid = 1;
  rel.schema = "public";
  rel.name = "caf\xe9";
  rel.columns = {{true, "id", 23, -1}, {false, "pr\xe9nom", 25, -1}};
  Change ins;
  ins.relation_oid = 1;
  ins.new_values = {T("1"), T("Ren\xe9")};
  EXPECT_EQ(ChangeEventJson(rel, ins, Begin{}),
            "{\"op\":\"insert\",\"table\":\"\\\\x7075626c69632e636166e9\",\"lsn\":\"0/0\","
            "\"xid\":0,\"commit_time\":\"1970-01-01T00:00:00.000000Z\",\"data\":{\"id\":1,"
            "\"\\\\x7072e96e6f6d\":\"\\\\x52656ee9\"}}");
}

TEST(PgoutputJson, FormatTimestampMicros) {
  EXPECT_EQ(FormatTimestampMicros(kCommitUnixUs), "2026-11-25T03:04:05.123456Z");
  EXPECT_EQ(FormatTimestampMicros(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestampMicros(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestampMicros(946684800000000), "2000-01-01T00:00:00.000000Z");
}

TEST(PgoutputJson, InsertEvent) {
  Relation rel = DecodeAs<Relation>(UsersRelationBytes());
  Change ins = DecodeAs<Change>(InsertBytes());
  Begin txn = DecodeAs<Begin>(Wire().U8('B').U64(0x16B374D848).U64(kCommitPgUs).U32(777).str());
  EXPECT_EQ(ChangeEventJson(rel, ins, txn),
            "{\"op\":\"insert\",\"table\":\"public.users\",\"lsn\":\"16/B374D848\",\"xid\":777,"
            "\"commit_time\":\"2026-11-25T03:04:05.123456Z\","
            "\"data\":{\"id\":42,\"name\":\"Ann \\\"A\\\"\",\"score\":null,"
            "\"meta\":\"{\\\"a\\\": 1}\"}}");
}

TEST(PgoutputJson, UpdateEventWithOldTuple) {
  Relation rel = DecodeAs<Relation>(UsersRelationBytes());
  Change up;
  up.op = 'U';
  up.relation_oid = rel.oid;
  up.old_kind = 'O';
  up.old_values = {T("42"), T("Ann"), N(), T("[1]")};
  up.new_values = {T("42"), T("Bob"), T("NaN"), Value{ValueKind::kUnchangedToast, ""}};
  EXPECT_EQ(ChangeEventJson(rel, up, Txn()),
            "{\"op\":\"update\",\"table\":\"public.users\",\"lsn\":\"16/B374D848\",\"xid\":777,"
            "\"commit_time\":\"2026-11-25T03:04:05.123456Z\","
            "\"data\":{\"id\":42,\"name\":\"Bob\",\"score\":\"NaN\"},"
            "\"before\":{\"id\":42,\"name\":\"Ann\",\"meta\":\"[1]\"}}");

  up.old_kind = 0;
  up.old_values.clear();
  EXPECT_EQ(ChangeEventJson(rel, up, Txn()),
            "{\"op\":\"update\",\"table\":\"public.users\",\"lsn\":\"16/B374D848\",\"xid\":777,"
            "\"commit_time\":\"2026-11-25T03:04:05.123456Z\","
            "\"data\":{\"id\":42,\"name\":\"Bob\",\"score\":\"NaN\"}}");
}

TEST(PgoutputJson, DeleteEventWithKey) {
  Relation rel = DecodeAs<Relation>(UsersRelationBytes());
  Change del = DecodeAs<Change>(
      Wire().U8('D').U32(16384).U8('K').U16(4).Text("42").U8('n').U8('n').U8('n').str());
  EXPECT_EQ(ChangeEventJson(rel, del, Txn()),
            "{\"op\":\"delete\",\"table\":\"public.users\",\"lsn\":\"16/B374D848\",\"xid\":777,"
            "\"commit_time\":\"2026-11-25T03:04:05.123456Z\",\"data\":{\"id\":42}}");
}

// ---- Record keys ----

Relation OrdersRelation() {
  Relation rel;
  rel.oid = 5;
  rel.schema = "shop";
  rel.name = "order_lines";
  rel.columns = {{true, "order_id", 23, -1}, {false, "note", 25, -1}, {true, "sku", 25, -1}};
  return rel;
}

TEST(PgoutputKey, CompositeKey) {
  Relation rel = OrdersRelation();
  Change ins;
  ins.op = 'I';
  ins.relation_oid = 5;
  ins.new_values = {T("7"), T("gift"), T("AB-1")};
  EXPECT_EQ(*ChangeKey(rel, ins), "shop.order_lines/7/AB-1");

  // Update with the old key: the old values identify the record.
  Change up = ins;
  up.op = 'U';
  up.old_kind = 'K';
  up.old_values = {T("6"), N(), T("AB-0")};
  EXPECT_EQ(*ChangeKey(rel, up), "shop.order_lines/6/AB-0");

  Change del;
  del.op = 'D';
  del.relation_oid = 5;
  del.old_kind = 'K';
  del.old_values = {T("7"), N(), T("AB-1")};
  EXPECT_EQ(*ChangeKey(rel, del), "shop.order_lines/7/AB-1");
}

TEST(PgoutputKey, SlashBackslashAndNullAreEscaped) {
  Relation rel = OrdersRelation();
  Change a;
  a.op = 'I';
  a.new_values = {T("1/2"), N(), T("3")};
  Change b = a;
  b.new_values = {T("1"), N(), T("2/3")};
  EXPECT_EQ(*ChangeKey(rel, a), "shop.order_lines/1\\/2/3");
  EXPECT_EQ(*ChangeKey(rel, b), "shop.order_lines/1/2\\/3");

  Change c = a;
  c.new_values = {T("a\\"), N(), T("b")};
  Change d = a;
  d.new_values = {T("a\\/b"), N(), T("")};
  EXPECT_EQ(*ChangeKey(rel, c), "shop.order_lines/a\\\\/b");
  EXPECT_EQ(*ChangeKey(rel, d), "shop.order_lines/a\\\\\\/b/");
  EXPECT_NE(*ChangeKey(rel, c), *ChangeKey(rel, d));

  Change null_key = a;
  null_key.new_values = {T("1"), N(), N()};
  Change empty_key = a;
  empty_key.new_values = {T("1"), N(), T("")};
  Change backslash_n = a;
  backslash_n.new_values = {T("1"), N(), T("\\N")};
  EXPECT_EQ(*ChangeKey(rel, null_key), "shop.order_lines/1/\\N");
  EXPECT_EQ(*ChangeKey(rel, empty_key), "shop.order_lines/1/");
  EXPECT_EQ(*ChangeKey(rel, backslash_n), "shop.order_lines/1/\\\\N");
}

TEST(PgoutputKey, NoKeyColumnsIsError) {
  Relation rel = OrdersRelation();
  for (Column& c : rel.columns) c.key = false;
  Change ins;
  ins.new_values = {T("7"), T("gift"), T("AB-1")};
  Result<std::string> key = ChangeKey(rel, ins);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(key.status().message(),
            "table shop.order_lines has no key columns (replica identity 'd'); set a primary key "
            "or REPLICA IDENTITY FULL");
}

TEST(PgoutputKey, UnchangedToastOrMissingKeyIsError) {
  Relation rel = OrdersRelation();
  Change up;
  up.op = 'U';
  up.new_values = {T("7"), T("x"), Value{ValueKind::kUnchangedToast, ""}};
  EXPECT_EQ(ChangeKey(rel, up).status().message(),
            "cannot build the record key for shop.order_lines: key column \"sku\" is an unchanged "
            "TOAST value that the server did not send");
  up.new_values.resize(1);
  EXPECT_EQ(ChangeKey(rel, up).status().message(),
            "cannot build the record key for shop.order_lines: key column \"sku\" is column 2 but "
            "the tuple has 1 values");
}

// A quoted identifier may hold any character; the errors naming it stay on one line.
TEST(PgoutputKey, ErrorsNamingTablesWithControlCharactersStayOnOneLine) {
  Relation rel = OrdersRelation();
  rel.name = "order\nlines";
  rel.columns[2].name = "s\tku";
  Change up;
  up.op = 'U';
  up.relation_oid = rel.oid;
  up.new_values = {T("7"), T("x"), Value{ValueKind::kUnchangedToast, ""}};
  EXPECT_EQ(ChangeKey(rel, up).status().message(),
            "cannot build the record key for shop.order\\nlines: key column \"s\\tku\" is an "
            "unchanged TOAST value that the server did not send");
  up.new_values.resize(1);
  EXPECT_EQ(ChangeKey(rel, up).status().message(),
            "cannot build the record key for shop.order\\nlines: key column \"s\\tku\" is column "
            "2 but the tuple has 1 values");
  EXPECT_EQ(CheckChangeMatches(rel, up).message(),
            "new tuple of a change to shop.order\\nlines has 1 values; the relation has 3 columns");
  for (Column& c : rel.columns) c.key = false;
  rel.replica_identity = '\n';
  EXPECT_EQ(ChangeKey(rel, up).status().message(),
            "table shop.order\\nlines has no key columns (replica identity '\\n'); set a primary "
            "key or REPLICA IDENTITY FULL");
  // The key itself keeps the name as it is: it is data, not a message.
  rel.columns[0].key = true;
  EXPECT_EQ(*ChangeKey(rel, up), "shop.order\nlines/7");
}

// REPLICA IDENTITY FULL marks every column as key; with the key columns marked instead, an
// UPDATE of other columns keeps its key (old row and new row agree), so it stays one update on
// one log partition, and a delete (whose old tuple is the whole row) has the same key.
TEST(PgoutputKey, KeyColumnsUnderFullIdentity) {
  Relation rel;
  rel.oid = 9;
  rel.schema = "public";
  rel.name = "items";
  rel.replica_identity = 'f';
  rel.columns = {{true, "note", 25, -1}, {true, "id", 20, -1}, {true, "qty", 23, -1}};
  Change up;
  up.op = 'U';
  up.relation_oid = 9;
  up.old_kind = 'O';
  up.old_values = {T("old note"), T("17"), T("1")};
  up.new_values = {T("new note"), T("17"), T("2")};
  Change after = up;
  after.old_kind = 0;
  after.old_values.clear();
  // Every column: the old and the new row have different keys.
  EXPECT_EQ(*ChangeKey(rel, up), "public.items/old note/17/1");
  EXPECT_EQ(*ChangeKey(rel, after), "public.items/new note/17/2");

  MarkKeyColumns(&rel, {"id"});
  EXPECT_EQ(rel.columns[0].key, false);
  EXPECT_EQ(rel.columns[1].key, true);
  EXPECT_EQ(rel.columns[2].key, false);
  EXPECT_EQ(*ChangeKey(rel, up), "public.items/17");
  EXPECT_EQ(*ChangeKey(rel, after), "public.items/17");
  Change del;
  del.op = 'D';
  del.relation_oid = 9;
  del.old_kind = 'O';
  del.old_values = up.new_values;
  EXPECT_EQ(*ChangeKey(rel, del), "public.items/17");
  // A change of the key column itself: the old and the new key differ.
  up.new_values[1] = T("18");
  EXPECT_EQ(*ChangeKey(rel, up), "public.items/17");
  after.new_values[1] = T("18");
  EXPECT_EQ(*ChangeKey(rel, after), "public.items/18");

  // Several key columns: in column order, whatever order they are named in.
  MarkKeyColumns(&rel, {"qty", "id"});
  EXPECT_EQ(*ChangeKey(rel, del), "public.items/17/2");
}

TEST(PgoutputKey, MarkKeyColumnsEmptyKeepsTheServersMarksAndUnknownNamesMarkNothing) {
  Relation rel = OrdersRelation();
  MarkKeyColumns(&rel, {});
  Change ins;
  ins.new_values = {T("7"), T("gift"), T("AB-1")};
  EXPECT_EQ(*ChangeKey(rel, ins), "shop.order_lines/7/AB-1");
  MarkKeyColumns(&rel, {"dropped_column"});
  EXPECT_EQ(ChangeKey(rel, ins).status().message(),
            "table shop.order_lines has no key columns (replica identity 'd'); set a primary key "
            "or REPLICA IDENTITY FULL");
}

}  // namespace
}  // namespace dataforge::pgoutput
