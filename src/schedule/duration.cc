// ParseDuration / FormatDuration: "1h30m" <-> microseconds.
#include <array>
#include <cctype>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "schedule/schedule.h"

#include "common/escape.h"

namespace dataforge {
namespace {

struct Unit {
  std::string_view name;
  int64_t micros;
};

// Largest first: a duration lists each unit at most once, in this order.
constexpr std::array<Unit, 5> kUnits = {{{"d", 86'400'000'000},
                                         {"h", 3'600'000'000},
                                         {"m", 60'000'000},
                                         {"s", 1'000'000},
                                         {"ms", 1'000}}};

Status DurationError(std::string_view text, std::string_view why) {
  return Status::InvalidArgument(fmt::format(
      "duration '{}' {}; use whole numbers with units ms, s, m, h or d, such as 30s, 15m or 1h30m",
      text, why));
}

Result<int64_t> ParseDurationText(std::string_view text) {
  if (text.empty()) return DurationError(text, "is empty");
  int64_t total = 0;
  size_t next_unit = 0;  // units must appear largest first, each once
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int64_t value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (value > (std::numeric_limits<int64_t>::max() - 9) / 10) {
        return DurationError(text, "is too long");
      }
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start) {
      return DurationError(text, fmt::format("has '{}' where a number belongs", text.substr(i)));
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) return DurationError(text, "has a number without a unit");
    size_t u = 0;
    while (u < kUnits.size() && kUnits[u].name != unit) ++u;
    if (u == kUnits.size()) return DurationError(text, fmt::format("has unknown unit '{}'", unit));
    if (u < next_unit) {
      return DurationError(text, "repeats a unit or lists a smaller one before a larger one");
    }
    next_unit = u + 1;
    if (value > (std::numeric_limits<int64_t>::max() - total) / kUnits[u].micros) {
      return DurationError(text, "is too long");
    }
    total += value * kUnits[u].micros;
  }
  return total;
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  auto d = ParseDurationText(text);
  if (!d.ok()) return OneLineError(d.status());
  return d;
}

std::string FormatDuration(int64_t us) {
  if (us == 0) return "0s";
  std::string out;
  uint64_t rest = static_cast<uint64_t>(us);
  if (us < 0) {
    out = "-";
    rest = 0 - rest;
  }
  for (const Unit& unit : kUnits) {
    uint64_t n = rest / static_cast<uint64_t>(unit.micros);
    rest %= static_cast<uint64_t>(unit.micros);
    if (n > 0) out += fmt::format("{}{}", n, unit.name);
  }
  if (rest > 0) out += fmt::format("{}us", rest);
  return out;
}

}  // namespace dataforge
