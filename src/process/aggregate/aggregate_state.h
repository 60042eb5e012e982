// The state of one aggregate over one (group, window, log partition): one accumulator per
// value of `process.aggregates[].values`, how it is updated by a record, merged with another
// partition's state, turned into result columns, and encoded for the store's state table.
//
// Nulls are ignored as SQL does: count(of) counts non-null values, count (no `of`) counts
// records, sum/min/max/avg of only nulls is null. count_distinct keeps the 64-bit hashes of the
// values (HashValue) exactly up to `distinct_exact_limit`, then a HyperLogLog sketch
// (hyperloglog.h: standard error ~0.81%); merging two exact sets past the limit, an exact set into
// a sketch, or two sketches gives a sketch.
// State encoding (version 1; docs/aggregates.md "State table"): byte 1, varint value count, then
// per value its fn code and its fields (varints, zigzag for signed integers, doubles as 8 bytes
// little-endian, text as varint length + bytes; count_distinct: mode 0 = varint n + n hashes of
// 8 bytes, mode 1 = the sketch's 16,384 registers). Decoding checks every length and the fn
// codes against the configured values, so a state written for another value list is an error,
// never a silent misread.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "process/aggregate/hyperloglog.h"

namespace dataforge {

class JsonObjectWriter;

enum class AggFn : uint8_t { kCount = 1, kSum, kMin, kMax, kAvg, kCountDistinct };
// How the `of` column's values add and compare (from the column's type).
enum class ValueKind : uint8_t { kInteger, kDouble, kText };

// One configured value, resolved against process.columns.
struct ValueDef {
  std::string name;
  AggFn fn = AggFn::kCount;
  std::string of;  // "" = count(*)
  ValueKind kind = ValueKind::kInteger;
  std::string result_type;  // the CQL type of the result column
};

// Resolves a spec's values (the config reader has checked fn names and `of` columns). Also the
// one place that says the result column types (docs/aggregates.md "Result table").
Result<std::vector<ValueDef>> ResolveValues(const AggregateSpec& spec,
                                            const std::vector<ColumnSpec>& columns);
// The kind of a column type for `fn`, or an error text saying why the type does not fit.
Result<ValueKind> KindOf(AggFn fn, const std::string& column_type);
// "count" -> kCount, ...; nullopt-like: false when unknown.
bool ParseAggFn(std::string_view name, AggFn* out);

// A record's value of `of`: null, or its number / text.
struct InputValue {
  bool null = true;
  int64_t i = 0;
  double d = 0;
  std::string_view text;  // kText values, and the text count_distinct hashes
};

// The exact form is a sorted vector of distinct hashes plus the hashes added since it was last
// folded in (unsorted, maybe repeated): an Add appends, and folding (once the added ones reach
// half the sorted ones, and before any read) sorts them and merges, so an Add costs O(1)
// amortised, 8 bytes a hash, and Encode, Decode and Merge are linear with no per-hash
// allocation. The set turns into a sketch when a fold finds more than the limit: the sketch of
// the same hashes (register maxima do not depend on the order), so every read is what an
// immediate switch would give. The const reads fold first: they change the representation, not
// the set, so a DistinctSet (const or not) is for one thread at a time.
class DistinctSet {
 public:
  void Add(uint64_t hash, uint64_t exact_limit);
  void Merge(const DistinctSet& other, uint64_t exact_limit);
  uint64_t Count() const;
  bool exact() const;
  void Encode(std::string* out) const;
  bool Decode(std::string_view* in);

 private:
  // Folds `added_` into `sorted_`, then becomes a sketch past `limit_`.
  void Fold() const;
  void ToSketch() const;
  mutable std::vector<uint64_t> sorted_;  // distinct, ascending (exact form)
  mutable std::vector<uint64_t> added_;   // since the last Fold
  mutable std::unique_ptr<HyperLogLog> hll_;
  uint64_t limit_ = UINT64_MAX;  // the exact_limit of the last Add or Merge
};

struct Accumulator {
  int64_t count = 0;  // records (count), non-null values (every other fn)
  int64_t i = 0;      // integer sum, or min/max
  double d = 0;       // double sum (sum, avg), or min/max
  std::string text;   // text min/max
  std::unique_ptr<DistinctSet> distinct;
};

struct AggState {
  std::vector<Accumulator> values;  // parallel to the ValueDefs
};

AggState NewState(const std::vector<ValueDef>& defs);
void Update(const std::vector<ValueDef>& defs, const std::vector<InputValue>& inputs,
            uint64_t exact_limit, AggState* state);
void MergeInto(const std::vector<ValueDef>& defs, const AggState& from, uint64_t exact_limit,
               AggState* into);
// Adds one column per value to `row`: the value, or null (min/max/sum/avg of no values).
void AppendResults(const std::vector<ValueDef>& defs, const AggState& state, JsonObjectWriter* row);

// Varints (LEB128) and zigzag, shared with the session list encoding (aggregate_stage.cc).
void PutVarint(std::string* out, uint64_t v);
bool GetVarint(std::string_view* in, uint64_t* v);
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

std::string EncodeState(const std::vector<ValueDef>& defs, const AggState& state);
// Corruption naming what did not fit (the caller adds the row's key).
Status DecodeState(const std::vector<ValueDef>& defs, std::string_view bytes, AggState* state);

}  // namespace dataforge
