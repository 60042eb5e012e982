// Data-quality assertions of a `check` task, evaluated over rows from the store (a table's
// rows, as JSON objects) or from a SQL query on the staging database. Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dataforge {

struct CheckSpec {
  std::optional<uint64_t> min_rows, max_rows;  // row_count: {min, max}
  std::vector<std::string> not_null;           // columns that must be present and not null
  std::vector<std::string> unique;             // columns whose values must not repeat
  std::string fresh_column;                    // freshness: newest value of this column...
  int64_t fresh_max_age_us = 0;                // ...is at most this old at `now_us`
};

// Feed rows one at a time, then Finish(). Columns are top-level fields of the row (a dotted
// path "a.b" reaches into objects for JSON rows).
class CheckEvaluator {
 public:
  explicit CheckEvaluator(CheckSpec spec);

  // A store row: one JSON object. A row that is not a JSON object counts as a row whose
  // columns are all null.
  void AddJsonRow(std::string_view row_json);
  // A SQL row: column names and values (nullopt = NULL).
  void AddSqlRow(const std::vector<std::string>& columns,
                 const std::vector<std::optional<std::string>>& values);

  // OK with a one-line summary in `*summary` ("1000 rows; email: no nulls; id: unique;
  // registered_date newest 2026-11-24T10:00:00Z, 2 h old <= 1 d"), or FailedPrecondition naming
  // every failed assertion with its numbers ("row count 0 is below min 1; email: 3 nulls in
  // 1000 rows; id: 2 duplicate values, e.g. 'x'"). Freshness values: ISO 8601 timestamps
  // (with or without offset; UTC if none) or epoch seconds/milliseconds; a column with no
  // parseable value fails freshness.
  Status Finish(int64_t now_us, std::string* summary);

 private:
  struct State;
  CheckSpec spec_;
  std::shared_ptr<State> state_;
};

}  // namespace dataforge
