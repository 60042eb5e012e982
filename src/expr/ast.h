// The compiled form of an expression: a tree the evaluator walks. Private to src/expr.
//
// Every node has an output slot (`out`): the evaluator writes a node's value into the slot of
// that index in a per-thread scratch array, so the strings of one record reuse the capacity of
// the last one (no allocation per record once warm). The arguments of a function call have
// consecutive slots, so they are passed to the function as one span without copying.
// Immutable after Parse(); thread-safe to evaluate from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "expr/functions.h"
#include "expr/value.h"

namespace dataforge::expr {

enum class Op {
  kLiteral,     // `literal`
  kField,       // `path` into the record
  kKey,         // $key
  kRecordTime,  // $timestamp
  kNeg,         // -kids[0]
  kNot,         // NOT kids[0]
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kConcat,  // kids[0] || kids[1]
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kIsNull,   // kids[0] IS [NOT] NULL (negated)
  kIn,       // kids[0] [NOT] IN (kids[1..])
  kBetween,  // kids[0] [NOT] BETWEEN kids[1] AND kids[2]
  kLike,     // kids[0] [NOT] LIKE|ILIKE kids[1] (case_insensitive)
  kCase,     // CASE [operand] WHEN c THEN v ... [ELSE e] END (see Ast::has_operand/has_else)
  kCast,     // CAST(kids[0] AS cast_to), kids[0]::cast_to
  kCall,     // fn(kids...)
  kIndex,    // kids[0][kids[1]]: 1-based element of a JSON array
};

// One step of a field path: an object member, or (index >= 0) a 0-based array element.
struct PathStep {
  std::string name;
  int64_t index = -1;
};

struct Ast {
  Op op = Op::kLiteral;
  size_t offset = 0;           // where the node starts in the text (for compile errors)
  int out = 0;                 // output slot
  Value literal;               // kLiteral
  std::vector<PathStep> path;  // kField
  std::string path_text;       // kField, as written (for errors)
  std::vector<std::unique_ptr<Ast>> kids;
  bool negated = false;             // IS NOT NULL, NOT IN, NOT BETWEEN, NOT LIKE
  bool case_insensitive = false;    // ILIKE
  bool has_operand = false;         // kCase: CASE x WHEN ... (kids[0] is x)
  bool has_else = false;            // kCase: the last kid is the ELSE value
  Kind cast_to = Kind::kNull;       // kCast
  const FunctionDef* fn = nullptr;  // kCall
};

// A parse: the tree and how many slots it uses.
struct Parsed {
  std::unique_ptr<Ast> root;
  int slots = 0;
};

// A compile error before it is given its file, line and column.
struct ParseError {
  size_t offset = 0;
  std::string message;
};

// Parses `text` (docs/expressions.md); resolves function names through FindFunction.
bool Parse(std::string_view text, Parsed* out, ParseError* error);

// CAST(v AS kind) into `out` (docs/expressions.md "Casting"); `out` may be `v`.
Status CastValue(const Value& v, Kind to, Value* out);

// A value as a literal in an error, without its type: 42, 'text', TIMESTAMP '...', NULL.
std::string Literal(const Value& v);

// The type named in CAST / :: ("int", "bigint", "double", "text", ...); false if unknown.
bool ParseTypeName(std::string_view name, Kind* out);

}  // namespace dataforge::expr
