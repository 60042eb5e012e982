// Recursive-descent parser for the CQL subset of the endpoint (grammar in docs/cql.md):
// SELECT, INSERT, UPDATE, DELETE, BEGIN BATCH ... APPLY BATCH, CREATE KEYSPACE, CREATE TABLE,
// USE; DROP / TRUNCATE / ALTER / GRANT / ..., and forms of the served statements the endpoint
// does not serve (SET c = c + 1, SET m[k] = v, IF <condition>, ORDER BY, functions, ...), parse
// into UnsupportedStatement so the engine can say what it refuses.
//
// The parser checks syntax only: names are not resolved and values not typed here (the engine
// does that against the schema catalog). Every error is a syntax error, InvalidArgument with
// Cassandra's wording and position: "line 1:9 no viable alternative at input 'FORM'
// (expected FROM)". Pure functions and values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace dataforge::cql {

// A value in a statement: a literal, or a bind marker filled at execution.
struct Term {
  enum class Kind { kLiteral, kBindMarker };
  Kind kind = Kind::kLiteral;
  // Literal: the value as JSON text ("\"abc\"", "42", "1.5", "true", "null",
  // "[1,2]", "{\"k\":\"v\"}"); uuids and blobs ("0x..") as JSON strings.
  std::string json;
  std::string text;   // as written, for error messages
  int marker = -1;    // bind marker: its index among the statement's markers (0-based)
  std::string name;   // :name markers; empty for ?
  size_t offset = 0;  // byte offset in the statement text

  bool is_marker() const { return kind == Kind::kBindMarker; }
};

struct TableRef {
  std::string keyspace;  // empty: the session's keyspace
  std::string name;
};

enum class RelationOp { kEq, kIn, kLt, kLe, kGt, kGe };

// One WHERE condition: `column op term`, `column IN (terms)`, or with `token` set
// `token(column) op token(term)`.
struct Relation {
  std::string column;
  RelationOp op = RelationOp::kEq;
  bool token = false;
  std::vector<Term> terms;  // one, except for IN
};

struct SelectStatement {
  enum class Projection { kStar, kColumns, kCount };
  TableRef table;
  Projection projection = Projection::kStar;
  std::vector<std::string> columns;  // kColumns
  std::string count_alias;           // kCount: "count" unless AS names another
  bool json = false;                 // SELECT JSON
  std::vector<Relation> where;
  std::optional<Term> limit;
  bool allow_filtering = false;
};

// USING TIMESTAMP / TTL of a write.
struct WriteOptions {
  std::optional<Term> timestamp;
  std::optional<Term> ttl;
};

struct InsertStatement {
  TableRef table;
  std::vector<std::string> columns;
  std::vector<Term> values;  // one per column
  bool if_not_exists = false;
  WriteOptions using_;
};

struct UpdateStatement {
  TableRef table;
  std::vector<std::pair<std::string, Term>> assignments;
  std::vector<Relation> where;
  bool if_exists = false;
  WriteOptions using_;
};

struct DeleteStatement {
  TableRef table;
  std::vector<std::string> columns;  // empty: the whole row
  std::vector<Relation> where;
  bool if_exists = false;
  WriteOptions using_;
};

using WriteStatement = std::variant<InsertStatement, UpdateStatement, DeleteStatement>;

struct BatchStatementText {  // BEGIN [UNLOGGED|LOGGED] BATCH ... APPLY BATCH
  std::vector<WriteStatement> statements;
  WriteOptions using_;
};

struct CreateKeyspaceStatement {
  std::string name;
  bool if_not_exists = false;
  std::vector<std::pair<std::string, std::string>> replication;  // as written, in order
  bool durable_writes = true;
};

struct ColumnDefinition {
  std::string name;
  std::string type;  // as written, lower-case ("map<text, int>")
};

struct CreateTableStatement {
  TableRef table;
  bool if_not_exists = false;
  std::vector<ColumnDefinition> columns;
  std::vector<std::string> partition_key;  // PRIMARY KEY ((a, b), ...) or c ... PRIMARY KEY
  std::vector<std::string> clustering;     // PRIMARY KEY (a, c, d): c, d
  std::string primary_key_text;            // "PRIMARY KEY (a, c)" as written, for errors
  std::optional<std::string> default_time_to_live;  // WITH default_time_to_live = N, as written
};

// ALTER TABLE [IF EXISTS] t ADD [IF NOT EXISTS] c type, or ADD (c type, d type, ...). The other
// forms of ALTER (DROP, RENAME, WITH, ALTER c TYPE) parse as UnsupportedStatement.
struct AlterTableAddStatement {
  TableRef table;
  bool if_exists = false;
  bool if_not_exists = false;
  std::vector<ColumnDefinition> columns;
};

struct UseStatement {
  std::string keyspace;
};

// A statement, or a form of one, that the endpoint does not support: `what` names it ("DROP
// TABLE", "UPDATE ... SET c = c +/- ..."); `hint`, when set, says what to do instead.
struct UnsupportedStatement {
  std::string what;
  std::string hint;
};

using Statement = std::variant<SelectStatement, InsertStatement, UpdateStatement, DeleteStatement,
                               BatchStatementText, CreateKeyspaceStatement, CreateTableStatement,
                               AlterTableAddStatement, UseStatement, UnsupportedStatement>;

struct ParsedStatement {
  Statement statement;
  int marker_count = 0;  // bind markers, in order of appearance
};

// Parses one statement (an optional trailing ';' is allowed).
Result<ParsedStatement> ParseStatement(std::string_view text);

}  // namespace dataforge::cql
