// HyperLogLog (Flajolet et al. 2007) over 64-bit hashes, for count_distinct beyond its exact
// limit (docs/aggregates.md "count_distinct accuracy").
//
// Precision p = 14: 16,384 one-byte registers; the standard error of Estimate() is
// 1.04 / sqrt(2^14) ~ 0.81% (about 99.7% of estimates lie within 3 standard errors, 2.4%).
// Small cardinalities use linear counting (the empty registers), which is near exact; with
// 64-bit hashes no large-range correction is needed. Hashes come from HashValue (stable across
// processes and versions: the sketch is persisted in the store's state rows).
// Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dataforge {

// 64-bit hash of a value's text (FNV-1a, then a 64-bit finalizer to spread the bits). Stable:
// it is part of the persisted state format.
uint64_t HashValue(std::string_view text);

class HyperLogLog {
 public:
  static constexpr int kPrecision = 14;
  static constexpr size_t kRegisters = size_t{1} << kPrecision;

  HyperLogLog() : registers_(kRegisters, 0) {}

  void AddHash(uint64_t hash);
  void Merge(const HyperLogLog& other);
  // The estimated number of distinct hashes added.
  uint64_t Estimate() const;

  // The registers as kRegisters bytes (the persisted form); FromBytes needs exactly that many.
  const std::vector<uint8_t>& registers() const { return registers_; }
  static bool FromBytes(std::string_view bytes, HyperLogLog* out);

 private:
  std::vector<uint8_t> registers_;
};

}  // namespace dataforge
