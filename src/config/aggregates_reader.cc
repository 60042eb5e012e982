#include "config/aggregates_reader.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "schedule/schedule.h"

namespace dataforge {
namespace {

const ColumnSpec* FindColumn(const ProcessConfig& p, const std::string& name) {
  for (const auto& c : p.columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string ColumnNames(const ProcessConfig& p) {
  std::vector<std::string> names;
  for (const auto& c : p.columns) names.push_back(c.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

bool TableNameOk(const std::string& t) {
  size_t dot = t.find('.');
  return dot != std::string::npos && dot > 0 && dot + 1 < t.size() &&
         t.find('.', dot + 1) == std::string::npos;
}

}  // namespace

Status AggregatesReader::DurationMs(const YAML::Node& map, const char* key, int64_t min_ms,
                                    int64_t* out) {
  auto n = map[key];
  if (!n) return Status::OK();
  std::string text;
  DF_RETURN_IF_ERROR(Str(map, key, &text));
  auto us = ParseDuration(text);
  if (!us.ok()) {
    return Error(n, fmt::format("'{}' is '{}': {}", key, text, us.status().message()));
  }
  if (*us / 1000 < min_ms) {
    return Error(n, fmt::format("'{}' is '{}'; it must be at least {}", key, text,
                                FormatDuration(min_ms * 1000)));
  }
  *out = *us / 1000;
  return Status::OK();
}

Status AggregatesReader::Read(const YAML::Node& n, const ProcessConfig& process,
                              std::vector<AggregateSpec>* out) {
  out->clear();
  if (n.IsNull()) return Status::OK();
  if (!n.IsSequence()) {
    return Error(n,
                 "'process.aggregates' must be a list of aggregates ({table: ..., group_by: "
                 "[...], window: {...}, values: [...]})");
  }
  std::set<std::string> tables = {process.table};
  for (const auto& item : n) {
    AggregateSpec a;
    DF_RETURN_IF_ERROR(ReadOne(item, process, &a));
    std::string state = a.table + "_state";
    if (a.table == process.table) {
      return Error(item["table"], fmt::format("aggregate table '{}' is process.table: give the "
                                              "aggregate a table of its own",
                                              a.table));
    }
    if (!tables.insert(a.table).second || !tables.insert(state).second) {
      return Error(item["table"],
                   fmt::format("aggregate table '{}' (or its state table '{}') is already used "
                               "by another aggregate: give each aggregate its own table",
                               a.table, state));
    }
    out->push_back(std::move(a));
  }
  for (const auto& a : *out) {  // a state table named like another aggregate's result table
    if (std::count_if(out->begin(), out->end(),
                      [&](const AggregateSpec& b) { return b.table == a.table + "_state"; }) > 0) {
      return Status::ConfigError(fmt::format(
          "{}:{}: aggregate table '{}_state' is the state table of aggregate '{}': rename one",
          file_, a.line, a.table, a.table));
    }
  }
  return Status::OK();
}

Status AggregatesReader::ReadOne(const YAML::Node& n, const ProcessConfig& process,
                                 AggregateSpec* a) {
  DF_RETURN_IF_ERROR(
      Keys(n, "an aggregate of 'process.aggregates'",
           {"table", "group_by", "window", "lateness", "late", "values", "distinct_exact_limit",
            "max_final_state_bytes", "late_update_for", "idle_after"}));
  a->line = n.Mark().line + 1;
  DF_RETURN_IF_ERROR(Str(n, "table", &a->table));
  if (!TableNameOk(a->table)) {
    return Error(n["table"] ? n["table"] : n,
                 a->table.empty() ? std::string("every aggregate needs a 'table' "
                                                "(keyspace.name, e.g. dataforge.users_per_hour)")
                                  : fmt::format("aggregate table '{}' must be keyspace.name "
                                                "(e.g. dataforge.users_per_hour)",
                                                a->table));
  }
  DF_RETURN_IF_ERROR(StrList(n, "group_by", &a->group_by));
  std::set<std::string> names = {"window_key", "window_start", "window_end"};
  for (const auto& g : a->group_by) {
    if (!FindColumn(process, g)) {
      return Error(n["group_by"], fmt::format("group_by column '{}' is not one of process.columns "
                                              "({}): group by a mapped column",
                                              g, ColumnNames(process)));
    }
    if (!names.insert(g).second) {
      return Error(n["group_by"],
                   fmt::format("group_by column '{}' is listed twice or is a result column name "
                               "(window_key, window_start, window_end): rename the column",
                               g));
    }
  }
  if (!n["window"]) {
    return Error(n, fmt::format("aggregate {} needs a 'window' (e.g. {{type: tumbling, size: 1h, "
                                "time: registered_at}})",
                                a->table));
  }
  DF_RETURN_IF_ERROR(ReadWindow(n["window"], process, &a->window));
  DF_RETURN_IF_ERROR(DurationMs(n, "lateness", 0, &a->lateness_ms));
  DF_RETURN_IF_ERROR(Choice(n, "late", {"deadletter", "update"}, &a->late));
  if (a->late == "update" && a->window.type == "session") {
    return Error(n["late"],
                 "late: update is not supported for session windows (a final "
                 "session's state is dropped): use late: deadletter and a lateness "
                 "long enough for your data");
  }
  DF_RETURN_IF_ERROR(
      Num<uint64_t>(n, "distinct_exact_limit", 0, 10'000'000, &a->distinct_exact_limit));
  if (n["max_final_state_bytes"] && a->late != "update") {
    return Error(n["max_final_state_bytes"],
                 "max_final_state_bytes is the memory of final states that late: update "
                 "applies late records to; with late: deadletter a final state is deleted: "
                 "remove it, or set late: update");
  }
  DF_RETURN_IF_ERROR(
      Num<uint64_t>(n, "max_final_state_bytes", 0, uint64_t{1} << 40, &a->max_final_state_bytes));
  if (n["late_update_for"]) {
    if (a->late != "update") {
      return Error(n["late_update_for"],
                   "late_update_for is how long late: update applies late records to a final "
                   "window; with late: deadletter none is applied: remove it, or set late: update");
    }
    int64_t ms = 0;
    DF_RETURN_IF_ERROR(DurationMs(n, "late_update_for", 1, &ms));
    a->late_update_for_ms = ms;
  }
  if (n["idle_after"]) {
    if (a->window.type == "session") {
      return Error(n["idle_after"],
                   "idle_after is for tumbling and hopping windows: a session is one "
                   "partition's, so a partition without records holds back no session's "
                   "deletion: remove it");
    }
    int64_t ms = 0;
    DF_RETURN_IF_ERROR(DurationMs(n, "idle_after", 1, &ms));
    a->idle_after_ms = ms;
  }
  auto values = n["values"];
  if (!values || !values.IsSequence() || values.size() == 0) {
    return Error(values ? values : n,
                 fmt::format("aggregate {} needs 'values': a list of {{name: N, fn: F, of: "
                             "COLUMN}} (fn: count, sum, min, max, avg, count_distinct)",
                             a->table));
  }
  for (const auto& item : values) {
    AggregateValueSpec v;
    DF_RETURN_IF_ERROR(ReadValue(item, process, &v));
    if (!names.insert(v.name).second) {
      return Error(item, fmt::format("value name '{}' is used twice in aggregate {} (group_by "
                                     "columns, window_key, window_start and window_end "
                                     "included): rename it",
                                     v.name, a->table));
    }
    a->values.push_back(std::move(v));
  }
  return Status::OK();
}

Status AggregatesReader::ReadWindow(const YAML::Node& n, const ProcessConfig& process,
                                    WindowSpec* w) {
  DF_RETURN_IF_ERROR(Keys(n, "'window'", {"type", "size", "advance", "gap", "time"}));
  w->line = n.Mark().line + 1;
  DF_RETURN_IF_ERROR(Choice(n, "type", {"tumbling", "hopping", "session"}, &w->type));
  DF_RETURN_IF_ERROR(DurationMs(n, "size", 1, &w->size_ms));
  DF_RETURN_IF_ERROR(DurationMs(n, "advance", 1, &w->advance_ms));
  DF_RETURN_IF_ERROR(DurationMs(n, "gap", 1, &w->gap_ms));
  DF_RETURN_IF_ERROR(Str(n, "time", &w->time_column));
  auto forbid = [&](const char* key, const char* why) -> Status {
    if (n[key]) return Error(n[key], fmt::format("'{}' {}: remove it", key, why));
    return Status::OK();
  };
  if (w->type == "session") {
    if (!n["gap"]) return Error(n, "a session window needs a 'gap' (e.g. gap: 30m)");
    DF_RETURN_IF_ERROR(forbid("size", "is for tumbling and hopping windows"));
    DF_RETURN_IF_ERROR(forbid("advance", "is for hopping windows"));
  } else {
    if (!n["size"]) {
      return Error(n, fmt::format("a {} window needs a 'size' (e.g. size: 1h)", w->type));
    }
    DF_RETURN_IF_ERROR(forbid("gap", "is for session windows"));
    if (w->type == "tumbling") {
      DF_RETURN_IF_ERROR(forbid("advance", "is for hopping windows"));
    } else {
      if (!n["advance"]) return Error(n, "a hopping window needs an 'advance' (e.g. advance: 15m)");
      if (w->advance_ms > w->size_ms) {
        return Error(n["advance"],
                     "a hopping window's 'advance' must not exceed its 'size' "
                     "(records would fall between windows)");
      }
      if (w->size_ms / w->advance_ms > 1000) {
        return Error(n["advance"], fmt::format("size / advance is {}: a record would update that "
                                               "many windows; keep it at most 1000",
                                               w->size_ms / w->advance_ms));
      }
    }
  }
  if (!w->time_column.empty()) {
    const ColumnSpec* c = FindColumn(process, w->time_column);
    if (c == nullptr) {
      return Error(n["time"], fmt::format("window time column '{}' is not one of process.columns "
                                          "({}): name a timestamp column, or omit 'time' for "
                                          "processing time",
                                          w->time_column, ColumnNames(process)));
    }
    if (c->type != "timestamp") {
      return Error(n["time"], fmt::format("window time column '{}' is of type {}: it must be a "
                                          "timestamp column (type: timestamp)",
                                          w->time_column, c->type));
    }
  }
  return Status::OK();
}

Status AggregatesReader::ReadValue(const YAML::Node& n, const ProcessConfig& process,
                                   AggregateValueSpec* v) {
  DF_RETURN_IF_ERROR(Keys(n, "a value of an aggregate", {"name", "fn", "of"}));
  v->line = n.Mark().line + 1;
  DF_RETURN_IF_ERROR(Str(n, "name", &v->name));
  if (v->name.empty()) return Error(n, "every aggregate value needs a 'name'");
  if (!n["fn"]) {
    return Error(n, fmt::format("value '{}' needs an 'fn': count, sum, min, max, avg or "
                                "count_distinct",
                                v->name));
  }
  DF_RETURN_IF_ERROR(
      Choice(n, "fn", {"count", "sum", "min", "max", "avg", "count_distinct"}, &v->fn));
  DF_RETURN_IF_ERROR(Str(n, "of", &v->of));
  if (v->of.empty()) {
    if (v->fn != "count") {
      return Error(n, fmt::format("value '{}': {} needs 'of: COLUMN' (a column of "
                                  "process.columns)",
                                  v->name, v->fn));
    }
    return Status::OK();
  }
  const ColumnSpec* c = FindColumn(process, v->of);
  if (c == nullptr) {
    return Error(n["of"], fmt::format("value '{}': 'of' column '{}' is not one of process.columns "
                                      "({})",
                                      v->name, v->of, ColumnNames(process)));
  }
  bool number =
      c->type == "int" || c->type == "bigint" || c->type == "double" || c->type == "decimal";
  if ((v->fn == "sum" || v->fn == "avg") && !number) {
    return Error(n["of"], fmt::format("value '{}': {} of column '{}' of type {}: sum and avg "
                                      "need a number column (int, bigint, double, decimal)",
                                      v->name, v->fn, v->of, c->type));
  }
  if ((v->fn == "min" || v->fn == "max") && c->type == "boolean") {
    return Error(n["of"], fmt::format("value '{}': {} of boolean column '{}': min and max need a "
                                      "number, text, uuid or timestamp column",
                                      v->name, v->fn, v->of));
  }
  return Status::OK();
}

}  // namespace dataforge
