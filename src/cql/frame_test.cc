#include "cql/frame.h"

#include <gtest/gtest.h>

#include "cql/messages.h"
#include "cql/testing/hex.h"

namespace dataforge::cql {
namespace {

using testing::Hex;
using testing::Unhex;

// Section 2: version, flags, stream, opcode, length. STARTUP {CQL_VERSION: 3.0.0} is 22 bytes.
TEST(FrameTest, StartupFrameExactBytes) {
  std::string body;
  EncodeStartup({{{"CQL_VERSION", "3.0.0"}}}, &body);
  std::string frame;
  AppendFrame(kProtocolVersion, 0, 0, Opcode::kStartup, body, &frame);
  EXPECT_EQ(Hex(frame),
            "04 00 00 00 01 00 00 00 16 "
            "00 01 00 0b 43 51 4c 5f 56 45 52 53 49 4f 4e 00 05 33 2e 30 2e 30");
}

TEST(FrameTest, OptionsRequestHeader) {
  std::string frame;
  AppendFrame(kProtocolVersion, 0, 1, Opcode::kOptions, "", &frame);
  EXPECT_EQ(Hex(frame), "04 00 00 01 05 00 00 00 00");
  FrameHeader h = DecodeHeader(frame);
  EXPECT_EQ(h.version, 4);
  EXPECT_EQ(h.flags, 0);
  EXPECT_EQ(h.stream, 1);
  EXPECT_EQ(h.opcode, 0x05);
  EXPECT_EQ(h.length, 0u);
  EXPECT_TRUE(CheckHeader(h, /*response=*/false).ok());
}

TEST(FrameTest, ReadyResponse) {
  std::string frame;
  AppendFrame(kProtocolVersion | kResponseBit, 0, 0, Opcode::kReady, "", &frame);
  EXPECT_EQ(Hex(frame), "84 00 00 00 02 00 00 00 00");
  EXPECT_TRUE(CheckHeader(DecodeHeader(frame), /*response=*/true).ok());
}

TEST(FrameTest, EventStreamIsMinusOne) {
  std::string frame;
  EncodeHeader({0x84, 0, -1, 0x0C, 0x01020304}, &frame);
  EXPECT_EQ(Hex(frame), "84 00 ff ff 0c 01 02 03 04");
  FrameHeader h = DecodeHeader(frame);
  EXPECT_EQ(h.stream, -1);
  EXPECT_EQ(h.length, 0x01020304u);
}

TEST(FrameTest, OpcodeNames) {
  EXPECT_EQ(OpcodeName(0x07), "QUERY");
  EXPECT_EQ(OpcodeName(0x10), "AUTH_SUCCESS");
  EXPECT_EQ(OpcodeName(0x04), "opcode 0x04");
  EXPECT_EQ(OpcodeName(0x42), "opcode 0x42");
  EXPECT_FALSE(IsKnownOpcode(0x04));
  EXPECT_TRUE(IsKnownOpcode(0x0D));
  EXPECT_FALSE(IsKnownOpcode(0x11));
}

TEST(FrameAssemblerTest, OneByteAtATime) {
  std::string bytes;
  AppendFrame(4, 0, 7, Opcode::kQuery, "abc", &bytes);
  FrameAssembler a;
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    a.Feed(bytes.substr(i, 1));
    auto f = a.Next();
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(f->has_value()) << "at byte " << i;
  }
  a.Feed(bytes.substr(bytes.size() - 1));
  auto f = a.Next();
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->has_value());
  EXPECT_EQ((*f)->header.stream, 7);
  EXPECT_EQ((*f)->header.opcode, 0x07);
  EXPECT_EQ((*f)->body, "abc");
  EXPECT_EQ(a.buffered(), 0u);
}

