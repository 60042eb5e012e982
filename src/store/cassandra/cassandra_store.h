// The Store over Cassandra/ScyllaDB (or `dataforge cql-serve`) through the CQL client
// (cql/client/session.h); docs/cassandra.md.
//
// Tables: a logical table "ks.t" is the CQL table "<URL keyspace>.t" when the URL names a
// keyspace, else "ks.t". Bookkeeping lives in the URL keyspace (default "dataforge"):
//   dataforge_offsets (id text PRIMARY KEY, group_name text, topic text, partition int,
//                      log_id text, next_offset bigint, stored bigint, dead_lettered bigint,
//                      lost bigint, filtered bigint)
//     id = "<group>/<topic>/<partition>/<log id>": one row per partition and log (the log's
//     identity, Log::LogId) holds its next offset and its cumulative counters, written by one
//     INSERT (a single-row write is atomic). A row written before identities existed has the id
//     "<group>/<topic>/<partition>" and no log_id; the first log that asks for it with an
//     identity copies it to its own row and deletes it (docs/cassandra.md).
//   dataforge_dead_letters (location text PRIMARY KEY, stage text, reason text, payload text,
//                           at_us bigint, record_key text)
//     keyed by the record's location ("topic/partition@offset", plus " (log <id>)" when the
//     batch's offsets carry a log identity, as positions repeat across the logs that share a
//     store): a replayed batch overwrites.
//   dataforge_replays (location text PRIMARY KEY, at_us bigint, outcome text, row_key text,
//                      reason text, topic text, log_id text)
//     a dead letter's replay marker (store.h ApplyReplay), keyed by the letter's location: the
//     row is written first, the marker after it; the letters replayed into rows are counted
//     from these markers, never in the processor's offset rows.
//
// Apply() is not one atomic write (Cassandra has none across partitions); it is ordered so a
// failure at any point is repaired by re-running the batch from the committed offsets:
//   1. rows: versions of one key are collapsed to the batch's last (one statement per key, so
//      parallel execution cannot reorder versions); upserts bind every column of the table
//      (UNSET for a column the JSON lacks, null for JSON null), deletes are DELETE by key; all
//      run in parallel (bounded by the connections' max_in_flight) with the table's
//      consistency and a client-side timestamp (microseconds, strictly increasing in this
//      process) so a later batch wins;
//   2. dead letters, likewise;
//   3. after 1 and 2 were acknowledged, one INSERT per partition into dataforge_offsets with
//      next_offset and counters = the partition's previously committed counters (cached; read
//      on first use) + this batch's stored/dead_lettered. The cache changes only on success.
// Rows are idempotent upserts and counters are per partition, so a replay never doubles them.
// No statement is ever grouped into a BATCH: with one-column primary keys and per-key
// collapsing there is never more than one statement per partition, and cross-partition
// batches would only add coordinator load.
// StoreBatch::counted=false writes rows (and dead letters) only, no offsets or counters.
//
// Reads: Scan returns rows in the cluster's token order (not key order) and resumes with
// token(k) > token(start_after). ListDeadLetters reads every dead letter, orders them by
// (at_us, location) and numbers them 1..n: an id is a position in that order.
// Compact is the cluster's job (nodetool compact): OK, no-op. Refresh: no-op.
// kReadOnly: no DDL; Apply, EnsureTable and CreateKeyspace are refused.
//
// Thread-safety: safe for concurrent use; Apply calls are serialized (counter cache).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cql/client/completion.h"
#include "cql/client/session.h"
#include "store/cassandra/cassandra_url.h"
#include "store/cassandra/row_codec.h"
#include "store/store.h"

namespace dataforge {

class CassandraStore : public Store {
 public:
  static Result<std::unique_ptr<CassandraStore>> Open(const std::string& url, OpenMode mode,
                                                      const StoreOptions& options);
  ~CassandraStore() override;

  Status Apply(const StoreBatch& batch) override;
  Result<std::optional<int64_t>> CommittedOffset(const std::string& group, const std::string& topic,
                                                 int32_t partition,
                                                 const std::string& log_id) override;
  Result<std::string> Get(const std::string& table, const std::string& key) override;
  Status Scan(const std::string& table, const std::string& start_after, size_t limit,
              const std::function<bool(const std::string&, const std::string&)>& fn) override;
  Result<uint64_t> Count(const std::string& table) override;
  Result<std::vector<std::string>> ListTables() override;
  Result<StoreCounters> Counters() override;
  Result<StoreCounters> LogCounters(const std::string& group, const std::string& topic,
                                    const std::string& log_id) override;
  Result<uint64_t> PartitionLost(const std::string& group, const std::string& topic,
                                 int32_t partition, const std::string& log_id) override;
  Status ListDeadLetters(uint64_t after_id, size_t limit,
                         std::vector<StoredDeadLetter>* out) override;
  Status ApplyReplay(const DeadLetterReplay& replay) override;
  Status EnsureTable(const TableSchema& schema) override;
  Result<TableSchema> DescribeTable(const std::string& table) override;
  Status CreateKeyspace(const KeyspaceSchema& keyspace) override;
  Result<std::vector<KeyspaceSchema>> ListKeyspaces() override;
  Status Refresh() override { return Status::OK(); }
  Result<std::string> Compact() override;

