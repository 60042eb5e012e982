#include "registry/schema_types.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace dataforge::registry {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

constexpr std::array<std::pair<Compatibility, std::string_view>, 7> kLevels = {{
    {Compatibility::kNone, "NONE"},
    {Compatibility::kBackward, "BACKWARD"},
    {Compatibility::kBackwardTransitive, "BACKWARD_TRANSITIVE"},
    {Compatibility::kForward, "FORWARD"},
    {Compatibility::kForwardTransitive, "FORWARD_TRANSITIVE"},
    {Compatibility::kFull, "FULL"},
    {Compatibility::kFullTransitive, "FULL_TRANSITIVE"},
}};

constexpr std::array<std::pair<Mode, std::string_view>, 3> kModes = {{
    {Mode::kReadWrite, "READWRITE"},
    {Mode::kReadOnly, "READONLY"},
    {Mode::kImport, "IMPORT"},
}};

}  // namespace

std::string_view SchemaTypeName(SchemaType type) {
  return type == SchemaType::kAvro ? "AVRO" : "JSON";
}

std::optional<SchemaType> ParseSchemaType(std::string_view name) {
  if (name == "AVRO") return SchemaType::kAvro;
  if (name == "JSON") return SchemaType::kJson;
  return std::nullopt;
}

std::string_view CompatibilityName(Compatibility level) {
  for (const auto& [l, n] : kLevels) {
    if (l == level) return n;
  }
  return "NONE";
}

std::optional<Compatibility> ParseCompatibility(std::string_view name) {
  for (const auto& [l, n] : kLevels) {
    if (EqualsIgnoreCase(name, n)) return l;
  }
  return std::nullopt;
}

std::string_view ModeName(Mode mode) {
  for (const auto& [m, n] : kModes) {
    if (m == mode) return n;
  }
  return "READWRITE";
}

std::optional<Mode> ParseMode(std::string_view name) {
  for (const auto& [m, n] : kModes) {
    if (EqualsIgnoreCase(name, n)) return m;
  }
  return std::nullopt;
}

}  // namespace dataforge::registry
