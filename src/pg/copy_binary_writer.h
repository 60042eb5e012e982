// Builds the data of a COPY ... FROM STDIN (FORMAT binary): no escaping, values as length +
// bytes (text columns take any bytes the server's encoding accepts; the server checks them).
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dataforge {

class CopyBinaryWriter {
 public:
  CopyBinaryWriter();
  // Starts a row of `fields` values.
  void BeginRow(int16_t fields);
  void Text(std::string_view value);  // text, varchar, bytea: the bytes
  void Int32(int32_t value);          // integer
  void Int64(int64_t value);          // bigint
  void Null();
  // The complete COPY data (header, rows, trailer); the writer is left empty.
  std::string Finish();
  // The same into `*out` (its old contents dropped), keeping both buffers' capacity for the
  // next rows: a writer reused batch after batch does not grow a buffer again.
  void Finish(std::string* out);
  size_t rows() const { return rows_; }

 private:
  void Be32(uint32_t v);
  std::string out_;
  size_t rows_ = 0;
};

}  // namespace dataforge
