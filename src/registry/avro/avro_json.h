// Plain JSON records (what the mapper writes: no union wrappers) against an Avro schema tree:
// validation, encoding to Avro's binary encoding and decoding back.
//
// The plain JSON of each Avro type: null, true/false, int and long as JSON integers in range,
// float and double as any JSON number, string as a string, bytes and fixed as a string whose
// characters U+0000..U+00FF are the bytes (Avro's own JSON encoding of bytes), enum as one of
// its symbols, array as an array, map as an object, record as an object with exactly the
// schema's fields (a missing field takes its default; an unknown one is an error), union as
// the plain value of the first branch it matches. float and double also take the strings "NaN",
// "Infinity" and "-Infinity" (Avro's JSON encoding; Decode writes non-finite values so).
// Logical types: decimal (bytes or fixed) as a JSON number or a numeric string (Decode writes an
// exact number literal with the schema's scale, "12.50"); date, time-*, timestamp-* as their
// int/long; uuid as its string.
//
// Not thread-safe: one JsonToAvro / AvroToJson per thread (they keep their path stacks).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/status.h"
#include "registry/avro/avro_schema.h"

namespace dataforge::registry::avro {

struct JsonMismatch {
  std::string path;  // JSON Pointer into the record
  std::string rule;  // "type", "union", "missing field", "unknown field", "enum", "size", ...
  std::string message;
};

class JsonToAvro {
 public:
  // Checks `value` against `node` (out == nullptr) or appends its binary encoding to *out.
  // nullopt on success.
  // With `avro_json_bytes`, bytes and fixed are always strings of characters U+0000..U+00FF,
  // decimals included (Avro's JSON encoding, which a field's "default" uses).
  // `input_bytes` (the JSON text's size) sizes the work allowed: matching takes at most
  // 1,000,000 + 32 * input_bytes steps (unions of similar records could make it exponential).
  std::optional<JsonMismatch> Run(const AvroNode& node, simdjson::dom::element value,
                                  std::string* out, size_t input_bytes = 0,
                                  bool avro_json_bytes = false);

 private:
  struct Segment {
    std::string_view key;
    size_t index;
    bool is_index;
  };
  bool Walk(const AvroNode& n, simdjson::dom::element v, std::string* out);
  bool Record(const AvroNode& n, simdjson::dom::element v, std::string* out);
  bool Union(const AvroNode& n, simdjson::dom::element v, std::string* out);
  bool Bytes(const AvroNode& n, std::string_view s, std::string* out);
  bool Decimal(const AvroNode& n, simdjson::dom::element v, std::string* out);
  bool Fail(std::string_view rule, std::string message);
  bool Mismatch(const AvroNode& n, simdjson::dom::element v);
  bool TooDeep();

  struct Slot {
    simdjson::dom::element value;
    bool present = false;
  };
  std::vector<Segment> path_;
  std::vector<Slot> slots_;  // the values of the records being walked, outermost first
  int quiet_ = 0;            // > 0 while trying union branches: failures are not described
  bool fatal_ = false;       // a failure no other union branch can mend (too deep, too long)
  int64_t steps_ = 0;        // Walk calls in this Run
  int64_t max_steps_ = 0;
  int depth_ = 0;
  bool avro_json_bytes_ = false;
  JsonMismatch error_;
  std::string scratch_;
};

// Encodes a field's default (Avro's JSON encoding of bytes).
inline std::optional<JsonMismatch> EncodeDefault(const AvroNode& node, simdjson::dom::element value,
                                                 std::string* out) {
  JsonToAvro walker;
  return walker.Run(node, value, out, 0, /*avro_json_bytes=*/true);
}

class AvroToJson {
 public:
  // Appends `payload` decoded as `node` to *out as plain JSON text. InvalidArgument naming the
  // byte offset when the payload is not an encoding of `node` (truncated, bad varint, index out
  // of range, invalid UTF-8, trailing bytes).
  Status Run(const AvroNode& node, std::string_view payload, std::string* out);

 private:
  Status Walk(const AvroNode& n, std::string* out);
  Status Long(int64_t* v);
  Status Need(uint64_t n, std::string_view what);
  Status Error(std::string_view what) const;

  const char* begin_ = nullptr;
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
  int depth_ = 0;
};

// Zig-zag varint of a long (Avro's int and long encoding).
inline void AppendLong(int64_t v, std::string* out) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out->push_back(static_cast<char>((z & 0x7f) | 0x80));
    z >>= 7;
  }
  out->push_back(static_cast<char>(z));
}

}  // namespace dataforge::registry::avro
