#include "serve/cql/cql_lexer.h"

#include <cctype>

namespace dataforge::cql {
namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool IsHex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}
bool IsDigit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// True when `s` starts with a 36-character uuid (8-4-4-4-12 hex digits) not followed by an
// identifier character.
bool StartsWithUuid(std::string_view s) {
  if (s.size() < 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return s.size() == 36 || !IsIdentChar(s[36]);
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      DF_RETURN_IF_ERROR(SkipSpaceAndComments());
      if (pos_ >= text_.size()) break;
      Token t;
      t.offset = pos_;
      t.line = line_;
      t.column = static_cast<int>(pos_ - line_start_);
      DF_RETURN_IF_ERROR(Next(&t));
      t.text = text_.substr(t.offset, pos_ - t.offset);
      out.push_back(std::move(t));
    }
    Token end;
    end.offset = text_.size();
    end.line = line_;
    end.column = static_cast<int>(pos_ - line_start_);
    out.push_back(std::move(end));
    return out;
  }

 private:
  Status Error(const Token& t, std::string_view what) const {
    return Status::InvalidArgument("line " + std::to_string(t.line) + ":" +
                                   std::to_string(t.column) + " " + std::string(what));
  }

  void Advance(size_t n) {
    for (size_t i = 0; i < n && pos_ < text_.size(); ++i, ++pos_) {
      if (text_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
    }
  }

  Status SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      std::string_view rest = text_.substr(pos_);
      if (std::isspace(static_cast<unsigned char>(c))) {
        Advance(1);
      } else if (rest.starts_with("--") || rest.starts_with("//")) {
        while (pos_ < text_.size() && text_[pos_] != '\n') Advance(1);
      } else if (rest.starts_with("/*")) {
        size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) {
          Token t;
          t.line = line_;
          t.column = static_cast<int>(pos_ - line_start_);
          return Error(t, "unterminated comment: add the closing */");
        }
        Advance(end + 2 - pos_);
      } else {
        break;
      }
    }
    return Status::OK();
  }

  Status Next(Token* t) {
    std::string_view rest = text_.substr(pos_);
    char c = rest[0];
    if (StartsWithUuid(rest)) {
      t->kind = TokenKind::kUuid;
      t->value = Lower(rest.substr(0, 36));
      Advance(36);
      return Status::OK();
    }
    if ((c == '0') && rest.size() > 1 && (rest[1] == 'x' || rest[1] == 'X')) {
      size_t n = 2;
      while (n < rest.size() && IsHex(rest[n])) ++n;
      t->kind = TokenKind::kBlob;
      t->value = Lower(rest.substr(2, n - 2));
      Advance(n);
      return Status::OK();
    }
    if (IsIdentStart(c)) {
      size_t n = 1;
      while (n < rest.size() && IsIdentChar(rest[n])) ++n;
      t->kind = TokenKind::kIdentifier;
      t->value = Lower(rest.substr(0, n));
      Advance(n);
      return Status::OK();
    }
    if (IsDigit(c) || (c == '-' && rest.size() > 1 && IsDigit(rest[1]))) return Number(t);
    if (c == '"') return QuotedIdentifier(t, TokenKind::kQuotedIdentifier);
    if (c == '\'') return StringLiteral(t);
    if (rest.starts_with("$$")) {
      size_t end = rest.find("$$", 2);
      if (end == std::string_view::npos) return Error(*t, "unterminated $$ string literal");
      t->kind = TokenKind::kString;
      t->value = std::string(rest.substr(2, end - 2));
      Advance(end + 2);
      return Status::OK();
    }
    if (c == '?') {
      t->kind = TokenKind::kBindMarker;
      Advance(1);
      return Status::OK();
    }
    if (c == ':' && rest.size() > 1 && (IsIdentStart(rest[1]) || rest[1] == '"')) {
      Advance(1);
      if (rest[1] == '"') return QuotedIdentifier(t, TokenKind::kNamedBind);
      size_t n = 1;
      while (n < rest.size() - 1 && IsIdentChar(rest[1 + n])) ++n;
      t->kind = TokenKind::kNamedBind;
      t->value = Lower(rest.substr(1, n));
      Advance(n);
      return Status::OK();
    }
    for (std::string_view two : {"<=", ">=", "!="}) {
      if (rest.starts_with(two)) {
        t->kind = TokenKind::kPunct;
        t->value = std::string(two);
        Advance(2);
        return Status::OK();
      }
    }
    if (std::string_view("(),;.*=<>[]{}:+-").find(c) != std::string_view::npos) {
      t->kind = TokenKind::kPunct;
      t->value = std::string(1, c);
      Advance(1);
      return Status::OK();
    }
    return Error(*t, "no viable alternative at character '" + std::string(1, c) + "'");
  }

  Status Number(Token* t) {
    std::string_view rest = text_.substr(pos_);
    size_t n = rest[0] == '-' ? 1 : 0;
    while (n < rest.size() && IsDigit(rest[n])) ++n;
    bool is_float = false;
    if (n + 1 < rest.size() && rest[n] == '.' && IsDigit(rest[n + 1])) {
      is_float = true;
      ++n;
      while (n < rest.size() && IsDigit(rest[n])) ++n;
    }
    if (n < rest.size() && (rest[n] == 'e' || rest[n] == 'E')) {
      size_t m = n + 1;
      if (m < rest.size() && (rest[m] == '+' || rest[m] == '-')) ++m;
      if (m < rest.size() && IsDigit(rest[m])) {
        is_float = true;
        n = m;
        while (n < rest.size() && IsDigit(rest[n])) ++n;
      }
    }
    if (n < rest.size() && IsIdentStart(rest[n])) {
      return Error(*t,
                   "no viable alternative at input '" + std::string(rest.substr(0, n + 1)) + "'");
    }
    t->kind = is_float ? TokenKind::kFloat : TokenKind::kInteger;
    t->value = std::string(rest.substr(0, n));
    Advance(n);
    return Status::OK();
  }

  // Reads "..." (with "" for a quote); `kind` is kQuotedIdentifier or kNamedBind.
  Status QuotedIdentifier(Token* t, TokenKind kind) {
    size_t start = pos_;
    Advance(1);
    std::string value;
    while (true) {
      if (pos_ >= text_.size()) {
        return Error(*t, "unterminated quoted identifier starting at '" +
                             std::string(text_.substr(start, 20)) + "': add the closing \"");
      }
      char c = text_[pos_];
      Advance(1);
      if (c == '"') {
        if (pos_ < text_.size() && text_[pos_] == '"') {
          value.push_back('"');
          Advance(1);
          continue;
        }
        break;
      }
      value.push_back(c);
    }
    t->kind = kind;
    t->value = std::move(value);
    return Status::OK();
  }

  Status StringLiteral(Token* t) {
    size_t start = pos_;
    Advance(1);
    std::string value;
    while (true) {
      if (pos_ >= text_.size()) {
        return Error(*t, "unterminated string literal starting at '" +
                             std::string(text_.substr(start, 20)) + "': add the closing '");
      }
      char c = text_[pos_];
      Advance(1);
      if (c == '\'') {
        if (pos_ < text_.size() && text_[pos_] == '\'') {
          value.push_back('\'');
          Advance(1);
          continue;
        }
        break;
      }
      value.push_back(c);
    }
    t->kind = TokenKind::kString;
    t->value = std::move(value);
    return Status::OK();
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view text) {
  return Lexer(text).Run();
}

}  // namespace dataforge::cql
