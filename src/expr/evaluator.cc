#include "expr/evaluator.h"

#include <simdjson.h>

#include <fmt/format.h>

#include "expr/operators.h"

namespace dataforge::expr {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// A JSON element as a value; strings are copied into `out`'s buffer (its capacity is reused).
void FromElement(const element& e, Value* out) {
  switch (e.type()) {
    case element_type::STRING: {
      std::string_view s = e.get_string().value_unsafe();
      out->kind = Kind::kString;
      out->s.assign(s.data(), s.size());
      return;
    }
    case element_type::INT64:
      out->kind = Kind::kInt;
      out->i = e.get_int64().value_unsafe();
      return;
    case element_type::UINT64: {
      uint64_t u = e.get_uint64().value_unsafe();
      if (u <= static_cast<uint64_t>(INT64_MAX)) {
        out->kind = Kind::kInt;
        out->i = static_cast<int64_t>(u);
      } else {
        out->kind = Kind::kDouble;
        out->d = static_cast<double>(u);
      }
      return;
    }
    case element_type::DOUBLE:
      out->kind = Kind::kDouble;
      out->d = e.get_double().value_unsafe();
      return;
    case element_type::BOOL:
      out->kind = Kind::kBool;
      out->b = e.get_bool().value_unsafe();
      return;
    case element_type::NULL_VALUE:
      out->kind = Kind::kNull;
      return;
    case element_type::OBJECT:
    case element_type::ARRAY:
      out->kind = Kind::kJson;
      out->s = simdjson::minify(e);
      return;
  }
}

// Parses JSON text held in a string (a change event's json values, a function's JSON result).
// The element is valid until the next call on this thread.
bool ParseNested(std::string_view text, element* out) {
  thread_local simdjson::dom::parser parser;
  thread_local std::string copy;  // `text` may live in the parser's own document
  copy.assign(text.data(), text.size());
  return parser.parse(copy.data(), copy.size(), true).get(*out) == simdjson::SUCCESS;
}

// A field path: null when a step is missing, crosses a scalar or meets a null (as a record
// that lacks the field). A step into a string continues inside the JSON text it holds, as the
// mapper's paths do.
void LookupPath(const Ast& n, const Input& in, Value* out) {
  out->kind = Kind::kNull;
  if (in.record == nullptr) return;
  element cur = *in.record;
  for (const PathStep& step : n.path) {
    if (cur.type() == element_type::STRING) {
      if (!ParseNested(cur.get_string().value_unsafe(), &cur)) return;
    }
    element next;
    if (step.index >= 0) {
      if (cur.type() != element_type::ARRAY ||
          cur.get_array().at(static_cast<size_t>(step.index)).get(next) != simdjson::SUCCESS) {
        return;
      }
    } else if (cur.type() != element_type::OBJECT ||
               cur.get_object().at_key(step.name).get(next) != simdjson::SUCCESS) {
      return;
    }
    cur = next;
  }
  FromElement(cur, out);
}

Status NeedBoolean(const Ast& n, const Value& v) {
  return Status::InvalidArgument(
      fmt::format("{} needs boolean operands, got {}", OpName(n.op), Describe(v)));
}

void SetBool(Value* v, bool b) {
  v->kind = Kind::kBool;
  v->b = b;
}

// TRUE, FALSE or NULL (unknown) of SQL's three-valued logic.
enum class Tri { kFalse, kTrue, kNull };

Tri ToTri(const Value& v) {
  return v.is_null() ? Tri::kNull : v.b ? Tri::kTrue : Tri::kFalse;
}

void SetTri(Value* v, Tri t) {
  if (t == Tri::kNull) {
    v->kind = Kind::kNull;
  } else {
    SetBool(v, t == Tri::kTrue);
  }
}

Status EvalLogic(const Ast& n, const Frame& f, Value* slot) {
  const bool is_and = n.op == Op::kAnd;
  const Value* a = nullptr;
  DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &a));
  if (!a->is_null() && a->kind != Kind::kBool) return NeedBoolean(n, *a);
  Tri left = ToTri(*a);
  // FALSE AND x is FALSE, TRUE OR x is TRUE, whatever x is: x is not evaluated.
  if (left == (is_and ? Tri::kFalse : Tri::kTrue)) {
    SetTri(slot, left);
    return Status::OK();
  }
  const Value* b = nullptr;
  DF_RETURN_IF_ERROR(Eval(*n.kids[1], f, &b));
  if (!b->is_null() && b->kind != Kind::kBool) return NeedBoolean(n, *b);
  Tri right = ToTri(*b);
  Tri decisive = is_and ? Tri::kFalse : Tri::kTrue;
  if (right == decisive) {
    SetTri(slot, decisive);
  } else if (left == Tri::kNull || right == Tri::kNull) {
    SetTri(slot, Tri::kNull);
  } else {
    SetTri(slot, is_and ? Tri::kTrue : Tri::kFalse);
  }
  return Status::OK();
}

