// String functions (docs/expressions.md, "Strings"). Positions and lengths count code points.
#include <locale.h>
#include <algorithm>
#include <clocale>
#include <cwctype>

#include <fmt/format.h>

#include "common/json_writer.h"
#include "expr/function_util.h"

namespace dataforge::expr::internal {
namespace {

using Args = std::span<const Value>;

// C.UTF-8's LC_CTYPE, for the case mapping of non-ASCII letters (towlower_l is thread-safe
// with an explicit locale). Null when the system has no C.UTF-8: then only ASCII changes case.
locale_t Utf8Locale() {
  static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}

Result<Value> ChangeCase(std::string_view fn, Args args, bool upper) {
  if (args[0].is_null()) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg(fn, "text", args[0]));
  std::string out;
  out.reserve(s.size());
  locale_t loc = Utf8Locale();
  size_t pos = 0;
  while (pos < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      if (upper && c >= 'a' && c <= 'z') c = static_cast<unsigned char>(c - 'a' + 'A');
      if (!upper && c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
      out.push_back(static_cast<char>(c));
      ++pos;
      continue;
    }
    size_t at = pos;
    char32_t cp;
    if (!DecodeUtf8(s, &pos, &cp)) return InvalidUtf8(fn, s, at);
    if (loc != nullptr) {
      wint_t w = static_cast<wint_t>(cp);
      cp = static_cast<char32_t>(upper ? towupper_l(w, loc) : towlower_l(w, loc));
    }
    AppendUtf8(cp, &out);
  }
  return Value::String(std::move(out));
}

Result<Value> Lower(Args args, const CallContext&) {
  return ChangeCase("lower", args, false);
}
Result<Value> Upper(Args args, const CallContext&) {
  return ChangeCase("upper", args, true);
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

Result<Value> Trim(std::string_view fn, Args args, bool left, bool right) {
  if (args[0].is_null()) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg(fn, "text", args[0]));
  size_t b = 0, e = s.size();
  while (left && b < e && IsSpace(s[b])) ++b;
  while (right && e > b && IsSpace(s[e - 1])) --e;
  return Value::String(std::string(s.substr(b, e - b)));
}

Result<Value> TrimBoth(Args args, const CallContext&) {
  return Trim("trim", args, true, true);
}
Result<Value> LTrim(Args args, const CallContext&) {
  return Trim("ltrim", args, true, false);
}
Result<Value> RTrim(Args args, const CallContext&) {
  return Trim("rtrim", args, false, true);
}

Result<Value> Length(Args args, const CallContext&) {
  if (args[0].is_null()) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg("length", "text", args[0]));
  DF_ASSIGN_OR_RETURN(int64_t n, CountCodePoints("length", s));
  return Value::Int(n);
}

// Nulls are skipped (PostgreSQL's concat), other values are written as text.
Result<Value> Concat(Args args, const CallContext&) {
  std::string out;
  for (const Value& a : args) AppendText(a, &out);
  return Value::String(std::move(out));
}

Result<Value> ConcatWs(Args args, const CallContext&) {
  if (args[0].is_null()) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view sep, TextArg("concat_ws", "separator", args[0]));
  std::string out;
  bool first = true;
  for (const Value& a : args.subspan(1)) {
    if (a.is_null()) continue;
    if (!first) out.append(sep);
    first = false;
    AppendText(a, &out);
  }
  return Value::String(std::move(out));
}

// PostgreSQL's substring: the code points at positions [start, start + length) that exist.
Result<Value> Substring(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg("substring", "text", args[0]));
  DF_ASSIGN_OR_RETURN(int64_t start, IntArg("substring", "start", args[1]));
  DF_ASSIGN_OR_RETURN(int64_t n, CountCodePoints("substring", s));
  int64_t end = INT64_MAX;  // exclusive, 1-based
  if (args.size() > 2) {
    DF_ASSIGN_OR_RETURN(int64_t len, IntArg("substring", "length", args[2]));
    if (len < 0) {
      return FnError("substring", fmt::format("length must not be negative, got {}", len));
    }
    if (__builtin_add_overflow(start, len, &end)) end = INT64_MAX;
  }
  int64_t first = std::max<int64_t>(start, 1);
  int64_t last = std::min<int64_t>(end, n + 1);
  if (last <= first) return Value::String("");
  size_t b = CodePointOffset(s, first - 1);
  size_t e = b + CodePointOffset(s.substr(b), last - first);
  return Value::String(std::string(s.substr(b, e - b)));
}

// The parts of `s` between occurrences of `sep`; an empty separator does not split.
template <typename F>
void ForEachPart(std::string_view s, std::string_view sep, F&& f) {
  if (sep.empty()) {
    f(s);
    return;
  }
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(sep, pos);
    if (hit == std::string_view::npos) {
      f(s.substr(pos));
      return;
    }
    f(s.substr(pos, hit - pos));
    pos = hit + sep.size();
  }
}

Result<Value> Split(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg("split", "text", args[0]));
  DF_ASSIGN_OR_RETURN(std::string_view sep, TextArg("split", "separator", args[1]));
  std::string out = "[";
  ForEachPart(s, sep, [&](std::string_view part) {
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(&out, part);
  });
  out.push_back(']');
  return Value::Json(std::move(out));
}

