#include <fmt/format.h>

#include "common/redact.h"
#include "staging/postgres/postgres_staging.h"
#include "staging/sqlite/sqlite_staging.h"
#include "staging/staging.h"

namespace dataforge {

Result<StagingUrl> ParseStagingUrl(const std::string& url) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.starts_with(kSqlite)) {
    std::string path = url.substr(kSqlite.size());
    if (path.empty()) {
      return Status::ConfigError(
          fmt::format("staging url '{}' has no path; write sqlite:///abs/path.db", url));
    }
    return StagingUrl{false, std::move(path)};
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return StagingUrl{true, ""};
  }
  return Status::ConfigError(
      fmt::format("staging url '{}': unsupported scheme; use sqlite://PATH or "
                  "postgresql://user:password@host:port/db",
                  Redact(url)));
}

Result<std::unique_ptr<Staging>> OpenStaging(const std::string& url, OpenMode mode,
                                             bool synchronous_full, const std::string& instance) {
  DF_ASSIGN_OR_RETURN(StagingUrl parsed, ParseStagingUrl(url));
  if (parsed.postgres) return PostgresStaging::Open(url, mode, synchronous_full, instance);
  return SqliteStaging::Open(parsed.sqlite_path, mode, synchronous_full);
}

}  // namespace dataforge
