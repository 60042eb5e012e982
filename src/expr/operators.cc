#include "expr/operators.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "common/timestamp.h"

namespace dataforge::expr {
namespace {

bool IsNumber(const Value& v) {
  return v.kind == Kind::kInt || v.kind == Kind::kDouble;
}
double AsDouble(const Value& v) {
  return v.kind == Kind::kInt ? static_cast<double>(v.i) : v.d;
}

// A string read as a number (for a comparison with one): int if it is an integer, else double.
bool StringAsNumber(const std::string& s, Value* out) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (s.empty()) return false;
  int64_t i = 0;
  auto [p, ec] = std::from_chars(b, e, i);
  if (ec == std::errc() && p == e) {
    *out = Value::Int(i);
    return true;
  }
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != e || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  *out = Value::Double(d);
  return true;
}

int CompareDoubles(double a, double b) {
  // PostgreSQL's order: NaN = NaN, NaN above every other number.
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return na == nb ? 0 : na ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

int CompareNumbers(const Value& a, const Value& b) {
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  return CompareDoubles(AsDouble(a), AsDouble(b));
}

Status Incomparable(const Value& a, const Value& b, std::string_view op, std::string_view why) {
  return Status::InvalidArgument(
      fmt::format("cannot compare {} with {} ({}){}", Describe(a), Describe(b), op, why));
}

// Unicode code point length of the UTF-8 sequence starting with byte `c` (1 if invalid).
size_t Utf8Length(unsigned char c) {
  if (c >= 0xF0 && c < 0xF8) return 4;
  if (c >= 0xE0) return c < 0xF0 ? 3 : 1;
  if (c >= 0xC0) return 2;
  return 1;
}

char Fold(char c, bool fold) {
  return fold && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kAdd:
      return "+";
    case Op::kSub:
    case Op::kNeg:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kMod:
      return "%";
    case Op::kConcat:
      return "||";
    case Op::kEq:
      return "=";
    case Op::kNe:
      return "<>";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kAnd:
      return "AND";
    case Op::kOr:
      return "OR";
    case Op::kNot:
      return "NOT";
    case Op::kIn:
      return "IN";
    case Op::kBetween:
      return "BETWEEN";
    case Op::kLike:
      return "LIKE";
    default:
      return "?";
  }
}

std::string Describe(const Value& v) {
  return DescribeValue(v);
}

Status Arithmetic(Op op, const Value& a, const Value& b, Value* out) {
  if (!IsNumber(a) || !IsNumber(b)) {
    const Value& bad = IsNumber(a) ? b : a;
    std::string_view hint = bad.kind == Kind::kString && op == Op::kAdd
                                ? "; || joins strings, CAST(x AS double) reads a number"
                            : bad.kind == Kind::kString    ? "; CAST(x AS double) reads a number"
                            : bad.kind == Kind::kTimestamp ? "; use the date functions"
                                                           : "";
    return Status::InvalidArgument(
        fmt::format("{} needs numbers, got {}{}", OpName(op), Describe(bad), hint));
  }
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) {
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
      case Op::kAdd:
        overflow = __builtin_add_overflow(a.i, b.i, &r);
        break;
      case Op::kSub:
        overflow = __builtin_sub_overflow(a.i, b.i, &r);
        break;
      case Op::kMul:
        overflow = __builtin_mul_overflow(a.i, b.i, &r);
        break;
      case Op::kDiv:
      case Op::kMod:
        if (b.i == 0) {
          return Status::InvalidArgument(
              fmt::format("division by zero: {} {} {}", a.i, OpName(op), b.i));
        }
        if (b.i == -1) {  // INT64_MIN / -1 overflows; INT64_MIN % -1 is 0
          overflow = op == Op::kDiv && a.i == INT64_MIN;
          r = op == Op::kDiv && !overflow ? -a.i : 0;
        } else {
          r = op == Op::kDiv ? a.i / b.i : a.i % b.i;
        }
        break;
      default:
        break;
    }
    if (overflow) {
      return Status::InvalidArgument(
          fmt::format("integer overflow: {} {} {} is beyond a 64-bit integer; CAST(x AS double) "
                      "computes with doubles",
                      a.i, OpName(op), b.i));
    }
    out->kind = Kind::kInt;
    out->i = r;
    return Status::OK();
  }
  const double x = AsDouble(a), y = AsDouble(b);
  double r = 0;
  switch (op) {
    case Op::kAdd:
      r = x + y;
      break;
    case Op::kSub:
      r = x - y;
      break;
    case Op::kMul:
      r = x * y;
      break;
    case Op::kDiv:
    case Op::kMod:
      if (y == 0) {
        return Status::InvalidArgument(
            fmt::format("division by zero: {} {} {}", Literal(a), OpName(op), Literal(b)));
      }
      r = op == Op::kDiv ? x / y : std::fmod(x, y);
      break;
    default:
      break;
  }
  out->kind = Kind::kDouble;
  out->d = r;
  return Status::OK();
}

