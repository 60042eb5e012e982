// The PostgreSQL staging schema (`dataforge` in the staging database) and its versioned
// migrations, recorded in dataforge.schema_migrations. See docs/postgresql.md.
#pragma once

#include "common/status.h"
#include "pg/pg_connection.h"

namespace dataforge {

// The newest schema version this build knows.
int LatestStagingSchemaVersion();

// Brings the schema to the latest version, in one transaction under an advisory lock (several
// processes starting at once migrate once). A database whose schema is newer than this build
// knows is a ConfigError and nothing is changed.
Status MigrateStagingSchema(PgConnection& c);

// Checks, without changing anything, that the schema exists at a version this build reads.
Status CheckStagingSchema(PgConnection& c);

}  // namespace dataforge
