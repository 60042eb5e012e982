// libFuzzer target for the embedded log's on-disk batches (log/embedded/batch_format): the bytes
// of a segment file, read batch after batch as PartitionLog does (DecodeHeader, VerifyBatch,
// DecodeRecords). Invariants beyond "no crash": a decoded batch gives exactly record_count
// records at consecutive offsets from base_offset; reading from a later offset or with a record
// limit gives the matching slice; re-encoding the records gives a batch that verifies and
// decodes to the same records, byte-identical when encoded again; errors are one-line Status.
//
// Input: byte 0 bit 0 set = recompute each batch's CRC before verifying it (so the fuzzer gets
// past the checksum into the record decoder), clear = the bytes as stored. Then the segment.
// Seeds: tests/fuzz/corpus/log_batch (valid batches). Run:
//   scripts/fuzz.sh 600 log_batch
// or the binary on a copy of that directory (libFuzzer adds the inputs it finds to it).
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "log/embedded/batch_format.h"

namespace dataforge::log_format {
namespace {

constexpr const char* kTarget = "log_batch_fuzz";

bool SameRecord(const LogRecord& a, const LogRecord& b) {
  return a.key == b.key && a.value == b.value && a.timestamp_us == b.timestamp_us &&
         a.headers == b.headers;
}

void CheckRoundTrip(const BatchHeader& h, const std::vector<ConsumedRecord>& records) {
  std::vector<LogRecord> plain;
  for (const auto& c : records) plain.push_back(c.record);
  std::string once;
  EncodeBatch(h.base_offset, plain, &once);
  BatchHeader h2;
  fuzz::Check(DecodeHeader(once, &h2), kTarget, "re-encoded header does not decode");
  fuzz::Check(h2.base_offset == h.base_offset && h2.record_count == h.record_count &&
                  h2.body_length + kHeaderSize == once.size(),
              kTarget, "re-encoded header fields");
  uint32_t computed = 0;
  fuzz::Check(VerifyBatch(once, h2, &computed), kTarget, "re-encoded batch fails its CRC");
  std::vector<ConsumedRecord> again;
  Status s = DecodeRecords(once, h2, 3, 0, SIZE_MAX, &again);
  fuzz::Check(s.ok() && again.size() == records.size(), kTarget, "re-encoded batch decode");
  for (size_t i = 0; i < again.size(); ++i) {
    fuzz::Check(
        SameRecord(again[i].record, records[i].record) && again[i].offset == records[i].offset,
        kTarget, "re-encoded record differs");
  }
  std::string twice;
  EncodeBatch(h.base_offset, plain, &twice);
  fuzz::Check(once == twice, kTarget, "encoding is not deterministic");
}

void Run(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const bool fix_crc = data[0] & 1;
  std::string segment(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t pos = 0;
  while (pos < segment.size()) {
    BatchHeader h;
    if (!DecodeHeader(std::string_view(segment).substr(pos), &h)) return;
    if (segment.size() - pos - kHeaderSize < h.body_length) return;  // a torn batch
    // A copy of exactly this batch, so that ASan sees any read past its end.
    std::string batch = segment.substr(pos, kHeaderSize + h.body_length);
    pos += batch.size();
    if (fix_crc) {
      h.crc = Crc32c(0, batch.data() + 12, batch.size() - 12);
      std::memcpy(batch.data() + 8, &h.crc, 4);
    }
    uint32_t computed = 0;
    if (!VerifyBatch(batch, h, &computed)) {
      fuzz::Check(!fix_crc, kTarget, "a batch with a recomputed CRC fails to verify");
      continue;
    }
    std::vector<ConsumedRecord> all;
    Status s = DecodeRecords(batch, h, 7, 0, SIZE_MAX, &all);
    if (!s.ok()) {
      fuzz::CheckError(s, kTarget, "DecodeRecords");
      continue;
    }
    fuzz::Check(all.size() == h.record_count, kTarget, "record count differs from the header");
    for (size_t i = 0; i < all.size(); ++i) {
      fuzz::Check(all[i].partition == 7 && all[i].offset == h.base_offset + static_cast<int64_t>(i),
                  kTarget, "record offsets are not consecutive from base_offset");
    }
    // A read starting in the middle, limited to one record, is the matching slice.
    const size_t mid = all.size() / 2;
    std::vector<ConsumedRecord> slice;
    s = DecodeRecords(batch, h, 7, all[mid].offset, 1, &slice);
    fuzz::Check(s.ok() && slice.size() == 1 && slice[0].offset == all[mid].offset &&
                    SameRecord(slice[0].record, all[mid].record),
                kTarget, "a read from the middle is not the matching slice");
    CheckRoundTrip(h, all);
  }
}

}  // namespace
}  // namespace dataforge::log_format

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DF_FUZZ_NO_EXCEPTIONS(dataforge::log_format::kTarget, dataforge::log_format::Run(data, size));
  return 0;
}
