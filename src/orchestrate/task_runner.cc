#include "orchestrate/task_runner.h"

#include <simdjson.h>

#include <chrono>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/template.h"
#include "orchestrate/tasks/data_checks.h"
#include "orchestrate/tasks/sql_runner.h"
#include "orchestrate/tasks/subprocess_runner.h"
#include "schedule/schedule.h"

namespace dataforge {
namespace {

std::string NoDash(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '+' || (c == '-' && out.size() > 8)) break;  // stop at the offset
    if (c != '-' && c != ':') out += c;
  }
  return out;
}

std::optional<std::string> ConfValue(const std::string& conf_json, std::string_view key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(conf_json).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::element v;
  if (doc.at_key(key).get(v) != simdjson::SUCCESS) return std::nullopt;
  if (v.is_string()) return std::string(v.get_string().value());
  return simdjson::minify(v);
}

Result<std::string> Render(const TaskAttempt& a, const std::string& text) {
  return RenderTemplate(text, [&](std::string_view name) { return TaskVariable(a, name); });
}

std::string Tail(std::string s, size_t max) {
  if (s.size() <= max) return s;
  return "[... " + std::to_string(s.size() - max) + " bytes cut]\n" + s.substr(s.size() - max);
}

TaskResult RunShell(const TaskAttempt& a, size_t max_output, int64_t remaining_us,
                    std::stop_token stop) {
  auto command = Render(a, a.task->command);
  if (!command.ok()) return {command.status(), ""};
  SubprocessSpec spec;
  spec.command = *command;
  spec.timeout_us = remaining_us;
  spec.max_output_bytes = max_output;
  if (!a.task->cwd.empty()) {
    auto cwd = Render(a, a.task->cwd);
    if (!cwd.ok()) return {cwd.status(), ""};
    spec.cwd = *cwd;
  }
  for (const char* name : {"ds", "dag_id", "task_id", "run_id", "try_number", "data_interval_start",
                           "data_interval_end", "logical_date"}) {
    std::string env = "DATAFORGE_";
    for (const char* c = name; *c; ++c) env += static_cast<char>(toupper(*c));
    spec.env.emplace_back(env, TaskVariable(a, name).value_or(""));
  }
  for (const auto& [k, v] : a.task->env) {
    auto value = Render(a, v);
    if (!value.ok()) return {value.status(), ""};
    spec.env.emplace_back(k, *value);
  }
  auto r = RunSubprocess(spec, stop);
  if (!r.ok()) return {r.status(), ""};
  std::string output = r->output;
  if (r->timed_out) {
    return {Status::DeadlineExceeded(
                fmt::format("timed out after {}: killed", FormatDuration(a.task->timeout_us))),
            output};
  }
  if (r->cancelled) return {Status::Cancelled("interrupted: the scheduler is stopping"), output};
  if (r->signal != 0) {
    return {Status::Internal(fmt::format("the command was killed by signal {} ({})", r->signal,
                                         strsignal(r->signal))),
            output};
  }
  if (r->exit_code != 0) {
    std::string last = output;
    while (!last.empty() && last.back() == '\n') last.pop_back();
    if (auto nl = last.rfind('\n'); nl != std::string::npos) last = last.substr(nl + 1);
    if (last.size() > 200) last = last.substr(0, 200) + "...";
    return {
        Status::Internal(
            last.empty() ? fmt::format("the command exited with code {}", r->exit_code)
                         : fmt::format("the command exited with code {}: {}", r->exit_code, last)),
        output};
  }
  return {Status::OK(), output};
}

TaskResult RunSqlTask(const TaskAttempt& a, TaskEnvironment& env, size_t max_output,
                      int64_t remaining_us, std::stop_token stop) {
  auto sql = Render(a, a.task->sql);
  if (!sql.ok()) return {sql.status(), ""};
  auto r = RunSql(env.staging_url(), *sql, remaining_us, stop);
  if (!r.ok()) return {r.status(), ""};
  return {Status::OK(), Tail(FormatSqlResult(*r), max_output)};
}

TaskResult RunCheck(const TaskAttempt& a, TaskEnvironment& env, int64_t remaining_us,
                    int64_t now_us, std::stop_token stop) {
  const TaskSpec& t = *a.task;
  CheckSpec spec;
  spec.min_rows = t.min_rows;
  spec.max_rows = t.max_rows;
  spec.not_null = t.not_null;
  spec.unique = t.unique;
  spec.fresh_column = t.fresh_column;
  spec.fresh_max_age_us = t.fresh_max_age_us;
  CheckEvaluator eval(spec);
  std::string what;
  if (!t.check_table.empty()) {
    auto store = env.OpenStoreForReading();
    if (!store.ok()) return {store.status().WithContext("opening the store"), ""};
    Status s =
        (*store)->Scan(t.check_table, "", 0, [&](const std::string&, const std::string& row) {
          eval.AddJsonRow(row);
          return !stop.stop_requested();
        });
    if (!s.ok()) return {s, ""};
    what = fmt::format("table {}", t.check_table);
  } else {
    auto query = Render(a, t.check_query);
    if (!query.ok()) return {query.status(), ""};
    auto r = RunSql(env.staging_url(), *query, remaining_us, stop);
    if (!r.ok()) return {r.status(), ""};
    for (const auto& row : r->rows) eval.AddSqlRow(r->columns, row);
    what = fmt::format("query {}", *query);
  }
  if (stop.stop_requested())
    return {Status::Cancelled("interrupted: the scheduler is stopping"), ""};
  std::string summary;
  Status s = eval.Finish(now_us, &summary);
  if (!s.ok())
    return {Status::FailedPrecondition(fmt::format("check failed on {}: {}", what, s.message())),
            ""};
  return {Status::OK(), fmt::format("check passed on {}: {}\n", what, summary)};
}

