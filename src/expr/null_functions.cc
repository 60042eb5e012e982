// Null handling (docs/expressions.md, "Nulls"): the functions that take nulls as values.
#include <cmath>

#include "expr/function_util.h"

namespace dataforge::expr::internal {
namespace {

using Args = std::span<const Value>;

// The first argument that is not null, or null.
Result<Value> Coalesce(Args args, const CallContext&) {
  for (const Value& a : args) {
    if (!a.is_null()) return a;
  }
  return Value::Null();
}

// Equal for nullif: numbers by value (1 = 1.0; NaN = NaN), other kinds when kind and value
// match. Values of different kinds are not equal.
bool SameValue(const Value& a, const Value& b) {
  bool an = a.kind == Kind::kInt || a.kind == Kind::kDouble;
  bool bn = b.kind == Kind::kInt || b.kind == Kind::kDouble;
  if (an && bn) {
    if (a.kind == Kind::kInt && b.kind == Kind::kInt) return a.i == b.i;
    double x = a.kind == Kind::kInt ? static_cast<double>(a.i) : a.d;
    double y = b.kind == Kind::kInt ? static_cast<double>(b.i) : b.d;
    if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
    if (x != y) return false;
    // An int above 2^53 and a double can be equal as doubles without being equal.
    const Value& i = a.kind == Kind::kInt ? a : b;
    double other = a.kind == Kind::kInt ? y : x;
    return i.kind != Kind::kInt || std::fabs(other) >= 9.2e18 || static_cast<int64_t>(other) == i.i;
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.b == b.b;
    case Kind::kTimestamp:
      return a.i == b.i;
    default:
      return a.s == b.s;
  }
}

Result<Value> NullIf(Args args, const CallContext&) {
  if (args[0].is_null() || args[1].is_null()) return args[0];
  return SameValue(args[0], args[1]) ? Value::Null() : args[0];
}

Result<Value> IsNull(Args args, const CallContext&) {
  return Value::Bool(args[0].is_null());
}

constexpr FunctionDef kNullFunctions[] = {
    {"coalesce", 1, -1, Coalesce, "coalesce(value, ...)"},
    {"ifnull", 2, 2, Coalesce, "ifnull(value, fallback)"},
    {"nvl", 2, 2, Coalesce, "nvl(value, fallback)"},
    {"nullif", 2, 2, NullIf, "nullif(value, other)"},
    {"is_null", 1, 1, IsNull, "is_null(value)"},
};

}  // namespace

std::span<const FunctionDef> NullFunctions() {
  return kNullFunctions;
}

}  // namespace dataforge::expr::internal
