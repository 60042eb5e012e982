#include "pipeline/reprocess.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "common/timestamp.h"
#include "log/embedded/batch_format.h"
#include "log/log.h"
#include "pipeline/data_dir.h"
#include "pipeline/pipeline.h"
#include "pipeline/processor_setup.h"
#include "pipeline/reprocess_log.h"
#include "process/aggregate/aggregate_stage.h"
#include "store/store.h"

namespace dataforge {
namespace {

constexpr int64_t kPollWaitUs = 100'000;
constexpr size_t kMaxGroupName = 200;  // the embedded log's limit (embedded_log.cc)

// --in-place from the beginning: the first batch the processor applies also empties the table
// and the stages' tables (StoreBatch::truncate, truncate_also), so no table ever holds old and
// rebuilt rows side by side.
class TruncateFirstBatch final : public BatchStage {
 public:
  // `table`: process.table is rebuilt, so emptied too.
  TruncateFirstBatch(bool pending, bool table) : pending_(pending), table_(table) {}
  // The derived and aggregate tables emptied with process.table.
  void set_also(std::vector<std::string> tables) { also_ = std::move(tables); }
  Status OnRow(const ConsumedRecord&, const MapResult&, const RowWrite&, StoreBatch*) override {
    return Status::OK();
  }
  Status BeforeApply(StoreBatch* batch) override {
    // The processor starts every batch without either (Processor::StartBatch).
    batch->truncate = pending_ && table_;
    if (pending_) batch->truncate_also = also_;
    return Status::OK();
  }
  Status AfterApply(const StoreBatch&) override {
    pending_ = false;
    return Status::OK();
  }
  bool pending() const { return pending_; }

 private:
  bool pending_;
  bool table_;
  std::vector<std::string> also_;
};

// The config the reprocess runs with: its group, the stages of the `selected` tables only
// (SelectReprocessTables), and the rebuilt tables' names (process.table keeps its name when it
// is not rebuilt: nothing writes it).
PipelineConfig Rebuilt(const PipelineConfig& config, const ReprocessOptions& options,
                       const std::string& group, const std::vector<std::string>& selected,
                       std::vector<std::pair<std::string, std::string>>* tables) {
  PipelineConfig c = config;
  c.process.group = group;
  const std::string& suffix = options.into_suffix;
  auto chosen = [&](const std::string& table) {
    return std::find(selected.begin(), selected.end(), table) != selected.end();
  };
  auto rename = [&](std::string& table) {
    std::string live = table;
    table += suffix;
    tables->emplace_back(live, table);
  };
  if (chosen(c.process.table)) rename(c.process.table);
  std::erase_if(c.process.outputs,
                [&](const OutputSpec& o) { return o.table.empty() || !chosen(o.table); });
  for (auto& o : c.process.outputs) rename(o.table);
  std::erase_if(c.process.aggregates, [&](const AggregateSpec& a) { return !chosen(a.table); });
  for (auto& a : c.process.aggregates) rename(a.table);
  return c;
}

std::string TableName(const std::string& table) {
  return table.substr(table.find('.') + 1);
}

bool NeedsDataDirLock(const ResolvedUrls& urls) {
  return !urls.log.starts_with("kafka:") || !urls.store.starts_with("cassandra:");
}

}  // namespace

std::vector<std::string> ReprocessTables(const ProcessConfig& process) {
  std::vector<std::string> tables = {process.table};
  for (const OutputSpec& o : process.outputs) {
    if (!o.table.empty()) tables.push_back(o.table);
  }
  for (const AggregateSpec& a : process.aggregates) tables.push_back(a.table);
  return tables;
}

Result<std::vector<std::string>> SelectReprocessTables(const ProcessConfig& process,
                                                       const std::vector<std::string>& wanted) {
  std::vector<std::string> all = ReprocessTables(process);
  if (wanted.empty()) return all;
  std::vector<bool> picked(all.size());
  for (const std::string& name : wanted) {
    std::vector<size_t> matches;
    const bool bare = name.find('.') == std::string::npos;
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i] == name || (bare && TableName(all[i]) == name)) matches.push_back(i);
    }
    if (matches.empty()) {
      return Status::ConfigError(fmt::format(
          "--tables: '{}' is not a table the processor writes; its tables are {} (name one or "
          "more, comma-separated)",
          name, fmt::join(all, ", ")));
    }
    if (matches.size() > 1) {
      std::vector<std::string> named;
      for (size_t i : matches) named.push_back(all[i]);
      return Status::ConfigError(
          fmt::format("--tables: '{}' names several tables ({}): write it with its keyspace", name,
                      fmt::join(named, ", ")));
    }
    picked[matches.front()] = true;
  }
  std::vector<std::string> selected;
  for (size_t i = 0; i < all.size(); ++i) {
    if (picked[i]) selected.push_back(all[i]);
  }
  return selected;
}

