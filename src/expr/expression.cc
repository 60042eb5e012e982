#include "expr/expression.h"

#include <vector>

#include <fmt/format.h>

#include "common/escape.h"
#include "expr/ast.h"
#include "expr/evaluator.h"

namespace dataforge::expr {

struct Expression::Node {
  Parsed parsed;
};

namespace {

// The scratch values of the evaluations on this thread (ast.h): reused record after record.
struct Scratch {
  std::vector<Value> slots;
  bool busy = false;
};

// "FILE:LINE:COL" of byte `offset` of an expression that starts at line:column of the file.
// Lines after the first of a multi-line expression count from column 1 (YAML block scalars
// lose their indentation, so those columns are the text's own).
std::string Where(std::string_view text, std::string_view file, int line, int column,
                  size_t offset) {
  offset = std::min(offset, text.size());
  int l = line, c = column;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++l;
      c = 1;
    } else {
      ++c;
    }
  }
  if (file.empty()) return fmt::format("line {}, column {}", l, c);
  return fmt::format("{}:{}:{}", file, l, c);
}

}  // namespace

Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;
Expression::~Expression() = default;

Result<Expression> Expression::Compile(std::string_view text, std::string_view file, int line,
                                       int column) {
  Expression e;
  e.text_ = std::string(text);
  e.root_ = std::make_unique<Node>();
  ParseError error;
  if (!Parse(e.text_, &e.root_->parsed, &error)) {
    return Status::ConfigError(EscapeControlChars(
        fmt::format("{}: {}", Where(text, file, line, column, error.offset), error.message)));
  }
  return e;
}

Status Expression::EvaluateInto(const Input& input, Value* out) const {
  thread_local Scratch scratch;
  // A function that evaluated another expression would re-enter: it gets scratch of its own.
  Scratch local;
  Scratch& s = scratch.busy ? local : scratch;
  const Parsed& p = root_->parsed;
  if (s.slots.size() < static_cast<size_t>(p.slots)) s.slots.resize(p.slots);
  s.busy = true;
  Frame frame{s.slots.data(), &input, CallContext{input.now_ms}};
  const Value* v = nullptr;
  Status st = Eval(*p.root, frame, &v);
  if (st.ok()) *out = *v;  // copy-assignment keeps `out`'s capacity
  s.busy = false;
  return st;
}

Result<Value> Expression::Evaluate(const Input& input) const {
  Value v;
  DF_RETURN_IF_ERROR(EvaluateInto(input, &v));
  return v;
}

const std::string& Expression::text() const {
  return text_;
}

}  // namespace dataforge::expr
