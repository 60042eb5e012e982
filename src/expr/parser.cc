// Recursive descent over the tokens, one function per precedence level (docs/expressions.md
// "Operators", lowest first): OR; AND; NOT; comparison, IS, IN, BETWEEN, LIKE; ||; + -; * / %;
// unary -; postfix [i] and ::type; primaries.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "common/timestamp.h"
#include "expr/ast.h"
#include "expr/lexer.h"

namespace dataforge::expr {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

constexpr const char* kReserved[] = {"and",   "or",   "not",     "is",   "null",  "true",
                                     "false", "in",   "between", "like", "ilike", "case",
                                     "when",  "then", "else",    "end",  "cast",  "as"};

bool IsReserved(std::string_view name) {
  for (const char* k : kReserved) {
    if (EqualsIgnoreCase(name, k)) return true;
  }
  return false;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "; did you mean 'lower'?" for the closest function name, or "".
std::string DidYouMean(std::string_view name) {
  const std::string lower = LowerAscii(name);
  std::string_view best;
  size_t best_distance = 3;  // at most 2 edits
  for (const FunctionDef& f : AllFunctions()) {
    size_t d = EditDistance(lower, f.name);
    if (d < best_distance || (d == best_distance && best.empty() && d <= lower.size() / 3)) {
      if (d < best_distance) {
        best = f.name;
        best_distance = d;
      }
    }
  }
  if (best.empty()) return "";
  return fmt::format("; did you mean {}?", best);
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens, ParseError* error)
      : text_(text), toks_(std::move(tokens)), error_(error) {}

  std::unique_ptr<Ast> ParseAll() {
    if (Peek().kind == Tok::kEnd) {
      Fail(0, "the expression is empty");
      return nullptr;
    }
    auto root = ParseOr();
    if (!root) return nullptr;
    if (Peek().kind != Tok::kEnd) {
      return Fail(Peek().offset,
                  fmt::format("unexpected {} after a complete expression; join conditions with "
                              "AND or OR, values with an operator",
                              DescribeToken(Peek(), text_)));
    }
    return root;
  }

 private:
  const Token& Peek(size_t k = 0) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  const Token& Take() { return toks_[std::min(pos_++, toks_.size() - 1)]; }
  bool IsKeyword(const Token& t, const char* kw) const {
    return t.kind == Tok::kName && EqualsIgnoreCase(t.text, kw);
  }
  bool TakeKeyword(const char* kw) {
    if (!IsKeyword(Peek(), kw)) return false;
    ++pos_;
    return true;
  }
  std::unique_ptr<Ast> Fail(size_t offset, std::string message) {
    if (error_->message.empty()) {
      error_->offset = offset;
      error_->message = std::move(message);
    }
    return nullptr;
  }
  // Takes a token of `kind` or fails with "expected <what> ... but found X".
  bool Expect(Tok kind, std::string_view what) {
    if (Peek().kind == kind) {
      ++pos_;
      return true;
    }
    Fail(Peek().offset,
         fmt::format("expected {} but found {}", what, DescribeToken(Peek(), text_)));
    return false;
  }
  bool ExpectKeyword(const char* kw, std::string_view what) {
    if (TakeKeyword(kw)) return true;
    Fail(Peek().offset,
         fmt::format("expected {} but found {}", what, DescribeToken(Peek(), text_)));
    return false;
  }

  static std::unique_ptr<Ast> Node(Op op, size_t offset) {
    auto n = std::make_unique<Ast>();
    n->op = op;
    n->offset = offset;
    return n;
  }
  static std::unique_ptr<Ast> Binary(Op op, std::unique_ptr<Ast> a, std::unique_ptr<Ast> b) {
    auto n = Node(op, a->offset);
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  std::unique_ptr<Ast> ParseOr() {
    auto left = ParseAnd();
    while (left && TakeKeyword("or")) {
      auto right = ParseAnd();
      if (!right) return nullptr;
      left = Binary(Op::kOr, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Ast> ParseAnd() {
    auto left = ParseNot();
    while (left && TakeKeyword("and")) {
      auto right = ParseNot();
      if (!right) return nullptr;
      left = Binary(Op::kAnd, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Ast> ParseNot() {
    if (IsKeyword(Peek(), "not")) {
      size_t at = Take().offset;
      auto operand = ParseNot();
      if (!operand) return nullptr;
      auto n = Node(Op::kNot, at);
      n->kids.push_back(std::move(operand));
      return n;
    }
    return ParsePredicate();
  }

  std::unique_ptr<Ast> ParsePredicate() {
    auto left = ParseConcat();
    while (left) {
      const Token& t = Peek();
      Op cmp = Op::kLiteral;
      switch (t.kind) {
        case Tok::kEq:
          cmp = Op::kEq;
          break;
        case Tok::kNe:
          cmp = Op::kNe;
          break;
        case Tok::kLt:
          cmp = Op::kLt;
          break;
        case Tok::kLe:
          cmp = Op::kLe;
          break;
        case Tok::kGt:
          cmp = Op::kGt;
          break;
        case Tok::kGe:
          cmp = Op::kGe;
          break;
        default:
          break;
      }
      if (cmp != Op::kLiteral) {
        ++pos_;
        auto right = ParseConcat();
        if (!right) return nullptr;
        left = Binary(cmp, std::move(left), std::move(right));
        continue;
      }
      if (IsKeyword(t, "is")) {
        ++pos_;
        auto n = Node(Op::kIsNull, left->offset);
        n->negated = TakeKeyword("not");
        if (!ExpectKeyword("null",
                           n->negated ? "NULL after IS NOT" : "NULL or NOT NULL after IS")) {
          return nullptr;
        }
        n->kids.push_back(std::move(left));
        left = std::move(n);
        continue;
      }
      bool negated = false;
      if (IsKeyword(t, "not") && (IsKeyword(Peek(1), "in") || IsKeyword(Peek(1), "between") ||
                                  IsKeyword(Peek(1), "like") || IsKeyword(Peek(1), "ilike"))) {
        negated = true;
        ++pos_;
      }
      if (TakeKeyword("in")) {
        auto n = Node(Op::kIn, left->offset);
        n->negated = negated;
        n->kids.push_back(std::move(left));
        if (!Expect(Tok::kLParen, "'(' after IN (a list of values: x IN ('a', 'b'))")) {
          return nullptr;
        }
        do {
          auto item = ParseOr();
          if (!item) return nullptr;
          n->kids.push_back(std::move(item));
        } while (Peek().kind == Tok::kComma && (++pos_, true));
        if (!Expect(Tok::kRParen, "',' or ')' in the IN list")) return nullptr;
        left = std::move(n);
      } else if (TakeKeyword("between")) {
        auto n = Node(Op::kBetween, left->offset);
        n->negated = negated;
        n->kids.push_back(std::move(left));
        auto low = ParseConcat();
        if (!low) return nullptr;
        if (!ExpectKeyword("and", "AND in x BETWEEN low AND high")) return nullptr;
        auto high = ParseConcat();
        if (!high) return nullptr;
        n->kids.push_back(std::move(low));
        n->kids.push_back(std::move(high));
        left = std::move(n);
      } else if (IsKeyword(Peek(), "like") || IsKeyword(Peek(), "ilike")) {
        auto n = Node(Op::kLike, left->offset);
        n->case_insensitive = IsKeyword(Take(), "ilike");
        n->negated = negated;
        auto pattern = ParseConcat();
        if (!pattern) return nullptr;
        n->kids.push_back(std::move(left));
        n->kids.push_back(std::move(pattern));
        left = std::move(n);
      } else {
        break;
      }
    }
    return left;
  }

  std::unique_ptr<Ast> ParseConcat() {
    auto left = ParseAdditive();
    while (left && Peek().kind == Tok::kConcat) {
      ++pos_;
      auto right = ParseAdditive();
      if (!right) return nullptr;
      left = Binary(Op::kConcat, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Ast> ParseAdditive() {
    auto left = ParseMultiplicative();
    while (left && (Peek().kind == Tok::kPlus || Peek().kind == Tok::kMinus)) {
      Op op = Take().kind == Tok::kPlus ? Op::kAdd : Op::kSub;
      auto right = ParseMultiplicative();
      if (!right) return nullptr;
      left = Binary(op, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Ast> ParseMultiplicative() {
    auto left = ParseUnary();
    while (left && (Peek().kind == Tok::kStar || Peek().kind == Tok::kSlash ||
                    Peek().kind == Tok::kPercent)) {
      Tok k = Take().kind;
      Op op = k == Tok::kStar ? Op::kMul : k == Tok::kSlash ? Op::kDiv : Op::kMod;
      auto right = ParseUnary();
      if (!right) return nullptr;
      left = Binary(op, std::move(left), std::move(right));
    }
    return left;
  }

  std::unique_ptr<Ast> ParseUnary() {
    if (Peek().kind == Tok::kMinus || Peek().kind == Tok::kPlus) {
      const Token& sign = Take();
      bool minus = sign.kind == Tok::kMinus;
      // -9223372036854775808 is a literal, not the negation of an out-of-range one.
      if (minus && Peek().kind == Tok::kInt && Peek().int64_min_magnitude) {
        auto n = Node(Op::kLiteral, sign.offset);
        n->literal = Value::Int(INT64_MIN);
        ++pos_;
        return n;
      }
      auto operand = ParseUnary();
      if (!operand) return nullptr;
      if (!minus) return operand;
      if (operand->op == Op::kLiteral && operand->literal.kind == Kind::kInt &&
          operand->literal.i != INT64_MIN) {
        operand->literal.i = -operand->literal.i;
        operand->offset = sign.offset;
        return operand;
      }
      if (operand->op == Op::kLiteral && operand->literal.kind == Kind::kDouble) {
        operand->literal.d = -operand->literal.d;
        operand->offset = sign.offset;
        return operand;
      }
      auto n = Node(Op::kNeg, sign.offset);
      n->kids.push_back(std::move(operand));
      return n;
    }
    return ParsePostfix();
  }

  bool ParseType(Kind* kind) {
    const Token& t = Peek();
    if (t.kind == Tok::kName && ParseTypeName(t.text, kind)) {
      ++pos_;
      return true;
    }
    Fail(t.offset, fmt::format("expected a type (int, bigint, double, text, boolean, timestamp "
                               "or json) but found {}",
                               DescribeToken(t, text_)));
    return false;
  }

  std::unique_ptr<Ast> ParsePostfix() {
    auto e = ParsePrimary();
    while (e) {
      if (Peek().kind == Tok::kLBracket) {
        size_t at = Take().offset;
        auto index = ParseOr();
        if (!index) return nullptr;
        if (!Expect(Tok::kRBracket, "']' after the subscript")) return nullptr;
        if (index->op == Op::kLiteral && index->literal.kind == Kind::kInt &&
            index->literal.i < 1) {
          return Fail(index->offset, fmt::format("subscripts start at 1 (SQL arrays): write [{}] "
                                                 "for the first element",
                                                 1));
        }
        if (index->op == Op::kLiteral && index->literal.kind == Kind::kInt && e->op == Op::kField) {
          e->path.push_back({"", index->literal.i - 1});  // folded into the path
          SetPathText(e.get());
          continue;
        }
        auto n = Node(Op::kIndex, at);
        n->offset = e->offset;
        n->kids.push_back(std::move(e));
        n->kids.push_back(std::move(index));
        e = std::move(n);
      } else if (Peek().kind == Tok::kCast) {
        ++pos_;
        auto n = Node(Op::kCast, e->offset);
        if (!ParseType(&n->cast_to)) return nullptr;
        n->kids.push_back(std::move(e));
        e = std::move(n);
      } else if (Peek().kind == Tok::kDot && e->op == Op::kField) {
        ++pos_;
        const Token& seg = Peek();
        if (seg.kind != Tok::kName && seg.kind != Tok::kQuotedName) {
          return Fail(seg.offset, fmt::format("expected a field name after '.' but found {} (a "
                                              "name with other characters takes backticks: "
                                              "a.`0`)",
                                              DescribeToken(seg, text_)));
        }
        e->path.push_back({seg.text, -1});
        ++pos_;
        SetPathText(e.get());
      } else if (Peek().kind == Tok::kDot) {
        return Fail(Peek().offset,
                    "'.' follows only a field name (a.b); a function's JSON result is read "
                    "with json functions or a subscript [n]");
      } else {
        break;
      }
    }
    return e;
  }

  // A field path's first segment; ParsePostfix adds the steps (.name, [n]).
  std::unique_ptr<Ast> ParsePath(const Token& first) {
    auto n = Node(Op::kField, first.offset);
    n->path.push_back({first.text, -1});
    SetPathText(n.get());
    return n;
  }

  // The path as written, from its start to the last token taken.
  void SetPathText(Ast* n) const {
    const Token& last = toks_[pos_ - 1];
    n->path_text = std::string(text_.substr(n->offset, last.offset + last.length - n->offset));
  }

  std::unique_ptr<Ast> ParseCall(const Token& name) {
    const FunctionDef* fn = FindFunction(name.text);
    if (!fn) {
      return Fail(name.offset,
                  fmt::format("unknown function '{}'{} (docs/expressions.md lists the functions)",
                              name.text, DidYouMean(name.text)));
    }
    ++pos_;  // '('
    auto n = Node(Op::kCall, name.offset);
    n->fn = fn;
    if (Peek().kind != Tok::kRParen) {
      do {
        auto arg = ParseOr();
        if (!arg) return nullptr;
        n->kids.push_back(std::move(arg));
      } while (Peek().kind == Tok::kComma && (++pos_, true));
    }
    if (!Expect(Tok::kRParen, fmt::format("',' or ')' in the arguments of {}", fn->name))) {
      return nullptr;
    }
    const int count = static_cast<int>(n->kids.size());
    if (count < fn->min_args || (fn->max_args >= 0 && count > fn->max_args)) {
      std::string takes =
          fn->min_args == fn->max_args
              ? fmt::format("{} argument{}", fn->min_args, fn->min_args == 1 ? "" : "s")
          : fn->max_args < 0
              ? fmt::format("at least {} argument{}", fn->min_args, fn->min_args == 1 ? "" : "s")
              : fmt::format("{} to {} arguments", fn->min_args, fn->max_args);
      return Fail(name.offset,
                  fmt::format("{} takes {}, not {}: {}", fn->name, takes, count, fn->signature));
    }
    return n;
  }

  std::unique_ptr<Ast> ParseCase(size_t at) {
    auto n = Node(Op::kCase, at);
    if (!IsKeyword(Peek(), "when")) {
      auto operand = ParseOr();
      if (!operand) return nullptr;
      n->has_operand = true;
      n->kids.push_back(std::move(operand));
    }
    if (!IsKeyword(Peek(), "when")) {
      return Fail(Peek().offset, fmt::format("expected WHEN after CASE but found {}",
                                             DescribeToken(Peek(), text_)));
    }
    while (TakeKeyword("when")) {
      auto cond = ParseOr();
      if (!cond) return nullptr;
      if (!ExpectKeyword("then", "THEN after the WHEN condition")) return nullptr;
      auto value = ParseOr();
      if (!value) return nullptr;
      n->kids.push_back(std::move(cond));
      n->kids.push_back(std::move(value));
    }
    if (TakeKeyword("else")) {
      auto value = ParseOr();
      if (!value) return nullptr;
      n->kids.push_back(std::move(value));
      n->has_else = true;
    }
    if (!ExpectKeyword("end", "WHEN, ELSE or END in CASE")) return nullptr;
    return n;
  }

  std::unique_ptr<Ast> ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kInt:
      case Tok::kDouble:
      case Tok::kString: {
        if (t.int64_min_magnitude) return Fail(t.offset, t.text);  // not after a unary minus
        ++pos_;
        auto n = Node(Op::kLiteral, t.offset);
        n->literal = t.kind == Tok::kInt      ? Value::Int(t.i)
                     : t.kind == Tok::kDouble ? Value::Double(t.d)
                                              : Value::String(t.text);
        return n;
      }
      case Tok::kKey:
        ++pos_;
        return Node(Op::kKey, t.offset);
      case Tok::kRecordTime:
        ++pos_;
        return Node(Op::kRecordTime, t.offset);
      case Tok::kQuotedName:
        ++pos_;
        return ParsePath(t);
      case Tok::kLParen: {
        ++pos_;
        auto inner = ParseOr();
        if (!inner) return nullptr;
        if (Peek().kind != Tok::kRParen) {
          return Fail(Peek().offset,
                      fmt::format("expected ')' to close the '(' at column {} but found {}",
                                  t.offset + 1, DescribeToken(Peek(), text_)));
        }
        ++pos_;
        return inner;
      }
      case Tok::kName:
        break;
      default:
        return Fail(t.offset, fmt::format("expected a value (a number, a 'string', a field, a "
                                          "function call or '(') but found {}",
                                          DescribeToken(t, text_)));
    }
    // A name: a keyword, a function call or a field path.
    if (IsKeyword(t, "true") || IsKeyword(t, "false") || IsKeyword(t, "null")) {
      ++pos_;
      auto n = Node(Op::kLiteral, t.offset);
      n->literal = IsKeyword(t, "null") ? Value::Null() : Value::Bool(IsKeyword(t, "true"));
      return n;
    }
    if (IsKeyword(t, "case")) {
      ++pos_;
      return ParseCase(t.offset);
    }
    if (IsKeyword(t, "cast") && Peek(1).kind == Tok::kLParen) {
      pos_ += 2;
      auto n = Node(Op::kCast, t.offset);
      auto operand = ParseOr();
      if (!operand) return nullptr;
      if (!ExpectKeyword("as", "AS in CAST(x AS type)")) return nullptr;
      if (!ParseType(&n->cast_to)) return nullptr;
      if (!Expect(Tok::kRParen, "')' to close CAST(")) return nullptr;
      n->kids.push_back(std::move(operand));
      return n;
    }
    if (IsKeyword(t, "timestamp") && Peek(1).kind == Tok::kString) {
      const Token& s = Peek(1);
      std::optional<int64_t> ms = ParseTimestampMillis(s.text);
      if (!ms) {
        return Fail(s.offset, fmt::format("TIMESTAMP {} is not a timestamp; write "
                                          "TIMESTAMP '2024-01-31T12:00:00Z' or "
                                          "TIMESTAMP '2024-01-31'",
                                          text_.substr(s.offset, s.length)));
      }
      pos_ += 2;
      auto n = Node(Op::kLiteral, t.offset);
      n->literal = Value::Timestamp(*ms);
      return n;
    }
    if (Peek(1).kind == Tok::kLParen) {
      ++pos_;  // the name; ParseCall takes the '('
      return ParseCall(t);
    }
    if (IsReserved(t.text)) {
      return Fail(t.offset, fmt::format("expected a value but found the keyword '{}'; a field "
                                        "of that name takes backticks: `{}`",
                                        t.text, t.text));
    }
    ++pos_;
    return ParsePath(t);
  }

  std::string_view text_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  ParseError* error_;
};

// Gives every node its output slot; the kids of a node get consecutive slots.
void AssignSlots(Ast* n, int* next) {
  for (auto& k : n->kids) k->out = (*next)++;
  for (auto& k : n->kids) AssignSlots(k.get(), next);
}

}  // namespace

bool ParseTypeName(std::string_view name, Kind* out) {
  static const std::pair<const char*, Kind> kTypes[] = {
      {"int", Kind::kInt},       {"integer", Kind::kInt},   {"bigint", Kind::kInt},
      {"double", Kind::kDouble}, {"float", Kind::kDouble},  {"real", Kind::kDouble},
      {"text", Kind::kString},   {"string", Kind::kString}, {"varchar", Kind::kString},
      {"boolean", Kind::kBool},  {"bool", Kind::kBool},     {"timestamp", Kind::kTimestamp},
      {"json", Kind::kJson}};
  for (const auto& [n, k] : kTypes) {
    if (EqualsIgnoreCase(name, n)) {
      *out = k;
      return true;
    }
  }
  return false;
}

bool Parse(std::string_view text, Parsed* out, ParseError* error) {
  std::vector<Token> tokens;
  LexError lex;
  if (!Tokenize(text, &tokens, &lex)) {
    error->offset = lex.offset;
    error->message = std::move(lex.message);
    return false;
  }
  Parser parser(text, std::move(tokens), error);
  auto root = parser.ParseAll();
  if (!root) return false;
  int next = 1;  // slot 0 is the root's
  root->out = 0;
  AssignSlots(root.get(), &next);
  out->root = std::move(root);
  out->slots = next;
  return true;
}

}  // namespace dataforge::expr
