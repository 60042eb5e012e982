#include "process/aggregate/aggregate_state.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "common/json_writer.h"

namespace dataforge {

bool ParseAggFn(std::string_view name, AggFn* out) {
  static constexpr std::pair<std::string_view, AggFn> kNames[] = {
      {"count", AggFn::kCount}, {"sum", AggFn::kSum}, {"min", AggFn::kMin},
      {"max", AggFn::kMax},     {"avg", AggFn::kAvg}, {"count_distinct", AggFn::kCountDistinct}};
  for (const auto& [n, fn] : kNames) {
    if (n == name) {
      *out = fn;
      return true;
    }
  }
  return false;
}

Result<ValueKind> KindOf(AggFn fn, const std::string& type) {
  bool integer = type == "int" || type == "bigint";
  bool number = integer || type == "double" || type == "decimal";
  switch (fn) {
    case AggFn::kSum:
    case AggFn::kAvg:
      if (!number) {
        return Status::InvalidArgument(fmt::format(
            "of a {} column: sum and avg need a number column (int, bigint, double, decimal)",
            type));
      }
      break;
    case AggFn::kMin:
    case AggFn::kMax:
      if (type == "boolean") {
        return Status::InvalidArgument(
            "of a boolean column: min and max need a number, text, uuid or timestamp column "
            "(count a boolean's values with a where or count_distinct)");
      }
      break;
    default:
      break;
  }
  if (integer) return ValueKind::kInteger;
  if (number) return ValueKind::kDouble;
  return ValueKind::kText;
}

Result<std::vector<ValueDef>> ResolveValues(const AggregateSpec& spec,
                                            const std::vector<ColumnSpec>& columns) {
  std::vector<ValueDef> defs;
  for (const auto& v : spec.values) {
    ValueDef d;
    d.name = v.name;
    d.of = v.of;
    if (!ParseAggFn(v.fn, &d.fn)) {
      return Status::InvalidArgument(fmt::format("unknown fn '{}'", v.fn));
    }
    std::string type = "text";
    if (!v.of.empty()) {
      auto c = std::find_if(columns.begin(), columns.end(),
                            [&](const ColumnSpec& s) { return s.name == v.of; });
      if (c == columns.end()) {
        return Status::InvalidArgument(fmt::format("'{}' is not a column", v.of));
      }
      type = c->type;
    }
    DF_ASSIGN_OR_RETURN(d.kind, KindOf(d.fn, type));
    switch (d.fn) {
      case AggFn::kCount:
      case AggFn::kCountDistinct:
        d.result_type = "bigint";
        break;
      case AggFn::kSum:
        d.result_type = d.kind == ValueKind::kInteger ? "bigint" : "double";
        break;
      case AggFn::kAvg:
        d.result_type = "double";
        break;
      case AggFn::kMin:
      case AggFn::kMax:
        d.result_type = type == "decimal" ? "double" : type;
        break;
    }
    defs.push_back(std::move(d));
  }
  return defs;
}

// --- count_distinct ---

void DistinctSet::ToSketch() const {
  hll_ = std::make_unique<HyperLogLog>();
  for (uint64_t h : sorted_) hll_->AddHash(h);
  for (uint64_t h : added_) hll_->AddHash(h);
  sorted_ = {};
  added_ = {};
}

void DistinctSet::Fold() const {
  if (added_.empty() || hll_) return;
  std::sort(added_.begin(), added_.end());
  added_.erase(std::unique(added_.begin(), added_.end()), added_.end());
  size_t old_size = sorted_.size();
  sorted_.insert(sorted_.end(), added_.begin(), added_.end());
  std::inplace_merge(sorted_.begin(), sorted_.begin() + static_cast<std::ptrdiff_t>(old_size),
                     sorted_.end());
  sorted_.erase(std::unique(sorted_.begin(), sorted_.end()), sorted_.end());
  added_.clear();
  if (sorted_.size() > limit_) ToSketch();
}

void DistinctSet::Add(uint64_t hash, uint64_t exact_limit) {
  if (hll_) {
    hll_->AddHash(hash);
    return;
  }
  limit_ = exact_limit;
  added_.push_back(hash);
  if (added_.size() >= std::max<size_t>(64, sorted_.size() / 2)) Fold();
}

void DistinctSet::Merge(const DistinctSet& other, uint64_t exact_limit) {
  limit_ = exact_limit;
  other.Fold();
  Fold();
  if (other.hll_) {
    if (!hll_) ToSketch();
    hll_->Merge(*other.hll_);
  } else if (hll_) {
    for (uint64_t h : other.sorted_) hll_->AddHash(h);
  } else {
    std::vector<uint64_t> both;
    both.reserve(sorted_.size() + other.sorted_.size());
    std::set_union(sorted_.begin(), sorted_.end(), other.sorted_.begin(), other.sorted_.end(),
                   std::back_inserter(both));
    sorted_ = std::move(both);
    if (sorted_.size() > limit_) ToSketch();
  }
}

uint64_t DistinctSet::Count() const {
  Fold();
  return hll_ ? hll_->Estimate() : sorted_.size();
}

bool DistinctSet::exact() const {
  Fold();
  return hll_ == nullptr;
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;
}

namespace {

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
bool GetFixed64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r |= static_cast<uint64_t>(static_cast<uint8_t>((*in)[i])) << (8 * i);
  in->remove_prefix(8);
  *v = r;
  return true;
}
void PutDouble(std::string* out, double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  PutFixed64(out, bits);
}
bool GetDouble(std::string_view* in, double* d) {
  uint64_t bits;
  if (!GetFixed64(in, &bits)) return false;
  std::memcpy(d, &bits, 8);
  return true;
}

}  // namespace