Status Negate(const Value& a, Value* out) {
  if (a.kind == Kind::kInt) {
    if (a.i == INT64_MIN) {
      return Status::InvalidArgument(fmt::format(
          "integer overflow: -({}) is beyond a 64-bit integer; CAST(x AS double) computes with "
          "doubles",
          a.i));
    }
    *out = Value::Int(-a.i);
    return Status::OK();
  }
  if (a.kind == Kind::kDouble) {
    out->kind = Kind::kDouble;
    out->d = -a.d;
    return Status::OK();
  }
  return Status::InvalidArgument(fmt::format("- needs a number, got {}", Describe(a)));
}

Status Compare(const Value& a, const Value& b, std::string_view op, int* cmp) {
  if (IsNumber(a) && IsNumber(b)) {
    *cmp = CompareNumbers(a, b);
    return Status::OK();
  }
  if (a.kind == b.kind) {
    switch (a.kind) {
      case Kind::kString:
        *cmp = a.s.compare(b.s);
        return Status::OK();
      case Kind::kBool:
        *cmp = static_cast<int>(a.b) - static_cast<int>(b.b);
        return Status::OK();
      case Kind::kTimestamp:
        *cmp = a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
        return Status::OK();
      case Kind::kJson:
        if (op != "=" && op != "<>" && op != "IN" && op != "CASE") {
          return Incomparable(a, b, op, ": JSON values compare only for equality");
        }
        *cmp = a.s == b.s ? 0 : 1;
        return Status::OK();
      default:
        break;
    }
  }
  // A string against a number or a timestamp: the string is read as one.
  const bool a_string = a.kind == Kind::kString;
  const Value& s = a_string ? a : b;
  const Value& other = a_string ? b : a;
  if (s.kind == Kind::kString && IsNumber(other)) {
    Value n;
    if (!StringAsNumber(s.s, &n)) {
      return Incomparable(a, b, op, ": the string is not a number; CAST one side");
    }
    *cmp = a_string ? CompareNumbers(n, other) : CompareNumbers(other, n);
    return Status::OK();
  }
  if (s.kind == Kind::kString && other.kind == Kind::kTimestamp) {
    std::optional<int64_t> ms = ParseTimestampMillis(s.s);
    if (!ms) return Incomparable(a, b, op, ": the string is not a timestamp");
    int64_t x = a_string ? *ms : other.i, y = a_string ? other.i : *ms;
    *cmp = x < y ? -1 : x > y ? 1 : 0;
    return Status::OK();
  }
  return Incomparable(a, b, op, ": CAST one side to the other's type");
}

bool Like(std::string_view text, std::string_view pattern, bool fold) {
  // Greedy matching with backtracking to the last %: O(len(text) * len(pattern)) at worst.
  size_t t = 0, p = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size() && pattern[p] == '_') {
      t += Utf8Length(static_cast<unsigned char>(text[t]));
      ++p;
      continue;
    }
    if (p < pattern.size()) {
      size_t q = p;
      if (pattern[q] == '\\' && q + 1 < pattern.size()) ++q;
      if (Fold(pattern[q], fold) == Fold(text[t], fold)) {
        p = q + 1;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    star_t += Utf8Length(static_cast<unsigned char>(text[star_t]));
    t = star_t;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

}  // namespace dataforge::expr
