#include "pipeline/data_dir.h"

#include "common/file_util.h"
#include "common/uuid.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include <fmt/format.h>

namespace dataforge {

Status PrepareDataDir(const std::string& data_dir, bool create, FileSystem* file_system) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(data_dir, ec)) {
    if (!create) {
      return Status::NotFound(fmt::format(
          "data dir {} does not exist (run `dataforge run --data-dir {}` first, or pass the "
          "--data-dir of an existing pipeline)",
          data_dir, data_dir));
    }
    Status created = file_system->CreateDirs(data_dir);  // durable: the parent is synced
    if (created.code() == StatusCode::kResourceExhausted) {
      return created.WithContext(fmt::format("cannot create data dir {}", data_dir));
    }
    if (!created.ok()) {
      return Status::IOError(
          fmt::format("cannot create data dir {}: {} (choose another --data-dir or fix the "
                      "permissions)",
                      data_dir, created.message()));
    }
  }
  if (!fs::is_directory(data_dir, ec)) {
    return Status::ConfigError(
        fmt::format("data dir {} is not a directory (choose another --data-dir)", data_dir));
  }
  int mode = create ? (R_OK | W_OK | X_OK) : (R_OK | X_OK);
  if (access(data_dir.c_str(), mode) != 0) {
    return Status::IOError(
        fmt::format("data dir {} is not {} ({}); fix its permissions or "
                    "choose another --data-dir",
                    data_dir, create ? "writable" : "readable", std::strerror(errno)));
  }
  return Status::OK();
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir,
                                                          FileSystem* fs) {
  std::string path = (std::filesystem::path(data_dir) / "LOCK").string();
  std::string holder;
  auto lock = fs->LockFile(path, &holder);
  if (!lock.ok() && lock.status().code() == StatusCode::kUnavailable) {
    return Status::Unavailable(fmt::format(
        "data dir {} is in use by another dataforge process (pid {}); stop it or use another "
        "--data-dir",
        data_dir, holder.empty() ? "unknown" : holder));
  }
  if (!lock.ok()) {
    const Status& s = lock.status();
    if (s.code() == StatusCode::kResourceExhausted) return s;  // says to free space
    return Status(s.code(), s.message() + " (fix the permissions or choose another --data-dir)");
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(std::move(lock).value()));
}

namespace {

// The id in the data dir's ID file; nullopt if the file is missing, "" if it holds no id.
std::optional<std::string> ReadDataDirId(FileSystem* fs, const std::string& path) {
  auto text = ReadFileToString(fs, path);
  if (!text.ok()) return std::nullopt;
  std::string id = text->substr(0, 63);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id.size() == 36 ? id : std::string();
}

}  // namespace

// Several processes may ask at once (a `run` starting while `status` reads the dir): the first
// to link its file in place wins and every caller returns that id.
Result<std::string> DataDirId(const std::string& data_dir, FileSystem* fs) {
  std::string path = (std::filesystem::path(data_dir) / "ID").string();
  auto existing = ReadDataDirId(fs, path);
  if (existing && !existing->empty()) return *existing;
  DF_ASSIGN_OR_RETURN(std::string id, RandomUuid());
  auto failed = [](const Status& s) {
    if (s.code() == StatusCode::kResourceExhausted) return s;  // says to free space
    return Status::IOError(s.message() + " (free space or fix the permissions)");
  };
  if (existing) {  // present but unreadable: replace it
    Status written = WriteFileAtomically(fs, path, id + "\n");
    if (!written.ok()) return failed(written);
    return id;
  }
  std::string tmp = fmt::format("{}.{}.{}", path, ::getpid(), id.substr(0, 8));
  Status written = WriteFileAtomically(fs, tmp, id + "\n");
  if (!written.ok()) {
    (void)fs->RemoveFile(tmp);  // in place if only the directory sync failed
    return failed(written);
  }
  Status linked = fs->LinkFile(tmp, path);
  (void)fs->RemoveFile(tmp);
  if (linked.ok()) {
    Status synced = fs->SyncDir(data_dir);
    if (!synced.ok()) return failed(synced);
    return id;
  }
  auto winner = ReadDataDirId(fs, path);
  if (winner && !winner->empty()) return *winner;  // another caller linked first
  return failed(linked);
}

std::string ResolveInDataDir(const std::string& url, const std::string& data_dir) {
  size_t sep = url.find("://");
  if (sep == std::string::npos) {
    // A bare path.
    if (!url.empty() && url[0] == '/') return url;
    return (std::filesystem::absolute(data_dir) / url).lexically_normal().string();
  }
  std::string scheme = url.substr(0, sep);
  std::string rest = url.substr(sep + 3);
  bool file_like = scheme == "sqlite" || scheme == "file" || scheme == "rocksdb";
  if (!file_like || rest.empty() || rest[0] == '/') return url;
  auto abs = (std::filesystem::absolute(data_dir) / rest).lexically_normal();
  return scheme + "://" + abs.string();
}

ResolvedUrls ResolveUrls(const PipelineConfig& config, const std::string& data_dir) {
  return {ResolveInDataDir(config.staging.url, data_dir),
          ResolveInDataDir(config.log.url, data_dir), ResolveInDataDir(config.store.url, data_dir)};
}

}  // namespace dataforge
