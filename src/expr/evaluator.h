// Evaluates a compiled expression tree over one record. Private to src/expr.
//
// `slots` is scratch of at least Parsed::slots values, owned by the calling thread; `*out` is
// set to the node's value, which lives in a slot or in the tree (a literal) until the next
// evaluation with the same slots. Errors are one line naming the operation and the values.
#pragma once

#include "common/status.h"
#include "expr/ast.h"
#include "expr/expression.h"

namespace dataforge::expr {

struct Frame {
  Value* slots = nullptr;
  const Input* input = nullptr;
  CallContext call;
};

Status Eval(const Ast& n, const Frame& f, const Value** out);

}  // namespace dataforge::expr
