// `dataforge reprocess`: rebuilds the tables the processor writes (process.table and the tables
// of process.outputs and process.aggregates) from the log, after a mapping change, with the
// pipeline file's mapping as it is now (docs/reprocess.md).
//
// The processor is built through the same path as `run`'s (pipeline/processor_setup.h), with
// its own consumer group and, with `into_suffix`, every table name suffixed (topic outputs are
// left out: a rebuild does not publish again). It reads each partition from its start offset to
// the partition's end offset as of the start (pipeline/reprocess_log.h), then stops.
// Exactly once, like the processor: rows and the group's offsets and counters go in one
// StoreBatch, so a reprocess killed at any point and run again with the same group resumes
// where its last batch ended; the live group's offsets and counters are untouched.
// `tables` (--tables) rebuilds some of them only: the others' stages are left out, and without
// process.table the mapped rows go to the stages only (Processor::LeaveTableUnwritten).
// In place (`in_place`, from the beginning): the first batch also empties process.table and
// the derived and aggregate tables (StoreBatch::truncate, truncate_also: RocksDB does it
// atomically with that batch; the aggregates read no stored state before it is durable); a
// resumed reprocess (its group has offsets in the store) does not empty them again. In place
// from an offset or a time, aggregates are refused (their windows hold those records already).
// Exclusion: over the embedded log or the RocksDB store it holds the data dir's lock, so it
// refuses while a `run` uses the data dir; over Kafka and Cassandra it runs beside the live
// pipeline.
// Not thread-safe: call from one thread; `stop` ends it after the current batch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge {

struct ReprocessOptions {
  std::string data_dir = "./dataforge-data";
  enum class From { kBeginning, kOffsets, kTime };
  From from = From::kBeginning;
  std::map<int32_t, int64_t> offsets;  // kOffsets: partition -> first offset; others not read
  int64_t time_us = 0;                 // kTime: each partition from its first record at or after
  std::string into_suffix;             // the rebuilt tables' names get it; "" with in_place
  bool in_place = false;
  // Records the log no longer has (retention) below a start offset: counted lost and skipped
  // instead of refusing.
  bool allow_lost = false;
  std::string group;  // "" = DefaultReprocessGroup
  // --tables: the tables to rebuild, named as SelectReprocessTables takes them; empty = every
  // table. The others are neither read nor written: a table left out of a rebuild in place keeps
  // its rows, and the stages of the left-out derived and aggregate tables do not run.
  std::vector<std::string> tables;
  int64_t progress_every_us = 5'000'000;
};

// The tables a reprocess of `process` can rebuild, in the pipeline file's order: process.table,
// the derived tables of process.outputs, the result tables of process.aggregates (an aggregate's
// state table goes with its result table).
std::vector<std::string> ReprocessTables(const ProcessConfig& process);

// The tables of ReprocessTables that `wanted` (--tables) names, in the file's order; all of them
// when `wanted` is empty. A name is a table as the file writes it ("dataforge.people") or its
// name alone ("people") when only one table has it. ConfigError naming an unknown or ambiguous
// name and listing the tables.
Result<std::vector<std::string>> SelectReprocessTables(const ProcessConfig& process,
                                                       const std::vector<std::string>& wanted);

// "<process.group>-reprocess<suffix>" (into new tables: the same command resumes) or
// "<process.group>-reprocess-<UTC time, e.g. 20261204T041500Z>" (in place: a new rebuild each
// time; resume with --group). Into new tables, when `only` (the SelectReprocessTables result) is
// not every table, their names without the keyspace follow, each after a '-'
// ("...-reprocess_v2-people_young-by_country"; past 200 characters, "-<N>tables-<crc32c of
// their names>"): a rebuild of other tables is another group.
std::string DefaultReprocessGroup(const ProcessConfig& process, const ReprocessOptions& options,
                                  const std::vector<std::string>& only, int64_t now_us);

// ConfigError unless `suffix` is 1..48 of [A-Za-z0-9_] (it becomes part of CQL table names).
Status CheckIntoSuffix(const std::string& suffix);

// "0:120,1:0" -> {0: 120, 1: 0}; ConfigError naming the bad part.
Result<std::map<int32_t, int64_t>> ParsePartitionOffsets(const std::string& text);

struct ReprocessProgress {
  std::string group;
  std::string topic;
  std::vector<std::pair<std::string, std::string>> tables;  // live -> rebuilt
  struct Range {
    int32_t partition = 0;
    int64_t from = 0, to = 0;  // offsets [from, to) to read in this call
  };
  std::vector<Range> ranges;
  bool resumed = false;    // the group had offsets in the store: went on from them
  bool truncated = false;  // in place: the table was emptied first
  uint64_t total = 0;      // records to read in this call
  uint64_t read = 0, stored = 0, dead_lettered = 0, lost = 0, filtered = 0, duplicates = 0;
  double seconds = 0;
  bool finished = false;  // every partition reached its end
};

// Runs the reprocess. `on_start` is called once the plan is known (before the first batch),
// `on_progress` every options.progress_every_us while reading. Errors: ConfigError for bad
// options, offsets or partitions (exit 2); Unavailable when the data dir is in use;
// FailedPrecondition when the log no longer has records the range starts with (unless
// allow_lost).
Result<ReprocessProgress> Reprocess(
    const PipelineConfig& config, const ReprocessOptions& options, Clock* clock,
    std::stop_token stop, const std::function<void(const ReprocessProgress&)>& on_start,
    const std::function<void(const ReprocessProgress&)>& on_progress);

}  // namespace dataforge
