// Private to src/expr: what the built-in function families share (argument checks with the
// errors of expr/functions.h, UTF-8 walking, the family tables). Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "expr/functions.h"
#include "expr/value.h"

namespace dataforge::expr::internal {

// The function tables, one per family (string_functions.cc, ...), in the order
// docs/expressions.md lists them.
std::span<const FunctionDef> StringFunctions();
std::span<const FunctionDef> RegexFunctions();
std::span<const FunctionDef> DateFunctions();
std::span<const FunctionDef> NumberFunctions();
std::span<const FunctionDef> HashFunctions();
std::span<const FunctionDef> NullFunctions();
std::span<const FunctionDef> JsonFunctions();

inline bool AnyNull(std::span<const Value> args) {
  for (const Value& a : args) {
    if (a.is_null()) return true;
  }
  return false;
}

// InvalidArgument "<fn>: <what>".
Status FnError(std::string_view fn, std::string_view what);
// InvalidArgument "<fn>: <arg> must be <expected>, got <DescribeValue(got)>", e.g.
// "substring: start must be an int, got string 'x'".
Status TypeError(std::string_view fn, std::string_view arg, std::string_view expected,
                 const Value& got);

// Argument readers: the value, or a TypeError. Callers handle null first.
// A string (not json).
Result<std::string_view> TextArg(std::string_view fn, std::string_view arg, const Value& v);
// An int, or a double with an integral value in int64's range.
Result<int64_t> IntArg(std::string_view fn, std::string_view arg, const Value& v);
// An int or a double, as a double.
Result<double> NumberArg(std::string_view fn, std::string_view arg, const Value& v);
// ISO-8601 text as common/timestamp.h's ParseTimestampMillis reads it, with the day checked
// against its month (that parser takes 2023-02-30 as 2 March): milliseconds, or nullopt.
std::optional<int64_t> ParseIsoTimestamp(std::string_view text);
// A timestamp, or a string in ISO-8601 ("2024-01-02T03:04:05.678Z", "+02:00" offsets,
// "2024-01-02"): milliseconds since the epoch.
Result<int64_t> TimestampArg(std::string_view fn, std::string_view arg, const Value& v);

// UTF-8. Decodes the code point at `*pos` and advances it; false on an invalid sequence
// (overlong, surrogate, above U+10FFFF, truncated).
bool DecodeUtf8(std::string_view s, size_t* pos, char32_t* cp);
void AppendUtf8(char32_t cp, std::string* out);
// The number of code points, or "<fn>: invalid UTF-8 at byte N of <value>".
Result<int64_t> CountCodePoints(std::string_view fn, std::string_view s);
// The byte offset of code point `n` (0-based) of valid UTF-8 `s`, or s.size() past the end.
size_t CodePointOffset(std::string_view s, int64_t n);
Status InvalidUtf8(std::string_view fn, std::string_view s, size_t at);

// Upper bound on the bytes a function may produce from small inputs (lpad, rpad, repeat):
// keeps one bad record from taking the process's memory.
inline constexpr int64_t kMaxResultBytes = 16 << 20;

}  // namespace dataforge::expr::internal
