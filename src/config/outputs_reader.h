// Reading `process.outputs` (docs/pipeline-file.md "process.outputs"): derived tables and topic
// outputs of the processor. Called by the pipeline file's reader once process.table, key_column
// and columns are read; every error is a ConfigError "FILE:LINE: what, how to fix".
// Thread-compatible.
#pragma once

#include <functional>
#include <set>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/status.h"
#include "config/pipeline_config.h"
#include "config/yaml_reader.h"

namespace dataforge {

// Reads one column of a derived table exactly as one of process.columns (the pipeline file's
// own column reader, so `expr` columns read the same way in both).
using ColumnReaderFn = std::function<Status(const YAML::Node&, ColumnSpec*)>;

// Reads the list `n` into `process->outputs`. `process` holds the rest of the process section
// (its table must be known: a derived table may not be process.table).
Status ReadOutputs(YamlReader& reader, const YAML::Node& n, const ColumnReaderFn& read_column,
                   ProcessConfig* process);

}  // namespace dataforge
