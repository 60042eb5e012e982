#include "cli/option_checks.h"

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

namespace dataforge {
namespace {

std::string Range(int64_t min, int64_t max) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (min == kMin && max == kMax) return "";
  if (max == kMax) return fmt::format(" >= {}", min);
  if (min == kMin) return fmt::format(" <= {}", max);
  return fmt::format(" from {} to {}", min, max);
}

// What --help shows after the type: "0 to 65535"; nothing for a plain >= 0 or any number.
std::string Description(int64_t min, int64_t max) {
  if (min == 0 && max == std::numeric_limits<int64_t>::max()) return "";
  std::string range = Range(min, max);
  return range.empty() ? "" : range.substr(1);
}

bool HasValidator(CLI::Option* option) {
  try {
    option->get_validator("");  // the first one, or OptionNotFound when there is none
    return true;
  } catch (const CLI::OptionNotFound&) {
    return false;
  }
}

}  // namespace

CLI::Validator WholeNumber(int64_t min, int64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        std::string expected = "a whole number" + Range(min, max);
        size_t digits = !text.empty() && text[0] == '-' ? 1 : 0;
        bool ok = text.size() > digits &&
                  text.find_first_not_of("0123456789", digits) == std::string::npos;
        if (ok) {
          errno = 0;
          long long v = std::strtoll(text.c_str(), nullptr, 10);
          ok = errno == 0 && v >= min && v <= max;
        }
        if (ok) return "";
        return fmt::format("'{}' is not {}", text, expected);
      },
      Description(min, max), "WholeNumber");
}

CLI::Validator OneOf(std::vector<std::string> values) {
  std::string list = fmt::format("{}", fmt::join(values, ", "));
  return CLI::Validator(
      [values = std::move(values), list](std::string& text) -> std::string {
        for (const auto& v : values) {
          if (text == v) return "";
        }
        return fmt::format("'{}' is not one of {}", text, list);
      },
      "{" + list + "}", "OneOf");
}

namespace {

CLI::Validator DecimalNumber() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        std::strtod(text.c_str(), &end);
        if (!text.empty() && errno == 0 && end == text.c_str() + text.size()) return "";
        return fmt::format("'{}' is not a number", text);
      },
      "", "DecimalNumber");
}

}  // namespace

void ExplainNumericOptions(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (HasValidator(option)) continue;
    std::string type = option->get_type_name();
    if (type == "UINT") {
      option->check(WholeNumber(0));
    } else if (type == "INT") {
      option->check(WholeNumber());
    } else if (type == "FLOAT") {
      option->check(DecimalNumber());
    }
  }
  for (CLI::App* sub : app.get_subcommands(std::function<bool(CLI::App*)>{}))
    ExplainNumericOptions(*sub);
}

}  // namespace dataforge
