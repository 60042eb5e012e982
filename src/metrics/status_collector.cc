#include "metrics/status_collector.h"

#include <algorithm>
#include <optional>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

#include "common/dead_letter_reason.h"
#include "metrics/family.h"
#include "pipeline/data_dir.h"
#include "pipeline/status_report.h"

namespace dataforge::metrics {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

std::string Kind(const std::string& url) {
  std::string scheme = url.substr(0, url.find("://"));
  if (scheme == "file") return "embedded";
  if (scheme == "postgres") return "postgresql";
  return scheme;
}

double D(uint64_t v) {
  return static_cast<double>(v);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> BackendKinds(const PipelineConfig& config,
                                                              const std::string& data_dir) {
  ResolvedUrls urls = ResolveUrls(config, data_dir);
  return {{"source", config.source.type},
          {"staging", Kind(urls.staging)},
          {"log", Kind(urls.log)},
          {"store", Kind(urls.store)}};
}

PipelineStatusCollector::PipelineStatusCollector(StatusSources sources,
                                                 std::chrono::milliseconds count_wait)
    : s_(std::move(sources)), count_wait_(count_wait) {
  info_labels_ = BackendKinds(*s_.config, s_.data_dir);
  info_labels_.emplace_back("role", s_.role);
}

template <typename Table>
void PipelineStatusCollector::CountDeadLetters(Table* table, DeadLetterCounts* counts) const {
  size_t read = 0;
  while (read < kDeadLettersPerScrape) {
    std::vector<StoredDeadLetter> page;
    if (!table->ListDeadLetters(counts->last_id, 10'000, &page).ok() || page.empty()) return;
    for (const auto& l : page) {
      std::string_view cls = DeadLetterReasonClass(l.letter.reason);
      for (size_t i = 0; i < counts->by_class.size(); ++i) {
        if (kDeadLetterReasonClasses[i] == cls) counts->by_class[i] += 1;
      }
      counts->last_id = l.id;
    }
    read += page.size();
    if (page.size() < 10'000) return;
  }
}

void PipelineStatusCollector::FinishRowCount() const {
  Result<uint64_t> rows = rows_.counting.get();
  auto took = std::chrono::steady_clock::now() - rows_.counting_since;
  rows_.next = rows_.counting_since + std::max<std::chrono::steady_clock::duration>(
                                          std::chrono::seconds(kRowsRefreshSeconds), took * 200);
  // Failed or not, this stored total was counted: holding still at it starts no other count.
  rows_.at_stored = rows_.counting_at_stored;
  // The pipeline's table does not exist before its first batch: 0 rows.
  if (rows.ok() || rows.status().code() == StatusCode::kNotFound) {
    rows_.known = true;
    rows_.rows = rows.ok() ? *rows : 0;
    return;
  }
  spdlog::warn(
      "metrics: counting the rows of {} failed after {:.1f} s ({}); dataforge_store_rows keeps its "
      "last value, and the count is tried again in {} s",
      s_.config->process.table, std::chrono::duration<double>(took).count(),
      rows.status().message(),
      std::chrono::duration_cast<std::chrono::seconds>(rows_.next -
                                                       std::chrono::steady_clock::now())
          .count());
}

std::vector<MetricFamily> PipelineStatusCollector::Collect() const {
  std::lock_guard lock(mu_);
  std::vector<MetricFamily> out;
  const PipelineConfig& c = *s_.config;

  auto info =
      Family("dataforge_pipeline_info",
             "What this process runs: its role and backend kinds (always 1).", MetricType::Gauge);
  Labels info_labels;
  for (const auto& [k, v] : info_labels_) info_labels.push_back({k, v});
  info.metric.push_back(GaugeValue(1, std::move(info_labels)));
  out.push_back(std::move(info));

  std::optional<PipelineStatus> st;
  bool staging_up = false, log_up = false, store_up = false;
  // A store read beside the running pipeline (`serve`) catches up with it once per scrape.
  const Status refreshed = s_.store != nullptr ? s_.store->Refresh() : Status::OK();
  if (!refreshed.ok()) spdlog::warn("metrics: {}", refreshed.message());
  if (s_.log != nullptr && refreshed.ok()) {
    auto read = ReadPipelineStatus(s_.staging, *s_.log, s_.store, c, /*count_rows=*/false);
    if (read.ok()) {
      st = std::move(read).value();
      staging_up = log_up = store_up = true;
    }
    if (st && st->has_store) {
      uint64_t stored = st->store.stored;
      auto now = std::chrono::steady_clock::now();
      bool still = stored == rows_.last_stored && stored != rows_.at_stored;
      if (!rows_.counting.valid() && (!rows_.known || still || now >= rows_.next)) {
        try {
          rows_.counting = std::async(
              std::launch::async,
              [store = s_.store, table = c.process.table] { return store->Count(table); });
          rows_.counting_since = now;
          rows_.counting_at_stored = stored;
        } catch (const std::system_error& e) {  // no thread to count on: the next scrape tries
          spdlog::warn("metrics: cannot start counting the rows of {}: {}", c.process.table,
                       e.what());
        }
      }
      if (rows_.counting.valid() &&
          rows_.counting.wait_for(count_wait_) == std::future_status::ready) {
        FinishRowCount();
      }
      rows_.last_stored = stored;
      st->rows = rows_.rows;
    }
  }
  if (!st) {  // which stage failed: each alone
    staging_up = s_.staging && s_.staging->Counters().ok();
    if (s_.log) {
      auto t = s_.log->DescribeTopic(c.log.topic);
      log_up = t.ok() || t.status().code() == StatusCode::kNotFound;
    }
    store_up = s_.store && refreshed.ok() && s_.store->Counters().ok();
  }
  auto up = Family("dataforge_backend_up",
                   "1 when the stage's backend answered this scrape's status read, else 0.",
                   MetricType::Gauge);
  if (s_.staging) up.metric.push_back(GaugeValue(staging_up, {{"stage", "staging"}}));
  up.metric.push_back(GaugeValue(log_up, {{"stage", "log"}}));
  if (s_.store) up.metric.push_back(GaugeValue(store_up, {{"stage", "store"}}));
  out.push_back(std::move(up));

  // Dead letters by reason class: after the status read, so never fewer than its counters
  // had when they were read.
  auto letters = Family("dataforge_dead_letters_total",
                        "Dead letters since the data dir was created, by stage and reason class.",
                        MetricType::Counter);
  auto add_letters = [&](const char* stage, const DeadLetterCounts& counts) {
    for (size_t i = 0; i < counts.by_class.size(); ++i) {
      letters.metric.push_back(
          CounterValue(D(counts.by_class[i]),
                       {{"reason", std::string(kDeadLetterReasonClasses[i])}, {"stage", stage}}));
    }
  };
  if (s_.staging && staging_up) {
    CountDeadLetters(s_.staging, &source_letters_);
    add_letters("source", source_letters_);
  }
  if (s_.store && store_up) {
    CountDeadLetters(s_.store, &process_letters_);
    add_letters("process", process_letters_);
  }
  if (!letters.metric.empty()) out.push_back(std::move(letters));
  if (!st) return out;

  auto records = Family("dataforge_records_total",
                        "Records through each stage since the data dir was created (as "
                        "`dataforge status --json`).",
                        MetricType::Counter);
  auto record = [&](const char* stage, uint64_t v) {
    records.metric.push_back(CounterValue(D(v), {{"stage", stage}}));
  };
  record("fetched", st->staging.fetched);
  record("staged", st->staging.staged);
  record("streamed", st->staging.streamed);
  record("stored", st->store.stored);
  record("dead_lettered", st->dead_lettered());
  record("lost", st->store.lost);
  record("filtered", st->store.filtered);  // process.where dropped them (never stored, not lost)
  out.push_back(std::move(records));

  auto lag = Family("dataforge_stage_lag_records",
                    "Records waiting at a stage: staging (staged, not yet in the log), log (in "
                    "the log, not yet processed).",
                    MetricType::Gauge);
  lag.metric.push_back(GaugeValue(D(st->staging_lag()), {{"stage", "staging"}}));
  lag.metric.push_back(GaugeValue(D(st->log_lag), {{"stage", "log"}}));
  out.push_back(std::move(lag));

  auto start =
      Family("dataforge_log_start_offset", "First offset the log still holds.", MetricType::Gauge);
  auto end =
      Family("dataforge_log_end_offset", "Next offset the log will write.", MetricType::Gauge);
  auto group =
      Family("dataforge_consumer_group_offset",
             "The processor's committed position (next offset to process).", MetricType::Gauge);
  auto group_lag =
      Family("dataforge_consumer_group_lag_records",
             "Records from the committed position to the end of the partition.", MetricType::Gauge);
  for (const auto& p : st->partitions) {
    std::string part = std::to_string(p.partition);
    Labels tp = {{"partition", part}, {"topic", c.log.topic}};
    Labels gtp = {{"group", c.process.group}, {"partition", part}, {"topic", c.log.topic}};
    start.metric.push_back(GaugeValue(static_cast<double>(p.start_offset), tp));
    end.metric.push_back(GaugeValue(static_cast<double>(p.end_offset), tp));
    group.metric.push_back(GaugeValue(static_cast<double>(p.committed), gtp));
    group_lag.metric.push_back(GaugeValue(D(p.lag()), gtp));
  }
  for (auto* f : {&start, &end, &group, &group_lag}) {
    if (!f->metric.empty()) out.push_back(std::move(*f));
  }

  auto unread = Family("dataforge_log_deleted_unread_records",
                       "Records the log deleted before the processor read them, not yet counted "
                       "lost.",
                       MetricType::Gauge);
  unread.metric.push_back(GaugeValue(D(st->deleted_unread)));
  out.push_back(std::move(unread));

  if (st->has_store && rows_.known) {
    auto rows = Family("dataforge_store_rows", "Rows (distinct keys) of the pipeline's table.",
                       MetricType::Gauge);
    rows.metric.push_back(GaugeValue(D(st->rows), {{"table", c.process.table}}));
    out.push_back(std::move(rows));
  }
  return out;
}

}  // namespace dataforge::metrics
