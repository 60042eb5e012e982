// Store stage interface: tables of rows addressed by primary key, plus the processor's
// consumed offsets, counters and dead letters, all written atomically.
//
// The embedded implementation is RocksDB (store/rocksdb/); the Cassandra/ScyllaDB one
// (store/cassandra/, CQL native protocol v4) satisfies the same interface at scale.
// Thread-safety: safe for concurrent use. One process opens a store kReadWrite; others may open
// it kReadOnly while it runs (RocksDB secondary instance) and see data as of open or the last
// Refresh(). A kReadOnly store refuses Apply, CreateKeyspace and any EnsureTable that would
// change the catalog with FailedPrecondition, writing nothing.
// Durability: when Apply() returns OK the whole StoreBatch is durable (sync WAL write when
// `sync` is set) and visible together: rows, dead letters, offsets and counters (stored,
// dead_lettered, lost). RocksDB writes it as one atomic batch; Cassandra has no such write and
// orders it so a failed Apply never moves the offsets or counters, and re-running the batch from
// the committed offsets repairs any rows it left (docs/cassandra.md). Either way they never diverge
// after a crash. tests/conformance/store_conformance_test.cc checks this contract for every
// backend.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/open_mode.h"
#include "common/record.h"
#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge {

// One row version. An upsert is partial, as a CQL INSERT of some columns is: the columns in
// `row_json` are written (an explicit JSON null clears one), every other column of a stored row
// keeps its value; a new key gets just the columns given (RocksDB stores only those, Cassandra
// reads the others as null). Several writes to one key in one batch compose in batch order.
struct RowWrite {
  std::string key;       // primary key value as text
  std::string row_json;  // the columns to write, as one JSON object (empty when `deleted`)
  bool deleted = false;  // removes the row with `key` (a change event's delete)
  // The writer vouches that `row_json` holds every column the row has (it read the row under
  // its own lock, like the CQL endpoint): the store may replace the row without reading it.
  bool complete = false;
  // The table this row goes to; "" = the batch's `table`. A batch may write several tables
  // (process.outputs, process.aggregates): all of them commit with the offsets, as one unit.
  // A table other than the batch's must exist (EnsureTable): else Apply fails with NotFound
  // naming it and the row's key, writing nothing.
  std::string table{};
  // When set, `row_json`'s members are exactly these column names, in this order (the writer
  // vouches: the mapper's rows that carry all its columns, MapResult::every_column). A store
  // then learns whether the row sets every column of its table without parsing `row_json`.
  std::shared_ptr<const std::vector<std::string>> columns{};
};

struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
  // This batch's rows and dead letters that came from this partition's records. A store that
  // cannot write a whole batch atomically (Cassandra) keeps cumulative counters per partition
  // beside the offset, so a replayed batch never counts twice.
  uint64_t stored = 0;
  uint64_t dead_lettered = 0;
  uint64_t lost = 0;  // records the log deleted before they were read (LostRange, log.h)
  // The identity of the log the records came from (Log::LogId). The store keeps one offset row
  // per (group, topic, partition, log_id): offsets and counters of another log (another data
  // dir's embedded log writing into a shared store, a Kafka topic made again) are never taken
  // for this log's. "" = no identity (rows written before identities existed).
  std::string log_id{};
  uint64_t filtered = 0;  // records process.where dropped (never written, never lost)
};

// One atomic unit of processor output.
struct StoreBatch {
  std::string table;
  std::vector<RowWrite> rows;
  std::vector<DeadLetter> dead_letters;  // stage "process"
  std::string group;                     // consumer group the offsets belong to
  std::vector<PartitionOffset> offsets;
  // False for writes that did not come from the log (a CQL client's INSERT through the
  // endpoint): they are not counted in StoreCounters, which account for fetched records.
  bool counted = true;
  // Removes every row of `table` first (a source table truncated: process/processor.h), then
  // writes `rows`. Counted as one stored version in StoreCounters (the truncate event itself;
  // the processor puts it in one PartitionOffset's `stored`). RocksDB: part of the one atomic
  // write. Cassandra: the rows present are deleted before the offsets are written, so a replay
  // from the committed offsets deletes them again (idempotent).
  bool truncate = false;
  // More tables emptied first the same way, with `truncate` or without it (an in-place
  // rebuild's derived and aggregate tables, pipeline/reprocess.h; without `truncate` when
  // process.table is not rebuilt). Not counted: they derive from the same records.
  std::vector<std::string> truncate_also{};
  // How many of dead_letters a BatchStage added about a record that is also stored (a late
  // record of an aggregate, a record a derived table refused; batch_stage.h): in the dead-letter
  // table, but not in StoreCounters::dead_lettered (the record's outcome is `stored`).
  uint64_t stage_letters = 0;
};

