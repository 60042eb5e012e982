// Source of type postgres_cdc: the INSERTs, UPDATEs, DELETEs and TRUNCATEs of chosen tables,
// read from PostgreSQL's logical replication (the built-in pgoutput plugin, protocol version 1)
// through a replication slot and a publication that Open() creates when missing.
//
// Records: one change event per row change (pgoutput::ChangeEventJson: op, table, lsn, xid,
// commit_time, data, before), keyed "schema.table/<key column values>", the key columns being
// those that name a store row (row_key.h: source.key_columns, the store's key column, or the
// primary key), so all changes of one store row share a log partition; an UPDATE that changes
// the key columns becomes a delete of the old key and an insert of the new one. Changes of a
// partition arrive under its partitioned table's name (publish_via_partition_root). A TRUNCATE is
// one broadcast record per table (common/record.h, docs/postgresql.md); a source that captures
// several tables refuses it (FailedPrecondition: they share one store table). The record's
// fetched_at is the transaction's commit time, so the pipeline's fetch->queryable latency is the
// change's lag from commit to the store.
//
// Initial snapshot (`snapshot: initial`, the default): the run that creates the slot first
// copies the rows the tables hold as "read" events, positions "v2;snapshot;…", then streams
// from the slot's consistent point; resumable after kill -9 (snapshot_copy.h says how and what
// the log may then hold). The slot is confirmed nothing while the copy runs.
//
// Position "v1;lsn=X/Y;skip=N": every transaction whose commit LSN is below X is staged, and of
// the transaction committed at X the first N changes are (a batch may end inside a large
// transaction). After a whole transaction X is its end LSN and N is 0. On Open() replication
// starts at X and changes already staged are skipped, so a crash anywhere repeats nothing and
// loses nothing.
//
// Confirming: the slot's flushed LSN is confirmed to the server only from Acknowledged(), i.e.
// once the log holds the changes, never ahead of it; while idle with everything acknowledged
// it follows the server's WAL end so the slot does not hold WAL for other tables' traffic.
//
// Faults: a lost connection or a server restart is retried with backoff (a warning every 5 s)
// from the last position returned, inside Next(); bad configuration (wal_level not logical,
// missing table, no primary key, missing privilege) fails Open() with one line saying the fix.
// A replication slot that is gone while a position is stored (someone dropped it: the changes
// since are lost) fails Open() with FailedPrecondition naming both LSNs; it is not recreated.
//
// Thread-compatible: the pipeline's source thread owns it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/clock.h"
#include "config/pipeline_config.h"
#include "pg/pg_connection.h"
#include "source/postgres_cdc/pgoutput.h"
#include "source/postgres_cdc/snapshot_copy.h"
#include "source/source.h"

namespace dataforge {

struct CdcPosition {
  uint64_t lsn = 0;
  uint64_t skip = 0;
  std::string Format() const;
  // "" -> {0, 0}; anything else malformed is a ConfigError naming the text.
  static Result<CdcPosition> Parse(const std::string& text);
};

class PostgresCdcSource final : public Source {
 public:
  PostgresCdcSource(const SourceConfig& config, std::string url, Clock* clock);
  ~PostgresCdcSource() override;

  Status Open(const std::string& committed_position) override;
  Result<SourceBatch> Next(size_t max_records, std::stop_token stop) override;
  std::string Describe() const override;
  void Acknowledged(const std::string& position) override;

 private:
  struct Table {
    std::string schema, name;
    // The columns that make the record key (row_key.h); empty = the replica identity index.
    std::vector<std::string> key_columns;
    std::vector<std::string> primary_key;  // empty: none (the initial snapshot's copy order)
  };
  Status Prepare();  // checks, publication, slot (regular connection)
  Status StartStreaming();
  // The initial snapshot (snapshot_copy.h): begins it on the first run, then its batches.
  Status StartSnapshot(const PgResult& slot, const std::string& user);
  std::vector<SnapshotTable> SnapshotTables() const;  // tables_ as the copy needs them
  Result<SourceBatch> NextSnapshot(size_t max_records, std::stop_token stop);
  // Reads and handles what the server sent; true when a batch should be returned now.
  Result<bool> Pump(size_t max_records, SourceBatch* batch, std::stop_token stop);
  Status Handle(std::string_view copy_data, SourceBatch* batch);
  // Counts a change (or truncate) of the current transaction; false when it was staged before
  // this connection started (skipped), else advances position_ past it.
  bool CountChange();
  Status HandleChange(const pgoutput::Change& change, SourceBatch* batch);
  // Replaces each domain column's type OID by its base type's (values of a domain over boolean
  // are booleans): pgoutput does not send base types, so they are read from pg_type once per
  // type, on a regular connection.
  Status ResolveDomains(pgoutput::Relation* rel);
  Status SendStatus(bool reply_requested);
  Status Reconnect(const Status& why, std::stop_token stop);

  SourceConfig config_;
  std::string url_;
  Clock* clock_;
  std::string slot_, publication_;
  std::vector<Table> tables_;
  std::unique_ptr<PgConnection> stream_;

  CdcPosition resume_;      // the last position returned (committed by the pipeline)
  CdcPosition position_;    // position after what has been read into batches so far
  uint64_t acked_lsn_ = 0;  // confirmed to the server
  uint64_t server_wal_end_ = 0;
  bool in_txn_ = false;
  pgoutput::Begin txn_;
  uint64_t txn_change_ = 0;  // changes of the current transaction seen so far
  std::map<uint32_t, pgoutput::Relation> relations_;
  std::map<uint32_t, uint32_t> base_types_;  // type OID -> base type OID (itself if no domain)
  int64_t next_status_us_ = 0;
  CdcPosition start_;                       // where the current replication connection started
  std::unique_ptr<SnapshotCopy> snapshot_;  // while the initial snapshot is being copied
};

}  // namespace dataforge
