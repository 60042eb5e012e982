// Values as text: for CAST(x AS text), `||`, and the mapper's text columns and errors
// (docs/expressions.md "Casting"). Stateless; thread-safe.
#pragma once

#include <string>

#include "expr/value.h"

namespace dataforge::expr {

// The text form of a value (CAST(v AS text)), appended to `out`: true/false, decimal integers,
// the shortest double that reads back (NaN, Infinity, -Infinity), timestamps as
// "YYYY-MM-DDTHH:MM:SS.mmmZ", strings and JSON as they are. NULL appends nothing.
void AppendText(const Value& v, std::string* out);

// A value as it reads in an error: 42, 'text' (cut at 60 bytes), NULL, TIMESTAMP '...'.
std::string DescribeValue(const Value& v);

// The same with its type first: "int 42", "string 'x'"; "NULL".
std::string DescribeTyped(const Value& v);

}  // namespace dataforge::expr
