// The `dags:` and `scheduler:` sections of the pipeline file, parsed: scheduled workflows the
// built-in orchestrator runs (see docs/orchestration.md). Plain values; thread-compatible.
// Parsing has already checked them: schedules and time zones parse, task ids are unique,
// dependencies exist and form no cycle, templates name known variables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dataforge {

struct TaskSpec {
  std::string id;
  std::string type;  // ingest | sql | check | shell | compact
  std::vector<std::string> depends_on;
  int retries = 0;
  int64_t retry_delay_us = 30'000'000;
  bool retry_exponential = true;  // delay * 2^(try-1), capped at max_retry_delay
  int64_t max_retry_delay_us = 3'600'000'000;
  int64_t timeout_us = 3'600'000'000;  // killed (and failed) after this long
  bool depends_on_past = false;        // wait for this task's success in the previous run

  // ingest: pull `records` records, or `pages` pages, or for `duration` (the first reached;
  // at least one is set) from the pipeline's source into the pipeline. `source_url`,
  // `source_seed`, `results_per_page` override the pipeline source's (templated).
  uint64_t records = 0;
  uint64_t pages = 0;
  int64_t duration_us = 0;
  std::string source_url;
  std::string source_seed;
  int results_per_page = 0;

  std::string sql;  // sql: one statement against the staging database (templated)

  // shell: `command` through /bin/sh -c (templated), extra environment (values templated).
  std::string command;
  std::vector<std::pair<std::string, std::string>> env;
  std::string cwd;

  // check: rows of the store table `check_table`, or of `check_query` (SQL on the staging
  // database, templated); the assertions below (at least one).
  std::string check_table;
  std::string check_query;
  std::optional<uint64_t> min_rows, max_rows;
  std::vector<std::string> not_null, unique;
  std::string fresh_column;
  int64_t fresh_max_age_us = 0;

  // compact: apply the log's retention and/or compact the store.
  bool compact_log = true;
  bool compact_store = true;

  int line = 0;
};

struct DagSpec {
  std::string id;
  std::string description;
  std::string schedule = "@daily";  // see schedule/schedule.h
  std::string time_zone = "UTC";
  int64_t start_us = 0;  // start_date
  bool catchup = false;
  int max_active_runs = 16;
  bool paused_on_create = false;  // state of a DAG the run store sees for the first time
  std::vector<TaskSpec> tasks;    // in file order
  int line = 0;
};

struct SchedulerConfig {
  int parallelism = 16;                // task attempts running at once in one scheduler
  int64_t lease_us = 30'000'000;       // a dead scheduler's tasks are taken over after this
  int64_t poll_us = 500'000;           // how often to look for work other processes made
  size_t max_output_bytes = 64 << 10;  // captured output kept per task attempt (the tail)
};

}  // namespace dataforge