// x [NOT] IN (items): TRUE if one equals x; else NULL if x or an item is NULL; else FALSE.
Status EvalIn(const Ast& n, const Frame& f, Value* slot) {
  const Value* x = nullptr;
  DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &x));
  if (x->is_null()) {
    slot->kind = Kind::kNull;
    return Status::OK();
  }
  Tri result = Tri::kFalse;
  for (size_t k = 1; k < n.kids.size() && result != Tri::kTrue; ++k) {
    const Value* item = nullptr;
    DF_RETURN_IF_ERROR(Eval(*n.kids[k], f, &item));
    if (item->is_null()) {
      result = Tri::kNull;
      continue;
    }
    int cmp = 0;
    DF_RETURN_IF_ERROR(Compare(*x, *item, "IN", &cmp));
    if (cmp == 0) result = Tri::kTrue;
  }
  if (n.negated && result != Tri::kNull) {
    result = result == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
  }
  SetTri(slot, result);
  return Status::OK();
}

Status EvalBetween(const Ast& n, const Frame& f, Value* slot) {
  const Value *x = nullptr, *lo = nullptr, *hi = nullptr;
  DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &x));
  DF_RETURN_IF_ERROR(Eval(*n.kids[1], f, &lo));
  DF_RETURN_IF_ERROR(Eval(*n.kids[2], f, &hi));
  // x >= lo AND x <= hi, in three-valued logic.
  Tri above = Tri::kNull, below = Tri::kNull;
  int cmp = 0;
  if (!x->is_null() && !lo->is_null()) {
    DF_RETURN_IF_ERROR(Compare(*x, *lo, "BETWEEN", &cmp));
    above = cmp >= 0 ? Tri::kTrue : Tri::kFalse;
  }
  if (!x->is_null() && !hi->is_null()) {
    DF_RETURN_IF_ERROR(Compare(*x, *hi, "BETWEEN", &cmp));
    below = cmp <= 0 ? Tri::kTrue : Tri::kFalse;
  }
  Tri r = above == Tri::kFalse || below == Tri::kFalse ? Tri::kFalse
          : above == Tri::kNull || below == Tri::kNull ? Tri::kNull
                                                       : Tri::kTrue;
  if (n.negated && r != Tri::kNull) r = r == Tri::kTrue ? Tri::kFalse : Tri::kTrue;
  SetTri(slot, r);
  return Status::OK();
}

Status EvalCase(const Ast& n, const Frame& f, const Value** out) {
  const Value* operand = nullptr;
  size_t k = 0;
  if (n.has_operand) {
    DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &operand));
    k = 1;
  }
  const size_t pairs_end = n.kids.size() - (n.has_else ? 1 : 0);
  for (; k + 1 < pairs_end; k += 2) {
    const Value* when = nullptr;
    DF_RETURN_IF_ERROR(Eval(*n.kids[k], f, &when));
    bool taken = false;
    if (operand) {
      int cmp = 1;
      if (!operand->is_null() && !when->is_null()) {
        DF_RETURN_IF_ERROR(Compare(*operand, *when, "CASE", &cmp));
      }
      taken = cmp == 0;
    } else if (when->kind == Kind::kBool) {
      taken = when->b;
    } else if (!when->is_null()) {
      return Status::InvalidArgument(
          fmt::format("CASE WHEN needs a boolean condition, got {}", Describe(*when)));
    }
    if (taken) return Eval(*n.kids[k + 1], f, out);
  }
  if (n.has_else) return Eval(*n.kids.back(), f, out);
  Value* slot = &f.slots[n.out];
  slot->kind = Kind::kNull;
  *out = slot;
  return Status::OK();
}

// v[i] (1-based) of a JSON array; NULL when i is beyond its end.
Status EvalIndex(const Ast& n, const Frame& f, Value* slot) {
  const Value *v = nullptr, *i = nullptr;
  DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &v));
  DF_RETURN_IF_ERROR(Eval(*n.kids[1], f, &i));
  slot->kind = Kind::kNull;
  if (v->is_null() || i->is_null()) return Status::OK();
  if (i->kind != Kind::kInt) {
    return Status::InvalidArgument(fmt::format("a subscript must be an int, got {}", Describe(*i)));
  }
  element array, item;
  if (v->kind != Kind::kJson || !ParseNested(v->s, &array) || array.type() != element_type::ARRAY) {
    return Status::InvalidArgument(
        fmt::format("[{}] needs a JSON array, got {}", i->i, Describe(*v)));
  }
  if (i->i < 1 ||
      array.get_array().at(static_cast<size_t>(i->i - 1)).get(item) != simdjson::SUCCESS) {
    return Status::OK();
  }
  FromElement(item, slot);
  return Status::OK();
}

}  // namespace

