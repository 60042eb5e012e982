// libFuzzer target for the CQL protocol module: arbitrary bytes go through FrameAssembler and
// every Decode*, ReadType and the JSON conversions. Besides crashes and sanitizer reports it
// checks that decoding is stable: encode(decode(x)) decodes to the same encoding.
//
// Input: byte 0 selects the target (kTargets below), the rest is its input. Build and run:
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DDATAFORGE_FUZZ=ON \
//       -DDATAFORGE_BENCH=OFF -DDATAFORGE_TESTS=OFF
//   cmake --build build-fuzz --target cql_frame_fuzz
//   cp -r tests/fuzz/corpus/cql_frame /tmp/cql-corpus   # libFuzzer adds to the corpus dir
//   build-fuzz/tests/fuzz/cql_frame_fuzz /tmp/cql-corpus -max_total_time=600
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cql/frame.h"
#include "cql/messages.h"
#include "cql/types.h"
#include "cql/value_check.h"

namespace dataforge::cql {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "cql_frame_fuzz: %s\n", what);
    std::abort();
  }
}

// Decodes `in`; when it decodes, encode -> decode -> encode must give the same bytes.
template <typename Decode, typename Encode>
void RoundTrip(std::string_view in, Decode decode, Encode encode, const char* what) {
  auto first = decode(in);
  if (!first.ok()) return;
  std::string once;
  encode(*first, &once);
  auto second = decode(once);
  Check(second.ok(), what);
  std::string twice;
  encode(*second, &twice);
  Check(once == twice, what);
}

// [option] then value bytes: the value as JSON, and the JSON back to bytes and JSON again.
void TypeAndValue(std::string_view in) {
  WireReader r(in);
  const DataType t = ReadType(&r);
  if (!r.ok()) return;
  (void)TypeName(t);
  std::string option;
  WireWriter w(&option);
  WriteType(t, &w);
  WireReader again(option);
  Check(ReadType(&again) == t && again.remaining() == 0, "[option] round trip");
  const std::string_view rest = in.substr(r.position());
  std::string json;
  if (AppendValueAsJson(t, std::string(rest), &json).ok()) {
    auto bytes = JsonToValue(t, json);
    if (bytes.ok() && bytes->has_value()) {
      // JsonToValue's bytes are canonical (value_check.h: sets sorted without duplicates, one
      // value per map key): their JSON reads back to the same bytes, and bytes that were
      // canonical already give back the JSON they came from.
      std::string json2;
      Check(AppendValueAsJson(t, **bytes, &json2).ok(), "JSON of canonical bytes");
      auto again = JsonToValue(t, json2);
      Check(again.ok() && *again == *bytes, "JSON round trip of canonical bytes");
      std::string value(rest);
      if (CheckValue(t, &value).ok() && value == rest) Check(json2 == json, "JSON round trip");
    }
  }
  (void)JsonToValue(t, rest);  // the rest as JSON text
}

void FrameStream(std::string_view in);

void Body(uint8_t target, std::string_view in) {
  switch (target % 16) {
    case 0:
      return FrameStream(in);
    case 1:
      return RoundTrip(in, DecodeStartup, EncodeStartup, "STARTUP");
    case 2:
      return RoundTrip(in, DecodeQuery, EncodeQuery, "QUERY");
    case 3:
      return RoundTrip(in, DecodeExecute, EncodeExecute, "EXECUTE");
    case 4:
      return RoundTrip(in, DecodeBatch, EncodeBatch, "BATCH");
    case 5:
      return RoundTrip(in, DecodeResult, EncodeResult, "RESULT");
    case 6:
      return RoundTrip(in, DecodeError, EncodeError, "ERROR");
    case 7:
      return RoundTrip(in, DecodePrepare, EncodePrepare, "PREPARE");
    case 8:
      return RoundTrip(in, DecodeSupported, EncodeSupported, "SUPPORTED");
    case 9:
      return RoundTrip(in, DecodeRegister, EncodeRegister, "REGISTER");
    case 10:
      return RoundTrip(in, DecodeSchemaChangeEvent, EncodeSchemaChangeEvent, "EVENT");
    case 11: {
      (void)DecodeAuthenticate(in);
      auto token = DecodeAuthToken(in);
      if (token.ok() && token->has_value()) (void)ParsePlainAuthToken(**token);
      return;
    }
    case 12:
      return TypeAndValue(in);
    case 13: {
      auto t = ParseTypeName(in);
      if (t.ok()) {
        auto again = ParseTypeName(TypeName(*t));
        Check(again.ok() && *again == *t, "type name round trip");
      }
      return;
    }
    default: {
      auto m = DecodeQuery(in);  // query parameters with a trailing query
      if (m.ok()) (void)ConsistencyName(m->params.consistency);
      return;
    }
  }
}

// The input as a byte stream cut into reads of varying size; each frame's body goes to the
// decoder of its opcode.
void FrameStream(std::string_view in) {
  FrameAssembler assembler(1 << 16);
  size_t pos = 0, step = 1;
  while (pos < in.size()) {
    const size_t n = std::min(step, in.size() - pos);
    assembler.Feed(in.substr(pos, n));
    pos += n;
    step = step * 3 % 61 + 1;
    while (true) {
      auto f = assembler.Next();
      if (!f.ok() || !f->has_value()) break;
      const Frame& frame = **f;
      Check(assembler.buffered() <= in.size(), "assembler buffer");
      (void)CheckHeader(frame.header, (frame.header.version & kResponseBit) != 0);
      (void)OpcodeName(frame.header.opcode);
      std::string reencoded;
      AppendFrame(frame.header.version, frame.header.flags, frame.header.stream,
                  static_cast<Opcode>(frame.header.opcode), frame.body, &reencoded);
      Check(reencoded.size() == kHeaderSize + frame.body.size(), "frame size");
      switch (static_cast<Opcode>(frame.header.opcode)) {
        case Opcode::kStartup:
          Body(1, frame.body);
          break;
        case Opcode::kQuery:
          Body(2, frame.body);
          break;
        case Opcode::kExecute:
          Body(3, frame.body);
          break;
        case Opcode::kBatch:
          Body(4, frame.body);
          break;
        case Opcode::kResult:
          Body(5, frame.body);
          break;
        case Opcode::kError:
          Body(6, frame.body);
          break;
        case Opcode::kPrepare:
          Body(7, frame.body);
          break;
        case Opcode::kSupported:
          Body(8, frame.body);
          break;
        case Opcode::kRegister:
          Body(9, frame.body);
          break;
        case Opcode::kEvent:
          Body(10, frame.body);
          break;
        default:
          Body(11, frame.body);
          break;
      }
    }
  }
}

}  // namespace
}  // namespace dataforge::cql

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  dataforge::cql::Body(data[0],
                       std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
