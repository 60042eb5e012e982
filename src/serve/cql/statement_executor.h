// Private to serve/cql: executes one parsed statement against the Store for CqlEngine, and
// describes a statement's bind markers and result columns for PREPARE.
//
// Tables are "keyspace.name" in the Store with one primary-key column; rows are JSON objects
// keyed by the key's text (docs/cql.md "Data model"). An INSERT or UPDATE of some columns is a
// read-modify-write of the row under a per-key stripe lock, so concurrent writers of other
// columns of the same row do not lose each other's values; an INSERT that sets every column
// replaces the row without reading it. Written rows are queued in the RowWriter (group commit,
// row_writer.h) for the statement's PendingRequest.
//
// Thread-safety: safe for concurrent use; the Store and the options must outlive it.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cql/messages.h"
#include "serve/cql/cql_engine.h"
#include "serve/cql/cql_parser.h"
#include "serve/cql/row_writer.h"
#include "serve/cql/system_tables.h"

namespace dataforge::cql {

// The values of a statement's bind markers: positional, or named when `names` is not empty.
struct BoundValues {
  const std::vector<Value>* values = nullptr;
  const std::vector<std::string>* names = nullptr;
};

// Paging and metadata options of a QUERY or EXECUTE.
struct PageOptions {
  int32_t page_size = 0;  // <= 0: no paging
  std::optional<std::string> paging_state;
  bool skip_metadata = false;
};

// The error helpers: a Status from a lower layer becomes Invalid (bad input: InvalidArgument,
// NotFound, ConfigError, FailedPrecondition) or Server_error (anything else).
ErrorMessage CqlError(ErrorCode code, std::string message);
ErrorMessage ErrorFromStatus(const Status& s);
// Invalid: "DROP TABLE is not supported by the DataForge CQL endpoint (it serves ...)", or with
// the statement's hint after a colon.
ErrorMessage UnsupportedError(const UnsupportedStatement& s);

// Like DF_ASSIGN_OR_RETURN, in a function returning a Response: an error becomes its ERROR.
#define CQL_ASSIGN_OR_RETURN(lhs, expr) \
  CQL_ASSIGN_OR_RETURN_IMPL(DF_CONCAT(cql_result_, __LINE__), lhs, expr)
#define CQL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)      \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return ErrorFromStatus(tmp.status()); \
  lhs = std::move(tmp).value()

// Resolved table: a user table from the catalog or a system table.
struct TableInfo {
  std::string keyspace, name;
  bool system = false;
  TableSchema schema;               // user tables
  std::vector<ColumnSpec> columns;  // every column, key first for user tables
  size_t key_index = 0;             // user tables: index of the key in `columns`

  std::string full_name;                // "keyspace.name"
  std::vector<std::string> json_names;  // user tables: each column's name as a JSON string

  const std::string& full() const { return full_name; }
  // Index of `column` in `columns`, or nullopt. `hint`: the index to try first (an INSERT's
  // columns usually come in the table's order).
  std::optional<size_t> Find(const std::string& column, size_t hint = 0) const;
};

// Column index into TableInfo::columns -> value bytes (nullopt = null).
using ColumnValues = std::vector<std::pair<size_t, std::optional<std::string>>>;

class StatementExecutor {
 public:
  StatementExecutor(Store* store, const EngineOptions& options);

  // Executes `statement`; its tables without a keyspace use session->keyspace. Rows written are
  // queued for `request` (whose response waits for them); commit with writer().Commit().
  Response Execute(SessionState* session, const Statement& statement, int marker_count,
                   const BoundValues& values, const PageOptions& page,
                   const std::shared_ptr<PendingRequest>& request);
  RowWriter& writer() { return writer_; }

  // One statement of a BATCH message: a parsed INSERT, UPDATE or DELETE and its values.
  struct BatchEntry {
    const Statement* statement = nullptr;
    int marker_count = 0;
    BoundValues values;
  };
  // Checks every statement of a BATCH (tables, columns, every value) before applying any: an
  // ERROR leaves nothing queued. Then applies them in order.
  Response ExecuteBatch(SessionState* session, const std::vector<BatchEntry>& statements,
                        const std::shared_ptr<PendingRequest>& request);

  // For PREPARE: fills the keyspace of every table reference (from session->keyspace), and
  // `out`'s bind_columns, pk_indexes and result_metadata. An ERROR when a table or column is
  // unknown.
  std::optional<ErrorMessage> Describe(SessionState* session, Statement* statement,
                                       int marker_count, PreparedResult* out);

  // The current schema version (system.local's schema_version), for tests and the transport.
  Result<std::string> CurrentSchemaVersion();

