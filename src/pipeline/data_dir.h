// Where a pipeline's state lives: every relative backend URL resolves inside the data dir.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/file_system.h"
#include "common/status.h"
#include "config/pipeline_config.h"

namespace dataforge {

struct ResolvedUrls {
  std::string staging;  // e.g. sqlite:///abs/data/staging.db
  std::string log;      // e.g. file:///abs/data/log
  std::string store;    // e.g. rocksdb:///abs/data/store
};

// Creates `data_dir` if missing (when `create`; through `fs`, durably) and checks it is a
// writable directory; the error says which path and what to do.
Status PrepareDataDir(const std::string& data_dir, bool create,
                      FileSystem* fs = FileSystem::Default());

// An flock on <data_dir>/LOCK holding the owner's pid: one pipeline process per data dir.
// Released when destroyed (or when the process dies).
class DataDirLock {
 public:
  // Unavailable, naming the holder's pid, if another process holds it; IOError or
  // ResourceExhausted (path, errno text, what to do) if the file cannot be created or written.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir,
                                                      FileSystem* fs = FileSystem::Default());
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(std::unique_ptr<FileLock> lock) : lock_(std::move(lock)) {}
  std::unique_ptr<FileLock> lock_;
};

// The data dir's identity: a random UUID kept in <data_dir>/ID, created on first use (written
// through `fs` with WriteFileAtomically, then linked in place). A data dir deleted and created
// again at the same path gets a new one. A failed write leaves no ID (nor temp file) behind.
Result<std::string> DataDirId(const std::string& data_dir, FileSystem* fs = FileSystem::Default());

// The backend URLs a data dir was run with, as the pipeline config gave them (flags applied,
// relative paths not resolved), kept in <data_dir>/backends ("log=URL" lines). `dataforge run`
// records them; every command uses them where neither a --log/--staging/--store flag nor the
// pipeline file names another URL than the built-in default.
// The URLs are kept exactly as given, passwords included (the user gave them on the command
// line or in the pipeline file already): the file has mode 0600.
struct RecordedBackends {
  std::string log;
  std::string staging;
  std::string store;
};

// The recorded backends; nullopt if the data dir has none (a data dir last run before this
// file existed, or never run). A malformed file is a ConfigError naming it.
Result<std::optional<RecordedBackends>> ReadRecordedBackends(
    const std::string& data_dir, FileSystem* fs = FileSystem::Default());

// Called by `run` holding the data dir lock, before it opens a backend: ConfigError (naming
// both URLs and the fix) if the data dir was run with other backends (a data dir belongs to
// one set of backends); `run` logs it as a warning and goes on (a Kafka cluster that moved, a
// topic made again elsewhere), then records its own. URLs that differ only in a password (Redact)
// are the same backends.
Status CheckRecordedBackends(const std::string& data_dir, const PipelineConfig& config,
                             FileSystem* fs = FileSystem::Default());

// Called by `run` once its backends opened: records `config`'s backend URLs (unless the file
// already says exactly that), durably with WriteFileAtomically, mode 0600 at every moment.
Status RecordBackends(const std::string& data_dir, const PipelineConfig& config,
                      FileSystem* fs = FileSystem::Default());

// Rewrites "scheme://relative/path" as "scheme:///abs/data_dir/relative/path"; absolute
// ("scheme:///…") and non-file URLs are kept.
std::string ResolveInDataDir(const std::string& url, const std::string& data_dir);
ResolvedUrls ResolveUrls(const PipelineConfig& config, const std::string& data_dir);

}  // namespace dataforge
