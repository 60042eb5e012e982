// SQLite (WAL) implementation of Staging. See staging/staging.h for the contract and
// docs/architecture.md for the schema.
//
// The upsert view `staged` is keyed by a 64-bit hash of the record key (the key itself is in the
// outbox row it points to). It follows the relay cursor, as PostgreSQL's does: CommitRelayCursor()
// upserts each key's last version among the rows it passes, in key-hash order, in slices of
// kViewSlice a transaction (the last one with the cursor), once per cursor commit (at most every
// 200 ms at full speed); Get() looks at the outbox past the cursor first. Two keys with the same
// hash (p ≈ n²/2^65: ~3e-6 at 10^7 keys) would share one view entry — `staging count` would be
// one low and Get() of one of them NotFound; the outbox, the log and the store are not affected.
//
// The view is two tables and a SQL view over them (schema version 2): a cursor commit upserts
// into `staged_recent`, small, so its random keys dirty few pages; once that holds
// view_merge_rows keys, later cursor commits move it into `staged_base` in key-hash order,
// kViewSlice keys a transaction (upserted there and deleted from recent together), at least twice
// as many keys per call as the call added, so each page of the large base table is written about
// once per merge rather than at every cursor commit (docs/benchmarks.md, "the upsert view's
// write amplification"). `staged` (what SQL tasks read) is recent's rows and base's others.
//
// Thread-safety: Commit() and CommitRelayCursor() share one write connection under write_mu_
// (CommitRelayCursor from one thread at a time, as the Staging contract has it: the relay's);
// reads (ReadOutbox, Counters, Get, ListDeadLetters) use a second connection under read_mu_,
// so the relay reading never waits for the source writing (WAL readers do not block writers).
// A third connection checkpoints the WAL on its own thread (wal_checkpointer.h); when it must
// force the WAL to restart, it holds write_mu_ for that (about 10 ms, at most 100 ms more while
// a reader stays in the WAL).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "staging/sqlite/sqlite_db.h"
#include "staging/sqlite/wal_checkpointer.h"
#include "staging/staging.h"

namespace dataforge {

class SqliteStaging final : public Staging {
 public:
  // view_merge_rows: how many keys `staged_recent` holds before cursor commits move it into
  // `staged_base` (tests set it low).
  static constexpr size_t kViewMergeRows = 131072;
  static Result<std::unique_ptr<Staging>> Open(const std::string& path, OpenMode mode,
                                               bool synchronous_full,
                                               size_t view_merge_rows = kViewMergeRows);

  Result<uint64_t> Commit(const std::string& source_name, const SourceBatch& batch) override;
  Result<std::string> SourcePosition(const std::string& source_name) override;
  Result<std::vector<std::pair<std::string, std::string>>> SourcePositions() override;
  Status ReadOutbox(uint64_t after_seq, size_t max_rows, std::vector<OutboxRow>* out) override;
  using Staging::CommitRelayCursor;
  Status CommitRelayCursor(uint64_t seq, uint64_t streamed_delta,
                           const std::vector<DeadLetter>& dead_letters) override;
  Result<StagingCounters> Counters() override;
  Result<OutboxRow> Get(const std::string& key) override;
  Status ListDeadLetters(uint64_t after_id, size_t limit,
                         std::vector<StoredDeadLetter>* out) override;

 private:
  SqliteStaging() = default;
  Status PrepareWriter();
  // Creates the view's tables, or moves a version-1 file's `staged` table to `staged_base`.
  Status MigrateViewLocked(int64_t version);
  Status PrepareReader();
  Status CommitLocked(const std::string& source_name, const SourceBatch& batch);
  Status InsertDeadLetterLocked(const DeadLetter& d);
  // Fills view_updates_ with each key's last version among outbox rows (after_seq,
  // through_seq], in key-hash order.
  Status CollectViewUpdatesLocked(uint64_t after_seq, uint64_t through_seq);
  // One table of the view's upserts: of one row, and of kViewRowsPerStatement rows at once (one
  // statement's work per row costs more than the row's B-tree insert).
  struct ViewUpsert {
    SqliteStatement one, many;
  };
  Result<ViewUpsert> PrepareUpsert(const char* table);
  // Upserts rows[0, n) (each key once) into `into`'s table.
  static Status UpsertLocked(ViewUpsert& into, const std::pair<int64_t, int64_t>* rows, size_t n);
  // Starts a merge when `staged_recent` holds view_merge_rows_ keys, then moves at least `budget`
  // keys of it (whole slices) into `staged_base`, a transaction a slice. Relay thread only.
  Status MergeView(size_t budget);
  // Runs `body` in a write transaction of its own under write_mu_, not synced (see the .cc).
  Status RelayTransaction(const std::function<Status()>& body);
  // write_mu_, after a RESTART of the checkpointer that wants it (WaitForRestart).
  std::unique_lock<std::mutex> LockWriter();

  std::mutex write_mu_;
  // Between write_mu_ and writer_: the writer's WAL hook points at it, so it outlives the writer
  // connection, and its thread locks write_mu_, which outlives it.
  std::unique_ptr<WalCheckpointer> checkpointer_;  // null when read-only
  std::unique_ptr<SqliteDb> writer_;               // guarded by write_mu_; null when read-only
  uint64_t next_seq_ = 1;                          // guarded by write_mu_
  bool synchronous_full_ = false;                  // source commits sync (set by Open)
  SqliteStatement insert_outbox_, read_keys_, insert_dead_, set_position_, add_counter_,
      set_counter_max_;  // guarded by write_mu_
  // The view's statements (guarded by write_mu_; only the relay's thread uses them).
  ViewUpsert upsert_recent_, upsert_base_;
  SqliteStatement count_recent_, read_recent_, delete_recent_;
  static constexpr size_t kViewRowsPerStatement = 200;
  // (key hash, seq) of the rows Commit() added since the last cursor commit, in seq order: the
  // view's next upserts, without reading the rows back. Dropped past kMaxUnviewed entries (16
  // bytes each; a writer without a relay), then read back from the outbox.
  std::vector<std::pair<int64_t, int64_t>> unviewed_;  // guarded by write_mu_
  // The upserts of one cursor commit; only the relay's thread (CommitRelayCursor) uses it.
  std::vector<std::pair<int64_t, int64_t>> view_updates_;
  static constexpr size_t kMaxUnviewed = 1 << 20;
  // Upserts per transaction of a cursor commit or a merge: about 4 ms of the writer at a time.
  static constexpr size_t kViewSlice = 2000;
  size_t view_merge_rows_ = kViewMergeRows;  // set by Open
  // The merge under way: the lowest key hash of `staged_recent` it has not moved yet. Relay
  // thread only; not durable (a restart starts the next merge when recent is full again).
  std::optional<int64_t> merge_from_;
  std::vector<std::pair<int64_t, int64_t>> merging_;  // one slice of a merge; relay thread only

  std::mutex read_mu_;
  std::unique_ptr<SqliteDb> reader_;  // guarded by read_mu_
  SqliteStatement read_outbox_;       // guarded by read_mu_
  // Whether the file has the view as two tables (schema version 2); a read-only open of a
  // version-1 file (not yet run by this version) reads its `staged` table.
  bool split_view_ = true;
};

}  // namespace dataforge
