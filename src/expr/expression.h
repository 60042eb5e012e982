// Expressions in the pipeline file (docs/expressions.md): `process.columns[].expr`,
// `process.where`, `process.outputs[].where`. A small SQL-like language: literals, field paths
// into the record (`name.first`, `location.coordinates.latitude`, `$key`, `$timestamp`),
// arithmetic, comparison, AND/OR/NOT, CASE WHEN ... THEN ... ELSE ... END, IS [NOT] NULL, IN (...),
// CAST(x AS type), and the functions of expr/functions.h.
//
// Compile once (errors name the line and column in the pipeline file); Evaluate per record.
// Thread-safety: a compiled Expression is immutable; Evaluate is safe from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "expr/functions.h"
#include "expr/value.h"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace dataforge::expr {

// `Input::record_ms` of a record without a log timestamp (a dead letter's replay, a Kafka
// record whose producer set none): `$timestamp` is null.
inline constexpr int64_t kNoRecordTime = INT64_MIN;

// What an expression reads: the record (its parsed JSON), its key, the processing time, the
// record's log timestamp.
struct Input {
  const simdjson::dom::element* record = nullptr;  // the record's root object
  std::string_view key;                            // `$key`
  int64_t now_ms = 0;                              // now()
  int64_t record_ms = kNoRecordTime;               // `$timestamp`: the record's log timestamp
};

class Expression {
 public:
  // `text` as written; `file`, `line` and `column` say where it starts in the pipeline file, so
  // a ConfigError reads "FILE:LINE:COL: <what is wrong>" pointing at the offending token.
  static Result<Expression> Compile(std::string_view text, std::string_view file, int line,
                                    int column);

  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;
  ~Expression();

  // The value for one record, or a one-line error naming the operation and the value.
  Result<Value> Evaluate(const Input& input) const;
  // The same into `*out`, whose string capacity is reused: no allocation per record once the
  // values' strings have grown (the mapper keeps one Value per column). `*out` is unspecified
  // on error.
  Status EvaluateInto(const Input& input, Value* out) const;

  const std::string& text() const;

 private:
  struct Node;
  Expression() = default;
  std::string text_;
  std::unique_ptr<Node> root_;
};

}  // namespace dataforge::expr
