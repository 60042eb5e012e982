// OpenCredentialStore: the backend named by the staging URL's scheme.
#include "auth/credential_store.h"

#include <fmt/format.h>

#include "auth/postgres/postgres_credential_store.h"
#include "auth/sqlite/sqlite_credential_store.h"
#include "common/redact.h"

namespace dataforge::auth {

Result<std::unique_ptr<CredentialStore>> OpenCredentialStore(const std::string& staging_url,
                                                             OpenMode mode) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (staging_url.rfind(kSqlite, 0) == 0) {
    std::string path = staging_url.substr(kSqlite.size());
    if (path.empty()) {
      return Status::ConfigError(
          fmt::format("staging url '{}' has no path; write sqlite:///abs/path.db", staging_url));
    }
    return SqliteCredentialStore::Open(path, mode);
  }
  if (staging_url.rfind("postgresql://", 0) == 0 || staging_url.rfind("postgres://", 0) == 0) {
    return PostgresCredentialStore::Open(staging_url, mode);
  }
  return Status::ConfigError(
      fmt::format("staging url '{}': unsupported scheme; use sqlite://PATH or "
                  "postgresql://user:password@host:port/db",
                  Redact(staging_url)));
}

}  // namespace dataforge::auth
