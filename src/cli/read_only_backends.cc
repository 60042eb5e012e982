#include "cli/read_only_backends.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "pipeline/data_dir.h"

namespace dataforge {
namespace {

// An embedded backend's relative path (the default) resolves inside the data dir; external
// backends (PostgreSQL, Kafka, Cassandra) and absolute paths do not need it.
bool InDataDir(const std::string& url, const std::string& data_dir) {
  return ResolveInDataDir(url, data_dir) != url;
}

// The data dir must exist for a backend kept in it; the error names what is there and the
// flag that reads an external one instead.
Status NeedDataDir(const CliContext& ctx, const char* what, const char* flag) {
  Status s = PrepareDataDir(ctx.data_dir, /*create=*/false);
  if (s.ok() || s.code() != StatusCode::kNotFound) return s;
  return Status::NotFound(
      fmt::format("data dir {} does not exist, and the {} is in it: pass the --data-dir of a "
                  "pipeline that ran, or {} for an external one",
                  ctx.data_dir, what, flag));
}

}  // namespace

Result<std::unique_ptr<Staging>> OpenStagingForReading(const CliContext& ctx,
                                                       const PipelineConfig& config) {
  const std::string& url = config.staging.url;
  std::string instance;
  if (InDataDir(url, ctx.data_dir)) {
    DF_RETURN_IF_ERROR(NeedDataDir(ctx, "staging database", "--staging postgresql://…"));
  } else if (url.rfind("sqlite://", 0) != 0) {
    // A shared staging database keeps each data dir's outbox under the data dir's id; without
    // a data dir, read every instance's ("").
    std::error_code ec;
    if (std::filesystem::is_directory(ctx.data_dir, ec)) {
      DF_ASSIGN_OR_RETURN(instance, DataDirId(ctx.data_dir));
    }
  }
  return OpenStaging(ResolveInDataDir(url, ctx.data_dir), OpenMode::kReadOnly,
                     config.staging.synchronous_full, instance);
}

Result<std::unique_ptr<Log>> OpenLogForReading(const CliContext& ctx,
                                               const PipelineConfig& config) {
  if (InDataDir(config.log.url, ctx.data_dir)) {
    DF_RETURN_IF_ERROR(NeedDataDir(ctx, "log", "--log kafka://…"));
  }
  LogOptions options;
  options.properties = config.log.properties;
  return OpenLog(ResolveInDataDir(config.log.url, ctx.data_dir), OpenMode::kReadOnly, options);
}

Result<std::unique_ptr<Store>> OpenStoreForReading(const CliContext& ctx,
                                                   const PipelineConfig& config) {
  if (InDataDir(config.store.url, ctx.data_dir)) {
    DF_RETURN_IF_ERROR(NeedDataDir(ctx, "store", "--store cassandra://…"));
  }
  return OpenStore(ResolveInDataDir(config.store.url, ctx.data_dir), OpenMode::kReadOnly,
                   StoreOptionsFor(config.store));
}

Status CheckTableExists(Store& store, const std::string& table) {
  // DescribeTable knows the store's naming (a Cassandra URL's keyspace replaces the table's);
  // ListTables also has tables that have rows but no schema entry (RocksDB).
  auto schema = store.DescribeTable(table);
  if (schema.ok()) return Status::OK();
  if (schema.status().code() != StatusCode::kNotFound) return schema.status();
  DF_ASSIGN_OR_RETURN(auto tables, store.ListTables());
  if (std::find(tables.begin(), tables.end(), table) != tables.end()) return Status::OK();
  return Status::NotFound(
      fmt::format("no table {}; tables: {}", table,
                  tables.empty() ? "none" : fmt::to_string(fmt::join(tables, ", "))));
}

Result<std::unique_ptr<RunStore>> OpenRunStoreForReading(const CliContext& ctx,
                                                         const PipelineConfig& c) {
  std::string url = ResolveUrls(c, ctx.data_dir).staging;
  if (url.rfind("sqlite://", 0) == 0 && access(url.substr(9).c_str(), F_OK) != 0) {
    return std::unique_ptr<RunStore>();
  }
  auto store = OpenRunStore(url, OpenMode::kReadOnly);
  if (!store.ok() && store.status().code() == StatusCode::kNotFound) {
    return std::unique_ptr<RunStore>();
  }
  return store;
}

Result<std::unique_ptr<registry::SchemaRegistry>> OpenRegistryForReading(const CliContext& ctx,
                                                                         const PipelineConfig& c) {
  std::string url = ResolveUrls(c, ctx.data_dir).staging;
  if (url.rfind("sqlite://", 0) == 0 && access(url.substr(9).c_str(), F_OK) != 0) {
    return std::unique_ptr<registry::SchemaRegistry>();
  }
  return registry::SchemaRegistry::Open(url, OpenMode::kReadOnly);
}

}  // namespace dataforge
