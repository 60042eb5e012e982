// A `where` condition over records (docs/expressions.md "In the pipeline file"): the rule of
// process.where, for every stage that filters records (the mapper; process.outputs[].where).
//
// A record is kept only when the condition is TRUE; FALSE and NULL drop it (the caller counts it
// `filtered`, never lost). A value that is not a boolean, or an evaluation error, is a one-line
// error naming the condition and the value: the caller dead-letters the record.
// Immutable after Compile; Keep is safe from many threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "expr/expression.h"

namespace dataforge {

class RecordFilter {
 public:
  // `where` as written ("" keeps every record); `file`, `line` and `column` say where it starts
  // in the pipeline file (ConfigError "FILE:LINE:COL: ...", or "line L, column C: ..." with no
  // file).
  static Result<RecordFilter> Compile(std::string_view where, std::string_view file, int line,
                                      int column);

  // True to keep the record, false to filter it; an error to dead-letter it.
  Result<bool> Keep(const expr::Input& input) const;

  bool keeps_all() const { return !condition_.has_value(); }

 private:
  std::optional<expr::Expression> condition_;
};

}  // namespace dataforge
