#include <fmt/format.h>

#include "common/redact.h"
#include "staging/postgres/postgres_staging.h"
#include "staging/sqlite/sqlite_staging.h"
#include "staging/staging.h"

namespace dataforge {

Result<std::unique_ptr<Staging>> OpenStaging(const std::string& url, OpenMode mode,
                                             bool synchronous_full, const std::string& instance) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.rfind(kSqlite, 0) == 0) {
    std::string path = url.substr(kSqlite.size());
    if (path.empty()) {
      return Status::ConfigError(
          fmt::format("staging url '{}' has no path; write sqlite:///abs/path.db", url));
    }
    return SqliteStaging::Open(path, mode, synchronous_full);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return PostgresStaging::Open(url, mode, synchronous_full, instance);
  }
  return Status::ConfigError(
      fmt::format("staging url '{}': unsupported scheme; use sqlite://PATH or "
                  "postgresql://user:password@host:port/db",
                  Redact(url)));
}

}  // namespace dataforge
