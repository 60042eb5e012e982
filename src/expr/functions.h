// The built-in functions of expressions (docs/expressions.md lists them with examples).
//
// Null handling: unless a function says otherwise (coalesce, is_null, ...), a null argument
// gives null. An argument of the wrong type, or a value the function cannot take (a bad regex,
// an unparseable date, invalid UTF-8 where text is needed), is an error: a one-line Status
// naming the function and the value (e.g. "to_timestamp: cannot parse '2023-13-45' with format
// '%Y-%m-%d'"); the processor dead-letters that record with it.
// Thread-safety: Find/All and every `impl` are safe to call from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"
#include "expr/value.h"

namespace dataforge::expr {

struct CallContext {
  int64_t now_ms = 0;  // processing time: the processor's clock for this record (now())
};

using FunctionImpl = Result<Value> (*)(std::span<const Value> args, const CallContext& ctx);

struct FunctionDef {
  std::string_view name;  // lower case; calls are case-insensitive
  int min_args = 0;
  int max_args = 0;  // -1 = any number
  FunctionImpl impl = nullptr;
  std::string_view signature;  // for errors and docs, e.g. "substring(text, start[, length])"
};

// The function called `name` (case-insensitive), or nullptr.
const FunctionDef* FindFunction(std::string_view name);
// Every built-in function, in the order docs/expressions.md lists them.
std::span<const FunctionDef> AllFunctions();

}  // namespace dataforge::expr