Status Eval(const Ast& n, const Frame& f, const Value** out) {
  Value* slot = &f.slots[n.out];
  *out = slot;
  switch (n.op) {
    case Op::kLiteral:
      *out = &n.literal;
      return Status::OK();
    case Op::kField:
      LookupPath(n, *f.input, slot);
      return Status::OK();
    case Op::kRecordTime:
      if (f.input->record_ms == kNoRecordTime) {
        slot->kind = Kind::kNull;
      } else {
        *slot = Value::Timestamp(f.input->record_ms);
      }
      return Status::OK();
    case Op::kKey:
      if (f.input->key.empty()) {
        slot->kind = Kind::kNull;
      } else {
        slot->kind = Kind::kString;
        slot->s.assign(f.input->key.data(), f.input->key.size());
      }
      return Status::OK();
    case Op::kNeg: {
      const Value* a = nullptr;
      DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &a));
      if (a->is_null()) {
        slot->kind = Kind::kNull;
        return Status::OK();
      }
      return Negate(*a, slot);
    }
    case Op::kNot: {
      const Value* a = nullptr;
      DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &a));
      if (a->is_null()) {
        slot->kind = Kind::kNull;
      } else if (a->kind != Kind::kBool) {
        return Status::InvalidArgument(fmt::format("NOT needs a boolean, got {}", Describe(*a)));
      } else {
        SetBool(slot, !a->b);
      }
      return Status::OK();
    }
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv:
    case Op::kMod:
    case Op::kConcat:
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      const Value *a = nullptr, *b = nullptr;
      DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &a));
      DF_RETURN_IF_ERROR(Eval(*n.kids[1], f, &b));
      if (a->is_null() || b->is_null()) {
        slot->kind = Kind::kNull;
        return Status::OK();
      }
      if (n.op == Op::kConcat) {
        slot->s.clear();
        AppendText(*a, &slot->s);
        AppendText(*b, &slot->s);
        slot->kind = Kind::kString;
        return Status::OK();
      }
      if (n.op >= Op::kEq) {
        int cmp = 0;
        DF_RETURN_IF_ERROR(Compare(*a, *b, OpName(n.op), &cmp));
        bool r = n.op == Op::kEq   ? cmp == 0
                 : n.op == Op::kNe ? cmp != 0
                 : n.op == Op::kLt ? cmp < 0
                 : n.op == Op::kLe ? cmp <= 0
                 : n.op == Op::kGt ? cmp > 0
                                   : cmp >= 0;
        SetBool(slot, r);
        return Status::OK();
      }
      return Arithmetic(n.op, *a, *b, slot);
    }
    case Op::kAnd:
    case Op::kOr:
      return EvalLogic(n, f, slot);
    case Op::kIsNull: {
      const Value* a = nullptr;
      DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &a));
      SetBool(slot, a->is_null() != n.negated);
      return Status::OK();
    }
    case Op::kIn:
      return EvalIn(n, f, slot);
    case Op::kBetween:
      return EvalBetween(n, f, slot);
    case Op::kLike: {
      const Value *a = nullptr, *p = nullptr;
      DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &a));
      DF_RETURN_IF_ERROR(Eval(*n.kids[1], f, &p));
      if (a->is_null() || p->is_null()) {
        slot->kind = Kind::kNull;
        return Status::OK();
      }
      if (a->kind != Kind::kString || p->kind != Kind::kString) {
        const Value& bad = a->kind != Kind::kString ? *a : *p;
        return Status::InvalidArgument(
            fmt::format("{} needs strings, got {}; CAST(x AS text) makes one",
                        n.case_insensitive ? "ILIKE" : "LIKE", Describe(bad)));
      }
      SetBool(slot, Like(a->s, p->s, n.case_insensitive) != n.negated);
      return Status::OK();
    }
    case Op::kCase:
      return EvalCase(n, f, out);
    case Op::kCast: {
      const Value* a = nullptr;
      DF_RETURN_IF_ERROR(Eval(*n.kids[0], f, &a));
      if (a->kind == n.cast_to || a->is_null()) {
        *out = a;  // nothing to convert
        return Status::OK();
      }
      return CastValue(*a, n.cast_to, slot);
    }
    case Op::kCall: {
      // The arguments have consecutive slots: evaluated in place, they are one span.
      for (const auto& k : n.kids) {
        const Value* v = nullptr;
        DF_RETURN_IF_ERROR(Eval(*k, f, &v));
        if (v != &f.slots[k->out]) f.slots[k->out] = *v;
      }
      std::span<const Value> args;
      if (!n.kids.empty()) args = {&f.slots[n.kids[0]->out], n.kids.size()};
      Result<Value> r = n.fn->impl(args, f.call);
      if (!r.ok()) return r.status();
      *slot = std::move(r).value();
      return Status::OK();
    }
    case Op::kIndex:
      return EvalIndex(n, f, slot);
  }
  return Status::Internal("unknown expression node");
}

}  // namespace dataforge::expr
