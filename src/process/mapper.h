// The record mapping: a raw JSON record -> one row (a JSON object), driven entirely by the
// pipeline file's column specs (config/pipeline_config.h, ColumnSpec). Nothing about the
// record shape is compiled in. `process.where` and `expr` columns are expressions
// (docs/expressions.md, expr/expression.h), compiled once in Create().
//
// Thread-compatible: Map() uses a parser owned by the Mapper; give each thread its own Mapper.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "expr/expression.h"
#include "expr/value.h"
#include "process/record_filter.h"

namespace simdjson::dom {
class parser;
class element;
}  // namespace simdjson::dom

namespace dataforge {

struct MapResult {
  bool ok = false;
  std::string key;  // the key column's value as text (ok only)
  // {"col":value,...} in spec order (ok only), with only the columns the record carries: a
  // column whose paths and templates the record lacks is left out (the store keeps its value,
  // store.h RowWrite); one the record gives as null is written null.
  std::string row_json;
  // ok rows: `row_json` holds every column of the mapping, none left out; its members are
  // then exactly Mapper::ColumnNames(), in that order.
  bool every_column = false;
  std::string error;     // one line: which column, which path, what was wrong (!ok only)
  bool deleted = false;  // the record matched process.delete_when: remove the row `key`
  // process.where was not true for the record: no row, no letter; counted as `filtered`.
  bool filtered = false;
};

class Mapper {
 public:
  // Validates and compiles the specs; ConfigError names the column and its line.
  static Result<Mapper> Create(const ProcessConfig& config);
  Mapper(Mapper&&) noexcept;
  Mapper& operator=(Mapper&&) noexcept;
  ~Mapper();

  // One record. A delete (process.delete_when) is never filtered; otherwise, when
  // process.where is not TRUE (FALSE or NULL) the result is {ok, filtered} with no row. An
  // expression that fails (where or a column) gives !ok with an error naming the column (or
  // `where`), the expression and the value: the processor dead-letters the record.
  // `now_ms` is now() for the expressions (the processor's clock); 0 = the system clock.
  // `record_us` is the record's log timestamp (LogRecord::timestamp_us), the value of the path
  // and expression `$timestamp`; 0 = the record has none (a dead letter's replay): null.
  MapResult Map(std::string_view key, std::string_view raw_json, int64_t now_ms = 0,
                int64_t record_us = 0);
  // A tombstone (a Kafka record with a null value, log.h): a delete of the row whose key the
  // key column takes from the record's key (`$key`, or an expression over it), as Kafka
  // Connect sinks read tombstones. A key column that needs the record's value gives !ok with an
  // error saying so (the processor dead-letters the tombstone).
  MapResult MapTombstone(std::string_view key, int64_t now_ms = 0, int64_t record_us = 0);

  // The mapping's column names in spec order (the members of a row with `every_column`). Shared,
  // immutable: a RowWrite may hold it (RowWrite::columns) after the mapper is gone.
  const std::shared_ptr<const std::vector<std::string>>& ColumnNames() const {
    return column_names_;
  }

 private:
  enum class Type { kText, kUuid, kInt, kBigint, kDouble, kBoolean, kTimestamp, kDecimal };
  struct Path {
    bool is_key = false;             // "$key"
    bool is_record_time = false;     // "$timestamp": ISO 8601 UTC text, milliseconds
    std::vector<std::string> parts;  // dotted path split
    std::string text;                // as written, for errors
  };
  struct TemplatePart {
    bool is_path = false;
    std::string literal;
    Path path;
  };
  struct Column {
    std::string name;
    std::string json_name;  // the name as a quoted JSON string
    Type type = Type::kText;
    std::vector<Path> paths;
    std::vector<std::vector<TemplatePart>> templates;
    std::optional<expr::Expression> expr;  // an `expr` column: no paths, no templates
    bool required = false;
  };

  Mapper() = default;
  bool ColumnValue(const Column& c, const expr::Input& in, std::string* out_json,
                   std::string* out_text, bool* present, bool* carried, std::string* error);
  // An `expr` column's value cast to its type (mapper_expr.cc); null is not `present`.
  bool ExprColumnValue(const Column& c, const expr::Input& in, std::string* out_json,
                       std::string* out_text, bool* present, std::string* error);
  // The column's value, from its expression or its paths and templates.
  bool AnyColumnValue(const Column& c, const expr::Input& in, std::string* out_json,
                      std::string* out_text, bool* present, bool* carried, std::string* error);
  // The delete of the row whose key the key column gives for `in`; `absent` is the error when
  // the key column has no value there.
  MapResult DeleteByKey(const expr::Input& in, std::string absent);

  std::vector<Column> columns_;
  std::shared_ptr<const std::vector<std::string>> column_names_;
  Path delete_path_;  // process.delete_when; empty parts = none
  std::string delete_value_;
  RecordFilter where_;            // process.where
  bool has_expressions_ = false;  // a where or an `expr` column
  expr::Value value_;             // an expression's value, reused record after record
  size_t key_column_ = 0;
  std::unique_ptr<simdjson::dom::parser> parser_;
  // For paths that step into a string holding JSON (a change event's json/jsonb values).
  std::unique_ptr<simdjson::dom::parser> nested_parser_;
  std::string scratch_;
};

}  // namespace dataforge
