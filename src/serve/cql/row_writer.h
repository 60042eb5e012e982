// Private to serve/cql: the engine's write path, a group commit over Store::Apply.
//
// Every INSERT, UPDATE and DELETE of a user table computes its new row under the key's stripe
// lock (read-modify-write), queues it here and returns; the request's response waits in a
// PendingRequest. Commit() applies everything queued as one Store::Apply per table
// (counted=false: one RocksDB write batch, one WAL fsync when the store syncs), then completes
// the requests whose rows were all in the group. So a request is acknowledged only once its
// rows are durable (per StoreOptions::sync), and concurrent writers share one fsync instead of
// paying one each.
//
// Atomic read-modify-write: a row queued but not yet applied stays readable to later writers
// of the same key through Read() (a per-stripe overlay of pending rows), so the stripe lock
// only has to cover the read and the queueing, not the commit; rows of one key are queued,
// and therefore applied (later Put wins in a write batch), in the order their writers took the
// lock. SELECTs read the store: they see a write once it is durable, never before.
// If Apply fails, every request with a row in the group gets the error and the group's
// pending rows are dropped from the overlay; a later write of the same key that already read a
// failed row keeps its values (as in Cassandra, a failed write may or may not be applied).
//
// Thread-safety: safe for concurrent use. Commit() may be called by any number of threads:
// one at a time applies a group (the others return at once and their rows go in that
// thread's next group); it returns when nothing is queued. Callbacks of completed requests
// run on the committing thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "serve/cql/cql_engine.h"
#include "store/store.h"

namespace dataforge::cql {

// One request's response, sent when its executor returned and every row it queued was applied.
class PendingRequest {
 public:
  explicit PendingRequest(ResponseCallback done) : done_(std::move(done)) {}
  // A row of this request was queued.
  void RowQueued();
  // A queued row was applied (`s` OK) or failed.
  void RowDone(const Status& s);
  // The executor returned `r`: runs done(r) now when nothing is queued, else when the last row
  // is applied (done gets the first failure instead of `r` when a row failed).
  void Finish(Response r);

 private:
  void Release(std::unique_lock<std::mutex>& lock);

  std::mutex mu_;
  int remaining_ = 1;  // GUARDED_BY(mu_): queued rows + 1 until Finish()
  Status error_;       // GUARDED_BY(mu_)
  Response response_;  // GUARDED_BY(mu_)
  ResponseCallback done_;
};

class RowWriter {
 public:
  // The number of columns `table` has now, read from the store (0 when unknown).
  using ColumnCount = std::function<size_t(const std::string& table)>;
  // `column_count` may be empty: then no row is queued blind (see Queue).
  RowWriter(Store* store, ColumnCount column_count)
      : store_(store), column_count_(std::move(column_count)) {}
  RowWriter(const RowWriter&) = delete;
  RowWriter& operator=(const RowWriter&) = delete;

  // The stripe lock of (table, key): hold it across Read() and Queue() of a read-modify-write.
  std::mutex& KeyLock(const std::string& table, const std::string& key);
  // The row as the last queued write of it left it (a pending row, else the store's); NotFound
  // when it is absent or its last write deletes it. REQUIRES: KeyLock(table, key) held.
  Result<std::string> Read(const std::string& table, const std::string& key);
  // Queues the row (JSON, or a delete) for `request`. REQUIRES: KeyLock(table, key) held.
  // `blind_columns` > 0: the row was not read first, as it sets every one of the table's
  // columns in a (cached) description with that many columns; before its group is applied the
  // table is described again, and if it has another number of columns now, the row is applied
  // as a partial upsert (merged with the stored row), so a column added since is kept.
  void Queue(const std::string& table, const std::string& key, std::string row, bool deleted,
             const std::shared_ptr<PendingRequest>& request, size_t blind_columns = 0);
  // Applies queued rows, group after group, until none is queued, unless another thread is
  // applying a group (that thread then takes ours next). `after_group` runs after each
  // group's callbacks (the transport writes the responses there).
  void Commit(const std::function<void()>& after_group);

 private:
  struct Pending {
    uint64_t seq = 0;
    bool deleted = false;
    std::string row;
  };
  struct Stripe {
    std::mutex mu;
    std::unordered_map<std::string, Pending> pending;  // GUARDED_BY(mu): "table\0key"
  };
  struct Item {
    std::string table;
    RowWrite row;
    uint64_t seq = 0;
    size_t blind_columns = 0;
    std::shared_ptr<PendingRequest> request;
  };
  static constexpr size_t kKeyStripes = 64;

  Stripe& StripeOf(const std::string& table, const std::string& key);
  static std::string OverlayKey(const std::string& table, const std::string& key);
  // Applies `group` (rows of one table in queue order per Apply); the Status of each item.
  std::vector<Status> Apply(std::vector<Item>& group);

  Store* const store_;
  const ColumnCount column_count_;
  std::array<Stripe, kKeyStripes> stripes_;

  std::mutex mu_;
  std::vector<Item> queue_;  // GUARDED_BY(mu_)
  uint64_t next_seq_ = 1;    // GUARDED_BY(mu_)
  bool committing_ = false;  // GUARDED_BY(mu_)
};

}  // namespace dataforge::cql
