// The tokens of an expression (docs/expressions.md "Syntax"). Private to src/expr.
//
// Tokenize() reads the whole text at once; every token keeps its byte offset so a compile error
// can point at it. Keywords are recognised case-insensitively by the parser (a token of kind
// kName whose text matches); names are case-sensitive field names. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dataforge::expr {

enum class Tok {
  kEnd,
  kInt,         // 42 (value in `i`)
  kDouble,      // 4.2, 1e3 (value in `d`)
  kString,      // 'text' ('' is a quote), unescaped in `text`
  kName,        // a bare name or keyword: [A-Za-z_][A-Za-z0-9_]*
  kQuotedName,  // `odd name` (`` is a backtick), unescaped in `text`
  kKey,         // $key
  kRecordTime,  // $timestamp
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kConcat,  // ||
  kEq,      // =
  kNe,      // <> or !=
  kLt,
  kLe,
  kGt,
  kGe,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kCast,  // ::
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t offset = 0;  // byte offset in the expression text
  size_t length = 0;  // bytes of source text
  std::string text;   // kName (as written), kString/kQuotedName (unescaped)
  int64_t i = 0;
  double d = 0;
  // 9223372036854775808 right after '-': valid only as -9223372036854775808 (INT64_MIN);
  // `text` holds the out-of-range error for any other place.
  bool int64_min_magnitude = false;
};

// A lexical error: what is wrong and where (byte offset).
struct LexError {
  size_t offset = 0;
  std::string message;
};

// The tokens of `text`, ending with one kEnd token; false and `error` on a lexical error.
bool Tokenize(std::string_view text, std::vector<Token>* tokens, LexError* error);

// How a token reads in an error: 'AND', '(', 'the end of the expression', the string 'x'.
std::string DescribeToken(const Token& t, std::string_view text);

}  // namespace dataforge::expr
