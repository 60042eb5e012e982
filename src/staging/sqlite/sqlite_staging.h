// SQLite (WAL) implementation of Staging. See staging/staging.h for the contract and
// docs/architecture.md for the schema.
//
// The upsert view `staged` is keyed by a 64-bit hash of the record key (the key itself is in the
// outbox row it points to): 12-byte rows keep the randomly-placed inserts of UUID keys on few
// pages. Two keys with the same hash (p ≈ n²/2^65: ~3e-6 at 10^7 keys) would share one view
// entry — `staging count` would be one low and Get() of one of them NotFound; the outbox, the
// log and the store are not affected.
//
// The view trails the relay cursor by up to an eighth of its rows (at most kMaxViewLag outbox
// rows): the counter `viewed` says up to which outbox seq every row is in it. A cursor commit
// starts a pass when that many rows wait; the pass upserts each key's last version among them
// in key-hash order, kViewSlice keys a transaction, at least twice as many keys per cursor
// commit as the commit passed, the last slice setting `viewed`. So each of the view's pages is
// written about once per pass, and a pass covers many keys per page: with millions of keys,
// upserting at every cursor commit (every 200 ms) rewrote most of the view's pages each time
// (docs/benchmarks.md, "the upsert view's write amplification"). A view of fewer than 8 rows
// waits for nothing, and a pass that fits one call is done when it returns; CompleteView()
// catches up at once (the relay calls it when it drains, and for an ingest waiting to read it).
// Get() reads the outbox past `viewed` first. A slice committed before a failure leaves the view
// ahead of `viewed` for some keys, never behind: the next pass upserts from `viewed` again.
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
#include <string>
#include <utility>
#include <vector>

#include "staging/sqlite/sqlite_db.h"
#include "staging/sqlite/wal_checkpointer.h"
#include "staging/staging.h"

namespace dataforge {

class SqliteStaging final : public Staging {
 public:
  static Result<std::unique_ptr<Staging>> Open(const std::string& path, OpenMode mode,
                                               bool synchronous_full);

  Result<uint64_t> Commit(const std::string& source_name, const SourceBatch& batch) override;
  Result<std::string> SourcePosition(const std::string& source_name) override;
  Result<std::vector<std::pair<std::string, std::string>>> SourcePositions() override;
  Status ReadOutbox(uint64_t after_seq, size_t max_rows, std::vector<OutboxRow>* out) override;
  using Staging::CommitRelayCursor;
  Status CommitRelayCursor(uint64_t seq, uint64_t streamed_delta,
                           const std::vector<DeadLetter>& dead_letters) override;
  Result<StagingCounters> Counters() override;
  Status CompleteView() override;
  Result<OutboxRow> Get(const std::string& key) override;
  Status ListDeadLetters(uint64_t after_id, size_t limit,
                         std::vector<StoredDeadLetter>* out) override;

 private:
  SqliteStaging() = default;
  Status PrepareWriter();
  // A counter's value on the writer (0 when absent).
  Result<uint64_t> CounterLocked(const char* name);
  // Adds the `viewed` counter to a version-1 file (whose view followed the relay cursor).
  Status MigrateLocked(int64_t version);
  Status PrepareReader();
  Status CommitLocked(const std::string& source_name, const SourceBatch& batch);
  Status InsertDeadLetterLocked(const DeadLetter& d);
  // Fills view_updates_ with each key's last version among outbox rows (after_seq,
  // through_seq], in key-hash order.
  Status CollectViewUpdatesLocked(uint64_t after_seq, uint64_t through_seq);
  // Upserts view_updates_[begin, end) into the view.
  Status UpsertViewLocked(size_t begin, size_t end);
  // Starts a pass over the rows (viewed_, seq] when enough of them wait (always: `force`).
  Status MaybeStartPass(uint64_t seq, bool force);
  // Upserts slices of the pass under way, `budget` keys or more (whole slices), a transaction
  // each, but leaves its last slice (sets *last) for the caller's transaction.
  Status RunPassSlices(size_t budget, bool* last);
  // In a write transaction: upserts the pass's last slice and sets `viewed`.
  Status FinishPassLocked();
  // After the transaction that ran FinishPassLocked() committed.
  void PassFinished();
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
  SqliteStatement insert_outbox_, upsert_staged_, read_keys_, insert_dead_, set_position_,
      add_counter_, set_counter_max_, read_counter_;  // guarded by write_mu_
  // The view's upsert of kViewRowsPerStatement rows at once (guarded by write_mu_): one
  // statement's work (bind, step, reset) per row costs more than the row's B-tree insert.
  SqliteStatement upsert_staged_many_;
  static constexpr size_t kViewRowsPerStatement = 200;
  // (key hash, seq) of the rows Commit() added that no pass has taken yet, in seq order: the
  // view's next upserts, without reading the rows back. Dropped past kMaxUnviewed entries (16
  // bytes each; a writer without a relay), then read back from the outbox.
  std::vector<std::pair<int64_t, int64_t>> unviewed_;  // guarded by write_mu_
  // The pass under way (only the relay's thread uses these, CommitRelayCursor and
  // CompleteView): its upserts, in key-hash order, from view_done_ on; it ends at pass_to_.
  std::vector<std::pair<int64_t, int64_t>> view_updates_;
  size_t view_done_ = 0;
  bool pass_active_ = false;
  uint64_t pass_to_ = 0;
  uint64_t viewed_ = 0;  // the `viewed` counter as committed
  // Rows in the view: counted at a pass's start (on the reader), plus the keys of the passes
  // since (an upper bound); sets how many rows may wait.
  uint64_t view_rows_ = 0;
  bool view_rows_counted_ = false;
  static constexpr uint64_t kMaxViewLag = 131072;
  // The capacity Open() reserves for unviewed_ and view_updates_: the most a pass takes, and the
  // rows committed while one runs (3 MiB each).
  static constexpr size_t kViewBuffer = kMaxViewLag + 65536;
  static constexpr size_t kMaxUnviewed = 1 << 20;
  // Upserts per transaction of a pass: about 4 ms of the writer at a time.
  static constexpr size_t kViewSlice = 2000;

  std::mutex read_mu_;
  std::unique_ptr<SqliteDb> reader_;  // guarded by read_mu_
  SqliteStatement read_outbox_;       // guarded by read_mu_
};

}  // namespace dataforge