void DistinctSet::Encode(std::string* out) const {
  Fold();
  if (hll_) {
    out->push_back(1);
    const auto& r = hll_->registers();
    out->append(reinterpret_cast<const char*>(r.data()), r.size());
    return;
  }
  out->push_back(0);
  PutVarint(out, sorted_.size());  // ascending: one encoding per set
  out->reserve(out->size() + 8 * sorted_.size());
  for (uint64_t h : sorted_) PutFixed64(out, h);
}

bool DistinctSet::Decode(std::string_view* in) {
  if (in->empty()) return false;
  char mode = in->front();
  in->remove_prefix(1);
  sorted_.clear();
  added_.clear();
  hll_.reset();
  if (mode == 1) {
    if (in->size() < HyperLogLog::kRegisters) return false;
    hll_ = std::make_unique<HyperLogLog>();
    if (!HyperLogLog::FromBytes(in->substr(0, HyperLogLog::kRegisters), hll_.get())) return false;
    in->remove_prefix(HyperLogLog::kRegisters);
    return true;
  }
  if (mode != 0) return false;
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size() / 8) return false;
  sorted_.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    if (!GetFixed64(in, &sorted_[i])) return false;
    // Written ascending and distinct; anything else is another writer's bytes, not a set.
    if (i > 0 && sorted_[i] <= sorted_[i - 1]) return false;
  }
  return true;
}

// --- accumulators ---

AggState NewState(const std::vector<ValueDef>& defs) {
  AggState s;
  s.values.resize(defs.size());
  for (size_t i = 0; i < defs.size(); ++i) {
    if (defs[i].fn == AggFn::kCountDistinct) s.values[i].distinct = std::make_unique<DistinctSet>();
  }
  return s;
}

namespace {

// Folds a value into a min/max accumulator that holds `a.count` values so far.
void MinMax(const ValueDef& def, Accumulator* a, int64_t i, double d, std::string_view text) {
  bool first = a->count == 0;
  bool min = def.fn == AggFn::kMin;
  switch (def.kind) {
    case ValueKind::kInteger:
      if (first || (min ? i < a->i : i > a->i)) a->i = i;
      break;
    case ValueKind::kDouble:
      if (first || (min ? d < a->d : d > a->d)) a->d = d;
      break;
    case ValueKind::kText:
      if (first || (min ? text < a->text : text > a->text)) a->text.assign(text);
      break;
  }
}

}  // namespace

void Update(const std::vector<ValueDef>& defs, const std::vector<InputValue>& inputs,
            uint64_t exact_limit, AggState* state) {
  for (size_t k = 0; k < defs.size(); ++k) {
    const ValueDef& def = defs[k];
    Accumulator& a = state->values[k];
    const InputValue& v = inputs[k];
    if (def.fn == AggFn::kCount && def.of.empty()) {
      ++a.count;
      continue;
    }
    if (v.null) continue;
    switch (def.fn) {
      case AggFn::kCount:
        break;
      case AggFn::kSum:
      case AggFn::kAvg:
        if (def.kind == ValueKind::kInteger && def.fn == AggFn::kSum) {
          a.i = static_cast<int64_t>(static_cast<uint64_t>(a.i) + static_cast<uint64_t>(v.i));
        } else {
          a.d += def.kind == ValueKind::kInteger ? static_cast<double>(v.i) : v.d;
        }
        break;
      case AggFn::kMin:
      case AggFn::kMax:
        MinMax(def, &a, v.i, v.d, v.text);
        break;
      case AggFn::kCountDistinct:
        a.distinct->Add(HashValue(v.text), exact_limit);
        break;
    }
    ++a.count;
  }
}

