// `dataforge cql-serve`: the data dir's store over the CQL native protocol v4.
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/cql_endpoint.h"
#include "cli/signal_waiter.h"
#include "common/redact.h"
#include "pipeline/data_dir.h"

namespace dataforge {
namespace {

// The store of a data dir another dataforge process holds: reads catch up with the writer
// first (RocksDB secondary: Refresh()), writes fail with `why`. Thread-safe like the store.
class ReadOnlyServedStore final : public Store {
 public:
  ReadOnlyServedStore(std::unique_ptr<Store> store, std::string why)
      : store_(std::move(store)), why_(std::move(why)) {}

  Status Apply(const StoreBatch&) override { return Refused(); }
  Result<std::optional<int64_t>> CommittedOffset(const std::string& group, const std::string& topic,
                                                 int32_t partition) override {
    DF_RETURN_IF_ERROR(store_->Refresh());
    return store_->CommittedOffset(group, topic, partition);
  }
  Result<std::string> Get(const std::string& table, const std::string& key) override {
    DF_RETURN_IF_ERROR(store_->Refresh());
    return store_->Get(table, key);
  }
  Status Scan(const std::string& table, const std::string& start_after, size_t limit,
              const std::function<bool(const std::string&, const std::string&)>& fn) override {
    DF_RETURN_IF_ERROR(store_->Refresh());
    return store_->Scan(table, start_after, limit, fn);
  }
  Result<uint64_t> Count(const std::string& table) override {
    DF_RETURN_IF_ERROR(store_->Refresh());
    return store_->Count(table);
  }
  Result<std::vector<std::string>> ListTables() override {
    DF_RETURN_IF_ERROR(store_->Refresh());
    return store_->ListTables();
  }
  Result<StoreCounters> Counters() override { return store_->Counters(); }
  Status ListDeadLetters(uint64_t after_id, size_t limit,
                         std::vector<StoredDeadLetter>* out) override {
    return store_->ListDeadLetters(after_id, limit, out);
  }
  Status EnsureTable(const TableSchema&) override { return Refused(); }
  Result<TableSchema> DescribeTable(const std::string& table) override {
    DF_RETURN_IF_ERROR(store_->Refresh());
    return store_->DescribeTable(table);
  }
  Status CreateKeyspace(const KeyspaceSchema&) override { return Refused(); }
  Result<std::vector<KeyspaceSchema>> ListKeyspaces() override {
    DF_RETURN_IF_ERROR(store_->Refresh());
    return store_->ListKeyspaces();
  }
  Status Refresh() override { return store_->Refresh(); }
  Result<std::string> Compact() override { return Refused(); }

 private:
  Status Refused() const { return Status::FailedPrecondition(why_); }

  std::unique_ptr<Store> store_;
  std::string why_;
};

// The pid in <data_dir>/LOCK (written by the holder), or "unknown".
std::string LockHolderPid(const std::string& data_dir) {
  std::ifstream in(std::filesystem::path(data_dir) / "LOCK");
  std::string pid;
  in >> pid;
  return pid.empty() ? "unknown" : pid;
}

struct ServedStore {
  std::unique_ptr<DataDirLock> lock;  // null when read-only
  std::unique_ptr<Store> store;
  std::string description;
};

// The data dir's store, read-write under the data dir lock, or read-only when another
// dataforge holds the lock.
Result<ServedStore> OpenServedStore(const CliContext& ctx, const PipelineConfig& config) {
  DF_RETURN_IF_ERROR(PrepareDataDir(ctx.data_dir, /*create=*/true));
  std::string url = ResolveUrls(config, ctx.data_dir).store;
  ServedStore out;
  auto lock = DataDirLock::Acquire(ctx.data_dir);
  if (lock.ok()) {
    out.lock = std::move(lock).value();
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
  out.store = std::make_unique<ReadOnlyServedStore>(
      std::move(store).value(),
      fmt::format("the store is read-only: the data dir is used by dataforge pid {}; stop it or "
                  "use `dataforge run --cql-port`",
                  pid));
  out.description = Redact(url) + " read-only, pid " + pid + " holds the data dir";
  return out;
}

Status ServeCql(const CliContext& ctx, const PipelineConfig& config, CqlEndpointFlags flags) {
  DF_RETURN_IF_ERROR(ResolveCqlEndpointFlags(&flags));
  SignalWaiter signals;  // before any thread starts
  DF_ASSIGN_OR_RETURN(ServedStore served, OpenServedStore(ctx, config));
  DF_ASSIGN_OR_RETURN(auto endpoint, CqlEndpoint::Start(served.store.get(), flags));
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  auto request_stop = [&] {
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  };
  signals.Start(request_stop, request_stop, "finishing in-flight requests and closing");
  fmt::print("cql-serve: listening on {}\n", endpoint->Describe(served.description));
  std::fflush(stdout);
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop; });
  }
  endpoint->Stop();
  fmt::print("cql-serve: stopped; {}\n", endpoint->Summary());
  std::fflush(stdout);
  return Status::OK();
}

}  // namespace

void AddCqlServeCommand(CLI::App& app, CliContext& ctx, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "cql-serve",
      "Serve the data dir's store (the pipeline file's store.url, RocksDB by default) over the "
      "CQL native protocol v4, so Cassandra drivers and tools (cqlsh, the DataStax drivers) can "
      "create keyspaces and tables, insert, and select by key or page through a table. If "
      "another dataforge process uses the data dir, its store is served read-only (writes get "
      "an error); `dataforge run --cql-port` serves a running pipeline's store instead. Prints "
      "one line when ready; stops on SIGINT/SIGTERM.");
  auto flags = std::make_shared<CqlEndpointFlags>();
  cmd->add_option("--host", flags->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", flags->port,
                  "Port to listen on (0 = any free port, named in the "
                  "ready line)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--username", flags->username,
                  "Require this user (PasswordAuthenticator); default: no authentication");
  cmd->add_option("--password", flags->password,
                  "The user's password (or set DATAFORGE_CQL_PASSWORD, which keeps it out of "
                  "the process list)");
  cmd->add_option("--tls-cert", flags->tls_cert, "Serve TLS with this PEM certificate (chain)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", flags->tls_key, "The PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-frame-bytes", flags->max_frame_bytes,
                  "Refuse frames whose body is larger (ERROR, then the connection is closed)")
      ->capture_default_str()
      ->check(CLI::Range(1024u, 256u << 20));
  cmd->callback([&ctx, flags, exit_code] {
    WithConfig(ctx, exit_code,
               [&](const PipelineConfig& config) { return ServeCql(ctx, config, *flags); });
  });
}

}  // namespace dataforge
