// PostgREST-style row filters of the tables API: a query parameter `<column>=<op>.<value>`
// (docs/serving.md "Tables"), parsed against the table's schema and matched against stored row
// JSON by the column's type (typed_value.h). Several filters must all match.
//
//   eq, neq, gt, gte, lt, lte   age=gte.18          a value of the column's type
//   in                          id=in.(a,b,"c,d")   a list; double quotes keep commas
//   like                        name=like.Jo*       text columns; * and % match any run of
//                                                   characters (no single-character wildcard)
//   is                          dob=is.null, dob=is.not_null
//   not.<op>                    age=not.in.(1,2)    negates any of the above
//
// A missing or null column matches no comparison, negated or not (as SQL's NULL); only
// is.null / is.not_null (or not.is.null) test for it.
// Thread-safety: a parsed Filter and a RowMatcher are immutable; Matches is const.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "serve/rest/typed_value.h"
#include "store/store.h"

namespace dataforge::rest {

enum class FilterOp { kEq, kNeq, kGt, kGte, kLt, kLte, kIn, kLike, kIsNull, kIsNotNull };

struct Filter {
  std::string shown;  // "age=gt.5", for messages
  std::string column;
  ValueKind kind = ValueKind::kText;
  FilterOp op = FilterOp::kEq;
  bool negated = false;
  std::vector<TypedValue> values;  // one for eq..lte, the list for in
  std::string pattern;             // like
};

// "id, name, age": the schema's column names, for messages.
std::string ColumnList(const TableSchema& schema);
// The column's schema entry, or nullptr.
const ColumnSchema* FindColumn(const TableSchema& schema, std::string_view name);

// Parses the query parameter `column`=`value`. InvalidArgument with the message the API returns
// ("filter age=gt.abc: expected a number for column age (int)", an unknown column listing the
// columns, an unknown operator listing the operators).
Result<Filter> ParseFilter(const TableSchema& schema, std::string_view column,
                           std::string_view value);

// `pattern`'s * and % match any run of characters; every other character itself.
bool LikeMatch(std::string_view pattern, std::string_view text);

class RowMatcher {
 public:
  RowMatcher() = default;
  explicit RowMatcher(std::vector<Filter> filters) : filters_(std::move(filters)) {}
  bool empty() const { return filters_.empty(); }
  const std::vector<Filter>& filters() const { return filters_; }
  // Whether `row` passes every filter.
  bool Matches(simdjson::dom::object row) const;

 private:
  std::vector<Filter> filters_;
};

}  // namespace dataforge::rest
