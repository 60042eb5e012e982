#include "cli/served_store.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <shared_mutex>

#include <fmt/format.h>

#include "common/redact.h"

namespace dataforge {
namespace {

// The store of a data dir another dataforge process holds: reads of rows, tables and keyspaces
// catch up with the writer first (RocksDB secondary: Refresh()); offsets, counters and dead
// letters are read as of the last Refresh(), which a status read calls once. A write re-checks the
// data dir lock each time: while another process holds it, the write fails naming that process (its
// pid now, not at start); once the lock is free, the write takes it, opens the store read-write and
// is applied, and the endpoint serves read-write from then on (a pipeline started later finds the
// data dir held by this cql-serve). A server that is only read never takes the lock. Thread-safe
// like the store.
class ReadOnlyServedStore final : public Store {
 public:
  // Takes the data dir lock and opens the store read-write, or FailedPrecondition naming the
  // process that holds the lock.
  using OpenWritable = std::function<Result<std::unique_ptr<Store>>()>;

  ReadOnlyServedStore(std::unique_ptr<Store> store, OpenWritable open_writable)
      : store_(std::move(store)), open_writable_(std::move(open_writable)) {}

  Status Apply(const StoreBatch& batch) override {
    return Write([&](Store* s) { return s->Apply(batch); });
  }
  // The offsets and counters are read as of the last Refresh(), not caught up per call: a
  // status read (GET /v1/status, a /metrics scrape) refreshes once, then reads them for every
  // partition from that one state.
  Result<std::optional<int64_t>> CommittedOffset(const std::string& group, const std::string& topic,
                                                 int32_t partition,
                                                 const std::string& log_id) override {
    std::shared_lock lock(mu_);
    return Current()->CommittedOffset(group, topic, partition, log_id);
  }
  Result<std::string> Get(const std::string& table, const std::string& key) override {
    return Read([&](Store* s) { return s->Get(table, key); });
  }
  Status Scan(const std::string& table, const std::string& start_after, size_t limit,
              const std::function<bool(const std::string&, const std::string&)>& fn) override {
    return Read([&](Store* s) { return s->Scan(table, start_after, limit, fn); });
  }
  Result<uint64_t> Count(const std::string& table) override {
    return Read([&](Store* s) { return s->Count(table); });
  }
  Result<std::vector<std::string>> ListTables() override {
    return Read([&](Store* s) { return s->ListTables(); });
  }
  Result<StoreCounters> Counters() override {
    std::shared_lock lock(mu_);
    return Current()->Counters();
  }
  Result<StoreCounters> LogCounters(const std::string& group, const std::string& topic,
                                    const std::string& log_id) override {
    std::shared_lock lock(mu_);
    return Current()->LogCounters(group, topic, log_id);
  }
  Result<uint64_t> PartitionLost(const std::string& group, const std::string& topic,
                                 int32_t partition, const std::string& log_id) override {
    std::shared_lock lock(mu_);
    return Current()->PartitionLost(group, topic, partition, log_id);
  }
  Status ListDeadLetters(uint64_t after_id, size_t limit,
                         std::vector<StoredDeadLetter>* out) override {
    std::shared_lock lock(mu_);
    return Current()->ListDeadLetters(after_id, limit, out);
  }
  Status ApplyReplay(const DeadLetterReplay& replay) override {
    return Write([&](Store* s) { return s->ApplyReplay(replay); });
  }
  Status EnsureTable(const TableSchema& schema) override {
    return Write([&](Store* s) { return s->EnsureTable(schema); });
  }
  Result<TableSchema> DescribeTable(const std::string& table) override {
    return Read([&](Store* s) { return s->DescribeTable(table); });
  }
  Status CreateKeyspace(const KeyspaceSchema& keyspace) override {
    return Write([&](Store* s) { return s->CreateKeyspace(keyspace); });
  }
  Result<std::vector<KeyspaceSchema>> ListKeyspaces() override {
    return Read([&](Store* s) { return s->ListKeyspaces(); });
  }
  Status Refresh() override {
    std::shared_lock lock(mu_);
    return Current()->Refresh();
  }
  Result<std::string> Compact() override {
    return Write([&](Store* s) { return s->Compact(); });
  }

