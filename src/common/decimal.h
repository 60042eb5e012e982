// Exact decimal numbers: the text form (PostgreSQL numeric's output, JSON numbers) and CQL's
// decimal (native_protocol_v4.spec section 6.7: [int] scale, then the unscaled value as a varint,
// big-endian two's complement; value = unscaled * 10^-scale). No double in between: every digit
// is kept. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dataforge {

struct Decimal {
  bool negative = false;  // never set for zero (a decimal has no -0)
  std::string digits;     // the unscaled value's digits, no leading zeros; "0" for zero
  int32_t scale = 0;      // value = digits * 10^-scale
};

// The most digits a Decimal may have (its conversions are quadratic in them).
inline constexpr size_t kMaxDecimalDigits = 10000;

// Parses -?[0-9]+(.[0-9]*)?([eE][+-]?[0-9]+)? (also ".5" and "+1"): nullopt for anything else,
// NaN and Infinity included, for more than kMaxDecimalDigits digits or a scale beyond int32.
// The scale is the number of fraction digits minus the exponent, so "1.50" keeps scale 2.
std::optional<Decimal> ParseDecimal(std::string_view text);

// The text that ParseDecimal reads back to the same digits and scale: plain notation for a
// scale of 0 to 10000, as PostgreSQL writes numeric ("-12.50", "0.000000000000000000000000000001",
// "18446744073709551616"); otherwise scientific like Java's BigDecimal.toString() ("1.5E+3" for
// 15 with scale -2, "1E+400", "1E-20000").
std::string FormatDecimal(const Decimal& d);

// CQL decimal bytes and back. DecimalFromCql returns nullopt for fewer than 5 bytes or an
// unscaled value of more than kMaxDecimalDigits digits.
std::string DecimalToCql(const Decimal& d);
std::optional<Decimal> DecimalFromCql(std::string_view bytes);

// Numeric order: < 0, 0, > 0 (1.50 and 1.5 are equal).
int CompareDecimals(const Decimal& a, const Decimal& b);

}  // namespace dataforge