TEST(FrameAssemblerTest, SeveralFramesInOneRead) {
  std::string bytes;
  AppendFrame(4, 0, 1, Opcode::kOptions, "", &bytes);
  AppendFrame(4, 0, 2, Opcode::kQuery, "xy", &bytes);
  AppendFrame(4, 0, 3, Opcode::kPrepare, "z", &bytes);
  bytes.append("\x04\x00", 2);  // the start of a fourth frame
  FrameAssembler a;
  a.Feed(bytes);
  for (int16_t stream = 1; stream <= 3; ++stream) {
    auto f = a.Next();
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->has_value());
    EXPECT_EQ((*f)->header.stream, stream);
  }
  auto none = a.Next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(a.buffered(), 2u);
}

// The buffer holds at most one partial frame plus the latest read: consumed frames are dropped
// before the next read is appended.
TEST(FrameAssemblerTest, CompactsConsumedFrames) {
  std::string one;
  AppendFrame(4, 0, 1, Opcode::kQuery, std::string(1000, 'q'), &one);
  FrameAssembler a;
  for (int i = 0; i < 100; ++i) {
    a.Feed(one);
    auto f = a.Next();
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->has_value());
    EXPECT_EQ(a.buffered(), 0u);
  }
  a.Feed(one.substr(0, 500));
  a.Feed(one.substr(500));
  a.Feed(one.substr(0, 10));
  ASSERT_TRUE(a.Next()->has_value());
  EXPECT_EQ(a.buffered(), 10u);
}

TEST(FrameAssemblerTest, TruncatedHeaderWaitsForMore) {
  FrameAssembler a;
  a.Feed(Unhex("04 00 00 01 07 00 00"));
  auto f = a.Next();
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->has_value());
  EXPECT_EQ(a.buffered(), 7u);
}

TEST(FrameAssemblerTest, OverLongFrameLength) {
  FrameAssembler a;
  a.Feed(Unhex("04 00 00 05 07 10 00 00 01"));  // 256 MB + 1
  auto f = a.Next();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().ToString(),
            "InvalidArgument: CQL frame: QUERY frame on stream 5 announces a body of 268435457 "
            "bytes, over the limit of 268435456 (header bytes 04 00 0005 07 10000001); closing the "
            "connection");
}

TEST(FrameAssemblerTest, ConfiguredLimitIsInclusive) {
  FrameAssembler a(4);
  a.Feed(Unhex("04 00 00 01 07 00 00 00 04 61 62 63 64"));
  auto f = a.Next();
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->has_value());
  a.Feed(Unhex("04 00 00 02 07 00 00 00 05"));
  EXPECT_FALSE(a.Next().ok());
}

TEST(FrameCheckTest, CompressionFlag) {
  Status s = CheckHeader(DecodeHeader(Unhex("04 01 00 03 07 00 00 00 00")), false);
  EXPECT_EQ(s.ToString(),
            "InvalidArgument: CQL frame on stream 3: compression flag 0x01 set, but compression "
            "was not negotiated (STARTUP without COMPRESSION)");
}

TEST(FrameCheckTest, WrongVersion) {
  Status s = CheckHeader(DecodeHeader(Unhex("05 00 00 00 05 00 00 00 00")), false);
  EXPECT_EQ(s.ToString(),
            "InvalidArgument: CQL frame on stream 0: version byte 0x05, expected 0x04 (protocol "
            "v4 request)");
  EXPECT_FALSE(CheckHeader(DecodeHeader(Unhex("04 00 00 00 02 00 00 00 00")), true).ok());
}

TEST(FrameCheckTest, UnknownOpcode) {
  Status s = CheckHeader(DecodeHeader(Unhex("04 00 00 09 42 00 00 00 00")), false);
  EXPECT_EQ(s.ToString(), "InvalidArgument: CQL frame on stream 9: unknown opcode 0x42");
}

TEST(FrameCheckTest, TracingAndCustomPayloadFlagsPass) {
  EXPECT_TRUE(CheckHeader(DecodeHeader(Unhex("04 06 00 00 07 00 00 00 00")), false).ok());
}

}  // namespace
}  // namespace dataforge::cql
