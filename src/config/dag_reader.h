// Reads the `dags:` and `scheduler:` sections of a pipeline file (see config/dag_config.h).
#pragma once

#include <yaml-cpp/yaml.h>

#include <vector>

#include "common/status.h"
#include "config/dag_config.h"
#include "config/yaml_reader.h"

namespace dataforge {

class DagReader : public YamlReader {
 public:
  using YamlReader::YamlReader;

  // `dags`: a mapping of DAG id -> DAG. Replaces *dags (a file's dags replace the defaults').
  Status ReadDags(const YAML::Node& dags, std::vector<DagSpec>* out);
  Status ReadScheduler(const YAML::Node& n, SchedulerConfig* out);

 private:
  Status ReadDag(const std::string& id, const YAML::Node& n, DagSpec* dag);
  Status ReadTask(const YAML::Node& n, const YAML::Node& defaults, TaskSpec* task);
  Status ReadTaskPolicy(const YAML::Node& n, TaskSpec* task);
  Status ReadTypeFields(const YAML::Node& n, TaskSpec* task);
  Status CheckGraph(const YAML::Node& n, const DagSpec& dag);
  Status CheckTemplate(const YAML::Node& n, const char* key, const std::string& text);
  Status Duration(const YAML::Node& map, const char* key, int64_t min_us, int64_t* out);
};

// Template variables a task parameter may use: ds, ds_nodash, ts, ts_nodash, logical_date,
// data_interval_start, data_interval_end, run_id, dag_id, task_id, try_number, and conf.KEY
// (a key of the run's --conf JSON).
bool IsTaskTemplateVariable(std::string_view name);

}  // namespace dataforge
