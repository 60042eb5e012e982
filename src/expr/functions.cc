// The registry of built-in functions: the family tables of function_util.h joined once.
#include "expr/functions.h"

#include <vector>

#include "expr/function_util.h"

namespace dataforge::expr {
namespace {

const std::vector<FunctionDef>& Registry() {
  // Built on first use (thread-safe static init); never destroyed: read from any thread at exit.
  static const auto* all = [] {
    auto* v = new std::vector<FunctionDef>();
    for (auto family :
         {internal::StringFunctions(), internal::RegexFunctions(), internal::DateFunctions(),
          internal::NumberFunctions(), internal::HashFunctions(), internal::NullFunctions(),
          internal::JsonFunctions()}) {
      v->insert(v->end(), family.begin(), family.end());
    }
    return v;
  }();
  return *all;
}

bool EqualsLowercaseName(std::string_view lower, std::string_view name) {
  if (lower.size() != name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

const FunctionDef* FindFunction(std::string_view name) {
  // Called when an expression is compiled, not per record: a scan of ~80 names is enough.
  for (const FunctionDef& f : Registry()) {
    if (EqualsLowercaseName(f.name, name)) return &f;
  }
  return nullptr;
}

std::span<const FunctionDef> AllFunctions() {
  return Registry();
}

}  // namespace dataforge::expr
