// The pipeline's data-dir totals as metrics, read from the stages at each scrape with
// ReadPipelineStatus (pipeline/status_report.h): the same numbers as `dataforge status --json`
// and GET /v1/status at the same moment. Families (docs/metrics.md): dataforge_records_total,
// dataforge_stage_lag_records, dataforge_log_start_offset, dataforge_log_end_offset,
// dataforge_consumer_group_offset, dataforge_consumer_group_lag_records,
// dataforge_log_deleted_unread_records, dataforge_store_rows, dataforge_backend_up,
// dataforge_dead_letters_total, dataforge_pipeline_info.
//
// dataforge_store_rows counts the table's keys, a scan (RocksDB; SELECT COUNT(*) on Cassandra): a
// count starts at the first scrape, at the first scrape that sees the stored total unchanged
// since the previous scrape (the pipeline stopped or went idle), and otherwise at most every
// kRowsRefreshSeconds and no sooner than 200 times the last count's duration after it (counting
// takes at most 0.5% of the time: ~0.15 s for 200,000 rows, so every 30 s then); in between it
// repeats the last count. The count runs on a thread of its own: a scrape waits for it at most
// `count_wait` (kRowsWait), and a count that takes longer (a large table) is reported by the
// first scrape after it ends, so a scrape stays well inside Prometheus's 10 s scrape_timeout
// however large the table; before the first count ends the family is left out. A failed count
// is logged and tried again no sooner than the same interval; it keeps the last value and does
// not make dataforge_backend_up{stage="store"} 0 (the status read says whether the store
// answers). So it equals `status --json`'s store_rows once the stored total holds still for two
// scrapes (when the count takes less than `count_wait`), and a busy pipeline's scrape does not
// scan the table.
//
// When the status read fails, the scrape still answers: each present stage is asked alone
// (a cheap read) and dataforge_backend_up says which one failed; the status families are left
// out of that scrape (never zeros that would look like a reset). Dead letters are counted
// incrementally: the collector remembers the last id it read in each dead-letter table and
// lists only the ones after it (at most kDeadLettersPerScrape per table per scrape; the rest
// follow at the next scrapes).
//
// Thread-safety: Collect() from any thread; calls into the stages are serialized by the
// collector's own mutex, except the row count, which runs beside them on its own thread. The
// destructor waits for a count in flight. The stages must be used by nobody else at the same
// time (open them for the collector alone: a read-only Staging or Log is not safe for concurrent
// use); the Store is thread-safe and may be shared. `keep_alive` owns the
// stages (or is null when they outlive the collector).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "common/dead_letter_reason.h"
#include "config/pipeline_config.h"
#include "log/log.h"
#include "staging/staging.h"
#include "store/store.h"

namespace dataforge::metrics {

struct StatusSources {
  const PipelineConfig* config = nullptr;  // required
  Staging* staging = nullptr;              // null: a process role's data dir
  Log* log = nullptr;                      // null: the data dir has no log yet (never ran)
  Store* store = nullptr;                  // null: an ingest role's data dir
  std::string data_dir;                    // for the backend kinds of dataforge_pipeline_info
  std::string role;  // dataforge_pipeline_info's role: all, ingest, process, scheduler, serve
  std::shared_ptr<const void> keep_alive;
};

class PipelineStatusCollector : public prometheus::Collectable {
 public:
  static constexpr size_t kDeadLettersPerScrape = 100'000;
  static constexpr int kRowsRefreshSeconds = 15;
  static constexpr std::chrono::milliseconds kRowsWait{2000};

  explicit PipelineStatusCollector(StatusSources sources,
                                   std::chrono::milliseconds count_wait = kRowsWait);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct DeadLetterCounts {
    uint64_t last_id = 0;
    std::array<uint64_t, std::size(kDeadLetterReasonClasses)> by_class{};  // in that order
  };
  // Reads the dead letters after `counts->last_id` from `list` (staging's or store's).
  template <typename Table>
  void CountDeadLetters(Table* table, DeadLetterCounts* counts) const;

  StatusSources s_;
  std::vector<std::pair<std::string, std::string>> info_labels_;
  mutable std::mutex mu_;
  mutable DeadLetterCounts source_letters_;   // GUARDED_BY(mu_)
  mutable DeadLetterCounts process_letters_;  // GUARDED_BY(mu_)
  // The row counts (GUARDED_BY(mu_)): the last known count; when the next may start; the stored
  // total at which the last count (successful or not) began; the stored total of the previous
  // scrape; the count in flight, when it started and at which stored total. Declared after s_:
  // destroyed first, so a count in flight ends (the future waits) while the stages it reads are
  // still alive.
  struct RowCount {
    bool known = false;
    uint64_t rows = 0;
    std::chrono::steady_clock::time_point next;
    uint64_t at_stored = 0;
    uint64_t last_stored = 0;
    std::future<Result<uint64_t>> counting;
    std::chrono::steady_clock::time_point counting_since;
    uint64_t counting_at_stored = 0;
  };
  // Takes the result of the count in flight (which has ended) into rows_.
  void FinishRowCount() const;

  const std::chrono::milliseconds count_wait_;
  mutable RowCount rows_;
};

// The backend kinds of dataforge_pipeline_info for `config` in `data_dir`: source (http,
// postgres_cdc), staging (sqlite, postgresql), log (embedded, kafka), store (rocksdb, cassandra).
std::vector<std::pair<std::string, std::string>> BackendKinds(const PipelineConfig& config,
                                                              const std::string& data_dir);

}  // namespace dataforge::metrics
