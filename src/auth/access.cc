#include "auth/access.h"

#include <array>
#include <utility>

namespace dataforge::auth {
namespace {

constexpr std::array<std::pair<ResourceKind, std::string_view>, 6> kKinds = {{
    {ResourceKind::kTables, "tables"},
    {ResourceKind::kPipeline, "pipeline"},
    {ResourceKind::kDeadLetters, "deadletters"},
    {ResourceKind::kDags, "dags"},
    {ResourceKind::kAdmin, "admin"},
    {ResourceKind::kSubjects, "subjects"},
}};

constexpr std::array<std::pair<Action, std::string_view>, 7> kActions = {{
    {Action::kRead, "read"},
    {Action::kWrite, "write"},
    {Action::kReplay, "replay"},
    {Action::kTrigger, "trigger"},
    {Action::kClear, "clear"},
    {Action::kPause, "pause"},
    {Action::kAdmin, "admin"},
}};

}  // namespace

std::string_view ResourceKindName(ResourceKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "?";
}

std::string_view ActionName(Action action) {
  for (const auto& [a, name] : kActions) {
    if (a == action) return name;
  }
  return "?";
}

std::optional<ResourceKind> ParseResourceKind(std::string_view name) {
  for (const auto& [k, n] : kKinds) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::optional<Action> ParseAction(std::string_view name) {
  for (const auto& [a, n] : kActions) {
    if (n == name) return a;
  }
  return std::nullopt;
}

}  // namespace dataforge::auth
