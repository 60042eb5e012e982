// The on-disk record batch of the embedded log (docs/log-format.md).
//
//   offset size  field
//   0      4     magic "DFB1" (0x31424644, little-endian), or "DFB2" (0x32424644) for a
//                batch that holds a tombstone (a null value)
//   4      4     body length in bytes (after this 32-byte header)
//   8      4     CRC-32C of bytes [12, 32 + body length)
//   12     4     record count (>= 1)
//   16     8     base offset (offset of the first record)
//   24     8     max timestamp (microseconds since the epoch)
//   32     ...   records: for each, varint key length, key, varint value length, value,
//                zigzag varint timestamp, varint header count, then per header varint name
//                length, name, varint value length, value. In a DFB2 batch a record's value
//                length is written plus one, and 0 means a null value (LogRecord::tombstone).
// A batch without a tombstone is DFB1, as before DFB2 existed, so logs without deletes stay
// readable by older builds.
//
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "log/log.h"

namespace dataforge::log_format {

constexpr uint32_t kMagic = 0x31424644;          // "DFB1"
constexpr uint32_t kMagicNullable = 0x32424644;  // "DFB2": values may be null
constexpr size_t kHeaderSize = 32;
constexpr uint32_t kMaxBodyBytes = 256u << 20;

struct BatchHeader {
  uint32_t magic = 0;
  uint32_t body_length = 0;
  uint32_t crc = 0;
  uint32_t record_count = 0;
  int64_t base_offset = 0;
  int64_t max_timestamp = 0;
};

uint32_t Crc32c(uint32_t crc, const char* data, size_t n);

// Appends one encoded batch to `out`.
void EncodeBatch(int64_t base_offset, std::span<const LogRecord> records, std::string* out);

// Decodes the fixed header; false if `bytes` is short or the magic, sizes or offsets are wrong
// (base_offset + record_count must not overflow an int64).
bool DecodeHeader(std::string_view bytes, BatchHeader* header);

// Verifies the CRC of a whole batch (header + body).
bool VerifyBatch(std::string_view batch, const BatchHeader& header, uint32_t* computed);

// Decodes the records of a verified batch whose offsets are >= `from_offset`.
Status DecodeRecords(std::string_view batch, const BatchHeader& header, int32_t partition,
                     int64_t from_offset, size_t max_records, std::vector<ConsumedRecord>* out);

}  // namespace dataforge::log_format
