// The operators of expressions on values (docs/expressions.md "Operators"). Private to src/expr.
// Null operands are handled by the caller (the evaluator); these see non-null values only.
// Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "expr/ast.h"

namespace dataforge::expr {

// a op b for op + - * / %: int with int stays int (an overflow is an error; / truncates toward
// zero), a double makes a double; division or remainder by zero is an error, as in SQL.
Status Arithmetic(Op op, const Value& a, const Value& b, Value* out);

// -a.
Status Negate(const Value& a, Value* out);

// Orders a and b into *cmp (<0, 0, >0). Numbers compare by value (NaN equals NaN and is above
// every other number, as in PostgreSQL); strings byte-wise (UTF-8 code point order); a string
// against a number or a timestamp is read as one. `op` names the operator in errors; only
// equality compares JSON values.
Status Compare(const Value& a, const Value& b, std::string_view op, int* cmp);

// SQL LIKE: % any run, _ one character (UTF-8), \ escapes; ASCII case folded if `fold`.
bool Like(std::string_view text, std::string_view pattern, bool fold);

// The symbol of an operator, for errors: "+", "<=", "AND".
std::string_view OpName(Op op);

// "int 5", "string 'x'", "NULL": a value with its type, for errors.
std::string Describe(const Value& v);

}  // namespace dataforge::expr
