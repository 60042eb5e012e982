// GET /v1/tables/{table}/aggregate?group_by=col&agg=count,min(c),max(c),sum(c),avg(c)[&filters]:
// one scan of the table (rows_query.h ScanMatching), rows grouped by a column's value.
// Answer: {"groups":[{"<col>":v,"count":n,"min(c)":v,...}]} sorted by the group value in the
// column's type order (typed_value.h), the null group last; without group_by one group.
// min/max compare by the column's type and give the stored value; sum/avg take int, bigint,
// double and float columns (sum of integers is exact while it fits in 64 bits, then a double);
// nulls are skipped (a group with no value: null). Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "serve/http/api.h"
#include "store/store.h"

namespace dataforge::rest {

enum class AggFunction { kCount, kMin, kMax, kSum, kAvg };

struct AggSpec {
  AggFunction function = AggFunction::kCount;
  std::string column;  // "" for count
  std::string name;    // as written: "count", "min(age)"
};

struct AggregateQuery {
  std::string group_by;  // "" = one group
  std::vector<AggSpec> aggs;
};

// group_by and agg (default "count"). InvalidArgument with the API's message.
Result<AggregateQuery> ParseAggregateQuery(const http::ApiRequest& request,
                                           const TableSchema& schema);

// Scans `table` with the request's filters; the answer's JSON.
Result<std::string> RunAggregate(Store* store, const std::string& table, const TableSchema& schema,
                                 const AggregateQuery& query, const http::ApiRequest& request);

}  // namespace dataforge::rest
