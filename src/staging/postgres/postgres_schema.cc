#include "staging/postgres/postgres_schema.h"

#include <fmt/format.h>

namespace dataforge {
namespace {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

// Append only: a released migration is never edited, a change is a new version.
constexpr Migration kMigrations[] = {
    {1, "outbox, records, dead letters, source positions, counters", R"SQL(
CREATE TABLE dataforge.instances(    -- the writers: each ingest process's data dir id
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  first_seen timestamptz NOT NULL DEFAULT now());
CREATE TABLE dataforge.outbox(       -- the change stream, per writing instance in commit order
  instance_id int NOT NULL,          -- dataforge.instances.id (4 bytes a row, not 37)
  seq bigint NOT NULL,               -- 1, 2, 3, ... per instance
  key text NOT NULL,
  raw text NOT NULL,                 -- the record's JSON text as received
  fetched_at bigint NOT NULL,        -- microseconds since the epoch
  PRIMARY KEY (instance_id, seq));
CREATE INDEX outbox_key ON dataforge.outbox(key, seq);  -- Get(); rejects keys too large to index
CREATE TABLE dataforge.records(      -- the upsert view: the latest outbox row of each key
  key text PRIMARY KEY,
  instance_id int NOT NULL,
  seq bigint NOT NULL);
CREATE TABLE dataforge.dead_letters(
  id bigserial PRIMARY KEY,
  instance text NOT NULL,
  stage text NOT NULL, reason text NOT NULL, location text NOT NULL,
  payload bytea NOT NULL, at bigint NOT NULL);
CREATE INDEX dead_letters_instance ON dataforge.dead_letters(instance, id);
CREATE TABLE dataforge.source_positions(
  instance text NOT NULL, source text NOT NULL, position text NOT NULL,
  PRIMARY KEY (instance, source));
CREATE TABLE dataforge.counters(     -- instance '' holds the shared ones (distinct_keys)
  instance text NOT NULL, name text NOT NULL, value bigint NOT NULL,
  PRIMARY KEY (instance, name));
CREATE VIEW dataforge.staged_records AS
  SELECT r.key, o.raw, to_timestamp(o.fetched_at / 1e6) AS fetched_at, i.name AS instance, r.seq
  FROM dataforge.records r
  JOIN dataforge.outbox o ON o.instance_id = r.instance_id AND o.seq = r.seq
  JOIN dataforge.instances i ON i.id = r.instance_id;
)SQL"},
    {2, "orchestrator run store: dags, dag runs, task instances", R"SQL(
CREATE TABLE dataforge.dags(
  dag_id text PRIMARY KEY,
  paused boolean NOT NULL DEFAULT false,
  last_scheduled_start_us bigint);   -- NULL: no scheduled or backfill run yet
CREATE TABLE dataforge.dag_runs(
  run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dag_id text NOT NULL REFERENCES dataforge.dags(dag_id),
  run_type text NOT NULL CHECK (run_type IN ('scheduled','manual','backfill')),
  logical_us bigint NOT NULL,        -- timestamps: microseconds since the epoch
  interval_start_us bigint NOT NULL,
  interval_end_us bigint NOT NULL,
  state text NOT NULL CHECK (state IN ('queued','running','success','failed')),
  conf_json text NOT NULL DEFAULT '{}',
  created_us bigint NOT NULL,
  started_us bigint NOT NULL DEFAULT 0,
  ended_us bigint NOT NULL DEFAULT 0,
  UNIQUE (dag_id, logical_us));      -- one run per logical date, whoever creates it
CREATE INDEX dag_runs_active ON dataforge.dag_runs(dag_id, logical_us)
  WHERE state IN ('queued','running');
CREATE TABLE dataforge.task_instances(
  run_id bigint NOT NULL REFERENCES dataforge.dag_runs(run_id),
  task_id text NOT NULL,
  state text NOT NULL CHECK (state IN ('none','scheduled','running','up_for_retry','success',
                                       'failed','upstream_failed')),
  try_number int NOT NULL DEFAULT 0,
  max_tries int NOT NULL DEFAULT 1,
  ready_us bigint NOT NULL DEFAULT 0,
  next_try_us bigint NOT NULL DEFAULT 0,
  lease_owner text NOT NULL DEFAULT '',
  lease_expires_us bigint NOT NULL DEFAULT 0,
  started_us bigint NOT NULL DEFAULT 0,
  ended_us bigint NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  output text NOT NULL DEFAULT '',   -- the last attempt's output tail (bounded by the caller)
  PRIMARY KEY (run_id, task_id));
-- ClaimTasks: only claimable rows are indexed, so finished history costs nothing.
CREATE INDEX task_instances_claimable ON dataforge.task_instances(ready_us, run_id, task_id)
  WHERE state IN ('scheduled','up_for_retry');
-- RenewLeases, ExpiredAttempts: the running attempts.
CREATE INDEX task_instances_running ON dataforge.task_instances(lease_owner)
  WHERE state = 'running';
)SQL"},
    {3, "users and API keys (auth/postgres/postgres_credential_store.cc)", R"SQL(
CREATE TABLE dataforge.auth_users(
  name text PRIMARY KEY,
  role text NOT NULL,
  password_hash text NOT NULL,       -- argon2id encoded; '' = no password
  created_unix bigint NOT NULL);
CREATE TABLE dataforge.auth_api_keys(
  key_id text PRIMARY KEY,
  user_name text NOT NULL,           -- kept after the user is removed (the key is revoked)
  secret_hash text NOT NULL,         -- argon2id encoded hash of the whole key text
  created_unix bigint NOT NULL,
  expires_unix bigint NOT NULL,      -- 0 = never
  revoked_unix bigint NOT NULL);     -- 0 = not revoked
CREATE INDEX auth_api_keys_user ON dataforge.auth_api_keys(user_name, created_unix);
)SQL"},
    {4, "schema registry (registry/store/postgres/postgres_registry_store.cc)", R"SQL(
CREATE TABLE dataforge.registry_schemas(
  id bigint PRIMARY KEY,             -- never reused: rows are never deleted
  type text NOT NULL,                -- AVRO | JSON
  text text NOT NULL,                -- as registered (or normalized)
  fingerprint text NOT NULL UNIQUE,  -- sha256 of type, canonical text, references: one id each
  refs text NOT NULL);               -- [{"name":..,"subject":..,"version":N}]
CREATE TABLE dataforge.registry_schema_refs(
  schema_id bigint NOT NULL, subject text NOT NULL, version int NOT NULL,
  PRIMARY KEY (subject, version, schema_id));
CREATE TABLE dataforge.registry_versions(
  subject text NOT NULL, version int NOT NULL,
  schema_id bigint NOT NULL,
  deleted boolean NOT NULL,          -- soft deleted
  PRIMARY KEY (subject, version));
CREATE INDEX registry_versions_id ON dataforge.registry_versions(schema_id);
CREATE TABLE dataforge.registry_config(subject text PRIMARY KEY, level text NOT NULL);
CREATE TABLE dataforge.registry_mode(subject text PRIMARY KEY, mode text NOT NULL);
CREATE TABLE dataforge.registry_generation(n bigint NOT NULL);  -- +1 per registry write
INSERT INTO dataforge.registry_generation VALUES (0);
)SQL"},
};

constexpr int kLatest = 4;
static_assert(kMigrations[std::size(kMigrations) - 1].version == kLatest);

Result<int> CurrentVersion(PgConnection& c) {
  DF_ASSIGN_OR_RETURN(auto table,
                      c.Query("SELECT to_regclass('dataforge.schema_migrations') IS NOT NULL"));
  if (table.Text(0, 0) != "t") return 0;
  DF_ASSIGN_OR_RETURN(auto v, c.Query("SELECT coalesce(max(version),0) FROM "
                                      "dataforge.schema_migrations"));
  return static_cast<int>(v.Int(0, 0));
}

Status TooNew(PgConnection& c, int version) {
  return Status::ConfigError(fmt::format(
      "staging database {} has DataForge schema version {}, newer than this dataforge knows "
      "({}): a newer dataforge migrated it; run that version (or use another database)",
      c.endpoint(), version, kLatest));
}

Status MigrateLocked(PgConnection& c) {
  // One migrator at a time; the others wait here and then find nothing to do.
  DF_RETURN_IF_ERROR(c.Exec("SELECT pg_advisory_xact_lock(8151700001)"));
  DF_ASSIGN_OR_RETURN(auto schema,
                      c.Query("SELECT 1 FROM pg_namespace WHERE nspname = 'dataforge'"));
  if (schema.rows() == 0) DF_RETURN_IF_ERROR(c.Exec("CREATE SCHEMA dataforge"));
  DF_RETURN_IF_ERROR(c.Exec(R"SQL(
CREATE TABLE IF NOT EXISTS dataforge.schema_migrations(
  version int PRIMARY KEY, description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()))SQL"));
  DF_ASSIGN_OR_RETURN(int version, CurrentVersion(c));
  if (version > kLatest) return TooNew(c, version);
  for (const Migration& m : kMigrations) {
    if (m.version <= version) continue;
    DF_RETURN_IF_ERROR(c.Exec(m.sql).WithContext(
        fmt::format("applying staging schema migration {} ({})", m.version, m.description)));
    DF_RETURN_IF_ERROR(c.Query("INSERT INTO dataforge.schema_migrations(version, description) "
                               "VALUES($1, $2)",
                               {std::to_string(m.version), m.description})
                           .status());
  }
  return Status::OK();
}

}  // namespace

int LatestStagingSchemaVersion() {
  return kLatest;
}

Status MigrateStagingSchema(PgConnection& c) {
  DF_ASSIGN_OR_RETURN(int version, CurrentVersion(c));
  if (version == kLatest) return Status::OK();
  if (version > kLatest) return TooNew(c, version);
  DF_RETURN_IF_ERROR(c.Exec("BEGIN"));
  Status s = MigrateLocked(c);
  if (s.ok()) s = c.Exec("COMMIT");
  if (!s.ok()) {
    (void)c.Exec("ROLLBACK");
    if (s.code() == StatusCode::kConfigError &&
        s.message().find("permission denied") != std::string::npos) {
      return Status::ConfigError(fmt::format(
          "{} (creating the staging schema 'dataforge' needs CREATE on the database: GRANT "
          "CREATE ON DATABASE ... TO {}, or let an owner run dataforge once)",
          s.message(), c.user()));
    }
    return s;
  }
  return Status::OK();
}

Status CheckStagingSchema(PgConnection& c) {
  DF_ASSIGN_OR_RETURN(int version, CurrentVersion(c));
  if (version == 0) {
    return Status::NotFound(fmt::format(
        "staging database {} has no DataForge schema yet: run the pipeline first", c.endpoint()));
  }
  if (version > kLatest) return TooNew(c, version);
  if (version < kLatest) {
    return Status::ConfigError(
        fmt::format("staging database {} has DataForge schema version {}, older than this "
                    "dataforge's {}: run the pipeline once to migrate it",
                    c.endpoint(), version, kLatest));
  }
  return Status::OK();
}

}  // namespace dataforge
