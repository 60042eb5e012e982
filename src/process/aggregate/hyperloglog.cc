#include "process/aggregate/hyperloglog.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace dataforge {

uint64_t HashValue(std::string_view text) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // splitmix64's finalizer: FNV alone leaves the high bits (the register index) poorly mixed.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

void HyperLogLog::AddHash(uint64_t hash) {
  size_t index = hash >> (64 - kPrecision);
  // The rank of the first 1 bit in the remaining 50 bits (1-based); 51 when all are 0.
  uint64_t rest = (hash << kPrecision) | (uint64_t{1} << (kPrecision - 1));
  auto rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
  registers_[index] = std::max(registers_[index], rank);
}

void HyperLogLog::Merge(const HyperLogLog& other) {
  for (size_t i = 0; i < kRegisters; ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
}

uint64_t HyperLogLog::Estimate() const {
  const double m = static_cast<double>(kRegisters);
  double sum = 0;
  size_t zeros = 0;
  for (uint8_t r : registers_) {
    sum += std::ldexp(1.0, -static_cast<int>(r));
    zeros += r == 0;
  }
  const double alpha = 0.7213 / (1 + 1.079 / m);
  double estimate = alpha * m * m / sum;
  if (estimate <= 2.5 * m && zeros > 0) {
    estimate = m * std::log(m / static_cast<double>(zeros));  // linear counting
  }
  return static_cast<uint64_t>(std::llround(estimate));
}

bool HyperLogLog::FromBytes(std::string_view bytes, HyperLogLog* out) {
  if (bytes.size() != kRegisters) return false;
  std::memcpy(out->registers_.data(), bytes.data(), kRegisters);
  for (uint8_t r : out->registers_) {
    if (r > 64 - kPrecision + 1) return false;
  }
  return true;
}

}  // namespace dataforge
