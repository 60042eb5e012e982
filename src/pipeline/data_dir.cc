#include "pipeline/data_dir.h"

#include "common/file_util.h"
#include "common/redact.h"
#include "common/uuid.h"

#include <fcntl.h>
#include <sys/stat.h>
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
  if (!data_dir.starts_with("/")) DF_RETURN_IF_ERROR(CheckWorkingDirectory());
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

namespace {

std::string BackendsPath(const std::string& data_dir) {
  return (std::filesystem::path(data_dir) / "backends").string();
}

// One mismatch: "--log kafka://a (recorded) and --log file://log (this run)".
void CompareBackend(const char* flag, const std::string& recorded, const std::string& now,
                    std::string* mismatches, std::string* fix) {
  // The same servers with another password (rotated) are the same backends.
  if (Redact(recorded) == Redact(now)) return;
  if (!mismatches->empty()) mismatches->append("; ");
  mismatches->append(fmt::format("{} {} (this run: {})", flag, recorded, now));
  fix->append(fmt::format(" {} {}", flag, recorded));
}

}  // namespace

Result<std::optional<RecordedBackends>> ReadRecordedBackends(const std::string& data_dir,
                                                             FileSystem* fs) {
  std::string path = BackendsPath(data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<RecordedBackends>();
  DF_ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path));
  RecordedBackends b;
  bool seen[3] = {false, false, false};
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    std::string key = eq == std::string::npos ? line : line.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : line.substr(eq + 1);
    int i = key == "log" ? 0 : key == "staging" ? 1 : key == "store" ? 2 : -1;
    if (i < 0 || value.empty()) {
      return Status::ConfigError(fmt::format(
          "{}:{}: expected log=URL, staging=URL or store=URL (delete the file to record the "
          "backends of the next run)",
          path, line_no));
    }
    (i == 0 ? b.log : i == 1 ? b.staging : b.store) = value;
    seen[i] = true;
  }
  if (!seen[0] || !seen[1] || !seen[2]) {
    return Status::ConfigError(fmt::format(
        "{} must name log, staging and store (delete the file to record the backends of the "
        "next run)",
        path));
  }
  return std::optional<RecordedBackends>(std::move(b));
}

Status CheckRecordedBackends(const std::string& data_dir, const PipelineConfig& config,
                             FileSystem* fs) {
  DF_ASSIGN_OR_RETURN(auto recorded, ReadRecordedBackends(data_dir, fs));
  if (!recorded) return Status::OK();
  std::string mismatches, fix;
  CompareBackend("--log", recorded->log, config.log.url, &mismatches, &fix);
  CompareBackend("--staging", recorded->staging, config.staging.url, &mismatches, &fix);
  CompareBackend("--store", recorded->store, config.store.url, &mismatches, &fix);
  if (mismatches.empty()) return Status::OK();
  return Status::ConfigError(fmt::format(
      "data dir {} belongs to other backends: it was run with {}; run with{} (or without the "
      "flag, or use another --data-dir for these backends)",
      data_dir, mismatches, fix));
}

Status RecordBackends(const std::string& data_dir, const PipelineConfig& config, FileSystem* fs) {
  std::string text = fmt::format(
      "# The backends this data dir runs with, recorded by `dataforge run`; the other commands "
      "use them.\nlog={}\nstaging={}\nstore={}\n",
      config.log.url, config.staging.url, config.store.url);
  std::string path = BackendsPath(data_dir);
  auto old = ReadFileToString(fs, path);
  if (old.ok() && *old == text) return Status::OK();
  // WriteFileAtomically truncates <path>.tmp, which keeps the mode it is created with here:
  // the URLs may hold passwords, so nobody else reads the file at any moment.
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    Status s = Status::IOError(fmt::format(
        "cannot create {}: {} (free space or fix the permissions)", tmp, std::strerror(errno)));
    if (fd >= 0) ::close(fd);
    return s;
  }
  ::close(fd);
  Status written = WriteFileAtomically(fs, path, text);
  if (!written.ok() && written.code() != StatusCode::kResourceExhausted) {
    return Status::IOError(written.message() + " (free space or fix the permissions)");
  }
  return written;
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
