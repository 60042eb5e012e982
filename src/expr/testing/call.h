// Test helper for the built-in functions: call one by name and show the outcome as one string
// ("string 'abc'", "int 3", "null", "error: substring: start must be an int, got string 'x'"),
// so a test states the exact kind, value and error text in one EXPECT_EQ.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "expr/functions.h"
#include "expr/value.h"

namespace dataforge::expr::testing {

inline Value S(std::string s) {
  return Value::String(std::move(s));
}
inline Value I(int64_t i) {
  return Value::Int(i);
}
inline Value D(double d) {
  return Value::Double(d);
}
inline Value B(bool b) {
  return Value::Bool(b);
}
inline Value T(int64_t ms) {
  return Value::Timestamp(ms);
}
inline Value J(std::string json) {
  return Value::Json(std::move(json));
}
inline Value N() {
  return Value::Null();
}

// The outcome of `name(args...)`, or "no function NAME" / "bad arity" when the registry says so.
inline std::string Call(std::string_view name, std::vector<Value> args, int64_t now_ms = 0) {
  const FunctionDef* f = FindFunction(name);
  if (f == nullptr) return "no function " + std::string(name);
  int n = static_cast<int>(args.size());
  if (n < f->min_args || (f->max_args >= 0 && n > f->max_args)) return "bad arity";
  CallContext ctx;
  ctx.now_ms = now_ms;
  Result<Value> r = f->impl(args, ctx);
  if (!r.ok()) return "error: " + r.status().message();
  const Value& v = *r;
  // The whole text (DescribeValue cuts long strings), quoted for strings.
  if (v.kind == Kind::kString) return "string '" + v.s + "'";
  if (v.kind == Kind::kJson) return "json " + v.s;
  return DescribeValue(v);
}

}  // namespace dataforge::expr::testing