Result<Value> SplitPart(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg("split_part", "text", args[0]));
  DF_ASSIGN_OR_RETURN(std::string_view sep, TextArg("split_part", "separator", args[1]));
  DF_ASSIGN_OR_RETURN(int64_t n, IntArg("split_part", "n", args[2]));
  if (n == 0) return FnError("split_part", "n must not be 0 (1 is the first part, -1 the last)");
  int64_t count = 0;
  ForEachPart(s, sep, [&](std::string_view) { ++count; });
  int64_t want = n > 0 ? n : count + n + 1;  // 1-based
  std::string_view found;
  int64_t i = 0;
  ForEachPart(s, sep, [&](std::string_view part) {
    if (++i == want) found = part;
  });
  return Value::String(std::string(found));
}

Result<Value> Replace(Args args, const CallContext&) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg("replace", "text", args[0]));
  DF_ASSIGN_OR_RETURN(std::string_view from, TextArg("replace", "from", args[1]));
  DF_ASSIGN_OR_RETURN(std::string_view to, TextArg("replace", "to", args[2]));
  if (from.empty()) return Value::String(std::string(s));
  std::string out;
  out.reserve(s.size());
  bool first = true;
  ForEachPart(s, from, [&](std::string_view part) {
    if (!first) out.append(to);
    first = false;
    out.append(part);
  });
  return Value::String(std::move(out));
}

enum class Test { kStarts, kEnds, kContains };

template <Test kTest>
Result<Value> Has(Args args, const CallContext&) {
  constexpr std::string_view fn = kTest == Test::kStarts ? "starts_with"
                                  : kTest == Test::kEnds ? "ends_with"
                                                         : "contains";
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg(fn, "text", args[0]));
  DF_ASSIGN_OR_RETURN(std::string_view sub, TextArg(fn, "search", args[1]));
  if constexpr (kTest == Test::kStarts) return Value::Bool(s.starts_with(sub));
  if constexpr (kTest == Test::kEnds) return Value::Bool(s.ends_with(sub));
  return Value::Bool(s.find(sub) != std::string_view::npos);
}

// PostgreSQL's lpad/rpad: fill to `length` code points, or cut the text to it.
Result<Value> Pad(std::string_view fn, Args args, bool left) {
  if (AnyNull(args)) return Value::Null();
  DF_ASSIGN_OR_RETURN(std::string_view s, TextArg(fn, "text", args[0]));
  DF_ASSIGN_OR_RETURN(int64_t length, IntArg(fn, "length", args[1]));
  std::string_view fill = " ";
  if (args.size() > 2) {
    DF_ASSIGN_OR_RETURN(fill, TextArg(fn, "fill", args[2]));
  }
  if (length > kMaxResultBytes / 4) {
    return FnError(fn, fmt::format("length {} is above the limit {}", length, kMaxResultBytes / 4));
  }
  DF_ASSIGN_OR_RETURN(int64_t n, CountCodePoints(fn, s));
  DF_ASSIGN_OR_RETURN(int64_t fill_n, CountCodePoints(fn, fill));
  if (length <= 0) return Value::String("");
  if (n >= length || fill_n == 0) {
    return Value::String(std::string(s.substr(0, CodePointOffset(s, std::min(n, length)))));
  }
  std::string pad;
  int64_t missing = length - n;
  for (int64_t whole = missing / fill_n; whole > 0; --whole) pad.append(fill);
  pad.append(fill.substr(0, CodePointOffset(fill, missing % fill_n)));
  std::string out = left ? pad : std::string(s);
  out.append(left ? s : std::string_view(pad));
  return Value::String(std::move(out));
}

Result<Value> LPad(Args args, const CallContext&) {
  return Pad("lpad", args, true);
}
Result<Value> RPad(Args args, const CallContext&) {
  return Pad("rpad", args, false);
}

constexpr FunctionDef kStringFunctions[] = {
    {"lower", 1, 1, Lower, "lower(text)"},
    {"upper", 1, 1, Upper, "upper(text)"},
    {"trim", 1, 1, TrimBoth, "trim(text)"},
    {"ltrim", 1, 1, LTrim, "ltrim(text)"},
    {"rtrim", 1, 1, RTrim, "rtrim(text)"},
    {"length", 1, 1, Length, "length(text)"},
    {"concat", 1, -1, Concat, "concat(value, ...)"},
    {"concat_ws", 2, -1, ConcatWs, "concat_ws(separator, value, ...)"},
    {"substring", 2, 3, Substring, "substring(text, start[, length])"},
    {"split", 2, 2, Split, "split(text, separator)"},
    {"split_part", 3, 3, SplitPart, "split_part(text, separator, n)"},
    {"replace", 3, 3, Replace, "replace(text, from, to)"},
    {"starts_with", 2, 2, Has<Test::kStarts>, "starts_with(text, prefix)"},
    {"ends_with", 2, 2, Has<Test::kEnds>, "ends_with(text, suffix)"},
    {"contains", 2, 2, Has<Test::kContains>, "contains(text, search)"},
    {"lpad", 2, 3, LPad, "lpad(text, length[, fill])"},
    {"rpad", 2, 3, RPad, "rpad(text, length[, fill])"},
};

}  // namespace

std::span<const FunctionDef> StringFunctions() {
  return kStringFunctions;
}

}  // namespace dataforge::expr::internal
