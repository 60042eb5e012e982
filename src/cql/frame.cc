// CQL native protocol v4 frames (frame.h; native_protocol_v4.spec section 2).
#include "cql/frame.h"

#include <fmt/format.h>

#include "cql/wire.h"

namespace dataforge::cql {

std::string OpcodeName(uint8_t opcode) {
  switch (static_cast<Opcode>(opcode)) {
    case Opcode::kError:
      return "ERROR";
    case Opcode::kStartup:
      return "STARTUP";
    case Opcode::kReady:
      return "READY";
    case Opcode::kAuthenticate:
      return "AUTHENTICATE";
    case Opcode::kOptions:
      return "OPTIONS";
    case Opcode::kSupported:
      return "SUPPORTED";
    case Opcode::kQuery:
      return "QUERY";
    case Opcode::kResult:
      return "RESULT";
    case Opcode::kPrepare:
      return "PREPARE";
    case Opcode::kExecute:
      return "EXECUTE";
    case Opcode::kRegister:
      return "REGISTER";
    case Opcode::kEvent:
      return "EVENT";
    case Opcode::kBatch:
      return "BATCH";
    case Opcode::kAuthChallenge:
      return "AUTH_CHALLENGE";
    case Opcode::kAuthResponse:
      return "AUTH_RESPONSE";
    case Opcode::kAuthSuccess:
      return "AUTH_SUCCESS";
  }
  return fmt::format("opcode 0x{:02X}", opcode);
}

bool IsKnownOpcode(uint8_t opcode) {
  return opcode <= 0x10 && opcode != 0x04;
}

FrameHeader DecodeHeader(std::string_view in) {
  WireReader r(in.substr(0, kHeaderSize));
  FrameHeader h;
  h.version = r.Byte();
  h.flags = r.Byte();
  h.stream = static_cast<int16_t>(r.Short());
  h.opcode = r.Byte();
  h.length = static_cast<uint32_t>(r.Int());
  return h;
}

void EncodeHeader(const FrameHeader& h, std::string* out) {
  WireWriter w(out);
  w.Byte(h.version);
  w.Byte(h.flags);
  w.Short(static_cast<uint16_t>(h.stream));
  w.Byte(h.opcode);
  w.Int(static_cast<int32_t>(h.length));
}

Status CheckHeader(const FrameHeader& h, bool response) {
  const uint8_t want = response ? (kProtocolVersion | kResponseBit) : kProtocolVersion;
  if (h.version != want) {
    return Status::InvalidArgument(fmt::format(
        "CQL frame on stream {}: version byte 0x{:02x}, expected 0x{:02x} (protocol v4 {})",
        h.stream, h.version, want, response ? "response" : "request"));
  }
  if (h.flags & kFlagCompression) {
    return Status::InvalidArgument(fmt::format(
        "CQL frame on stream {}: compression flag 0x01 set, but compression was not negotiated "
        "(STARTUP without COMPRESSION)",
        h.stream));
  }
  if (!IsKnownOpcode(h.opcode)) {
    return Status::InvalidArgument(
        fmt::format("CQL frame on stream {}: unknown opcode 0x{:02x}", h.stream, h.opcode));
  }
  return Status::OK();
}

void AppendFrame(uint8_t version, uint8_t flags, int16_t stream, Opcode opcode,
                 std::string_view body, std::string* out) {
  FrameHeader h{version, flags, stream, static_cast<uint8_t>(opcode),
                static_cast<uint32_t>(body.size())};
  out->reserve(out->size() + kHeaderSize + body.size());
  EncodeHeader(h, out);
  out->append(body.data(), body.size());
}

void FrameAssembler::Feed(std::string_view bytes) {
  // Compact before growing: drop the frames already handed out, so the buffer holds at most
  // one partial frame plus this read.
  if (start_ > 0) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  buf_.append(bytes.data(), bytes.size());
}

Result<std::optional<Frame>> FrameAssembler::Next() {
  const size_t avail = buf_.size() - start_;
  if (avail < kHeaderSize) return std::optional<Frame>();
  const std::string_view view(buf_.data() + start_, avail);
  FrameHeader h = DecodeHeader(view);
  if (h.length > max_body_) {
    return Status::InvalidArgument(fmt::format(
        "CQL frame: {} frame on stream {} announces a body of {} bytes, over the limit of {} "
        "(header bytes {:02x} {:02x} {:02x}{:02x} {:02x} {:08x}); closing the connection",
        OpcodeName(h.opcode), h.stream, h.length, max_body_, h.version, h.flags,
        static_cast<uint8_t>(h.stream >> 8), static_cast<uint8_t>(h.stream & 0xFF), h.opcode,
        h.length));
  }
  if (avail - kHeaderSize < h.length) return std::optional<Frame>();
  Frame f;
  f.header = h;
  f.body.assign(view.data() + kHeaderSize, h.length);
  start_ += kHeaderSize + h.length;
  if (start_ == buf_.size()) {
    buf_.clear();
    start_ = 0;
  }
  return std::optional<Frame>(std::move(f));
}

}  // namespace dataforge::cql
