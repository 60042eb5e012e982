// The audit log: one JSON line per write and admin action, appended to a file
// (auth.audit_log, default <data dir>/audit.log):
//   {"at":"2026-12-03T13:05:01.123456Z","who":"alice","role":"operator","method":"key",
//    "from":"127.0.0.1","action":"PUT /v1/tables/dataforge.users/rows/42","result":200}
// Secrets never appear in it (bodies are not logged; key ids, not keys).
// Durability: each line is written with one write(2) on an O_APPEND descriptor, so lines of
// several processes never interleave; not fsynced (an audit line may be lost in a power cut).
// Thread-safety: Record() from any thread.
#pragma once

#include <memory>
#include <string>

#include "auth/principal.h"
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
  // Opens (creating) `path` for appending.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();
  // Failures are logged once (spdlog warn), never thrown back at the request.
  void Record(const AuditEntry& entry);

 private:
  AuditLog() = default;
  int fd_ = -1;
};

}  // namespace dataforge::auth
