// Reads `process.aggregates` of a pipeline file (docs/aggregates.md "Syntax") into
// AggregateSpecs, checked against the process section it belongs to: group_by, of and time name
// process.columns (time a timestamp column), durations parse, fn names and their column types
// fit, window types have what they need, tables are not used twice. Every error is a
// ConfigError "FILE:LINE: what, how to fix".
// Thread-compatible.
#pragma once

#include <vector>

#include "config/pipeline_config.h"
#include "config/yaml_reader.h"

namespace dataforge {

class AggregatesReader : public YamlReader {
 public:
  using YamlReader::YamlReader;

  // `n` is the value of `process.aggregates`; `process` has its columns and table read.
  Status Read(const YAML::Node& n, const ProcessConfig& process, std::vector<AggregateSpec>* out);

 private:
  Status ReadOne(const YAML::Node& n, const ProcessConfig& process, AggregateSpec* a);
  Status ReadWindow(const YAML::Node& n, const ProcessConfig& process, WindowSpec* w);
  Status ReadValue(const YAML::Node& n, const ProcessConfig& process, AggregateValueSpec* v);
  // A duration in milliseconds; `min_ms` the least it may be.
  Status DurationMs(const YAML::Node& map, const char* key, int64_t min_ms, int64_t* out);
};

}  // namespace dataforge
