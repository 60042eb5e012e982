// Store stage interface: tables of rows addressed by primary key, plus the processor's
// consumed offsets, counters and dead letters, all written atomically.
//
// The embedded implementation is RocksDB (store/rocksdb/); a Cassandra implementation satisfies
// the same interface at scale.
// Thread-safety: safe for concurrent use. One process opens a store kReadWrite; others may open
// it kReadOnly while it runs (RocksDB secondary instance) and see data as of open or the last
// Refresh().
// Durability: Apply() returns after the whole StoreBatch is durable together (sync WAL write
// when `sync` is set): rows, dead letters, offsets and counters never diverge after a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/open_mode.h"
#include "common/record.h"
#include "common/status.h"

namespace dataforge {

struct RowWrite {
  std::string key;       // primary key value as text
  std::string row_json;  // the row as one JSON object (empty when `deleted`)
  bool deleted = false;  // removes the row with `key` (a change event's delete)
};

struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
};

// One atomic unit of processor output.
struct StoreBatch {
  std::string table;
  std::vector<RowWrite> rows;
  std::vector<DeadLetter> dead_letters;  // stage "process"
  std::string group;                     // consumer group the offsets belong to
  std::vector<PartitionOffset> offsets;
};

struct StoreCounters {
  uint64_t stored = 0;         // row versions written (upserts and deletes, not distinct keys)
  uint64_t dead_lettered = 0;  // dead letters written by the processor
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Status Apply(const StoreBatch& batch) = 0;

  // The next offset to consume for (group, topic, partition), or nullopt if never committed.
  virtual Result<std::optional<int64_t>> CommittedOffset(const std::string& group,
                                                         const std::string& topic,
                                                         int32_t partition) = 0;

  // The row JSON for `key`, NotFound if absent.
  virtual Result<std::string> Get(const std::string& table, const std::string& key) = 0;
  // Calls `fn(key, row_json)` for rows in key order, after `start_after` ("" = from the
  // first), at most `limit` (0 = all). `fn` returns false to stop early.
  virtual Status Scan(const std::string& table, const std::string& start_after, size_t limit,
                      const std::function<bool(const std::string&, const std::string&)>& fn) = 0;
  virtual Result<uint64_t> Count(const std::string& table) = 0;
  virtual Result<std::vector<std::string>> ListTables() = 0;

  virtual Result<StoreCounters> Counters() = 0;
  virtual Status ListDeadLetters(uint64_t after_id, size_t limit,
                                 std::vector<StoredDeadLetter>* out) = 0;

  // Read-only instances: catch up with the writer. No-op for kReadWrite.
  virtual Status Refresh() = 0;

  // Rewrites the store's files to drop deleted and overwritten row versions (RocksDB: a full
  // manual compaction). Safe while the store is written. Returns "<before> -> <after> bytes".
  virtual Result<std::string> Compact() = 0;
};

struct StoreOptions {
  bool sync = true;  // fsync the WAL on every Apply()
};

// Opens the store named by `url`: "rocksdb:///abs/dir" or "rocksdb://rel/dir".
Result<std::unique_ptr<Store>> OpenStore(const std::string& url, OpenMode mode,
                                         const StoreOptions& options);

}  // namespace dataforge
