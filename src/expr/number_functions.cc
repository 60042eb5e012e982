// Number functions and casts (docs/expressions.md, "Numbers"). No allocation on the numeric
// paths. Ints stay ints where the result is exact (round, floor, ceil, abs, sign, mod); a NaN or
// infinite double passes through; domain errors (sqrt of a negative, mod by zero, an int
// overflow) are errors naming the function and the value.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "expr/function_util.h"

namespace dataforge::expr::internal {
namespace {

using Args = std::span<const Value>;

// `x` rounded to `digits` decimal places, half away from zero, on the shortest decimal text that
// reads back as `x` (so round(2.675, 2) is 2.68, as written, although the double is 2.67499...).
double RoundDecimal(double x, int64_t digits) {
  if (!std::isfinite(x) || x == 0) return x;
  // x.5 is exact in binary, so whole-number rounding needs no decimal text.
  if (digits == 0) return std::round(x);
  // Fast path: scaled by 10^digits, when the fraction is clearly off one half, the binary value
  // and the decimal as written round the same way (they differ by under 2^-12 here), and r / p
  // is the double nearest the decimal result, as reading its text would give.
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  if (digits > 0 && digits <= 15) {
    double p = kPow10[digits];
    double y = std::fabs(x) * p;
    if (y < 1099511627776.0) {  // 2^40
      double whole = std::floor(y);
      double frac = y - whole;
      if (std::fabs(frac - 0.5) > 1e-3) {
        double r = frac > 0.5 ? whole + 1 : whole;
        return std::copysign(r / p, x);
      }
    }
  }
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof(buf), std::fabs(x), std::chars_format::scientific);
  // buf: "D[.DDD]e[+-]XX": the significant digits and the exponent of the first one.
  char* e = static_cast<char*>(std::memchr(buf, 'e', static_cast<size_t>(r.ptr - buf)));
  int exponent = 0;
  std::from_chars(e + 1 + (e[1] == '+'), r.ptr, exponent);
  char sig[24];
  int n = 0;
  for (char* p = buf; p < e; ++p) {
    if (*p != '.') sig[n++] = *p;
  }
  // Digits kept: those at decimal places <= digits. The first digit is at place -exponent.
  int64_t keep = exponent + 1 + digits;
  if (keep >= n) return x;
  double sign = x < 0 ? -1 : 1;
  if (keep < 0) return 0.0 * sign;
  bool up = sig[keep] >= '5';
  int64_t last_place = digits;  // the kept digits end at this decimal place
  int len = static_cast<int>(keep);
  if (keep == 0) {
    if (!up) return 0.0 * sign;
    sig[0] = '1';  // 0.5 units of the last place round up to one unit
    len = 1;
  } else if (up) {
    // Round the first `keep` digits up, carrying; a carry out of the first digit adds one.
    int i = len - 1;
    while (i >= 0 && sig[i] == '9') sig[i--] = '0';
    if (i >= 0) {
      ++sig[i];
    } else {
      std::memmove(sig + 1, sig, static_cast<size_t>(len));
      sig[0] = '1';
      ++len;
    }
  }
  char text[48];
  auto w =
      fmt::format_to_n(text, sizeof(text) - 1, "{}e{}", std::string_view(sig, len), -last_place);
  double out = 0;
  std::from_chars(text, w.out, out);
  return sign * out;
}

Result<Value> Round(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  int64_t digits = 0;
  if (args.size() > 1) {
    DF_ASSIGN_OR_RETURN(digits, IntArg("round", "digits", args[1]));
  }
  const Value& x = args[0];
  if (x.kind == Kind::kDouble) {
    return Value::Double(RoundDecimal(x.d, std::clamp<int64_t>(digits, -400, 400)));
  }
  if (x.kind != Kind::kInt) return TypeError("round", "x", "a number", x);
  if (digits >= 0) return x;
  if (digits < -18) return Value::Int(0);  // |x| < 9.3e18 < 0.5e19
  int64_t p = 1;
  for (int64_t k = 0; k < -digits; ++k) p *= 10;
  int64_t q = x.i / p, rem = x.i % p;  // truncated toward zero
  if (rem >= p - rem) ++q;
  if (rem <= -(p + rem)) --q;
  int64_t out;
  if (__builtin_mul_overflow(q, p, &out)) {
    return FnError("round",
                   fmt::format("{} rounded to {} digits is out of the int range", x.i, digits));
  }
  return Value::Int(out);
}

template <bool kCeil>
Result<Value> FloorCeil(Args args, const CallContext&) {
  constexpr std::string_view fn = kCeil ? "ceil" : "floor";
  const Value& x = args[0];
  if (x.is_null()) return Value::Null();
  if (x.kind == Kind::kInt) return x;
  if (x.kind != Kind::kDouble) return TypeError(fn, "x", "a number", x);
  return Value::Double(kCeil ? std::ceil(x.d) : std::floor(x.d));
}

Result<Value> Abs(Args args, const CallContext&) {
  const Value& x = args[0];
  if (x.is_null()) return Value::Null();
  if (x.kind == Kind::kDouble) return Value::Double(std::fabs(x.d));
  if (x.kind != Kind::kInt) return TypeError("abs", "x", "a number", x);
  if (x.i == INT64_MIN) return FnError("abs", "abs(-9223372036854775808) is out of the int range");
  return Value::Int(x.i < 0 ? -x.i : x.i);
}

Result<Value> Sign(Args args, const CallContext&) {
  const Value& x = args[0];
  if (x.is_null()) return Value::Null();
  if (x.kind == Kind::kInt) return Value::Int((x.i > 0) - (x.i < 0));
  if (x.kind != Kind::kDouble) return TypeError("sign", "x", "a number", x);
  if (std::isnan(x.d)) return x;
  return Value::Double((x.d > 0) - (x.d < 0));
}

Result<Value> Power(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(double x, NumberArg("power", "x", args[0]));
  DF_ASSIGN_OR_RETURN(double y, NumberArg("power", "y", args[1]));
  if (x < 0 && std::isfinite(y) && std::trunc(y) != y) {
    return FnError("power", fmt::format("a negative base ({}) to a non-integer power ({}) has no "
                                        "real value",
                                        ToText(args[0]), ToText(args[1])));
  }
  if (x == 0 && y < 0) {
    return FnError("power", fmt::format("zero to a negative power ({}) is a division by zero",
                                        ToText(args[1])));
  }
  return Value::Double(std::pow(x, y));
}

Result<Value> Sqrt(Args args, const CallContext&) {
  if (args[0].is_null()) return Value::Null();
  DF_ASSIGN_OR_RETURN(double x, NumberArg("sqrt", "x", args[0]));
  if (x < 0)
    return FnError("sqrt",
                   fmt::format("no square root of a negative number ({})", ToText(args[0])));
  return Value::Double(std::sqrt(x));
}

// The remainder of a / b with the sign of a (SQL's mod, C's % and fmod).
Result<Value> Mod(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  const Value& a = args[0];
  const Value& b = args[1];
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) {
    if (b.i == 0) return FnError("mod", fmt::format("division by zero ({} mod 0)", a.i));
    if (b.i == -1) return Value::Int(0);  // INT64_MIN % -1 overflows in C++
    return Value::Int(a.i % b.i);
  }
  DF_ASSIGN_OR_RETURN(double x, NumberArg("mod", "a", a));
  DF_ASSIGN_OR_RETURN(double y, NumberArg("mod", "b", b));
  if (y == 0) return FnError("mod", fmt::format("division by zero ({} mod 0)", ToText(a)));
  return Value::Double(std::fmod(x, y));
}