std::string DefaultReprocessGroup(const ProcessConfig& process, const ReprocessOptions& options,
                                  const std::vector<std::string>& only, int64_t now_us) {
  if (!options.in_place) {
    std::string group = process.group + "-reprocess" + options.into_suffix;
    if (only.empty() || only.size() == ReprocessTables(process).size()) return group;
    std::string names;
    for (const std::string& table : only) names += "-" + TableName(table);
    if (group.size() + names.size() <= kMaxGroupName) return group + names;
    // Too long for a group name: the tables' count and a checksum of their names.
    std::string all = fmt::format("{}", fmt::join(only, ","));
    return fmt::format("{}-{}tables-{:08x}", group, only.size(),
                       log_format::Crc32c(0, all.data(), all.size()));
  }
  std::time_t t = static_cast<std::time_t>(now_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{}-reprocess-{:04}{:02}{:02}T{:02}{:02}{:02}Z", process.group,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

Status CheckIntoSuffix(const std::string& suffix) {
  bool ok = !suffix.empty() && suffix.size() <= 48 &&
            std::all_of(suffix.begin(), suffix.end(), [](char ch) {
              return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
            });
  if (ok) return Status::OK();
  return Status::ConfigError(fmt::format(
      "--into-suffix '{}': use 1 to 48 letters, digits or underscores (it is appended to table "
      "names), e.g. --into-suffix _v2",
      suffix));
}

Result<std::map<int32_t, int64_t>> ParsePartitionOffsets(const std::string& text) {
  std::map<int32_t, int64_t> out;
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    std::string part = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    size_t colon = part.find(':');
    int32_t p = -1;
    int64_t o = -1;
    bool ok = colon != std::string::npos;
    if (ok) {
      auto r1 = std::from_chars(part.data(), part.data() + colon, p);
      auto r2 = std::from_chars(part.data() + colon + 1, part.data() + part.size(), o);
      ok = r1.ec == std::errc() && r1.ptr == part.data() + colon && r2.ec == std::errc() &&
           r2.ptr == part.data() + part.size() && p >= 0 && o >= 0 && colon > 0 &&
           colon + 1 < part.size();
    }
    if (!ok) {
      return Status::ConfigError(fmt::format(
          "--from-offset: '{}' is not PARTITION:OFFSET (whole numbers >= 0), e.g. --from-offset "
          "0:1200,1:0",
          part));
    }
    if (!out.emplace(p, o).second) {
      return Status::ConfigError(
          fmt::format("--from-offset: partition {} is given twice: give each partition once", p));
    }
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

Result<ReprocessProgress> Reprocess(
    const PipelineConfig& config, const ReprocessOptions& options, Clock* clock,
    std::stop_token stop, const std::function<void(const ReprocessProgress&)>& on_start,
    const std::function<void(const ReprocessProgress&)>& on_progress) {
  if (options.in_place == !options.into_suffix.empty()) {
    return Status::ConfigError(
        "reprocess: choose where the rebuilt rows go: --into-suffix SUFFIX (new tables) or "
        "--in-place");
  }
  if (!options.in_place) DF_RETURN_IF_ERROR(CheckIntoSuffix(options.into_suffix));
  DF_ASSIGN_OR_RETURN(std::vector<std::string> selected,
                      SelectReprocessTables(config.process, options.tables));
  const bool aggregates =
      std::any_of(config.process.aggregates.begin(), config.process.aggregates.end(),
                  [&](const AggregateSpec& a) {
                    return std::find(selected.begin(), selected.end(), a.table) != selected.end();
                  });
  if (options.in_place && options.from != ReprocessOptions::From::kBeginning && aggregates) {
    return Status::ConfigError(
        "reprocess --in-place from an offset or a time keeps the aggregates' windows, which "
        "already hold the records read again: rebuild them with --from-beginning (every "
        "aggregate table emptied first), into new tables with --into-suffix SUFFIX, or leave "
        "them out with --tables");
  }
  const bool main_table =
      std::find(selected.begin(), selected.end(), config.process.table) != selected.end();
  ReprocessProgress plan;
  plan.group = options.group.empty()
                   ? DefaultReprocessGroup(config.process, options, selected, clock->NowMicros())
                   : options.group;
  if (plan.group == config.process.group) {
    return Status::ConfigError(fmt::format(
        "reprocess: --group {} is the live processor's group (process.group): name another, "
        "or leave --group out",
        plan.group));
  }
  plan.topic = config.log.topic;
  const PipelineConfig rebuilt = Rebuilt(config, options, plan.group, selected, &plan.tables);

  ResolvedUrls urls = ResolveUrls(config, options.data_dir);
  std::unique_ptr<DataDirLock> lock;
  if (NeedsDataDirLock(urls)) {
    DF_RETURN_IF_ERROR(PrepareDataDir(options.data_dir, /*create=*/false));
    auto acquired = DataDirLock::Acquire(options.data_dir);
    if (!acquired.ok()) {
      if (acquired.status().code() != StatusCode::kUnavailable) return acquired.status();
      // "data dir D is in use by another dataforge process (pid N)", without its advice.
      const std::string& held = acquired.status().message();
      return Status::Unavailable(fmt::format(
          "reprocess: {}: stop that `dataforge run` first (the reprocess needs the data dir's "
          "embedded log and store to itself), then run reprocess again",
          held.substr(0, held.find("; "))));
    }
    lock = std::move(acquired).value();
  }
  DF_ASSIGN_OR_RETURN(auto log, OpenLog(urls.log, OpenMode::kReadWrite, LogOptionsFor(config.log)));
  auto described = log->DescribeTopic(plan.topic);
  if (!described.ok()) {
    if (described.status().code() == StatusCode::kNotFound) {
      return Status::FailedPrecondition(fmt::format(
          "reprocess: the log {} has no topic {}: nothing to rebuild (run the pipeline first)",
          urls.log, plan.topic));
    }
    return described.status();
  }
  const TopicInfo info = std::move(described).value();
  DF_ASSIGN_OR_RETURN(auto store,
                      OpenStore(urls.store, OpenMode::kReadWrite, StoreOptionsFor(config.store)));
  DF_ASSIGN_OR_RETURN(std::string log_id, log->LogId(plan.topic));

  // Where each partition starts, and whether this group already got somewhere (a resume).
  auto partitions = static_cast<int32_t>(info.partitions.size());
  for (const auto& [p, o] : options.offsets) {
    if (p >= partitions) {
      return Status::ConfigError(
          fmt::format("--from-offset: topic {} has no partition {} (it has partitions 0..{})",
                      plan.topic, p, partitions - 1));
    }
  }
  std::map<int32_t, int64_t> start, end;
  std::map<int32_t, std::optional<int64_t>> stored;
  for (const PartitionInfo& part : info.partitions) {
    const int32_t p = part.partition;
    end[p] = part.end_offset;
    DF_ASSIGN_OR_RETURN(stored[p], store->CommittedOffset(plan.group, plan.topic, p, log_id));
    if (stored[p]) plan.resumed = true;
    switch (options.from) {
      case ReprocessOptions::From::kBeginning:
        start[p] = 0;
        break;
      case ReprocessOptions::From::kOffsets: {
        auto it = options.offsets.find(p);
        start[p] = it == options.offsets.end() ? part.end_offset : it->second;
        if (start[p] > part.end_offset) {
          return Status::ConfigError(fmt::format(
              "--from-offset {}:{}: partition {} of {} ends at offset {} (its next record gets "
              "it): give an offset from {} to {}",
              p, start[p], p, plan.topic, part.end_offset, part.start_offset, part.end_offset));
        }
        break;
      }
      case ReprocessOptions::From::kTime: {
        DF_ASSIGN_OR_RETURN(start[p], log->OffsetForTime(plan.topic, p, options.time_us));
        break;
      }
    }
  }
  uint64_t gone = 0;
  std::string gone_where;
  for (const PartitionInfo& part : info.partitions) {
    const int32_t p = part.partition;
    int64_t from = stored[p] ? *stored[p] : start[p];
    if (from < part.start_offset && from < part.end_offset) {
      gone += static_cast<uint64_t>(part.start_offset - from);
      if (gone_where.empty()) {
        gone_where = fmt::format("partition {} starts at offset {} (offsets {}..{} were deleted)",
                                 p, part.start_offset, from, part.start_offset - 1);
      }
    }
    plan.ranges.push_back({p, from, part.end_offset});
    plan.total += static_cast<uint64_t>(std::max<int64_t>(0, part.end_offset - from));
  }
  if (gone > 0 && !options.allow_lost) {
    return Status::FailedPrecondition(fmt::format(
        "reprocess: {} records of {} are no longer in the log ({}): pass --allow-lost to "
        "rebuild from what is left (they are counted lost), or start later with --from-offset",
        gone, plan.topic, gone_where));
  }
  if (!options.in_place && !plan.resumed) {
    // New tables must be new: rows already there would mix with the rebuilt ones. So must an
    // aggregate's state table, whose result table can be empty (its rows deleted by hand): its
    // watermarks would judge this rebuild's records, and the offsets its windows include would
    // skip them as applied already.
    std::vector<std::string> must_be_empty;
    for (const auto& [live, table] : plan.tables) must_be_empty.push_back(table);
    for (const AggregateSpec& a : rebuilt.process.aggregates) {
      must_be_empty.push_back(AggregateStateTable(a.table));
    }
    for (const std::string& table : must_be_empty) {
      auto rows = store->Count(table);
      if (rows.status().code() == StatusCode::kNotFound) continue;  // created by the rebuild
      if (!rows.ok()) {
        return rows.status().WithContext(
            fmt::format("reprocess: checking that {} is empty", table));
      }
      if (*rows > 0) {
        return Status::ConfigError(fmt::format(
            "reprocess: {} already holds {} rows, and reprocess group {} has no offsets in the "
            "store (it did not write them): choose another --into-suffix, or pass --group of the "
            "reprocess that wrote them to resume it",
            table, *rows, plan.group));
      }
    }
  }
  const bool truncate =
      options.in_place && options.from == ReprocessOptions::From::kBeginning && !plan.resumed;
  plan.truncated = truncate;

  ReprocessLog view(log.get(), plan.group, plan.topic, start, end);
  TruncateFirstBatch truncate_stage(truncate, main_table);
  ProcessorProbe probe;
  ProcessorSetup setup;
  setup.config = &rebuilt;
  setup.staging_url = urls.staging;
  setup.log = &view;
  setup.store = store.get();
  setup.batch_records = static_cast<size_t>(config.tuning.batch_records);
  setup.clock = clock;
  setup.probe = &probe;
  setup.extra_stages.push_back(&truncate_stage);
  setup.stage_tables_emptied_first = truncate;
  setup.write_process_table = main_table;
  DF_ASSIGN_OR_RETURN(auto parts, BuildProcessor(setup));
  truncate_stage.set_also(parts->stage_tables);
  Processor& processor = *parts->processor;
  if (on_start) on_start(plan);

  const int64_t started = clock->MonotonicMicros();
  int64_t last_report = started;
  auto snapshot = [&] {
    plan.read = probe.consumed;
    plan.stored = probe.stored;
    plan.dead_lettered = probe.dead_lettered;
    plan.lost = probe.lost;
    plan.filtered = probe.filtered;
    plan.duplicates = probe.duplicates;
    plan.seconds = static_cast<double>(clock->MonotonicMicros() - started) / 1e6;
    plan.finished = view.Done();
  };
  // A partition can be done before its consumer ever resumed it (nothing to read): the view
  // knows from the stored offsets.
  for (const auto& [p, offset] : stored) {
    if (offset) (void)view.CommitGroupOffset(plan.group, plan.topic, p, *offset);
  }
  while (!view.Done() && !stop.stop_requested()) {
    DF_ASSIGN_OR_RETURN(size_t n, processor.RunOnce(kPollWaitUs, stop));
    (void)n;
    int64_t now = clock->MonotonicMicros();
    if (on_progress && now - last_report >= options.progress_every_us) {
      last_report = now;
      snapshot();
      on_progress(plan);
    }
  }
  if (truncate_stage.pending() && view.Done()) {
    // Nothing was there to read: the table is emptied all the same (the rebuild of no records).
    StoreBatch empty;
    empty.table = rebuilt.process.table;
    empty.group = plan.group;
    empty.counted = false;
    empty.truncate = main_table;
    empty.truncate_also = parts->stage_tables;
    DF_RETURN_IF_ERROR(store->Apply(empty));
  }
  DF_RETURN_IF_ERROR(processor.Close());
  snapshot();
  return plan;
}

}  // namespace dataforge