 private:
  // --- shared (statement_executor.cc) ---
  // The table `ref` names. A user table's description is cached (converted once per schema
  // and shared), not read from the store per statement: it is read again when it is older than
  // kSchemaRecheckMs (the pipeline may add columns to a table while the endpoint serves it),
  // when a statement names a column the cached description lacks (StaleSchemaError: the
  // statement is run again once with fresh descriptions), after the endpoint's own CREATE
  // TABLE, and before each write group that holds rows written without reading them (RowWriter
  // checks the column count, so such a row never replaces a column it did not know of).
  Result<std::shared_ptr<const TableInfo>> Resolve(const SessionState& session,
                                                   const TableRef& ref);
  static constexpr int64_t kSchemaRecheckMs = 100;
  // Drops every cached description.
  void ForgetTables();
  // An ERROR that a stale cached description may have caused (an unknown column).
  static bool StaleSchemaError(const ErrorMessage& e);
  static bool StaleSchemaError(const Response& r);
  // The column count of `table` as the store describes it now (0 when it cannot be read).
  size_t CurrentColumnCount(const std::string& table);
  std::optional<ErrorMessage> DescribeOnce(SessionState* session, Statement* statement,
                                           int marker_count, PreparedResult* out);
  Result<Catalog> ReadCatalog();
  Response CreateKeyspace(const CreateKeyspaceStatement& s);
  Response CreateTable(const SessionState& session, const CreateTableStatement& s);
  // ALTER TABLE ... ADD: the store's EnsureTable with the columns added (RocksDB: old rows read
  // them as null); SCHEMA_CHANGE UPDATED TABLE.
  Response AlterTableAdd(const SessionState& session, const AlterTableAddStatement& s);
  Response Use(SessionState* session, const UseStatement& s);

  // --- SELECT (select_executor.cc) ---
  Response Select(const SessionState& session, const SelectStatement& s, const BoundValues& values,
                  const PageOptions& page);
  Response SelectSystem(const TableInfo& t, const SelectStatement& s, const BoundValues& values,
                        const PageOptions& page);
  Result<std::vector<size_t>> Projection(const TableInfo& t, const SelectStatement& s);

  // --- writes (write_executor.cc) ---
  using Request = std::shared_ptr<PendingRequest>;
  // A write statement resolved and checked (every value passed CheckValue), not yet applied.
  struct WritePlan {
    enum class Kind { kInsert, kUpdate, kDeleteColumns, kDeleteRow };
    Kind kind = Kind::kInsert;
    std::shared_ptr<const TableInfo> table;
    std::vector<std::string> keys;  // store key texts
    ColumnValues columns;           // INSERT: key included; UPDATE: SET; DELETE: the nulls
    bool if_not_exists = false, if_exists = false;
    bool whole_row = false;  // INSERT of every column
  };
  using Planned = std::variant<WritePlan, ErrorMessage>;
  Planned Plan(const SessionState& session, const InsertStatement& s, const BoundValues& values);
  Planned Plan(const SessionState& session, const UpdateStatement& s, const BoundValues& values);
  Planned Plan(const SessionState& session, const DeleteStatement& s, const BoundValues& values);
  Response Apply(const WritePlan& plan, const Request& request);
  // Plans every statement, then applies them in order (nothing is queued on an ERROR).
  Response Batch(const SessionState& session, const BatchStatementText& s,
                 const BoundValues& values, const Request& request);
  // Upserts `columns` of the row `key`, queued for `request`. With `if_not_exists` /
  // `if_exists`, writes only when the row is absent / present and returns the [applied] row;
  // otherwise Void. `whole_row`: `columns` holds every column of the table, so the row is
  // replaced without reading it.
  Response WriteRow(const TableInfo& t, const std::string& key, const ColumnValues& columns,
                    bool if_not_exists, bool if_exists, bool whole_row, const Request& request);

  Store* store_;
  const EngineOptions& options_;
  SystemInfo info_;
  std::mutex schema_mu_;                     // serialises CREATE KEYSPACE / CREATE TABLE
  std::vector<std::string> created_tables_;  // guarded by schema_mu_
  RowWriter writer_;
  struct CachedTable {
    std::shared_ptr<const TableInfo> info;
    int64_t checked_ms = 0;  // steady clock: when the store's description was last read
  };
  std::mutex tables_mu_;
  std::map<std::string, CachedTable, std::less<>> tables_;  // GUARDED_BY(tables_mu_)
};

// USING TTL and USING TIMESTAMP of a write (`statement`: "INSERT", ... on `table`; "BATCH" with
// no table) are refused at PREPARE and at execution, never accepted and ignored: rows never
// expire, and writes apply in the order they arrive (a row is one JSON document in the store:
// there are no per-cell timestamps to compare). write_executor.cc.
std::optional<ErrorMessage> CheckUsing(const WriteOptions& o, std::string_view statement,
                                       const std::string& table);

// --- Value helpers (statement_executor.cc) ---

// The value of `term` for a column of type `type` named `column`: a literal converted from its
// JSON form, or the bound value (by position, or by the marker's name or `column` when values
// are named). nullopt inside = null; `*unset` is set for an unset value (v4).
Result<std::optional<std::string>> TermValue(const Term& term, const DataType& type,
                                             const std::string& column, const BoundValues& values,
                                             bool* unset = nullptr);
// The store key text of a key value: text as is, uuid lower-case, numbers in decimal.
Result<std::string> KeyText(const DataType& type, const std::string& value);
// The value bytes of a store key text (the inverse of KeyText).
Result<std::optional<std::string>> KeyValue(const DataType& type, const std::string& key);

}  // namespace dataforge::cql
