#include "common/decimal.h"

#include <algorithm>
#include <limits>
#include <vector>

#include <fmt/format.h>

namespace dataforge {
namespace {

// Big-endian bytes -> their two's complement negation (invert, add one), in place. Turns a
// magnitude into a negative number's bytes and back.
void NegateTwosComplement(std::string* bytes) {
  for (char& c : *bytes) c = static_cast<char>(~static_cast<unsigned char>(c));
  for (size_t i = bytes->size(); i-- > 0;) {
    unsigned char c = static_cast<unsigned char>((*bytes)[i]);
    (*bytes)[i] = static_cast<char>(c + 1);
    if (c != 0xFF) break;
  }
}

constexpr int64_t kMaxPlainScale = 10000;
constexpr uint32_t kChunk = 1'000'000'000;  // 9 decimal digits

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

void StripLeadingZeros(std::string* digits) {
  size_t nz = digits->find_first_not_of('0');
  if (nz == std::string::npos) {
    *digits = "0";
  } else {
    digits->erase(0, nz);
  }
}

// Little-endian base-2^32 magnitude <-> decimal digits.
std::vector<uint32_t> DigitsToLimbs(const std::string& digits) {
  std::vector<uint32_t> limbs;
  size_t pos = 0;
  while (pos < digits.size()) {
    size_t n = std::min<size_t>(9, digits.size() - pos);
    uint64_t mul = 1, add = 0;
    for (size_t i = 0; i < n; ++i) {
      mul *= 10;
      add = add * 10 + static_cast<uint64_t>(digits[pos + i] - '0');
    }
    pos += n;
    uint64_t carry = add;
    for (uint32_t& limb : limbs) {
      uint64_t v = uint64_t{limb} * mul + carry;
      limb = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
    if (carry != 0) limbs.push_back(static_cast<uint32_t>(carry));
  }
  return limbs;
}

std::string LimbsToDigits(std::vector<uint32_t> limbs) {
  std::vector<uint32_t> chunks;  // base 10^9, little-endian
  while (!limbs.empty()) {
    uint64_t rem = 0;
    for (size_t i = limbs.size(); i-- > 0;) {
      uint64_t cur = (rem << 32) | limbs[i];
      limbs[i] = static_cast<uint32_t>(cur / kChunk);
      rem = cur % kChunk;
    }
    chunks.push_back(static_cast<uint32_t>(rem));
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  }
  if (chunks.empty()) return "0";
  std::string out = std::to_string(chunks.back());
  for (size_t i = chunks.size() - 1; i-- > 0;) out += fmt::format("{:09d}", chunks[i]);
  return out;
}

}  // namespace

std::optional<Decimal> ParseDecimal(std::string_view s) {
  Decimal d;
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) d.negative = s[i++] == '-';
  size_t int_start = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  std::string digits(s.substr(int_start, i - int_start));
  int64_t scale = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t frac_start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    digits.append(s.substr(frac_start, i - frac_start));
    scale = static_cast<int64_t>(i - frac_start);
  }
  if (digits.empty()) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool neg_exp = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg_exp = s[i++] == '-';
    size_t exp_start = i;
    int64_t exp = 0;
    while (i < s.size() && IsDigit(s[i])) {
      exp = exp * 10 + (s[i] - '0');
      if (exp > int64_t{1} << 40) return std::nullopt;
      ++i;
    }
    if (i == exp_start) return std::nullopt;
    scale -= neg_exp ? -exp : exp;
  }
  if (i != s.size()) return std::nullopt;
  if (scale < std::numeric_limits<int32_t>::min() || scale > std::numeric_limits<int32_t>::max()) {
    return std::nullopt;
  }
  StripLeadingZeros(&digits);
  if (digits.size() > kMaxDecimalDigits) return std::nullopt;
  if (digits == "0") d.negative = false;
  d.digits = std::move(digits);
  d.scale = static_cast<int32_t>(scale);
  return d;
}

