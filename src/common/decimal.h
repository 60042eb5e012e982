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

// Plain notation like PostgreSQL and Java's BigDecimal.toPlainString(): "-12.50", "0.001",
// "1500" (scale -2); a scale beyond +-10000 is written "<digits>E<-scale>" instead.
std::string FormatDecimal(const Decimal& d);

// CQL decimal bytes and back. DecimalFromCql returns nullopt for fewer than 5 bytes or an
// unscaled value of more than kMaxDecimalDigits digits.
std::string DecimalToCql(const Decimal& d);
std::optional<Decimal> DecimalFromCql(std::string_view bytes);

// Numeric order: < 0, 0, > 0 (1.50 and 1.5 are equal).
int CompareDecimals(const Decimal& a, const Decimal& b);

}  // namespace dataforge
