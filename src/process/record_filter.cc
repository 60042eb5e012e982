#include "process/record_filter.h"

#include <fmt/format.h>

#include "common/escape.h"

namespace dataforge {

Result<RecordFilter> RecordFilter::Compile(std::string_view where, std::string_view file, int line,
                                           int column) {
  RecordFilter f;
  if (where.empty()) return f;
  DF_ASSIGN_OR_RETURN(expr::Expression e, expr::Expression::Compile(where, file, line, column));
  f.condition_ = std::move(e);
  return f;
}

Result<bool> RecordFilter::Keep(const expr::Input& input) const {
  if (!condition_) return true;
  expr::Value v;  // a boolean: nothing to allocate
  Status st = condition_->EvaluateInto(input, &v);
  if (!st.ok()) {
    return Status::InvalidArgument(
        EscapeControlChars(fmt::format("where \"{}\": {}", condition_->text(), st.message())));
  }
  if (v.is_null()) return false;
  if (v.kind != expr::Kind::kBool) {
    return Status::InvalidArgument(EscapeControlChars(
        fmt::format("where \"{}\" gave {}, not a boolean: write a condition (e.g. x = 1, x IS "
                    "NOT NULL)",
                    condition_->text(), expr::DescribeValue(v))));
  }
  return v.b;
}

}  // namespace dataforge
