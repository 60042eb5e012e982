// OpenCredentialStore: the backend named by the staging URL's scheme.
#include "auth/credential_store.h"

#include <fmt/format.h>

#include "auth/postgres/postgres_credential_store.h"
#include "auth/sqlite/sqlite_credential_store.h"
#include "staging/staging.h"

namespace dataforge::auth {

Result<std::unique_ptr<CredentialStore>> OpenCredentialStore(const std::string& staging_url,
                                                             OpenMode mode) {
  DF_ASSIGN_OR_RETURN(StagingUrl parsed, ParseStagingUrl(staging_url));
  if (parsed.postgres) return PostgresCredentialStore::Open(staging_url, mode);
  return SqliteCredentialStore::Open(parsed.sqlite_path, mode);
}

}  // namespace dataforge::auth