// A table's shape. Column types are CQL type names: text, uuid, int, bigint, double, boolean,
// timestamp (the pipeline's column types), or any other CQL type a client created.
struct ColumnSchema {
  std::string name;
  std::string type;
};
struct TableSchema {
  std::string table;                  // "keyspace.name"
  std::string key_column;             // the primary key: one column
  std::vector<ColumnSchema> columns;  // includes the key column (see DescribeTable)
};
struct KeyspaceSchema {
  std::string name;
  // CQL replication options, e.g. {class: SimpleStrategy, replication_factor: "1"}.
  std::vector<std::pair<std::string, std::string>> replication;
};

// What Counters/LogCounters report. A dead letter replayed into a row (ApplyReplay) moves from
// dead_lettered to stored: `stored` includes `replayed`, `dead_lettered` excludes it, so
// stored + dead_lettered + lost + filtered == fetched stays exact after replays. Rows a batch
// writes into other tables than its own (RowWrite::table) are not counted: they come from the
// same records (RocksDB counts the batch's own table; both count PartitionOffset::stored).
struct StoreCounters {
  uint64_t stored = 0;         // row versions written (upserts and deletes, not distinct keys)
  uint64_t dead_lettered = 0;  // dead letters written by the processor, less those replayed
  uint64_t lost = 0;           // log records deleted before the processor read them
  uint64_t replayed = 0;       // dead letters replayed into rows (counted in `stored`)
  uint64_t filtered = 0;       // records process.where dropped
};

// One dead letter mapped again (process/replay.h), for Store::ApplyReplay.
struct DeadLetterReplay {
  uint64_t letter_id = 0;  // the letter's id as ListDeadLetters gave it
  std::string location;    // ...and its location (Cassandra keys its letters by location)
  ReplayMarker marker;     // outcome "stored" or "dead_lettered"
  std::string table;       // outcome "stored": the row written into `table`
  RowWrite row;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Status Apply(const StoreBatch& batch) = 0;

  // The next offset to consume for (group, topic, partition) of the log `log_id`, or nullopt if
  // that log never committed one there; rows of other logs are ignored. A row without identity
  // (written before identities existed) belongs to the first log that asks for it with an
  // identity while no log has a row for that partition: a read-write store records that (once:
  // from then on it is that log's row, and other logs do not see it); a read-only store reads
  // it without recording.
  // log_id "": the row without identity only.
  virtual Result<std::optional<int64_t>> CommittedOffset(const std::string& group,
                                                         const std::string& topic,
                                                         int32_t partition,
                                                         const std::string& log_id) = 0;

  // The row JSON for `key`, NotFound if absent (or if the table does not exist).
  virtual Result<std::string> Get(const std::string& table, const std::string& key) = 0;
  // Calls `fn(key, row_json)` for the table's rows in the store's scan order, after the key
  // `start_after` ("" = from the first), at most `limit` (0 = all). `fn` returns false to stop
  // early. The scan order is a fixed order of keys, not necessarily key order: RocksDB visits
  // keys in byte order; Cassandra in the cluster's token order (key order would need a full
  // read of the table). `start_after` need not exist any more, so a reader pages through a
  // table by passing the last key it got, and the pages neither skip nor repeat a row that
  // stayed in the table (Cassandra: unless two keys share a 64-bit token, which practically
  // never happens). NotFound if the table does not exist (a table exists once it has a schema
  // or rows).
  virtual Status Scan(const std::string& table, const std::string& start_after, size_t limit,
                      const std::function<bool(const std::string&, const std::string&)>& fn) = 0;
  // Rows in the table (distinct keys); NotFound if the table does not exist.
  virtual Result<uint64_t> Count(const std::string& table) = 0;
  // "keyspace.table" names, sorted; the store's own bookkeeping tables are not listed.
  virtual Result<std::vector<std::string>> ListTables() = 0;

