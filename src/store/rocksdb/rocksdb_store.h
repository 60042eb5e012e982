// RocksDB implementation of Store (docs/store-format.md).
//
// Column families: "rows" (table \0 primary key -> row JSON), "deadletters" (big-endian id ->
// JSON), and "default" for metadata: consumer offsets, counters, the schema catalog
// (keyspaces with their replication, tables with key column and column types) and the dead
// letters' replay markers ("r\0" big-endian id -> JSON, with the "c\0replayed" counter).
// Thread-safety: safe for concurrent use; apply_mu_ serialises Apply() (it owns the in-memory
// counters and the next dead-letter id, and makes a partial upsert's read-modify-write of a row
// atomic with respect to other such Applies; a complete row written by ApplyUncounted, the CQL
// endpoint's, does not take it: the endpoint serialises the writes of one key itself). Read-only
// instances are RocksDB secondaries in a private temporary directory, refreshed by Refresh().
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/store.h"

namespace dataforge {

class RocksDbStore final : public Store {
 public:
  // A table's schema columns: name -> its position, and the names in that order.
  struct ColumnSet {
    std::map<std::string, int, std::less<>> position;
    std::vector<std::string> names;
    bool empty() const { return names.empty(); }
    size_t size() const { return names.size(); }
  };

  static Result<std::unique_ptr<Store>> Open(const std::string& dir, OpenMode mode,
                                             const StoreOptions& options);
  ~RocksDbStore() override;

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
  Status Refresh() override;
  Result<std::string> Compact() override;

 private:
  // An iterator over one table's rows; owns the upper bound its ReadOptions point at.
  struct TableCursor {
    std::string prefix, upper;
    rocksdb::Slice upper_slice;
    std::unique_ptr<rocksdb::Iterator> it;
  };
  RocksDbStore() = default;
  std::unique_ptr<TableCursor> OpenTable(const std::string& table);
  // NotFound unless the table has rows or a schema.
  Status CheckTableExists(const std::string& table);
  Status LoadMeta();
  // Rows only, all complete or deletes (RowWrite::complete): nothing to read, so concurrent
  // callers share RocksDB's group commit without apply_mu_.
  Status ApplyUncounted(const StoreBatch& batch);
  // Adds the batch's rows to `wb`: each key's row as the batch's writes leave it, in order. A
  // partial upsert is merged into the row before it (this batch's, else the stored one: read
  // here, so the caller holds apply_mu_ for batches with partial upserts).
  // A write that sets every column in `columns` (the table's schema; null: unknown) is put
  // without a read. `rows` all go to `table` (their RowWrite::table is not read); `truncated`:
  // the batch removed the table's rows first (nothing stored to merge into).
  // `rows` point into the batch being applied.
  using RowRefs = std::vector<const RowWrite*>;
  Status AddRows(const std::string& table, const RowRefs& rows, bool truncated,
                 const ColumnSet* columns, rocksdb::WriteBatch* wb) const;
  // The batch's rows by table (RowWrite::table, "" = the batch's), in first-appearance order,
  // when they go to more than one table; empty when all go to the batch's table. A table other
  // than the batch's must exist (a schema or rows): else NotFound naming it.
  Result<std::vector<std::pair<std::string, RowRefs>>> RowsByTable(const StoreBatch& batch);
  // Every row of the batch, in order.
  static RowRefs AllRows(const StoreBatch& batch);
  // The table's schema columns (empty when it has no schema), cached until EnsureTable changes
  // them.
  Result<std::shared_ptr<const ColumnSet>> TableColumns(const std::string& table);
  Status PutMeta(const std::string& key, const std::string& value);
  // Offset rows (rocksdb_offsets.cc). One log's row of a partition (next offset and counters).
  struct OffsetRow {
    uint64_t next_offset = 0, stored = 0, dead_lettered = 0, lost = 0, filtered = 0;
  };
  // Reads the row of (group, topic, partition, log_id != ""). Without one, the partition's row
  // without identity is this log's: when `adopt` is given, its keys move to the log's row in
  // `adopt`, with the stored/dead-lettered counts no row accounts for (`*attributed` of them
  // already given in this batch). REQUIRES apply_mu_.
  Result<std::optional<OffsetRow>> ReadOffsetRowLocked(const std::string& group,
                                                       const std::string& topic, int32_t partition,
                                                       const std::string& log_id,
                                                       rocksdb::WriteBatch* adopt,
                                                       StoreCounters* attributed);
  // Puts the batch's offsets and per-partition counters into `wb`; adds the records counted
  // lost to `*lost`. REQUIRES apply_mu_.
  Status AddOffsetsLocked(const StoreBatch& batch, rocksdb::WriteBatch* wb, uint64_t* lost);
  Status Error(const rocksdb::Status& s, const std::string& what) const;
  // Replay markers (rocksdb_replay.cc): the marker of letter `id`, if any.
  Result<std::optional<ReplayMarker>> ReadReplayMarker(uint64_t id);
  // Adds the replays of this log's letters ((topic, log_id); every log for "") to `c`: stored
  // gains them, dead_lettered loses them.
  Status AddReplays(const std::string& topic, const std::string& log_id, StoreCounters* c);

  std::string dir_;
  std::string secondary_dir_;  // removed on close
  OpenMode mode_ = OpenMode::kReadWrite;
  StoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // default, rows, deadletters
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* rows_ = nullptr;
  rocksdb::ColumnFamilyHandle* dead_ = nullptr;

  std::mutex apply_mu_;
  StoreCounters counters_;     // guarded by apply_mu_; as the processor wrote them (no replays)
  uint64_t next_dead_id_ = 1;  // guarded by apply_mu_
  Status failed_;              // guarded by apply_mu_; a failed write stops further writes
  std::mutex schema_mu_;       // serialises schema catalog changes (read-check-write)
  std::mutex columns_mu_;      // guards columns_; taken after schema_mu_, never with apply_mu_
  std::map<std::string, std::shared_ptr<const ColumnSet>> columns_;  // by table
};

}  // namespace dataforge
