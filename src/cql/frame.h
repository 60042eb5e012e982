// CQL native protocol v4 frames (native_protocol_v4.spec section 2; docs/cql.md).
//
//   0         8        16        24        32         40
//   +---------+---------+---------+---------+---------+
//   | version |  flags  |      stream       | opcode  |
//   +---------+---------+---------+---------+---------+
//   |                length                 |
//   +---------+---------+---------+---------+
//   |  body (length bytes) ...
//
// A request's version byte is 0x04, a response's 0x84. Stream ids are per connection; a
// response carries its request's stream; events use stream -1. Compression is not offered
// (STARTUP without COMPRESSION), so a frame with the compression flag is a protocol error.
// Pure functions and values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dataforge::cql {

constexpr uint8_t kProtocolVersion = 4;
constexpr uint8_t kResponseBit = 0x80;
constexpr size_t kHeaderSize = 9;
// The spec's limit for a frame body (256 MB); a longer announced length is a protocol error
// and the connection is closed.
constexpr uint32_t kMaxBodyBytes = 256u << 20;

enum class Opcode : uint8_t {
  kError = 0x00,
  kStartup = 0x01,
  kReady = 0x02,
  kAuthenticate = 0x03,
  kOptions = 0x05,
  kSupported = 0x06,
  kQuery = 0x07,
  kResult = 0x08,
  kPrepare = 0x09,
  kExecute = 0x0A,
  kRegister = 0x0B,
  kEvent = 0x0C,
  kBatch = 0x0D,
  kAuthChallenge = 0x0E,
  kAuthResponse = 0x0F,
  kAuthSuccess = 0x10,
};
// "QUERY", "RESULT", ... or "opcode 0x42".
std::string OpcodeName(uint8_t opcode);
bool IsKnownOpcode(uint8_t opcode);

enum FrameFlag : uint8_t {
  kFlagCompression = 0x01,
  kFlagTracing = 0x02,
  kFlagCustomPayload = 0x04,
  kFlagWarning = 0x08,
  kFlagBeta = 0x10,
};

struct FrameHeader {
  uint8_t version = kProtocolVersion;  // with kResponseBit for responses
  uint8_t flags = 0;
  int16_t stream = 0;
  uint8_t opcode = 0;
  uint32_t length = 0;  // body bytes
};

// Reads a header from the first kHeaderSize bytes of `in` (which must hold at least that many).
FrameHeader DecodeHeader(std::string_view in);
void EncodeHeader(const FrameHeader& h, std::string* out);

// Checks a header the assembler returned: the version byte (0x04 for a request, 0x84 for a
// response when `response`), no compression flag, a known opcode. The assembler itself
// passes any header through (so the caller can answer on the frame's stream); an error here
// names the field, its value and the stream, e.g. "CQL frame on stream 3: compression flag
// 0x01 set, but compression was not negotiated (STARTUP without COMPRESSION)".
Status CheckHeader(const FrameHeader& h, bool response);

// Appends one whole frame (header + body) to `out`.
void AppendFrame(uint8_t version, uint8_t flags, int16_t stream, Opcode opcode,
                 std::string_view body, std::string* out);

struct Frame {
  FrameHeader header;
  std::string body;
};

// Splits a byte stream into frames. Feed it what the socket returned; Next() yields each
// complete frame. A header announcing more than `max_body` bytes is a protocol error: Next()
// returns it, and the stream cannot continue (close the connection). Any version, flag and
// opcode is passed through (check them with CheckHeader). Memory: the buffer holds at most one
// partial frame plus the latest Feed(); consumed frames are dropped before new bytes are
// appended. Thread-compatible (one per connection, used by its reader).
class FrameAssembler {
 public:
  explicit FrameAssembler(uint32_t max_body = kMaxBodyBytes) : max_body_(max_body) {}
  void Feed(std::string_view bytes);
  // A complete frame, nullopt when more bytes are needed, or an InvalidArgument error.
  Result<std::optional<Frame>> Next();
  size_t buffered() const { return buf_.size() - start_; }

 private:
  std::string buf_;
  size_t start_ = 0;
  uint32_t max_body_;
};

}  // namespace dataforge::cql