TaskResult RunIngest(const TaskAttempt& a, TaskEnvironment& env, std::stop_token stop) {
  const TaskSpec& t = *a.task;
  IngestRequest req;
  req.name = a.dag->id + "." + t.id;
  req.max_records = t.records;
  req.max_pages = t.pages;
  req.duration_us = t.duration_us;
  req.results_per_page = t.results_per_page;
  auto url = Render(a, t.source_url);
  if (!url.ok()) return {url.status(), ""};
  req.url = *url;
  auto seed = Render(a, t.source_seed);
  if (!seed.ok()) return {seed.status(), ""};
  req.seed = *seed;
  auto r = env.Ingest(req, stop);
  if (!r.ok()) return {r.status(), ""};
  return {Status::OK(), r->summary + "\n"};
}

}  // namespace

std::optional<std::string> TaskVariable(const TaskAttempt& a, std::string_view name) {
  const std::string& tz = a.dag->time_zone;
  const DagRun& run = a.run;
  if (name == "ds") return FormatDate(run.logical_us, tz);
  if (name == "ds_nodash") return FormatDateNoDash(run.logical_us, tz);
  if (name == "ts" || name == "logical_date") return FormatIso8601(run.logical_us, tz);
  if (name == "ts_nodash") return NoDash(FormatIso8601(run.logical_us, tz));
  if (name == "data_interval_start") return FormatIso8601(run.interval_start_us, tz);
  if (name == "data_interval_end") return FormatIso8601(run.interval_end_us, tz);
  if (name == "run_id") return std::to_string(run.run_id);
  if (name == "dag_id") return a.dag->id;
  if (name == "task_id") return a.task->id;
  if (name == "try_number") return std::to_string(a.try_number);
  if (name.rfind("conf.", 0) == 0) return ConfValue(run.conf_json, name.substr(5));
  return std::nullopt;
}

TaskResult RunTask(const TaskAttempt& a, TaskEnvironment& env, size_t max_output_bytes,
                   int64_t deadline_us, int64_t now_us, std::stop_token stop) {
  // The deadline cancels whatever the task waits on: one stop source for both.
  std::stop_source cancel;
  std::stop_callback forward(stop, [&] { cancel.request_stop(); });
  std::atomic<bool> timed_out{false};
  std::jthread watchdog([&](std::stop_token done) {
    Clock* clock = Clock::Real();
    while (!done.stop_requested()) {
      int64_t left = deadline_us - clock->MonotonicMicros();
      if (left <= 0) {
        timed_out = true;
        cancel.request_stop();
        return;
      }
      clock->SleepFor(std::min<int64_t>(left, 100'000), done);
    }
  });
  int64_t remaining = deadline_us - Clock::Real()->MonotonicMicros();
  if (remaining < 1) remaining = 1;
  const std::string& type = a.task->type;
  TaskResult r;
  if (type == "shell") {
    r = RunShell(a, max_output_bytes, remaining, cancel.get_token());
  } else if (type == "sql") {
    r = RunSqlTask(a, env, max_output_bytes, remaining, cancel.get_token());
  } else if (type == "check") {
    r = RunCheck(a, env, remaining, now_us, cancel.get_token());
  } else if (type == "ingest") {
    r = RunIngest(a, env, cancel.get_token());
  } else if (type == "compact") {
    auto s = env.Compact(a.task->compact_log, a.task->compact_store, cancel.get_token());
    r = s.ok() ? TaskResult{Status::OK(), *s + "\n"} : TaskResult{s.status(), ""};
  } else {
    r = {Status::Internal(fmt::format("unknown task type '{}'", type)), ""};
  }
  watchdog.request_stop();
  watchdog.join();
  if (timed_out && !r.status.ok() && !stop.stop_requested()) {
    // Whatever the task was doing when its deadline cancelled it, it timed out.
    bool cut = r.status.code() == StatusCode::kCancelled ||
               r.status.code() == StatusCode::kDeadlineExceeded;
    r.status = Status::DeadlineExceeded(
        cut ? fmt::format("timed out after {}: killed", FormatDuration(a.task->timeout_us))
            : fmt::format("timed out after {} ({})", FormatDuration(a.task->timeout_us),
                          r.status.message()));
  }
  r.output = Tail(std::move(r.output), max_output_bytes);
  return r;
}

}  // namespace dataforge
