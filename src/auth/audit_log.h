// The audit log: one JSON line per write and admin action, appended to a file
// (auth.audit_log, default <data dir>/audit.log):
//   {"at":"2026-12-03T13:05:01.123456Z","who":"alice","role":"operator","method":"key",
//    "from":"127.0.0.1","action":"PUT /v1/tables/dataforge.users/rows/42","result":200}
// With method "key" the line also has "key_id" after "method". A numeric result is written as a
// number, anything else as a string. Secrets never appear in it (bodies are not logged; key
// ids, not keys).
// Durability: each line is written with one write(2) on an O_APPEND descriptor, so lines of
// several processes never interleave; not fsynced (an audit line may be lost in a power cut).
// Thread-safety: Record() from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "auth/principal.h"
#include "common/clock.h"
#include "common/status.h"

namespace dataforge::auth {

struct AuditEntry {
  Principal who;
  std::string from;    // client address ("cli" for a local command)
  std::string action;  // "PUT /v1/tables/t/rows/k", "users add bob", "CQL INSERT INTO t"
  std::string result;  // HTTP status as text, "ok", or the error code
};

class AuditLog {
 public:
  // Opens (creating, mode 0600: it names users and addresses) `path` for appending. `clock`
  // stamps the lines (added to the groundwork's declaration so tests can check exact lines).
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path,
                                                Clock* clock = Clock::Real());
  ~AuditLog();
  // Failures are logged once (spdlog warn), never thrown back at the request.
  void Record(const AuditEntry& entry);

 private:
  AuditLog() = default;
  int fd_ = -1;
  Clock* clock_ = nullptr;
  std::string path_;
  std::atomic<bool> warned_{false};  // a failed write is logged once
};

}  // namespace dataforge::auth
