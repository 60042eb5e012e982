#include "pipeline/data_dir.h"

#include "common/file_util.h"
#include "common/uuid.h"

#include <fcntl.h>
#include <sys/file.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include <fmt/format.h>

namespace dataforge {

Status PrepareDataDir(const std::string& data_dir, bool create) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(data_dir, ec)) {
    if (!create) {
      return Status::NotFound(fmt::format(
          "data dir {} does not exist (run `dataforge run --data-dir {}` first, or pass the "
          "--data-dir of an existing pipeline)",
          data_dir, data_dir));
    }
    fs::create_directories(data_dir, ec);
    if (ec) {
      return Status::IOError(
          fmt::format("cannot create data dir {}: {} (choose another "
                      "--data-dir or fix the permissions)",
                      data_dir, ec.message()));
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

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir) {
  std::string path = (std::filesystem::path(data_dir) / "LOCK").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IOError(
        fmt::format("cannot open {}: {} (fix the permissions or choose "
                    "another --data-dir)",
                    path, std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    (void)!::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    return Status::Unavailable(fmt::format(
        "data dir {} is in use by another dataforge process (pid {}); stop it or use another "
        "--data-dir",
        data_dir, std::string(pid).empty() ? "unknown" : std::string(pid)));
  }
  std::string me = std::to_string(::getpid());
  (void)!::ftruncate(fd, 0);
  (void)!::pwrite(fd, me.data(), me.size(), 0);
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() {
  ::close(fd_);
}

namespace {

// The id in the data dir's ID file; nullopt if the file is missing, "" if it holds no id.
std::optional<std::string> ReadDataDirId(const std::string& path) {
  char buf[64] = {0};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  std::string id(buf, n > 0 ? static_cast<size_t>(n) : 0);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id.size() == 36 ? id : std::string();
}

}  // namespace

// Several processes may ask at once (a `run` starting while `status` reads the dir): the first
// to link its file in place wins and every caller returns that id.
Result<std::string> DataDirId(const std::string& data_dir) {
  std::string path = (std::filesystem::path(data_dir) / "ID").string();
  auto existing = ReadDataDirId(path);
  if (existing && !existing->empty()) return *existing;
  DF_ASSIGN_OR_RETURN(std::string id, RandomUuid());
  auto failed = [](const Status& s) {
    return Status::IOError(s.message() + " (free space or fix the permissions)");
  };
  if (existing) {  // present but unreadable: replace it
    Status written = WriteFileAtomically(path, id + "\n");
    if (!written.ok()) return failed(written);
    return id;
  }
  std::string tmp = fmt::format("{}.{}.{}", path, ::getpid(), id.substr(0, 8));
  Status written = WriteFileAtomically(tmp, id + "\n");
  if (!written.ok()) return failed(written);
  int linked = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (linked == 0) return id;
  if (err == EEXIST) {
    auto winner = ReadDataDirId(path);
    if (winner && !winner->empty()) return *winner;
  }
  return failed(Status::IOError(fmt::format("cannot create {}: {}", path, std::strerror(err))));
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
