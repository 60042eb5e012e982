// The system tables a driver reads on connect and for schema metadata, answered from the
// Store's schema catalog (docs/cql.md). We present ourselves as one Cassandra 3.11 node, so
// drivers pick their Cassandra 3 schema parser (DataStax Python driver: SchemaParserV3, which
// needs no system_virtual_schema):
//
//   system.local                 one row: this node (typed like Cassandra 3.11's)
//   system.peers                 no rows (a single node)
//   system_schema.keyspaces      user keyspaces: keyspace_name, durable_writes, replication
//   system_schema.tables         one row per table, with the options SchemaParserV3 reads
//   system_schema.columns        the key column ('partition_key', position 0) and the others
//                                ('regular', position -1)
//   system_schema.{types, functions, aggregates, triggers, indexes, views, dropped_columns}
//                                no rows, the right columns
//
// Any other table of a system keyspace (system.peers_v2, system_virtual_schema.*) is Invalid
// "unconfigured table peers_v2", as Cassandra 3 answers, so drivers fall back.
// Pure functions of their inputs; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "cql/messages.h"
#include "store/store.h"

namespace dataforge::cql {

struct SystemInfo {
  std::string cluster_name;
  std::string data_center;
  std::string rack;
  std::string listen_address;  // IPv4 or IPv6 text
  std::string release_version;
};

// The user schema as the store describes it: keyspaces (including those that only appear as
// a table's prefix) and tables, each sorted by name.
struct Catalog {
  std::vector<KeyspaceSchema> keyspaces;
  std::vector<TableSchema> tables;  // table is "keyspace.name"
};

// Reads the catalog from `store`: its keyspaces, and the schema of every table it lists plus
// `also_tables` (tables created through the endpoint that Store::ListTables() does not list
// before their first row). Tables whose schema is unknown to the store are left out.
Result<Catalog> LoadCatalog(Store* store, const std::vector<std::string>& also_tables);

// A stable uuid (text) derived from the catalog: equal catalogs give equal versions, and any
// change of a keyspace, table, column or type gives another.
std::string SchemaVersion(const Catalog& catalog);

// True for the keyspaces served here: system, system_schema, system_virtual_schema,
// system_auth, system_distributed, system_traces.
bool IsSystemKeyspace(std::string_view keyspace);

// A whole system table: column specs (keyspace and table set) and encoded rows, before any
// WHERE or projection.
struct VirtualTable {
  std::vector<ColumnSpec> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

// `keyspace` must be a system keyspace. Invalid-style InvalidArgument "unconfigured table X"
// for a table not served.
Result<VirtualTable> ReadSystemTable(const SystemInfo& info, const Catalog& catalog,
                                     std::string_view keyspace, std::string_view table);

}  // namespace dataforge::cql
