#include "auth/audit_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "common/json_writer.h"

namespace dataforge::auth {
namespace {

// "2026-12-03T13:05:01.123456Z"
std::string IsoMicros(int64_t micros) {
  int64_t secs = micros / 1'000'000;
  int64_t frac = micros % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

bool AllDigits(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path, Clock* clock) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IOError(fmt::format("cannot open the audit log {} (auth.audit_log): {}", path,
                                       std::strerror(errno)));
  }
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->fd_ = fd;
  log->clock_ = clock;
  log->path_ = path;
  return log;
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::Record(const AuditEntry& e) {
  JsonObjectWriter w;
  w.String("at", IsoMicros(clock_->NowMicros()))
      .String("who", e.who.name)
      .String("role", e.who.role)
      .String("method", e.who.method);
  if (!e.who.key_id.empty()) w.String("key_id", e.who.key_id);
  w.String("from", e.from).String("action", e.action);
  if (AllDigits(e.result)) {
    w.Int("result", std::stoll(e.result));  // an HTTP status
  } else {
    w.String("result", e.result);
  }
  std::string line = w.Finish();
  line.push_back('\n');
  // One write(2) on an O_APPEND descriptor: lines of several writers never interleave.
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()) && !warned_.exchange(true)) {
    spdlog::warn("audit log {}: write failed ({}); later failures are not reported", path_,
                 n < 0 ? std::strerror(errno) : "short write");
  }
}

}  // namespace dataforge::auth
