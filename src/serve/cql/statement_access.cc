#include "serve/cql/statement_access.h"

#include <algorithm>

#include "serve/cql/system_tables.h"

namespace dataforge::cql {
namespace {

std::string KeyspaceOf(const TableRef& ref, const std::string& session_keyspace) {
  return ref.keyspace.empty() ? session_keyspace : ref.keyspace;
}

void Add(CqlPermission permission, std::string keyspace, std::string table,
         std::vector<AccessNeed>* needs) {
  if (keyspace.empty()) return;  // "No keyspace has been specified": the executor says so
  AccessNeed need{permission, std::move(keyspace), std::move(table)};
  if (std::find(needs->begin(), needs->end(), need) == needs->end()) {
    needs->push_back(std::move(need));
  }
}

void AddTable(CqlPermission permission, const TableRef& ref, const std::string& session_keyspace,
              std::vector<AccessNeed>* needs) {
  Add(permission, KeyspaceOf(ref, session_keyspace), ref.name, needs);
}

const TableRef* WrittenTable(const Statement& s) {
  if (const auto* i = std::get_if<InsertStatement>(&s)) return &i->table;
  if (const auto* u = std::get_if<UpdateStatement>(&s)) return &u->table;
  if (const auto* d = std::get_if<DeleteStatement>(&s)) return &d->table;
  return nullptr;
}

const TableRef* WrittenTable(const WriteStatement& s) {
  return std::visit([](const auto& w) -> const TableRef* { return &w.table; }, s);
}

std::string FullName(const TableRef& ref, const std::string& session_keyspace) {
  std::string keyspace = KeyspaceOf(ref, session_keyspace);
  return keyspace.empty() ? ref.name : keyspace + "." + ref.name;
}

void AddUnique(std::string name, std::vector<std::string>* names) {
  if (std::find(names->begin(), names->end(), name) == names->end()) {
    names->push_back(std::move(name));
  }
}

std::string BatchText(const std::vector<std::string>& tables) {
  std::string out = "CQL BATCH";
  for (size_t i = 0; i < tables.size(); ++i) out += (i == 0 ? " " : ", ") + tables[i];
  return out;
}

}  // namespace

void AddNeededAccess(const Statement& statement, const std::string& session_keyspace,
                     std::vector<AccessNeed>* needs) {
  if (const auto* s = std::get_if<SelectStatement>(&statement)) {
    // Drivers read the system tables on connect: every authenticated user may.
    if (IsSystemKeyspace(KeyspaceOf(s->table, session_keyspace))) return;
    AddTable(CqlPermission::kSelect, s->table, session_keyspace, needs);
  } else if (const TableRef* t = WrittenTable(statement)) {
    AddTable(CqlPermission::kModify, *t, session_keyspace, needs);
  } else if (const auto* b = std::get_if<BatchStatementText>(&statement)) {
    for (const WriteStatement& w : b->statements) {
      AddTable(CqlPermission::kModify, *WrittenTable(w), session_keyspace, needs);
    }
  } else if (const auto* ct = std::get_if<CreateTableStatement>(&statement)) {
    AddTable(CqlPermission::kCreate, ct->table, session_keyspace, needs);
  } else if (const auto* ck = std::get_if<CreateKeyspaceStatement>(&statement)) {
    Add(CqlPermission::kCreate, ck->name, "", needs);
  } else if (const auto* at = std::get_if<AlterTableAddStatement>(&statement)) {
    AddTable(CqlPermission::kAlter, at->table, session_keyspace, needs);
  }
  // USE and unsupported statements need nothing: USE reads no data, and the executor refuses
  // the others whoever asks.
}

std::optional<ErrorMessage> CheckAccess(CqlAccessControl& access, const CqlUser& user,
                                        const std::vector<AccessNeed>& needs) {
  for (const AccessNeed& n : needs) {
    if (!access.Allows(user, n.permission, n.keyspace, n.table)) {
      ErrorMessage e;
      e.code = static_cast<int32_t>(ErrorCode::kUnauthorized);
      e.message = UnauthorizedMessage(user.name, n.permission, n.keyspace, n.table);
      return e;
    }
  }
  return std::nullopt;
}

std::string AuditAction(const Statement& statement, const std::string& session_keyspace) {
  if (const auto* i = std::get_if<InsertStatement>(&statement)) {
    return "CQL INSERT INTO " + FullName(i->table, session_keyspace);
  }
  if (const auto* u = std::get_if<UpdateStatement>(&statement)) {
    return "CQL UPDATE " + FullName(u->table, session_keyspace);
  }
  if (const auto* d = std::get_if<DeleteStatement>(&statement)) {
    return "CQL DELETE FROM " + FullName(d->table, session_keyspace);
  }
  if (const auto* b = std::get_if<BatchStatementText>(&statement)) {
    std::vector<std::string> tables;
    for (const WriteStatement& w : b->statements) {
      AddUnique(FullName(*WrittenTable(w), session_keyspace), &tables);
    }
    return BatchText(tables);
  }
  if (const auto* ct = std::get_if<CreateTableStatement>(&statement)) {
    return "CQL CREATE TABLE " + FullName(ct->table, session_keyspace);
  }
  if (const auto* ck = std::get_if<CreateKeyspaceStatement>(&statement)) {
    return "CQL CREATE KEYSPACE " + ck->name;
  }
  if (const auto* at = std::get_if<AlterTableAddStatement>(&statement)) {
    return "CQL ALTER TABLE " + FullName(at->table, session_keyspace);
  }
  return "";
}

std::string BatchAuditAction(const std::vector<const Statement*>& statements,
                             const std::string& session_keyspace) {
  std::vector<std::string> tables;
  for (const Statement* s : statements) {
    if (const TableRef* t = WrittenTable(*s)) AddUnique(FullName(*t, session_keyspace), &tables);
  }
  return BatchText(tables);
}

}  // namespace dataforge::cql
