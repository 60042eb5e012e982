#include "expr/lexer.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace dataforge::expr {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsNameChar(char c) {
  return IsNameStart(c) || IsDigit(c);
}

}  // namespace

bool Tokenize(std::string_view text, std::vector<Token>* tokens, LexError* error) {
  tokens->clear();
  size_t p = 0;
  const size_t n = text.size();
  auto fail = [&](size_t at, std::string message) {
    error->offset = at;
    error->message = std::move(message);
    return false;
  };
  while (true) {
    while (p < n && (text[p] == ' ' || text[p] == '\t' || text[p] == '\n' || text[p] == '\r')) {
      ++p;
    }
    Token t;
    t.offset = p;
    if (p >= n) {
      t.kind = Tok::kEnd;
      tokens->push_back(std::move(t));
      return true;
    }
    const char c = text[p];
    const char next = p + 1 < n ? text[p + 1] : '\0';
    auto simple = [&](Tok kind, size_t len) {
      t.kind = kind;
      t.length = len;
      p += len;
    };
    // ".5" is a number, except right after a name (`a.5` is a path step, which needs backticks).
    const bool after_operand =
        !tokens->empty() &&
        (tokens->back().kind == Tok::kName || tokens->back().kind == Tok::kQuotedName ||
         tokens->back().kind == Tok::kRParen || tokens->back().kind == Tok::kRBracket);
    if (IsDigit(c) || (c == '.' && IsDigit(next) && !after_operand)) {
      size_t q = p;
      bool is_double = false;
      while (q < n && IsDigit(text[q])) ++q;
      if (q < n && text[q] == '.' && q + 1 < n && IsDigit(text[q + 1])) {
        is_double = true;
        ++q;
        while (q < n && IsDigit(text[q])) ++q;
      } else if (q < n && text[q] == '.' && !(q + 1 < n && IsNameStart(text[q + 1]))) {
        is_double = true;  // "1." is a double; "a.1" never reaches here
        ++q;
      }
      if (q < n && (text[q] == 'e' || text[q] == 'E')) {
        size_t e = q + 1;
        if (e < n && (text[e] == '+' || text[e] == '-')) ++e;
        if (e < n && IsDigit(text[e])) {
          is_double = true;
          q = e;
          while (q < n && IsDigit(text[q])) ++q;
        }
      }
      if (q < n && IsNameStart(text[q])) {
        return fail(p, fmt::format("a number runs into '{}': put a space or an operator between "
                                   "them",
                                   text.substr(p, q - p + 1)));
      }
      const std::string literal(text.substr(p, q - p));
      if (is_double) {
        t.kind = Tok::kDouble;
        t.d = std::strtod(literal.c_str(), nullptr);
      } else {
        t.kind = Tok::kInt;
        auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), t.i);
        if (ec != std::errc() || end != literal.data() + literal.size()) {
          std::string error = fmt::format(
              "integer {} is out of range (-9223372036854775808 to "
              "9223372036854775807); write {}.0 for a double",
              literal, literal);
          if (literal != "9223372036854775808" || tokens->empty() ||
              tokens->back().kind != Tok::kMinus) {
            return fail(p, std::move(error));
          }
          t.int64_min_magnitude = true;
          t.text = std::move(error);
        }
      }
      t.length = q - p;
      p = q;
    } else if (IsNameStart(c)) {
      size_t q = p;
      while (q < n && IsNameChar(text[q])) ++q;
      t.kind = Tok::kName;
      t.text = std::string(text.substr(p, q - p));
      t.length = q - p;
      p = q;
    } else if (c == '\'' || c == '`') {
      const char quote = c;
      std::string value;
      size_t q = p + 1;
      while (true) {
        if (q >= n) {
          return fail(p, quote == '\''
                             ? "unterminated string: it needs a closing ' (write '' for a quote "
                               "inside a string)"
                             : "unterminated quoted name: it needs a closing ` (write `` for a "
                               "backtick inside a name)");
        }
        if (text[q] == quote) {
          if (q + 1 < n && text[q + 1] == quote) {
            value.push_back(quote);
            q += 2;
            continue;
          }
          ++q;
          break;
        }
        value.push_back(text[q++]);
      }
      t.kind = quote == '\'' ? Tok::kString : Tok::kQuotedName;
      t.text = std::move(value);
      t.length = q - p;
      p = q;
    } else if (c == '"') {
      return fail(p,
                  "double quotes are not used in expressions: a string takes single quotes "
                  "('text'), a field name with odd characters takes backticks (`first name`)");
    } else if (c == '$') {
      auto is = [&](std::string_view word) {
        return text.substr(p, word.size()) == word &&
               !(p + word.size() < n && IsNameChar(text[p + word.size()]));
      };
      if (is("$key")) {
        simple(Tok::kKey, 4);
      } else if (is("$timestamp")) {
        simple(Tok::kRecordTime, 10);
      } else {
        return fail(p, "'$' starts only $key (the record's key) or $timestamp (its log timestamp)");
      }
    } else {
      switch (c) {
        case '+':
          simple(Tok::kPlus, 1);
          break;
        case '-':
          simple(Tok::kMinus, 1);
          break;
        case '*':
          simple(Tok::kStar, 1);
          break;
        case '/':
          simple(Tok::kSlash, 1);
          break;
        case '%':
          simple(Tok::kPercent, 1);
          break;
        case '(':
          simple(Tok::kLParen, 1);
          break;
        case ')':
          simple(Tok::kRParen, 1);
          break;
        case '[':
          simple(Tok::kLBracket, 1);
          break;
        case ']':
          simple(Tok::kRBracket, 1);
          break;
        case ',':
          simple(Tok::kComma, 1);
          break;
        case '.':
          simple(Tok::kDot, 1);
          break;
        case '|':
          if (next != '|') return fail(p, "'|' alone is not an operator: '||' joins strings");
          simple(Tok::kConcat, 2);
          break;
        case ':':
          if (next != ':') return fail(p, "':' alone is not an operator: '::' casts (x::int)");
          simple(Tok::kCast, 2);
          break;
        case '=':
          if (next == '=') return fail(p, "'==' is not an operator: equality is '=' (SQL)");
          simple(Tok::kEq, 1);
          break;
        case '!':
          if (next != '=') return fail(p, "'!' is not an operator: negation is NOT");
          simple(Tok::kNe, 2);
          break;
        case '<':
          if (next == '>') {
            simple(Tok::kNe, 2);
          } else if (next == '=') {
            simple(Tok::kLe, 2);
          } else {
            simple(Tok::kLt, 1);
          }
          break;
        case '>':
          if (next == '=') {
            simple(Tok::kGe, 2);
          } else {
            simple(Tok::kGt, 1);
          }
          break;
        case '&':
          return fail(p, "'&' is not an operator: conjunction is AND");
        default:
          if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            return fail(p, fmt::format("unexpected byte 0x{:02x}; a field name with other "
                                       "characters takes backticks (`name`)",
                                       static_cast<unsigned char>(c)));
          }
          return fail(p, fmt::format("unexpected character '{}'", c));
      }
    }
    tokens->push_back(std::move(t));
  }
}

std::string DescribeToken(const Token& t, std::string_view text) {
  switch (t.kind) {
    case Tok::kEnd:
      return "the end of the expression";
    case Tok::kString:
      return fmt::format("the string {}", text.substr(t.offset, t.length));
    default:
      return fmt::format("'{}'", text.substr(t.offset, t.length));
  }
}

}  // namespace dataforge::expr
