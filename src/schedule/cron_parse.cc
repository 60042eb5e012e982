// Parsing of 5-field cron expressions; see cron.h.
#include <array>
#include <cctype>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "schedule/cron.h"

namespace dataforge::schedule_internal {
namespace {

struct FieldDef {
  const char* name;
  int min;
  int max;
  const char* range;                         // "hours are 0-23"
  const std::array<const char*, 12>* names;  // names[i] = value names_base + i
  int names_base;
};

constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 12> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri",
                                                   "sat", "",    "",    "",    "",    ""};

constexpr std::array<FieldDef, 5> kFields = {{
    {"minute", 0, 59, "minutes are 0-59", nullptr, 0},
    {"hour", 0, 23, "hours are 0-23", nullptr, 0},
    {"day-of-month", 1, 31, "days of the month are 1-31", nullptr, 0},
    {"month", 1, 12, "months are 1-12 or jan-dec", &kMonthNames, 1},
    {"day-of-week", 0, 7, "days of the week are 0-7 or sun-sat (0 and 7 are Sunday)", &kDayNames,
     0},
}};

Status FieldError(const FieldDef& f, std::string_view what) {
  return Status::InvalidArgument(fmt::format("cron field '{}' has {}; {}", f.name, what, f.range));
}

// A number or a name of field `f`.
Result<int> ParseValue(const FieldDef& f, std::string_view token) {
  if (token.empty()) return FieldError(f, "an empty value");
  bool digits = true;
  for (char c : token) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) {
    if (token.size() > 4) return FieldError(f, token);
    int v = 0;
    for (char c : token) v = v * 10 + (c - '0');
    if (v < f.min || v > f.max) return FieldError(f, token);
    return v;
  }
  if (f.names != nullptr && token.size() == 3) {
    std::string lower;
    for (char c : token) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (size_t i = 0; i < f.names->size(); ++i) {
      if (lower == (*f.names)[i]) return f.names_base + static_cast<int>(i);
    }
  }
  return FieldError(f, fmt::format("'{}'", token));
}

// One comma-separated item: "*", "*/n", "a", "a-b", "a-b/n" or "a/n" (= a-max/n).
Result<uint64_t> ParseItem(const FieldDef& f, std::string_view item) {
  if (item.empty()) return FieldError(f, "an empty list item");
  std::string_view base = item;
  int step = 1;
  if (size_t slash = item.find('/'); slash != std::string_view::npos) {
    base = item.substr(0, slash);
    std::string_view step_text = item.substr(slash + 1);
    bool ok = !step_text.empty() && step_text.size() <= 4;
    step = 0;
    for (char c : step_text) {
      ok = ok && std::isdigit(static_cast<unsigned char>(c));
      if (!ok) break;  // a long non-numeric step must not overflow `step`
      step = step * 10 + (c - '0');
    }
    if (!ok || step < 1) {
      return Status::InvalidArgument(fmt::format(
          "cron field '{}' has '{}'; a step must be a whole number of at least 1", f.name, item));
    }
  }
  int lo = f.min;
  int hi = f.max;
  if (base == "*") {
    if (f.max == 7) hi = 6;  // day-of-week: 7 repeats Sunday
  } else if (size_t dash = base.find('-'); dash != std::string_view::npos) {
    DF_ASSIGN_OR_RETURN(lo, ParseValue(f, base.substr(0, dash)));
    DF_ASSIGN_OR_RETURN(hi, ParseValue(f, base.substr(dash + 1)));
    if (f.max == 7 && hi == 0) hi = 7;  // "fri-sun"
    if (lo > hi) {
      return Status::InvalidArgument(fmt::format(
          "cron field '{}' has range {}; its start is after its end ({})", f.name, base, f.range));
    }
  } else {
    DF_ASSIGN_OR_RETURN(lo, ParseValue(f, base));
    if (item.find('/') == std::string_view::npos) hi = lo;
  }
  uint64_t bits = 0;
  for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << (f.max == 7 ? v % 7 : v);
  return bits;
}

Result<uint64_t> ParseField(const FieldDef& f, std::string_view text) {
  uint64_t bits = 0;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string_view item =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    DF_ASSIGN_OR_RETURN(uint64_t item_bits, ParseItem(f, item));
    bits |= item_bits;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return bits;
}

std::vector<std::string_view> SplitWhitespace(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

// The longest each month can be (February: 29).
constexpr std::array<int, 13> kMaxDays = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

}  // namespace

Result<CronSpec> ParseCron(std::string_view text) {
  std::vector<std::string_view> fields = SplitWhitespace(text);
  if (fields.size() != kFields.size()) {
    return Status::InvalidArgument(fmt::format(
        "cron expression '{}' has {} field{}; it needs 5: minute hour day-of-month month "
        "day-of-week",
        text, fields.size(), fields.size() == 1 ? "" : "s"));
  }
  std::array<uint64_t, 5> bits{};
  for (size_t i = 0; i < fields.size(); ++i) {
    DF_ASSIGN_OR_RETURN(bits[i], ParseField(kFields[i], fields[i]));
  }
  CronSpec spec;
  spec.minutes = bits[0];
  spec.hours = static_cast<uint32_t>(bits[1]);
  spec.days = static_cast<uint32_t>(bits[2]);
  spec.months = static_cast<uint16_t>(bits[3]);
  spec.weekdays = static_cast<uint8_t>(bits[4]);
  spec.days_star = fields[2].front() == '*';
  spec.weekdays_star = fields[4].front() == '*';

  // With either day field unrestricted both must match; every (month, day) pair that exists
  // falls on every weekday over the 400-year cycle, so the expression fires iff some selected
  // day of the month exists in some selected month.
  if (spec.days_star || spec.weekdays_star) {
    bool possible = false;
    for (int m = 1; m <= 12; ++m) {
      if (!(spec.months >> m & 1)) continue;
      uint32_t existing = static_cast<uint32_t>((uint64_t{1} << (kMaxDays[m] + 1)) - 2);
      possible = possible || (spec.days & existing) != 0;
    }
    if (!possible) {
      return Status::InvalidArgument(fmt::format(
          "cron expression '{}' never fires: none of its days of the month exist in its months",
          text));
    }
  }
  return spec;
}

}  // namespace dataforge::schedule_internal