// <0, 0, >0 for two ints/doubles; NaN is above every number and equal to itself (PostgreSQL).
int CompareNumberArgs(const Value& a, const Value& b) {
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) return (a.i > b.i) - (a.i < b.i);
  double x = a.kind == Kind::kInt ? static_cast<double>(a.i) : a.d;
  double y = b.kind == Kind::kInt ? static_cast<double>(b.i) : b.d;
  if (std::isnan(x) || std::isnan(y)) return std::isnan(x) - std::isnan(y);
  if (x != y) return (x > y) - (x < y);
  // Equal as doubles: an int above 2^53 may still differ from the double; compare exactly.
  if (a.kind == Kind::kInt && std::fabs(y) < 9.2e18) {
    int64_t yi = static_cast<int64_t>(y);
    return (a.i > yi) - (a.i < yi);
  }
  if (b.kind == Kind::kInt && std::fabs(x) < 9.2e18) {
    int64_t xi = static_cast<int64_t>(x);
    return (xi > b.i) - (xi < b.i);
  }
  return 0;
}

bool IsNumberArg(const Value& v) {
  return v.kind == Kind::kInt || v.kind == Kind::kDouble;
}

Result<int> CompareArgs(std::string_view fn, const Value& a, const Value& b) {
  if (IsNumberArg(a) && IsNumberArg(b)) return CompareNumberArgs(a, b);
  if (a.kind != b.kind || a.kind == Kind::kJson) {
    return FnError(fn,
                   fmt::format("cannot compare {} with {}", DescribeValue(a), DescribeValue(b)));
  }
  switch (a.kind) {
    case Kind::kBool:
      return (a.b > b.b) - (a.b < b.b);
    case Kind::kTimestamp:
      return (a.i > b.i) - (a.i < b.i);
    default:
      return a.s.compare(b.s);
  }
}