 private:
  Store* Current() const { return writable_ ? writable_.get() : store_.get(); }

  // `f` on the current store, refreshed first while it is the read-only one.
  template <typename F>
  auto Read(F&& f) -> decltype(f(nullptr)) {
    std::shared_lock lock(mu_);
    if (!writable_) DF_RETURN_IF_ERROR(store_->Refresh());
    return f(Current());
  }

  // `f` on the read-write store, opening it if the data dir lock has become free.
  template <typename F>
  auto Write(F&& f) -> decltype(f(nullptr)) {
    {
      std::shared_lock lock(mu_);
      if (writable_) return f(writable_.get());
    }
    std::unique_lock lock(mu_);
    if (!writable_) {
      auto opened = open_writable_();
      if (!opened.ok()) return opened.status();
      writable_ = std::move(opened).value();
      store_.reset();  // the secondary instance is not needed any more
    }
    return f(writable_.get());
  }

  std::shared_mutex mu_;             // shared: a call on the current store; exclusive: switching
  std::unique_ptr<Store> store_;     // read-only; null once writable_ is open
  std::unique_ptr<Store> writable_;  // null until a write found the data dir lock free
  OpenWritable open_writable_;
};

// The pid in <data_dir>/LOCK (written by the holder), or "unknown".
std::string LockHolderPid(const std::string& data_dir) {
  std::ifstream in(std::filesystem::path(data_dir) / "LOCK");
  std::string pid;
  in >> pid;
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

// The data dir's store, read-write under the data dir lock, or read-only when another
// dataforge holds the lock.
Result<ServedStore> OpenServedStore(const CliContext& ctx, const PipelineConfig& config,
                                    const std::string& run_flag) {
  DF_RETURN_IF_ERROR(PrepareDataDir(ctx.data_dir, /*create=*/true));
  std::string url = ResolveUrls(config, ctx.data_dir).store;
  ServedStore out;
  auto lock = DataDirLock::Acquire(ctx.data_dir);
  if (lock.ok()) {
    *out.lock = std::move(lock).value();
    DF_ASSIGN_OR_RETURN(out.store,
                        OpenStore(url, OpenMode::kReadWrite, StoreOptionsFor(config.store)));
    out.description = Redact(url);
    return out;
  }
  if (lock.status().code() != StatusCode::kUnavailable) return lock.status();
  std::string pid = LockHolderPid(ctx.data_dir);
  auto store = OpenStore(url, OpenMode::kReadOnly, StoreOptionsFor(config.store));
  if (!store.ok()) {
    return store.status().WithContext(fmt::format(
        "the data dir is used by dataforge pid {}, so its store is served read-only", pid));
  }
  // Called by a write, under the store's exclusive lock: the holder is looked up again each
  // time, and once it has gone the store is opened read-write.
  auto open_writable = [data_dir = ctx.data_dir, url, options = StoreOptionsFor(config.store),
                        held = out.lock, run_flag]() -> Result<std::unique_ptr<Store>> {
    auto lock = DataDirLock::Acquire(data_dir);
    if (!lock.ok()) {
      if (lock.status().code() != StatusCode::kUnavailable) return lock.status();
      return Status::FailedPrecondition(
          fmt::format("the store is read-only: the data dir is used by dataforge pid {}; stop it "
                      "or use `dataforge run {}`",
                      LockHolderPid(data_dir), run_flag));
    }
    auto store = OpenStore(url, OpenMode::kReadWrite, options);
    if (!store.ok()) {
      return store.status().WithContext(
          "the data dir's lock is free now, but its store could not be opened for writing");
    }
    *held = std::move(lock).value();
    return store;
  };
  out.store =
      std::make_unique<ReadOnlyServedStore>(std::move(store).value(), std::move(open_writable));
  out.description = Redact(url) + " read-only, pid " + pid + " holds the data dir";
  return out;
}

}  // namespace dataforge
