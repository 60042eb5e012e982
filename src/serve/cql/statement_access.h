// Private to serve/cql: what a parsed statement needs from CqlAccessControl (the table in
// cql_access.h), and how a write is named in the audit log. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cql/messages.h"
#include "serve/cql/cql_access.h"
#include "serve/cql/cql_parser.h"

namespace dataforge::cql {

// One permission on one table (or, with `table` empty, on a whole keyspace).
struct AccessNeed {
  CqlPermission permission;
  std::string keyspace;
  std::string table;
  bool operator==(const AccessNeed&) const = default;
};

// Appends what `statement` needs to `needs` (no duplicates), its tables without a keyspace
// taken from `session_keyspace`. Nothing for USE, for unsupported statements, for SELECTs of a
// system keyspace, and for a table with no keyspace at all (the executor refuses it).
void AddNeededAccess(const Statement& statement, const std::string& session_keyspace,
                     std::vector<AccessNeed>* needs);

// The first need `user` lacks as an Unauthorized ERROR (0x2100), or nullopt when all are held.
std::optional<ErrorMessage> CheckAccess(CqlAccessControl& access, const CqlUser& user,
                                        const std::vector<AccessNeed>& needs);

// The audit log's name of a statement that writes: "CQL INSERT INTO ks.t", "CQL UPDATE ks.t",
// "CQL DELETE FROM ks.t", "CQL CREATE TABLE ks.t", "CQL CREATE KEYSPACE ks", "CQL BATCH ks.a,
// ks.b" (its tables, once each, in order). "" for statements that do not write.
std::string AuditAction(const Statement& statement, const std::string& session_keyspace);
// A BATCH message's statements.
std::string BatchAuditAction(const std::vector<const Statement*>& statements,
                             const std::string& session_keyspace);

}  // namespace dataforge::cql