  // Counters of everything the store holds (every log that wrote into it).
  virtual Result<StoreCounters> Counters() = 0;
  // Counters of the records of one log (`log_id`) in (group, topic): the sum of its offset rows
  // and of the rows without identity it would be given (CommittedOffset), what a data dir
  // balances against its own fetched records when several logs share the store.
  // log_id "": Counters() (a log that cannot tell its identity sees the whole store, as before
  // identities existed).
  virtual Result<StoreCounters> LogCounters(const std::string& group, const std::string& topic,
                                            const std::string& log_id) = 0;
  // The records counted lost in (group, topic, partition) of the log `log_id` (rows as for
  // CommittedOffset), 0 when none; written with the partition's offset.
  virtual Result<uint64_t> PartitionLost(const std::string& group, const std::string& topic,
                                         int32_t partition, const std::string& log_id) = 0;
  // Dead letters with id > after_id, oldest first, at most `limit` (0 = all). Ids grow with
  // age (Cassandra: positions in (at_us, location) order), so passing the last id read pages.
  // Each letter comes with its replay marker (StoredDeadLetter::replay), if it has one.
  virtual Status ListDeadLetters(uint64_t after_id, size_t limit,
                                 std::vector<StoredDeadLetter>* out) = 0;

  // Records the replay of one dead letter: outcome "stored" writes `row` into `table` (an upsert
  // that is not counted as a log record) and the marker; "dead_lettered" writes the marker only
  // (the letter stays a dead letter and may be replayed again). A letter is stored by a replay at
  // most once: FailedPrecondition "already replayed at <time>: stored key K" when its marker says
  // "stored", writing nothing; NotFound when the store has no such letter (id and location must
  // both match). Counters move with the marker (StoreCounters::replayed).
  // Atomicity: RocksDB writes the row, the marker and the counter in one write batch. Cassandra
  // writes the row, then the marker (its own table, never the processor's offset rows): a crash
  // in between leaves the letter unmarked, so replaying it again repeats the same upsert (the row
  // is never doubled) and then marks it. Replays of one store are serialized (one process).
  // kReadOnly: FailedPrecondition.
  virtual Status ApplyReplay(const DeadLetterReplay& replay) = 0;

  // Creates `schema.table` (and its keyspace, with the store's default replication) when
  // missing. An existing table must have the same key column and, for every column of
  // `schema`, the same type: otherwise ConfigError naming the column, both types and the fix.
  // Columns the existing table lacks: RocksDB adds them (rows are JSON; old rows read them as
  // null); Cassandra refuses with ConfigError quoting the ALTER TABLE that adds them.
  virtual Status EnsureTable(const TableSchema& schema) = 0;
  // The table's schema, NotFound if it does not exist. The key column comes first; the others
  // in declaration order (RocksDB) or the cluster's order (Cassandra).
  virtual Result<TableSchema> DescribeTable(const std::string& table) = 0;
  // Creates the keyspace when missing (an existing one is left as it is, replication too).
  // ListKeyspaces: sorted by name.
  virtual Status CreateKeyspace(const KeyspaceSchema& keyspace) = 0;
  virtual Result<std::vector<KeyspaceSchema>> ListKeyspaces() = 0;

  // Read-only instances: catch up with the writer. No-op for kReadWrite.
  virtual Status Refresh() = 0;

  // Rewrites the store's files to drop deleted and overwritten row versions (RocksDB: a full
  // manual compaction). Safe while the store is written. Returns "<before> -> <after> bytes".
  virtual Result<std::string> Compact() = 0;
};

// Cassandra/ScyllaDB (cassandra:// URLs): see config/pipeline_config.h and docs/cassandra.md.
using CassandraOptions = CassandraConfig;

struct StoreOptions {
  bool sync = true;  // fsync the WAL on every Apply()
  CassandraOptions cassandra;
};

// The options the pipeline file's `store:` section asks for.
StoreOptions StoreOptionsFor(const StoreConfig& config);

// Opens the store named by `url`: "rocksdb:///abs/dir", "rocksdb://rel/dir", or
// "cassandra://[user:password@]host[:port][,host[:port]...][/keyspace][?option=value&...]".
Result<std::unique_ptr<Store>> OpenStore(const std::string& url, OpenMode mode,
                                         const StoreOptions& options);

}  // namespace dataforge