std::string FormatDecimal(const Decimal& d) {
  std::string out = d.negative ? "-" : "";
  const int64_t scale = d.scale;
  const size_t n = d.digits.size();
  if (scale < 0 || scale > kMaxPlainScale) {
    // Scientific, like BigDecimal.toString(): one digit before the point, so the scale reads back.
    out.push_back(d.digits[0]);
    if (n > 1) {
      out.push_back('.');
      out.append(d.digits, 1, n - 1);
    }
    return out + fmt::format("E{:+d}", static_cast<int64_t>(n) - 1 - scale);
  }
  const size_t frac = static_cast<size_t>(scale);
  if (frac == 0) return out + d.digits;
  if (n > frac) {
    out.append(d.digits, 0, n - frac);
    out.push_back('.');
    out.append(d.digits, n - frac, frac);
  } else {
    out += "0.";
    out.append(frac - n, '0');
    out += d.digits;
  }
  return out;
}

std::string DecimalToCql(const Decimal& d) {
  std::string out;
  const auto scale = static_cast<uint32_t>(d.scale);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(scale >> shift));
  std::vector<uint32_t> limbs = DigitsToLimbs(d.digits);
  // Big-endian magnitude bytes.
  std::string mag;
  for (size_t i = limbs.size(); i-- > 0;) {
    for (int shift = 24; shift >= 0; shift -= 8)
      mag.push_back(static_cast<char>(limbs[i] >> shift));
  }
  size_t nz = mag.find_first_not_of('\0');
  mag = nz == std::string::npos ? std::string(1, '\0') : mag.substr(nz);
  if (d.negative) {
    NegateTwosComplement(&mag);
    if (!(static_cast<unsigned char>(mag[0]) & 0x80)) mag.insert(mag.begin(), '\xff');
    // Minimal: drop 0xFF bytes that only repeat the sign of the next.
    while (mag.size() > 1 && static_cast<unsigned char>(mag[0]) == 0xFF &&
           (static_cast<unsigned char>(mag[1]) & 0x80)) {
      mag.erase(0, 1);
    }
  } else if (static_cast<unsigned char>(mag[0]) & 0x80) {
    mag.insert(mag.begin(), '\0');
  }
  return out + mag;
}

std::optional<Decimal> DecimalFromCql(std::string_view b) {
  if (b.size() < 5) return std::nullopt;
  uint32_t scale = 0;
  for (int i = 0; i < 4; ++i) scale = (scale << 8) | static_cast<unsigned char>(b[i]);
  std::string mag(b.substr(4));
  Decimal d;
  d.scale = static_cast<int32_t>(scale);
  d.negative = (static_cast<unsigned char>(mag[0]) & 0x80) != 0;
  if (d.negative) {
    NegateTwosComplement(&mag);  // the magnitude of the negative number
    // -2^(8n-1) inverts to 0x7f.. and +1 gives 0x80..: the magnitude is unsigned, so fine.
  }
  // A decimal digit is > 3.3 bits: bytes * 2.41 bounds the digits.
  if (mag.size() > kMaxDecimalDigits * 10 / 24 + 8) return std::nullopt;
  std::vector<uint32_t> limbs((mag.size() + 3) / 4, 0);
  for (size_t i = 0; i < mag.size(); ++i) {
    size_t from_end = mag.size() - 1 - i;
    limbs[from_end / 4] |= uint32_t{static_cast<unsigned char>(mag[i])} << (8 * (from_end % 4));
  }
  while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  d.digits = LimbsToDigits(std::move(limbs));
  if (d.digits.size() > kMaxDecimalDigits) return std::nullopt;
  if (d.digits == "0") d.negative = false;
  return d;
}

int CompareDecimals(const Decimal& a, const Decimal& b) {
  const bool a_zero = a.digits == "0", b_zero = b.digits == "0";
  const int sa = a_zero ? 0 : (a.negative ? -1 : 1);
  const int sb = b_zero ? 0 : (b.negative ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  // Both nonzero with the same sign: compare magnitudes, then flip for negatives.
  int mag = 0;
  const int64_t ea = static_cast<int64_t>(a.digits.size()) - a.scale;  // integer digits
  const int64_t eb = static_cast<int64_t>(b.digits.size()) - b.scale;
  if (ea != eb) {
    mag = ea < eb ? -1 : 1;
  } else {
    const size_t n = std::max(a.digits.size(), b.digits.size());
    for (size_t i = 0; i < n && mag == 0; ++i) {
      const char ca = i < a.digits.size() ? a.digits[i] : '0';
      const char cb = i < b.digits.size() ? b.digits[i] : '0';
      if (ca != cb) mag = ca < cb ? -1 : 1;
    }
  }
  return sa < 0 ? -mag : mag;
}

}  // namespace dataforge