void MergeInto(const std::vector<ValueDef>& defs, const AggState& from, uint64_t exact_limit,
               AggState* into) {
  for (size_t k = 0; k < defs.size(); ++k) {
    const ValueDef& def = defs[k];
    const Accumulator& f = from.values[k];
    Accumulator& a = into->values[k];
    switch (def.fn) {
      case AggFn::kCount:
        break;
      case AggFn::kSum:
      case AggFn::kAvg:
        a.i = static_cast<int64_t>(static_cast<uint64_t>(a.i) + static_cast<uint64_t>(f.i));
        a.d += f.d;
        break;
      case AggFn::kMin:
      case AggFn::kMax:
        if (f.count > 0) MinMax(def, &a, f.i, f.d, f.text);
        break;
      case AggFn::kCountDistinct:
        a.distinct->Merge(*f.distinct, exact_limit);
        break;
    }
    a.count += f.count;
  }
}

void AppendResults(const std::vector<ValueDef>& defs, const AggState& state,
                   JsonObjectWriter* row) {
  for (size_t k = 0; k < defs.size(); ++k) {
    const ValueDef& def = defs[k];
    const Accumulator& a = state.values[k];
    switch (def.fn) {
      case AggFn::kCount:
        row->Int(def.name, a.count);
        continue;
      case AggFn::kCountDistinct:
        row->Int(def.name, static_cast<int64_t>(a.distinct->Count()));
        continue;
      default:
        break;
    }
    if (a.count == 0) {
      row->Null(def.name);
    } else if (def.fn == AggFn::kAvg || def.kind == ValueKind::kDouble) {
      double d = def.fn == AggFn::kAvg ? a.d / static_cast<double>(a.count) : a.d;
      if (std::isfinite(d)) {
        row->Double(def.name, d);
      } else {
        row->Null(def.name);  // beyond a double (JSON has no infinity)
      }
    } else if (def.kind == ValueKind::kInteger) {
      row->Int(def.name, a.i);
    } else {
      row->String(def.name, a.text);
    }
  }
}

std::string EncodeState(const std::vector<ValueDef>& defs, const AggState& state) {
  std::string out;
  out.push_back(1);  // version
  PutVarint(&out, defs.size());
  for (size_t k = 0; k < defs.size(); ++k) {
    const ValueDef& def = defs[k];
    const Accumulator& a = state.values[k];
    out.push_back(static_cast<char>(def.fn));
    PutVarint(&out, static_cast<uint64_t>(a.count));
    switch (def.fn) {
      case AggFn::kCount:
        break;
      case AggFn::kSum:
      case AggFn::kAvg:
      case AggFn::kMin:
      case AggFn::kMax:
        if (def.kind == ValueKind::kText) {
          PutVarint(&out, a.text.size());
          out += a.text;
        } else {
          PutVarint(&out, ZigZag(a.i));
          PutDouble(&out, a.d);
        }
        break;
      case AggFn::kCountDistinct:
        a.distinct->Encode(&out);
        break;
    }
  }
  return out;
}

Status DecodeState(const std::vector<ValueDef>& defs, std::string_view in, AggState* state) {
  auto corrupt = [](std::string_view what) {
    return Status::Corruption(fmt::format("aggregate state: {}", what));
  };
  if (in.empty() || in.front() != 1) {
    return corrupt(in.empty() ? "empty" : fmt::format("unknown version {}", int(in.front())));
  }
  in.remove_prefix(1);
  uint64_t n;
  if (!GetVarint(&in, &n)) return corrupt("truncated value count");
  if (n != defs.size()) {
    return corrupt(fmt::format(
        "holds {} values and the pipeline file {}: the values changed since it was written "
        "(rebuild the table with `dataforge reprocess`, or write into a new table)",
        n, defs.size()));
  }
  *state = NewState(defs);
  for (size_t k = 0; k < defs.size(); ++k) {
    const ValueDef& def = defs[k];
    Accumulator& a = state->values[k];
    if (in.empty() || static_cast<AggFn>(in.front()) != def.fn) {
      return corrupt(fmt::format("value {} ('{}') was written for another fn", k + 1, def.name));
    }
    in.remove_prefix(1);
    uint64_t count;
    if (!GetVarint(&in, &count)) return corrupt(fmt::format("value '{}' truncated", def.name));
    a.count = static_cast<int64_t>(count);
    bool ok = true;
    switch (def.fn) {
      case AggFn::kCount:
        break;
      case AggFn::kSum:
      case AggFn::kAvg:
      case AggFn::kMin:
      case AggFn::kMax:
        if (def.kind == ValueKind::kText) {
          uint64_t len;
          ok = GetVarint(&in, &len) && len <= in.size();
          if (ok) {
            a.text.assign(in.substr(0, len));
            in.remove_prefix(len);
          }
        } else {
          uint64_t z = 0;
          ok = GetVarint(&in, &z) && GetDouble(&in, &a.d);
          a.i = UnZigZag(z);
        }
        break;
      case AggFn::kCountDistinct:
        ok = a.distinct->Decode(&in);
        break;
    }
    if (!ok) return corrupt(fmt::format("value '{}' truncated", def.name));
  }
  if (!in.empty()) return corrupt(fmt::format("{} bytes after the last value", in.size()));
  return Status::OK();
}

}  // namespace dataforge
