// The CQL endpoint's statement engine: answers QUERY, PREPARE, EXECUTE and BATCH over a Store
// (the embedded RocksDB store), independent of sockets (the transport is cql_server.h).
//
// What it speaks (docs/cql.md has the grammar): SELECT by primary key, SELECT with LIMIT and
// paging (page size + paging state), SELECT COUNT(*), `token(k) > token(?)` ranges, INSERT
// (upsert; IF NOT EXISTS; USING TTL and USING TIMESTAMP are refused), DELETE by key, UPDATE ... SET
// by key, CREATE KEYSPACE / CREATE TABLE [IF NOT EXISTS] (one-column primary keys), USE, and the
// system tables drivers read on connect: system.local, system.peers, system.peers_v2 and
// system_schema.{keyspaces,tables,columns,types,functions,aggregates,triggers,indexes,views}.
// Anything else is an ERROR (Syntax_error or Invalid) whose message says what is not supported;
// the engine never throws and never ends the connection. Every value written, bound or literal,
// passes CheckValue (cql/value_check.h) first, and a BATCH is checked whole before any of it is
// applied: a refused write stores nothing.
//
// Writes (INSERT, UPDATE, DELETE, BATCH) go through a group commit (row_writer.h): a write's
// response is produced only after its rows are durable per the store's sync option, and the
// rows of concurrent writes share one Store::Apply (one fsync).
//
// Access control (cql_access.h): for a session with a user, every QUERY, EXECUTE and BATCH is
// checked before it runs (ERROR Unauthorized, nothing applied, when a permission is missing)
// and its writes are audited with their outcome.
//
// Thread-safety: safe for concurrent use by every connection's thread. The Store must outlive
// the engine. The *Async calls read and change `session` only during the call; their `done`
// runs exactly once: inline for anything but a write, else on the thread that commits the
// write's group (inside CommitWrites(), this thread's or another's). The synchronous calls
// commit and wait for their own writes.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "cql/messages.h"
#include "serve/cql/cql_access.h"
#include "store/store.h"

namespace dataforge::cql {

// Per-connection state the engine reads and changes (USE sets the keyspace).
struct SessionState {
  std::string keyspace;
  // Who the connection authenticated as; null while authentication is off (then no statement
  // is checked). Set by the transport once, at AUTH_SUCCESS.
  std::shared_ptr<const CqlSessionUser> user;
};

// A RESULT or an ERROR body for one request.
using Response = std::variant<ResultMessage, ErrorMessage>;
using ResponseCallback = std::function<void(Response)>;

struct EngineOptions {
  // What system.local reports.
  std::string cluster_name = "DataForge";
  std::string data_center = "datacenter1";
  std::string rack = "rack1";
  std::string listen_address = "127.0.0.1";  // rpc_address / broadcast_address
  int32_t port = 9042;
  // The Cassandra version we present: 3.11 makes drivers use their Cassandra 3 schema parser
  // (the DataStax Python driver's SchemaParserV3: system_schema.*, no system_virtual_schema).
  std::string release_version = "3.11.16";
  int32_t default_page_size = 5000;  // when a SELECT asks for none
  size_t max_prepared = 10000;       // prepared statements kept; the oldest is forgotten
  // Checks the statements of authenticated sessions and audits their writes (cql_access.h).
  // Not owned; must outlive the engine. Null: nothing is checked.
  CqlAccessControl* access_control = nullptr;
};

class CqlEngine {
 public:
  CqlEngine(Store* store, EngineOptions options);
  ~CqlEngine();

  Response Query(SessionState* session, const QueryMessage& m);
  Response Prepare(SessionState* session, const PrepareMessage& m);
  // Unprepared (0x2500) for an id this engine did not prepare (or forgot: see max_prepared).
  Response Execute(SessionState* session, const ExecuteMessage& m);
  Response Batch(SessionState* session, const BatchMessage& m);

  // The same, answering through `done`; a write's rows stay queued until CommitWrites().
  void QueryAsync(SessionState* session, const QueryMessage& m, ResponseCallback done);
  void ExecuteAsync(SessionState* session, const ExecuteMessage& m, ResponseCallback done);
  void BatchAsync(SessionState* session, const BatchMessage& m, ResponseCallback done);
  // Applies the queued writes as groups (one Store::Apply each) and runs their callbacks,
  // until none is queued; returns at once if another thread is committing (it takes ours
  // next). `after_group` runs on this thread after each group's callbacks. Call it after a
  // burst of *Async calls: until then their writes are not applied.
  void CommitWrites(const std::function<void()>& after_group = {});

  // Every ResultMessage of kind kSchemaChange is also a SCHEMA_CHANGE event the transport sends
  // to registered connections.

  // system.local's schema_version now (a uuid that changes with the schema catalog).
  Result<std::string> SchemaVersion();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dataforge::cql
