#include "config/dag_reader.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/template.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

constexpr const char* kTaskTypes[] = {"ingest", "sql", "check", "shell", "compact"};

bool IdOk(const std::string& id) {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

bool IsTaskTemplateVariable(std::string_view name) {
  static const std::set<std::string_view> kNames = {"ds",
                                                    "ds_nodash",
                                                    "ts",
                                                    "ts_nodash",
                                                    "logical_date",
                                                    "data_interval_start",
                                                    "data_interval_end",
                                                    "run_id",
                                                    "dag_id",
                                                    "task_id",
                                                    "try_number"};
  return kNames.count(name) > 0 || (name.rfind("conf.", 0) == 0 && name.size() > 5);
}

Status DagReader::ReadScheduler(const YAML::Node& n, SchedulerConfig* out) {
  DF_RETURN_IF_ERROR(Keys(n, "'scheduler'", {"parallelism", "lease", "poll", "max_output_bytes"}));
  DF_RETURN_IF_ERROR(Num(n, "parallelism", 1, 1024, &out->parallelism));
  DF_RETURN_IF_ERROR(Duration(n, "lease", 1'000'000, &out->lease_us));
  DF_RETURN_IF_ERROR(Duration(n, "poll", 10'000, &out->poll_us));
  DF_RETURN_IF_ERROR(
      Num<size_t>(n, "max_output_bytes", 1024, size_t{16} << 20, &out->max_output_bytes));
  return Status::OK();
}

Status DagReader::Duration(const YAML::Node& map, const char* key, int64_t min_us, int64_t* out) {
  auto n = map[key];
  if (!n) return Status::OK();
  std::string text;
  DF_RETURN_IF_ERROR(Str(map, key, &text));
  auto us = ParseDuration(text);
  if (!us.ok()) {
    return Error(n, fmt::format("'{}' is '{}': {} (write e.g. 30s, 5m, 1h30m)", key, text,
                                us.status().message()));
  }
  if (*us < min_us) {
    return Error(
        n, fmt::format("'{}' is {}; it must be at least {}", key, text, FormatDuration(min_us)));
  }
  *out = *us;
  return Status::OK();
}

Status DagReader::CheckTemplate(const YAML::Node& n, const char* key, const std::string& text) {
  auto names = TemplateNames(text);
  if (!names.ok()) return Error(n, fmt::format("'{}': {}", key, names.status().message()));
  for (const auto& name : *names) {
    if (!IsTaskTemplateVariable(name)) {
      return Error(n, fmt::format("'{}' uses unknown template variable '{}'; known: ds, "
                                  "ds_nodash, ts, ts_nodash, logical_date, data_interval_start, "
                                  "data_interval_end, run_id, dag_id, task_id, try_number, "
                                  "conf.KEY",
                                  key, name));
    }
  }
  return Status::OK();
}

Status DagReader::ReadDags(const YAML::Node& dags, std::vector<DagSpec>* out) {
  out->clear();
  if (dags.IsNull()) return Status::OK();
  if (!dags.IsMap()) {
    return Error(dags, "'dags' must be a mapping of DAG id to DAG (e.g. user_automation: {...})");
  }
  for (const auto& kv : dags) {
    auto id = kv.first.as<std::string>();
    if (!IdOk(id)) {
      return Error(kv.first, fmt::format("DAG id '{}' may hold only letters, digits, '.', '_' "
                                         "and '-'",
                                         id));
    }
    DagSpec dag;
    DF_RETURN_IF_ERROR(ReadDag(id, kv.second, &dag));
    out->push_back(std::move(dag));
  }
  return Status::OK();
}

Status DagReader::ReadDag(const std::string& id, const YAML::Node& n, DagSpec* dag) {
  std::string where = fmt::format("DAG '{}'", id);
  DF_RETURN_IF_ERROR(Keys(n, where,
                          {"description", "schedule", "timezone", "start_date", "catchup",
                           "max_active_runs", "paused", "default_args", "tasks"}));
  dag->id = id;
  dag->line = n.Mark().line + 1;
  DF_RETURN_IF_ERROR(Str(n, "description", &dag->description));
  DF_RETURN_IF_ERROR(Str(n, "timezone", &dag->time_zone));
  if (!IsTimeZone(dag->time_zone)) {
    return Error(n["timezone"], fmt::format("unknown time zone '{}'; use an IANA name such as "
                                            "UTC or Europe/Berlin",
                                            dag->time_zone));
  }
  DF_RETURN_IF_ERROR(Str(n, "schedule", &dag->schedule));
  if (auto s = Schedule::Parse(dag->schedule, dag->time_zone); !s.ok()) {
    return Error(n["schedule"] ? n["schedule"] : n,
                 fmt::format("{}: schedule '{}': {}", where, dag->schedule, s.status().message()));
  }
  if (!n["start_date"]) {
    return Error(n, fmt::format("{} needs a 'start_date' (e.g. start_date: 2024-01-01)", where));
  }
  std::string start;
  DF_RETURN_IF_ERROR(Str(n, "start_date", &start));
  auto start_us = ParseDateTime(start, dag->time_zone);
  if (!start_us.ok()) {
    return Error(n["start_date"],
                 fmt::format("{}: start_date '{}': {}", where, start, start_us.status().message()));
  }
  dag->start_us = *start_us;
  DF_RETURN_IF_ERROR(Bool(n, "catchup", &dag->catchup));
  DF_RETURN_IF_ERROR(Num(n, "max_active_runs", 1, 1000, &dag->max_active_runs));
  DF_RETURN_IF_ERROR(Bool(n, "paused", &dag->paused_on_create));
  YAML::Node defaults = n["default_args"];
  if (defaults && !defaults.IsMap() && !defaults.IsNull()) {
    return Error(defaults, "'default_args' must be a mapping (retries, retry_delay, timeout, ...)");
  }
  if (defaults && defaults.IsMap()) {
    DF_RETURN_IF_ERROR(Keys(defaults, fmt::format("'default_args' of {}", where),
                            {"retries", "retry_delay", "retry_exponential_backoff",
                             "max_retry_delay", "timeout", "depends_on_past"}));
  }
  auto tasks = n["tasks"];
  if (!tasks || !tasks.IsSequence() || tasks.size() == 0) {
    return Error(tasks ? tasks : n,
                 fmt::format("{} needs 'tasks': a list of tasks, each with an 'id' and a 'type' "
                             "({})",
                             where, fmt::join(kTaskTypes, ", ")));
  }
  std::set<std::string> seen;
  for (const auto& item : tasks) {
    TaskSpec task;
    DF_RETURN_IF_ERROR(ReadTask(item, defaults, &task));
    if (!seen.insert(task.id).second) {
      return Error(item, fmt::format("{}: task id '{}' is used twice", where, task.id));
    }
    dag->tasks.push_back(std::move(task));
  }
  return CheckGraph(tasks, *dag);
}

Status DagReader::ReadTaskPolicy(const YAML::Node& n, TaskSpec* t) {
  DF_RETURN_IF_ERROR(Num(n, "retries", 0, 100, &t->retries));
  DF_RETURN_IF_ERROR(Duration(n, "retry_delay", 0, &t->retry_delay_us));
  DF_RETURN_IF_ERROR(Bool(n, "retry_exponential_backoff", &t->retry_exponential));
  DF_RETURN_IF_ERROR(Duration(n, "max_retry_delay", 0, &t->max_retry_delay_us));
  DF_RETURN_IF_ERROR(Duration(n, "timeout", 1'000, &t->timeout_us));
  DF_RETURN_IF_ERROR(Bool(n, "depends_on_past", &t->depends_on_past));
  return Status::OK();
}

Status DagReader::ReadTask(const YAML::Node& n, const YAML::Node& defaults, TaskSpec* t) {
  if (!n.IsMap()) return Error(n, "a task must be a mapping with an 'id' and a 'type'");
  t->line = n.Mark().line + 1;
  DF_RETURN_IF_ERROR(Str(n, "id", &t->id));
  if (!IdOk(t->id)) {
    return Error(n, t->id.empty() ? std::string("every task needs an 'id'")
                                  : fmt::format("task id '{}' may hold only letters, digits, "
                                                "'.', '_' and '-'",
                                                t->id));
  }
  if (!n["type"]) {
    return Error(
        n, fmt::format("task '{}' needs a 'type': one of {}", t->id, fmt::join(kTaskTypes, ", ")));
  }
  DF_RETURN_IF_ERROR(Str(n, "type", &t->type));
  bool known = false;
  for (const char* k : kTaskTypes) known |= t->type == k;
  if (!known) {
    return Error(n["type"], fmt::format("task '{}' has unknown type '{}'; known types: {}", t->id,
                                        t->type, fmt::join(kTaskTypes, ", ")));
  }
  if (defaults && defaults.IsMap()) DF_RETURN_IF_ERROR(ReadTaskPolicy(defaults, t));
  DF_RETURN_IF_ERROR(ReadTaskPolicy(n, t));
  DF_RETURN_IF_ERROR(StrList(n, "depends_on", &t->depends_on));
  return ReadTypeFields(n, t);
}

Status DagReader::ReadTypeFields(const YAML::Node& n, TaskSpec* t) {
  static const std::map<std::string, std::vector<const char*>> kFields = {
      {"ingest", {"records", "pages", "duration", "url", "seed", "results_per_page"}},
      {"sql", {"sql"}},
      {"check", {"table", "query", "row_count", "not_null", "unique", "freshness"}},
      {"shell", {"command", "env", "cwd"}},
      {"compact", {"log", "store"}},
  };
  const std::set<std::string> common = {"id",
                                        "type",
                                        "depends_on",
                                        "retries",
                                        "retry_delay",
                                        "retry_exponential_backoff",
                                        "max_retry_delay",
                                        "timeout",
                                        "depends_on_past"};
  const auto& mine = kFields.at(t->type);
  for (const auto& kv : n) {
    auto key = kv.first.as<std::string>();
    if (common.count(key)) continue;
    bool ok = false;
    for (const char* k : mine) ok |= key == k;
    if (ok) continue;
    std::string owner;
    for (const auto& [type, fields] : kFields) {
      for (const char* k : fields) {
        if (key == k && owner.empty()) owner = type;
      }
    }
    return Error(kv.first,
                 owner.empty()
                     ? fmt::format("unknown key '{}' in task '{}' (a {} task takes: {})", key,
                                   t->id, t->type, fmt::join(mine, ", "))
                     : fmt::format("key '{}' belongs to {} tasks; task '{}' is a {} task (it "
                                   "takes: {})",
                                   key, owner, t->id, t->type, fmt::join(mine, ", ")));
  }
  if (t->type == "ingest") {
    DF_RETURN_IF_ERROR(Num<uint64_t>(n, "records", 0, 1ull << 40, &t->records));
    DF_RETURN_IF_ERROR(Num<uint64_t>(n, "pages", 0, 1ull << 30, &t->pages));
    DF_RETURN_IF_ERROR(Duration(n, "duration", 0, &t->duration_us));
    DF_RETURN_IF_ERROR(Str(n, "url", &t->source_url));
    DF_RETURN_IF_ERROR(Str(n, "seed", &t->source_seed));
    DF_RETURN_IF_ERROR(Num(n, "results_per_page", 0, 5000, &t->results_per_page));
    DF_RETURN_IF_ERROR(CheckTemplate(n, "url", t->source_url));
    DF_RETURN_IF_ERROR(CheckTemplate(n, "seed", t->source_seed));
    if (t->records == 0 && t->pages == 0 && t->duration_us == 0) {
      return Error(n, fmt::format("ingest task '{}' needs 'records: N', 'pages: N' or "
                                  "'duration: 1m' (it stops at the first reached)",
                                  t->id));
    }
  } else if (t->type == "sql") {
    DF_RETURN_IF_ERROR(Str(n, "sql", &t->sql));
    if (t->sql.empty()) return Error(n, fmt::format("sql task '{}' needs 'sql: STATEMENT'", t->id));
    DF_RETURN_IF_ERROR(CheckTemplate(n, "sql", t->sql));
  } else if (t->type == "shell") {
    DF_RETURN_IF_ERROR(Str(n, "command", &t->command));
    DF_RETURN_IF_ERROR(Str(n, "cwd", &t->cwd));
    if (t->command.empty()) {
      return Error(n, fmt::format("shell task '{}' needs 'command: ...'", t->id));
    }
    DF_RETURN_IF_ERROR(CheckTemplate(n, "command", t->command));
    DF_RETURN_IF_ERROR(CheckTemplate(n, "cwd", t->cwd));
    if (auto env = n["env"]) {
      if (!env.IsMap()) return Error(env, "'env' must be a mapping of NAME: value");
      for (const auto& kv : env) {
        auto name = kv.first.as<std::string>();
        if (!kv.second.IsScalar()) {
          return Error(kv.second, fmt::format("env '{}' must be a single value", name));
        }
        auto v = InterpolateEnv(kv.second.Scalar());
        if (!v.ok()) return Error(kv.second, v.status().message());
        DF_RETURN_IF_ERROR(CheckTemplate(kv.second, "env", *v));
        t->env.emplace_back(name, std::move(v).value());
      }
    }
  } else if (t->type == "check") {
    DF_RETURN_IF_ERROR(Str(n, "table", &t->check_table));
    DF_RETURN_IF_ERROR(Str(n, "query", &t->check_query));
    if (t->check_table.empty() == t->check_query.empty()) {
      return Error(n, fmt::format("check task '{}' needs either 'table: NAME' (a store table) or "
                                  "'query: SELECT ...' (on the staging database), not both",
                                  t->id));
    }
    DF_RETURN_IF_ERROR(CheckTemplate(n, "query", t->check_query));
    if (auto rc = n["row_count"]) {
      if (!rc.IsMap()) return Error(rc, "'row_count' must be {min: N, max: N}");
      DF_RETURN_IF_ERROR(Keys(rc, "'row_count'", {"min", "max"}));
      uint64_t v = 0;
      if (rc["min"]) {
        DF_RETURN_IF_ERROR(Num<uint64_t>(rc, "min", 0, ~0ull, &v));
        t->min_rows = v;
      }
      if (rc["max"]) {
        DF_RETURN_IF_ERROR(Num<uint64_t>(rc, "max", 0, ~0ull, &v));
        t->max_rows = v;
      }
      if (t->min_rows && t->max_rows && *t->min_rows > *t->max_rows) {
        return Error(rc,
                     fmt::format("row_count min {} is above max {}", *t->min_rows, *t->max_rows));
      }
    }
    DF_RETURN_IF_ERROR(StrList(n, "not_null", &t->not_null));
    DF_RETURN_IF_ERROR(StrList(n, "unique", &t->unique));
    if (auto f = n["freshness"]) {
      if (!f.IsMap()) return Error(f, "'freshness' must be {column: NAME, max_age: 1d}");
      DF_RETURN_IF_ERROR(Keys(f, "'freshness'", {"column", "max_age"}));
      DF_RETURN_IF_ERROR(Str(f, "column", &t->fresh_column));
      DF_RETURN_IF_ERROR(Duration(f, "max_age", 1'000'000, &t->fresh_max_age_us));
      if (t->fresh_column.empty() || t->fresh_max_age_us == 0) {
        return Error(f, "'freshness' needs both 'column' and 'max_age'");
      }
    }
    if (!t->min_rows && !t->max_rows && t->not_null.empty() && t->unique.empty() &&
        t->fresh_column.empty()) {
      return Error(n, fmt::format("check task '{}' asserts nothing: give row_count, not_null, "
                                  "unique or freshness",
                                  t->id));
    }
  } else if (t->type == "compact") {
    DF_RETURN_IF_ERROR(Bool(n, "log", &t->compact_log));
    DF_RETURN_IF_ERROR(Bool(n, "store", &t->compact_store));
    if (!t->compact_log && !t->compact_store) {
      return Error(n, fmt::format("compact task '{}' has log: false and store: false: it would "
                                  "do nothing",
                                  t->id));
    }
  }
  return Status::OK();
}

Status DagReader::CheckGraph(const YAML::Node& tasks, const DagSpec& dag) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < dag.tasks.size(); ++i) index[dag.tasks[i].id] = i;
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    for (const auto& up : dag.tasks[i].depends_on) {
      if (!index.count(up)) {
        return Error(tasks[i], fmt::format("task '{}' of DAG '{}' depends on '{}', which is not a "
                                           "task of this DAG",
                                           dag.tasks[i].id, dag.id, up));
      }
      if (up == dag.tasks[i].id) {
        return Error(tasks[i], fmt::format("task '{}' of DAG '{}' depends on itself",
                                           dag.tasks[i].id, dag.id));
      }
    }
  }
  // Depth-first search; a grey node reached again closes a cycle, named in order.
  std::vector<int> color(dag.tasks.size(), 0);  // 0 white, 1 grey, 2 black
  std::vector<size_t> path;
  size_t cycle_start = 0;
  std::function<std::optional<std::string>(size_t)> visit =
      [&](size_t i) -> std::optional<std::string> {
    color[i] = 1;
    path.push_back(i);
    for (const auto& up : dag.tasks[i].depends_on) {
      size_t j = index[up];
      if (color[j] == 1) {
        std::vector<std::string> names;
        auto it = std::find(path.begin(), path.end(), j);
        for (; it != path.end(); ++it) names.push_back(dag.tasks[*it].id);
        names.push_back(dag.tasks[j].id);
        cycle_start = j;
        return fmt::format("{}", fmt::join(names, " -> "));
      }
      if (color[j] == 0) {
        if (auto cycle = visit(j)) return cycle;
      }
    }
    path.pop_back();
    color[i] = 2;
    return std::nullopt;
  };
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    if (color[i] != 0) continue;
    if (auto cycle = visit(i)) {
      return Error(tasks[cycle_start],
                   fmt::format("DAG '{}' has a dependency cycle: {} (each task depends "
                               "on the next)",
                               dag.id, *cycle));
    }
  }
  return Status::OK();
}

}  // namespace dataforge
