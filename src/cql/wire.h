// The CQL native protocol's primitive notations ([int], [string], [bytes], ...), as defined in
// section 3 of native_protocol_v4.spec (docs/cql.md). Big-endian on the wire.
//
// WireWriter appends to a string it borrows. WireReader reads a borrowed buffer and never reads
// past its end: a read that would fails, sets the reader's error (kept: every later read fails
// too) and returns a zero/empty value, so a decoder checks `ok()` once at the end.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dataforge::cql {

// A [bytes] or [value]: nullopt is null (length -1). `unset` is the [value] length -2 (v4).
struct Value {
  std::optional<std::string> bytes;
  bool unset = false;

  static Value Null() { return {}; }
  static Value Unset() { return {std::nullopt, true}; }
  static Value Of(std::string b) { return {std::move(b), false}; }
  bool is_null() const { return !bytes && !unset; }
};

class WireWriter {
 public:
  explicit WireWriter(std::string* out) : out_(out) {}

  void Byte(uint8_t v);
  void Short(uint16_t v);
  void Int(int32_t v);
  void Long(int64_t v);
  void String(std::string_view s);                  // [string]: [short] n + n bytes
  void LongString(std::string_view s);              // [long string]: [int] n + n bytes
  void Bytes(const std::optional<std::string>& b);  // [bytes]: [int] n (-1 = null)
  void BytesView(std::string_view b);               // [bytes], not null
  void ValueBytes(const Value& v);                  // [value]: -1 null, -2 unset
  void ShortBytes(std::string_view b);              // [short bytes]
  void Uuid(const uint8_t (&uuid)[16]);
  void StringList(const std::vector<std::string>& l);
  void StringMap(const std::vector<std::pair<std::string, std::string>>& m);
  void StringMultimap(const std::vector<std::pair<std::string, std::vector<std::string>>>& m);
  void Inet(const std::string& address_bytes, int32_t port);  // 4 or 16 address bytes
  void Raw(std::string_view b);

  // Overwrites 4 bytes at `pos` with `v` (used to fill a length after the body is written).
  void PatchInt(size_t pos, int32_t v);
  size_t size() const { return out_->size(); }

 private:
  std::string* out_;
};

class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}

  uint8_t Byte();
  uint16_t Short();
  int32_t Int();
  int64_t Long();
  std::string String();
  std::string LongString();
  std::optional<std::string> Bytes();  // nullopt = null
  Value ValueBytes();                  // [value]
  std::string ShortBytes();
  bool Uuid(uint8_t (*uuid)[16]);
  std::vector<std::string> StringList();
  std::vector<std::pair<std::string, std::string>> StringMap();
  std::vector<std::pair<std::string, std::vector<std::string>>> StringMultimap();
  std::string_view Raw(size_t n);

  bool ok() const { return error_.empty(); }
  // "truncated <what> at byte N of M" or a bad length; empty when ok.
  const std::string& error() const { return error_; }
  size_t position() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }
  // Fails the reader with `message` (first error wins).
  void Fail(std::string message);
  // A Status for the reader's error, prefixed with `context` (e.g. "QUERY body").
  Status ToStatus(std::string_view context) const;

 private:
  bool Need(size_t n, const char* what);

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

// The end of a body decoder: the reader's error, or "<what> body: N unexpected bytes after the
// message at byte P" when the body is longer than its message, or `value`.
template <typename T>
Result<T> FinishBody(const WireReader& r, const char* what, T value) {
  if (!r.ok()) return r.ToStatus(std::string(what) + " body");
  if (r.remaining() != 0) {
    return Status::InvalidArgument(std::string(what) + " body: " + std::to_string(r.remaining()) +
                                   " unexpected bytes after the message at byte " +
                                   std::to_string(r.position()));
  }
  return value;
}

}  // namespace dataforge::cql
