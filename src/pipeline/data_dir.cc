#include "pipeline/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>

#include <unistd.h>

#include <filesystem>
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

Result<std::string> DataDirId(const std::string& data_dir) {
  std::string path = (std::filesystem::path(data_dir) / "ID").string();
  char buf[64] = {0};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    std::string id(buf, n > 0 ? static_cast<size_t>(n) : 0);
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    if (id.size() == 36) return id;
  }
  unsigned char r[16];
  int rfd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (rfd < 0 || ::read(rfd, r, sizeof r) != static_cast<ssize_t>(sizeof r)) {
    if (rfd >= 0) ::close(rfd);
    return Status::IOError("cannot read /dev/urandom for the data dir's id");
  }
  ::close(rfd);
  r[6] = static_cast<unsigned char>((r[6] & 0x0f) | 0x40);  // version 4
  r[8] = static_cast<unsigned char>((r[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string id = fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:"
      "02x}"
      "{:02x}",
      r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
      r[15]);
  std::string tmp = path + ".tmp";
  fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::string line = id + "\n";
  bool ok = fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IOError(fmt::format("cannot write {}: {} (free space or fix the permissions)",
                                       path, std::strerror(errno)));
  }
  return id;
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
