// The pipeline file, parsed. Plain values; thread-compatible.
//
// Every field has a default (the embedded default pipeline, pipelines/default.yaml); a pipeline
// file overrides what it names. `line` fields keep the 1-based line in the file, for errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/dag_config.h"

namespace dataforge {

struct SourceConfig {
  std::string name = "randomuser";
  // "http": pages of a REST API (or a file capture). "postgres_cdc": the row changes of
  // `tables` in the PostgreSQL database at `url`, through logical replication (pgoutput).
  std::string type = "http";
  // "" = start the built-in randomuser-compatible API on a loopback port and pull from it.
  // Otherwise any URL libcurl accepts (http, https, file).
  std::string url;
  int results_per_page = 500;     // `results` query parameter when the URL has none
  std::string seed;               // `seed` query parameter when the URL has none ("" = random,
                                  // chosen once and kept with the source position)
  double rate_limit_per_sec = 0;  // requests per second; 0 = unlimited
  int64_t connect_timeout_ms = 5000;
  int64_t timeout_ms = 30000;
  int max_retries = 5;
  int64_t backoff_initial_ms = 200;
  int64_t backoff_max_ms = 30000;
  uint64_t max_response_bytes = 64ull << 20;
  // Field paths tried in order for the record key (dotted, e.g. "login.uuid").
  std::vector<std::string> key_paths = {"login.uuid"};
  // When no key path resolves: "hash" derives a name-based UUID from the record's bytes
  // (re-ingesting the same record gives the same key); "deadletter" dead-letters the record.
  std::string key_fallback = "hash";
  // postgres_cdc: "schema.table" (or "table" in public) to stream; the publication and the
  // replication slot ("" = dataforge_<name>) are created when missing.
  std::vector<std::string> tables;
  std::string publication;
  std::string slot;
  // postgres_cdc: the columns whose values make a table's record key (and so its log
  // partition), as ("schema.table", columns); they must name one store row. A table not listed
  // is keyed by `store_key_column` when the table has it in its replica identity, else by its
  // primary key.
  std::vector<std::pair<std::string, std::vector<std::string>>> key_columns;
  // postgres_cdc: the table column the store's key is read from: "<col>" when the key column
  // of process.columns has the single path "data.<col>", else "". Derived by the pipeline file
  // reader, not read from the file.
  std::string store_key_column;
  // postgres_cdc: "initial" = when the run creates the slot, first copy the rows the tables
  // already hold (from the snapshot the slot exports), then stream from the slot's start;
  // "never" = stream changes only. A slot that already exists is never snapshotted.
  std::string snapshot = "initial";
};

struct StagingConfig {
  std::string url = "sqlite://staging.db";  // relative paths are inside the data dir
  bool synchronous_full = true;             // fsync every batch commit
};

struct LogConfig {
  std::string url = "file://log";  // relative paths are inside the data dir
  std::string topic = "users_created";
  int partitions = 4;
  bool fsync_per_batch = true;
  uint64_t segment_bytes = 64ull << 20;
  uint64_t retention_bytes = 0;  // per partition, 0 = unlimited
  int64_t retention_ms = 0;      // 0 = unlimited
  // Embedded log: retention deletes segments a consumer group has not read too (their records
  // are counted as lost). Off: such segments are kept until the group reads past them.
  bool retention_force = false;
  // Kafka (log.url kafka://...): replication of the topics DataForge creates (0 = the cluster's
  // default) and librdkafka properties passed through (security.protocol, sasl.*, ssl.*, ...).
  int replication_factor = 0;
  std::vector<std::pair<std::string, std::string>> properties;
  // The record values' encoding (docs/pipeline-file.md "log.format"): kJson = the staged JSON
  // as is; the confluent formats = Confluent's wire format (magic byte 0, 4-byte schema id,
  // payload: JSON text, or Avro binary) with the schema of `subject` in the schema registry.
  enum class Format { kJson, kConfluentJson, kConfluentAvro };
  Format format = Format::kJson;
  std::string subject;  // required for the confluent formats
  // A schema file registered under `subject` at start; "" = the subject's latest version.
  // Resolved against the pipeline file's directory when read from a file.
  std::string schema_file;
};

// "json", "confluent-json", "confluent-avro".
std::string_view LogFormatName(LogConfig::Format format);

// One output column of the mapping. Value resolution, in order:
//  - `paths`: dotted field paths into the raw record, first one present and not null wins;
//    "$key" is the record key;
//  - `templates`: strings with {dotted.path} placeholders, the first whose placeholders all
//    resolve to scalars wins.
// The value is then cast to `type`. A required column with no value dead-letters the record.
//  - `expr`: an expression over the record (docs/expressions.md; src/expr), instead of paths
//    and templates. Its value (null included) is cast to `type`; an evaluation error
//    dead-letters the record with the expression and the value.
struct ColumnSpec {
  std::string name;
  std::string type = "text";  // text | uuid | int | bigint | double | boolean | timestamp | decimal
  std::vector<std::string> paths;
  std::vector<std::string> templates;
  bool required = false;
  int line = 0;
  std::string expr{};   // "" = none
  int expr_column = 0;  // 1-based column in the file where the expression text starts
};

// `process.schema` (docs/pipeline-file.md): every mapped row is validated against a subject of
// the schema registry in the staging database before it is stored; a row that fails is a dead
// letter naming the schema and the rule. auto_register: the mapping's own schema (generated
// from the columns, process/row_schema.h) is registered under `subject` at start, and the run
// refuses to start when the registry finds it incompatible; else the subject's latest version.
struct ProcessSchemaConfig {
  std::string subject;        // "" = no validation
  std::string type = "json";  // json | avro
  bool auto_register = false;
  int line = 0;
};

// `process.outputs` (docs/pipeline-file.md): more than the mapped table from the same records,
// written in the same StoreBatch as the mapped rows and the offsets. Exactly one of `table`
// and `topic` is set.
struct OutputSpec {
  // A derived table: each record mapped again with `columns` (the same column specs as
  // process.columns), keyed by `key_column`, kept only where `where` is true ("" = always).
  std::string table;
  std::string key_column = "id";
  std::vector<ColumnSpec> columns;
  std::string where;
  int where_column = 0;
  // A topic of the log: the mapped rows of process.table published as `format` (json or a
  // confluent format with `subject`), keyed by the row key; at least once: acknowledged by the
  // log before the store commits the batch (a replay publishes the same key and row again).
  std::string topic;
  LogConfig::Format format = LogConfig::Format::kJson;
  std::string subject;
  int line = 0;
};

// `process.aggregates[].window`. Times are milliseconds.
struct WindowSpec {
  std::string type = "tumbling";  // tumbling | hopping | session
  int64_t size_ms = 0;            // tumbling, hopping
  int64_t advance_ms = 0;         // hopping
  int64_t gap_ms = 0;             // session
  // The event time: a timestamp column of the mapped row (process.columns); "" = processing
  // time (the processor's clock when it maps the record).
  std::string time_column;
  int line = 0;
};

// One aggregate value: `name` = fn(of). fn: count (no `of`) | sum | min | max | avg |
// count_distinct (exact up to `distinct_exact_limit` values per group and window, then
// HyperLogLog).
struct AggregateValueSpec {
  std::string name;
  std::string fn;
  std::string of;  // a column of the mapped row
  int line = 0;
};

// `process.aggregates` (docs/aggregates.md): windowed aggregates of the mapped rows into their
// own table, upserted by (group, window) in the same StoreBatch as the offsets (exactly once).
struct AggregateSpec {
  std::string table;
  std::vector<std::string> group_by;  // columns of the mapped row
  WindowSpec window;
  int64_t lateness_ms = 0;          // allowed lateness behind the watermark
  std::string late = "deadletter";  // a record later than that: deadletter | update
  std::vector<AggregateValueSpec> values;
  uint64_t distinct_exact_limit = 10000;
  // late: update tumbling and hopping windows: the memory their final states may be kept in
  // (process/aggregate/aggregate_stage.h Kept), over all partitions; 0 = read from the store.
  uint64_t max_final_state_bytes = uint64_t{32} << 20;
  // late: update tumbling and hopping windows: how long after a window is final (its end plus
  // lateness) late records still update it; past that its state rows are deleted and its late
  // records dead-lettered, as with late: deadletter. None: updated for ever, state rows kept.
  std::optional<int64_t> late_update_for_ms;
  // Tumbling and hopping windows: a partition this member holds that has had no record for this
  // long (processing time) is idle: its watermark follows the lowest of the other partitions',
  // so it no longer holds back the deletion of final windows' state rows, and its next records
  // are judged late against that watermark. None: a partition without records holds deletions
  // back. docs/aggregates.md "Idle partitions".
  std::optional<int64_t> idle_after_ms;
  int line = 0;
};

struct ProcessConfig {
  std::string group = "dataforge-processor";
  std::string table = "dataforge.created_users";
  std::string key_column = "id";
  std::vector<ColumnSpec> columns;
  size_t max_record_bytes = 1 << 20;  // larger records are dead-lettered unparsed
  // A record whose field `delete_path` equals `delete_value` removes the row with its key
  // instead of writing one (change events: {path: op, equals: delete}). "" = never.
  std::string delete_path;
  std::string delete_value;
  ProcessSchemaConfig schema;
  // `process.where`: an expression (docs/expressions.md); a record for which it is not true is
  // dropped and counted as `filtered` (never lost). "" = keep every record.
  std::string where;
  int where_line = 0;
  int where_column = 0;
  std::vector<OutputSpec> outputs;
  std::vector<AggregateSpec> aggregates;
};

// Cassandra/ScyllaDB (store.url cassandra://...): host, port and keyspace come from the URL;
// the rest from the pipeline file's `store:` section (query parameters on the URL override).
struct CassandraConfig {
  std::string username, password;  // PasswordAuthenticator; empty = no authentication
  std::string consistency = "LOCAL_QUORUM";
  // Per-table consistency overrides: (table as in the pipeline, level).
  std::vector<std::pair<std::string, std::string>> table_consistency;
  std::string local_datacenter;  // "" = every host is local
  // For the keyspace DataForge creates; as CQL replication options.
  std::vector<std::pair<std::string, std::string>> replication = {{"class", "SimpleStrategy"},
                                                                  {"replication_factor", "1"}};
  bool tls = false;
  std::string tls_ca_file, tls_cert_file, tls_key_file;
  bool tls_verify_hostname = true;
  int connections_per_host = 2;
  int max_in_flight_per_connection = 128;
  int64_t connect_timeout_ms = 5000;
  int64_t request_timeout_ms = 12000;
  int max_retries = 10;  // per statement, on timeouts/unavailable/overloaded/lost connections
};

struct StoreConfig {
  std::string url = "rocksdb://store";  // relative paths are inside the data dir
  bool sync = true;                     // fsync the WAL on every batch
  CassandraConfig cassandra;
};

struct PipelineTuning {
  int batch_records = 1000;           // records per durable batch in every stage
  uint64_t max_staging_lag = 200000;  // source waits while staged - relayed exceeds this
  uint64_t max_log_lag = 200000;      // relay waits while appended - processed exceeds this
  // Role all over the embedded log: the source fetches only while at most this many batches
  // are between its staging commit and the store (fetch -> queryable latency at full speed is
  // about this many batches' worth); 0 = no bound.
  int max_in_flight_batches = 2;
};

// `auth:` (docs/security.md). Roles are `role -> kind -> {glob: [actions]}` in the file.
struct AuthGrantConfig {
  std::string kind;  // tables | pipeline | deadletters | dags | admin
  std::string glob = "*";
  std::vector<std::string> actions;
  int line = 0;
};
struct AuthRoleConfig {
  std::string name;
  std::vector<AuthGrantConfig> grants;
  int line = 0;
};
struct JwtConfig {
  std::string hs256_secret;  // shared secret for HS256 ("" = HS256 tokens refused)
  std::string jwks_file;     // RS256/ES256 public keys (relative to the pipeline file)
  std::string issuer;        // required `iss` ("" = not checked)
  std::string audience;      // required in `aud` ("" = not checked)
  std::string role_claim = "role";
  std::string subject_claim = "sub";
  int64_t leeway_s = 30;  // clock skew allowed for exp/nbf
};
struct AuthConfig {
  bool required = false;  // on even while no user exists (JWT-only deployments)
  std::vector<AuthRoleConfig> roles;
  JwtConfig jwt;
  std::string audit_log = "audit.log";    // relative paths are inside the data dir
  int max_failed_logins_per_minute = 10;  // per client address
};

struct PipelineConfig {
  std::string path;  // file it came from, "" for the built-in default
  SourceConfig source;
  StagingConfig staging;
  LogConfig log;
  ProcessConfig process;
  StoreConfig store;
  PipelineTuning tuning;
  std::vector<DagSpec> dags;
  SchedulerConfig scheduler;
  AuthConfig auth;
};

}  // namespace dataforge