// The largest (or smallest) argument, nulls ignored; null when all are null.
template <bool kGreatest>
Result<Value> Extreme(Args args, const CallContext&) {
  constexpr std::string_view fn = kGreatest ? "greatest" : "least";
  const Value* best = nullptr;
  for (const Value& a : args) {
    if (a.is_null()) continue;
    if (best == nullptr) {
      best = &a;
      continue;
    }
    DF_ASSIGN_OR_RETURN(int c, CompareArgs(fn, a, *best));
    if (kGreatest ? c > 0 : c < 0) best = &a;
  }
  return best == nullptr ? Value::Null() : *best;
}

bool IsSpaceAroundNumber(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpaceAroundNumber(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpaceAroundNumber(s.back())) s.remove_suffix(1);
  return s;
}

// The whole of `s` as a double ("1.5", "-2e3", "+4", "NaN", "Infinity"), or false.
bool ParseDouble(std::string_view s, double* out) {
  s = TrimSpace(s);
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

Result<Value> DoubleToInt(std::string_view fn, double d, const Value& original) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
    return FnError(fn, fmt::format("{} does not fit an int", DescribeValue(original)));
  }
  return Value::Int(static_cast<int64_t>(d));  // toward zero
}

Result<Value> ToInt(Args args, const CallContext&) {
  const Value& x = args[0];
  switch (x.kind) {
    case Kind::kNull:
    case Kind::kInt:
      return x;
    case Kind::kBool:
      return Value::Int(x.b ? 1 : 0);
    case Kind::kTimestamp:
      return Value::Int(x.i);
    case Kind::kDouble:
      return DoubleToInt("to_int", x.d, x);
    case Kind::kString: {
      std::string_view s = TrimSpace(x.s);
      if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
      int64_t i = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), i);
      if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) return Value::Int(i);
      double d;
      if (r.ec != std::errc::result_out_of_range && ParseDouble(s, &d) && std::isfinite(d)) {
        return DoubleToInt("to_int", d, x);
      }
      return FnError("to_int", fmt::format("cannot convert {} to an int", DescribeValue(x)));
    }
    case Kind::kJson:
      break;
  }
  return TypeError("to_int", "x", "a number, boolean, timestamp or string", x);
}

Result<Value> ToDouble(Args args, const CallContext&) {
  const Value& x = args[0];
  switch (x.kind) {
    case Kind::kNull:
    case Kind::kDouble:
      return x;
    case Kind::kInt:
    case Kind::kTimestamp:
      return Value::Double(static_cast<double>(x.i));
    case Kind::kBool:
      return Value::Double(x.b ? 1 : 0);
    case Kind::kString: {
      double d;
      if (ParseDouble(x.s, &d)) return Value::Double(d);
      return FnError("to_double", fmt::format("cannot convert {} to a double", DescribeValue(x)));
    }
    case Kind::kJson:
      break;
  }
  return TypeError("to_double", "x", "a number, boolean, timestamp or string", x);
}

Result<Value> IsNan(Args args, const CallContext&) {
  const Value& x = args[0];
  if (x.is_null()) return Value::Null();
  if (x.kind == Kind::kInt) return Value::Bool(false);
  if (x.kind != Kind::kDouble) return TypeError("is_nan", "x", "a number", x);
  return Value::Bool(std::isnan(x.d));
}

constexpr FunctionDef kNumberFunctions[] = {
    {"round", 1, 2, Round, "round(x[, digits])"},
    {"floor", 1, 1, FloorCeil<false>, "floor(x)"},
    {"ceil", 1, 1, FloorCeil<true>, "ceil(x)"},
    {"abs", 1, 1, Abs, "abs(x)"},
    {"sign", 1, 1, Sign, "sign(x)"},
    {"power", 2, 2, Power, "power(x, y)"},
    {"sqrt", 1, 1, Sqrt, "sqrt(x)"},
    {"mod", 2, 2, Mod, "mod(a, b)"},
    {"greatest", 1, -1, Extreme<true>, "greatest(value, ...)"},
    {"least", 1, -1, Extreme<false>, "least(value, ...)"},
    {"to_int", 1, 1, ToInt, "to_int(x)"},
    {"to_double", 1, 1, ToDouble, "to_double(x)"},
    {"is_nan", 1, 1, IsNan, "is_nan(x)"},
};

}  // namespace

std::span<const FunctionDef> NumberFunctions() {
  return kNumberFunctions;
}

}  // namespace dataforge::expr::internal
