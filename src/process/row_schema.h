// process.schema (config/pipeline_config.h ProcessSchemaConfig): the schema the mapped rows are
// validated against, from the schema registry in the staging database (registry/).
//
//  - MappingSchema: the mapping's own schema, generated from the column specs. JSON Schema: a
//    closed object (additionalProperties false: a row holds only the mapping's columns) with one
//    property per column typed by the column type (text/uuid/timestamp/decimal strings, uuid
//    with its format; timestamps without "date-time", see row_schema.cc; int/bigint integer, double
//    number or its "NaN"/"Infinity" spellings, boolean), nullable unless the column is required
//    (the key column always is), `required` listing the required columns. Avro: a record of the
//    columns (int, long, double, boolean, string; uuid with logicalType uuid), a non-required
//    column a union with null first and default null.
//  - BindRowSchema (at start, and for a replay): with auto_register the mapping's schema is
//    registered under the subject (a registry write), else the subject's latest version is used.
//    A subject that is missing, holds another schema type, or refuses the mapping's schema as
//    incompatible is a ConfigError of one line naming the subject, the registry's verdict and the
//    fix (exit 2).
//  - CheckRowSchema (`dataforge config check`): the same verdict from a read-only registry, without
//    writing (TestCompatibility).
//  - RowValidator: validates one row, and says why a row fails in the dead letter's reason:
//    `schema users-row id 3 v2: /age: type: expected integer, got string "x"`.
//
// Thread-safety: RowSchema is immutable and shared; a RowValidator is thread-compatible (one per
// processor thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "registry/schema_format.h"
#include "registry/schema_registry.h"

namespace dataforge {

// The schema type process.schema.type names ("json" or "avro").
registry::SchemaType RowSchemaType(const ProcessSchemaConfig& schema);

// The mapping's schema of process.schema.type (see the header comment).
registry::SchemaText MappingSchema(const ProcessConfig& config);

struct RowSchema {
  std::string subject;
  int64_t id = 0;       // 0: not registered (a dry-run replay of a mapping not registered yet)
  int32_t version = 0;  // 0: not registered
  std::shared_ptr<const registry::ParsedSchema> parsed;
  // "schema users-row id 3 v2" (unregistered: "schema users-row (unregistered mapping schema)").
  std::string Name() const;
};

// Resolves process.schema at start. `config_file` names the pipeline file in errors ("" = the
// built-in default). With auto_register and `may_register` false, a mapping schema the subject
// does not hold yet is checked for compatibility and used unregistered (id 0).
Result<std::shared_ptr<const RowSchema>> BindRowSchema(registry::SchemaRegistry* registry,
                                                       const ProcessConfig& config,
                                                       const std::string& config_file,
                                                       bool may_register = true);

// `config check`: one line saying what the run will validate with, or the ConfigError the run
// would fail with. Reads only; `registry` null = an empty registry (no staging database yet).
Result<std::string> CheckRowSchema(registry::SchemaRegistry* registry, const ProcessConfig& config,
                                   const std::string& config_file);

class RowValidator {
 public:
  explicit RowValidator(std::shared_ptr<const RowSchema> schema);
  // nullopt when `row_json` (a mapped row) matches; else the dead letter's reason.
  std::optional<std::string> Check(std::string_view row_json);
  const RowSchema& schema() const { return *schema_; }

 private:
  std::shared_ptr<const RowSchema> schema_;
  std::unique_ptr<registry::RecordValidator> validator_;
  std::string prefix_;  // "schema users-row id 3 v2: "
};

}  // namespace dataforge