  // The CQL "keyspace.table" for a logical table name.
  std::string PhysicalName(const std::string& table) const;
  cql::client::ClientProbe& probe() { return session_->probe(); }

 private:
  // A table's shape and its prepared statements, built on first use.
  struct TableInfo {
    TableShape shape;
    cql::Consistency consistency = cql::Consistency::kLocalQuorum;
    cql::client::PreparedPtr insert, remove, get, scan_all, scan_after;
  };
  struct PartitionCounters {
    uint64_t stored = 0;
    uint64_t dead_lettered = 0;
    uint64_t lost = 0;
    uint64_t filtered = 0;  // records process.where dropped (a null column reads as 0)
  };

  CassandraStore(CassandraUrl url, OpenMode mode, std::unique_ptr<cql::client::Session> session);
  Result<std::shared_ptr<const TableInfo>> Table(const std::string& table);
  cql::Consistency ConsistencyFor(const std::string& logical, const std::string& physical) const;
  Status EnsureBookkeeping();
  // Read-only: whether the bookkeeping tables exist (a keyspace no pipeline wrote has none:
  // its counters are zero, it has no dead letters and no offsets). Read-write: true.
  Result<bool> HasBookkeeping();
  Status CreateKeyspaceIfMissing(const std::string& name,
                                 const std::vector<std::pair<std::string, std::string>>& repl);
  Status Ddl(const std::string& statement);
  Status WaitForSchemaAgreement();
  Result<TableSchema> DescribePhysical(const std::string& physical);
  struct OffsetRow {
    int64_t next_offset = 0;
    PartitionCounters counters;
  };
  Result<std::optional<OffsetRow>> SelectOffsetRow(const std::string& id);
  // The row of (group, topic, partition, log_id). Without one, the partition's row without
  // identity is this log's; with `adopt` it moves to the log's row (copy, then delete) unless
  // another log already has a row for the partition.
  Result<std::optional<OffsetRow>> ReadOffsetRow(const std::string& group, const std::string& topic,
                                                 int32_t partition, const std::string& log_id,
                                                 bool adopt);
  // One INSERT of a whole offset row; asynchronous into `done` when given.
  Status InsertOffsetRow(const std::string& group, const std::string& topic, int32_t partition,
                         const std::string& log_id, const OffsetRow& row,
                         cql::client::Completion* done = nullptr);
  // Whether dataforge_offsets has the log_id column (read-only: a keyspace written before
  // identities existed lacks it until a read-write process adds it). Read-write: true.
  Result<bool> HasLogIds();
  // Whether dataforge_offsets has the filtered column (read-only: a keyspace written before it
  // existed lacks it until a read-write process adds it; reads count 0). Read-write: true.
  Result<bool> HasFiltered();
  // Read-only: whether dataforge_replays exists / dataforge_dead_letters has record_key (a
  // keyspace written before replays lacks them until a read-write process adds them).
  Result<bool> HasReplays();
  Result<bool> HasRecordKeys();
  struct StoredReplay {
    ReplayMarker marker;
    std::string topic, log_id;
  };
  // Every replay marker, by letter location.
  Result<std::map<std::string, StoredReplay>> ReadReplays();
  // Adds the "stored" replays of (topic, log_id) (every log for "") to `c`.
  Status AddReplays(const std::string& topic, const std::string& log_id, StoreCounters* c);
  Result<PartitionCounters> LoadCounters(const std::string& id);
  // Deletes every row of `table` (a StoreBatch's truncate); nothing when it does not exist.
  Status DeleteAllRows(const std::string& table);
  // The batch's rows, table by table (RowWrite::table): every table looked up and every
  // statement encoded first (NotFound for a table that does not exist, nothing sent), then sent.
  Status WriteAllRows(const StoreBatch& batch, cql::client::Completion* done);
  // One statement per key of `rows` (all of table `t`), encoded; then sent into `done`.
  struct EncodedRows {
    std::string params;                         // every statement's parameters
    std::vector<std::pair<size_t, bool>> ends;  // (end in `params`, is a delete)
  };
  Status EncodeRows(const TableInfo& t, const std::vector<RowWrite>& rows, EncodedRows* encoded);
  void SendRows(const TableInfo& t, const EncodedRows& encoded, cql::client::Completion* done);
  Status WriteDeadLetters(const StoreBatch& batch, cql::client::Completion* done);
  Status WriteOffsets(const StoreBatch& batch);
  cql::QueryParameters Params(cql::Consistency c, std::vector<cql::Value> values) const;
  static int64_t NextTimestampMicros();

  const CassandraUrl url_;
  const OpenMode mode_;
  const std::string meta_keyspace_;  // the URL keyspace or "dataforge"
  cql::Consistency default_consistency_;
  std::map<std::string, cql::Consistency> table_consistency_;
  std::unique_ptr<cql::client::Session> session_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const TableInfo>> tables_;  // GUARDED_BY(mu_), logical
  bool bookkeeping_ready_ = false;                                  // GUARDED_BY(mu_)

  std::mutex apply_mu_;                                // one Apply at a time
  std::map<std::string, PartitionCounters> counters_;  // GUARDED_BY(apply_mu_), by offset id
  std::mutex replay_mu_;  // one ApplyReplay at a time (read the marker, then write)
};

}  // namespace dataforge
