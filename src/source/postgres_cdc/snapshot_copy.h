// The initial snapshot of the postgres_cdc source (`snapshot: initial`, Debezium's `initial`
// mode): the rows the tables hold when the replication slot is created are copied as change
// events with op "read", then streaming starts at the slot's consistent point.
//
// How the copy is consistent with the stream:
//  - First run (no slot): Start() creates the slot on a replication connection with
//    CREATE_REPLICATION_SLOT … LOGICAL pgoutput (SNAPSHOT 'export'), which returns the slot's
//    consistent point and a snapshot that sees exactly the transactions committed before it;
//    a regular connection imports that snapshot (REPEATABLE READ, READ ONLY) and copies each
//    table in primary-key order with a cursor. The stream then starts at the consistent point:
//    no change is both copied and streamed, none is missed.
//  - Resume (kill -9 or a lost connection in the middle of the copy): the exported snapshot is
//    gone, but the slot still holds the WAL from its consistent point (nothing is confirmed to
//    the server until streaming). The copy goes on from the last staged key in a fresh
//    REPEATABLE READ snapshot, and streaming still starts at the ORIGINAL consistent point.
//    Rows copied after a resume are as of the newer snapshot, so the stream that follows can
//    replay changes those rows already reflect; every event of a row has the same record key
//    (one log partition) and changes are applied in commit order after the read, so the store
//    converges to the table exactly. The log may hold such already-reflected changes.
//  - A slot that exists while no position was ever staged (a first run killed before its first
//    batch, or a slot made by hand): the same as a resume from the start of the first table,
//    streaming from the slot's confirmed_flush_lsn.
//  - A table without a primary key (REPLICA IDENTITY FULL or USING INDEX) is copied in one
//    pass in physical order; a resume in the middle of it copies it again from its start (the
//    upserts are idempotent, so the store is still exact; the log holds the repeated reads).
//
// Records: pgoutput::ChangeEventJson with op "read" (lsn = the consistent point, xid 0,
// commit_time = when this copy's snapshot was taken), values in pgoutput's text form (the
// same output functions, columns as pgoutput sends them: no dropped or generated ones, the
// domain's base type), keyed by pgoutput::ChangeKey exactly as streamed changes of the row are.
//
// Position while copying: "v2;snapshot;lsn=X/Y;table=I[;after=K]" (table I of the source's
// list is next; K, the last staged primary key, values escaped as in ChangeKey and joined
// with '/'). The batch that finishes the copy carries "v1;lsn=<consistent point>;skip=0".
//
// Thread-compatible: owned by the PostgresCdcSource on the pipeline's source thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "pg/pg_connection.h"
#include "source/postgres_cdc/pgoutput.h"
#include "source/source.h"

namespace dataforge {

struct SnapshotPosition {
  uint64_t lsn = 0;  // the slot's consistent point: streaming starts here after the copy
  size_t table = 0;  // index into the source's tables: the table being copied
  std::optional<std::vector<std::string>> after;  // the last staged primary key; none = start
  std::string Format() const;
  // True when `text` is a snapshot position (starts with "v2;snapshot;").
  static bool Is(const std::string& text);
  // Malformed text is a ConfigError quoting it.
  static Result<SnapshotPosition> Parse(const std::string& text);
};

struct SnapshotTable {
  std::string schema, name;
  std::vector<std::string> primary_key;  // empty: no primary key (copied in one pass)
  // The columns that make the record key, as for streamed changes (row_key.h); empty = the
  // replica identity's.
  std::vector<std::string> key_columns;
};

class SnapshotCopy {
 public:
  // The first run. `existing_slot_lsn` empty: creates `slot` with an exported snapshot. Given
  // (the slot's confirmed_flush_lsn): the slot exists but no position was staged, so the copy
  // uses a fresh snapshot and streaming starts at that LSN. Errors: ConfigError for missing
  // privileges (with the fix; `user` names the role in it), Unavailable when the server
  // cannot be reached.
  static Result<std::unique_ptr<SnapshotCopy>> Start(const std::string& url,
                                                     const std::string& slot,
                                                     const std::string& user,
                                                     std::vector<SnapshotTable> tables,
                                                     std::optional<std::string> existing_slot_lsn,
                                                     Clock* clock);
  // Goes on from a staged snapshot position (a fresh snapshot; see the header comment).
  static Result<std::unique_ptr<SnapshotCopy>> Resume(const std::string& url,
                                                      std::vector<SnapshotTable> tables,
                                                      const SnapshotPosition& at, Clock* clock);
  ~SnapshotCopy();

  // Fills `batch` with up to `max_records` read events of one table (or dead letters for rows
  // without a usable key) and sets batch->position. Returns true when the copy is complete:
  // batch->position is then "v1;lsn=<consistent point>;skip=0". A lost connection is retried
  // with backoff in a fresh snapshot from the last position returned (a warning every 5 s,
  // giving up after 300 s); Cancelled when `stop` is requested meanwhile.
  Result<bool> Next(size_t max_records, SourceBatch* batch, std::stop_token stop);

  uint64_t consistent_point() const { return returned_.lsn; }

 private:
  SnapshotCopy(std::string url, std::vector<SnapshotTable> tables, Clock* clock);
  // Opens conn_ in a REPEATABLE READ READ ONLY transaction, importing `snapshot_name` if given.
  Status BeginTransaction(const std::string& snapshot_name);
  Status OpenTable();  // describes the current table and declares the cursor from `after`
  Status Fill(size_t max_records, SourceBatch* batch);
  void Progress(bool force);

  std::string url_;
  std::vector<SnapshotTable> tables_;
  Clock* clock_;
  std::unique_ptr<PgConnection> conn_;
  SnapshotPosition returned_;  // as of the last batch returned
  SnapshotPosition at_;        // as of the rows read so far
  bool cursor_open_ = false;
  pgoutput::Relation rel_;          // the current table's columns, as pgoutput sends them
  std::vector<size_t> pk_columns_;  // indexes into rel_.columns of the primary key
  pgoutput::Begin txn_;             // lsn, xid 0, snapshot time
  int64_t estimate_ = -1;           // reltuples of the current table
  uint64_t table_rows_ = 0, total_rows_ = 0;
  int64_t started_us_ = 0, next_progress_us_ = 0;
};

}  // namespace dataforge
