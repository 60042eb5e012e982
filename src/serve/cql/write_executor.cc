// INSERT, UPDATE, DELETE and BEGIN BATCH over user tables: read-modify-write of the row's JSON
// under the key's stripe lock, queued in the RowWriter's group commit (one Store::Apply per
// group, not counted in the store counters).
#include <simdjson.h>

#include <algorithm>

#include "common/json_writer.h"
#include "serve/cql/statement_executor.h"

namespace dataforge::cql {
namespace {

ErrorMessage NotModifiable(const TableInfo& t) {
  return CqlError(ErrorCode::kUnauthorized, t.keyspace + " keyspace is not user-modifiable");
}

// The keys of `where`, which must be exactly `key = v` or `key IN (...)`.
Result<std::vector<std::string>> WhereKeys(const TableInfo& t, const std::vector<Relation>& where,
                                           const BoundValues& values) {
  const ColumnSpec& key = t.columns[t.key_index];
  const Relation* rel = nullptr;
  for (const Relation& r : where) {
    auto col = t.Find(r.column);
    if (!col) return Status::InvalidArgument("Undefined column name " + r.column);
    if (*col != t.key_index) {
      return Status::InvalidArgument("Non PRIMARY KEY columns found in where clause: " + r.column);
    }
    if (r.token || (r.op != RelationOp::kEq && r.op != RelationOp::kIn) || rel != nullptr) {
      return Status::InvalidArgument("a write must name its rows by " + key.name + " = ? or " +
                                     key.name + " IN (...)");
    }
    rel = &r;
  }
  if (rel == nullptr) {
    return Status::InvalidArgument("Some partition key parts are missing: " + key.name);
  }
  std::vector<std::string> keys;
  for (const Term& term : rel->terms) {
    DF_ASSIGN_OR_RETURN(auto v, TermValue(term, key.type, key.name, values));
    if (!v) {
      return Status::InvalidArgument("Invalid null value in condition for column " + key.name);
    }
    DF_ASSIGN_OR_RETURN(std::string k, KeyText(key.type, *v));
    keys.push_back(std::move(k));
  }
  return keys;
}

ResultMessage Applied(const TableInfo& t, bool applied, const std::vector<ColumnSpec>& extra,
                      std::vector<std::optional<std::string>> extra_values) {
  ResultMessage r;
  r.kind = ResultKind::kRows;
  r.rows.metadata.columns.push_back(
      {t.keyspace, t.name, "[applied]", DataType::Of(TypeId::kBoolean)});
  for (const ColumnSpec& c : extra) r.rows.metadata.columns.push_back(c);
  r.rows.metadata.column_count = static_cast<int32_t>(r.rows.metadata.columns.size());
  std::vector<std::optional<std::string>> row{EncodeBoolean(applied)};
  for (auto& v : extra_values) row.push_back(std::move(v));
  r.rows.rows.push_back(std::move(row));
  return r;
}

}  // namespace

std::optional<ErrorMessage> CheckUsing(const WriteOptions& o, std::string_view statement,
                                       const std::string& table) {
  if (!o.ttl && !o.timestamp) return std::nullopt;
  const std::string where = std::string(statement) + (table.empty() ? "" : " on " + table);
  if (o.ttl) {
    return CqlError(ErrorCode::kInvalid,
                    "USING TTL is not supported by the DataForge CQL endpoint: remove it from "
                    "the " +
                        where + " (rows never expire)");
  }
  if (o.timestamp) {
    return CqlError(ErrorCode::kInvalid,
                    "USING TIMESTAMP is not supported by the DataForge CQL endpoint: remove it "
                    "from the " +
                        where + " (writes apply in the order they arrive; the last one wins)");
  }
  return std::nullopt;
}

Response StatementExecutor::WriteRow(const TableInfo& t, const std::string& key,
                                     const ColumnValues& columns, bool if_not_exists,
                                     bool if_exists, bool whole_row, const Request& request) {
  const std::string& table = t.full();
  std::lock_guard lock(writer_.KeyLock(table, key));
  // An unconditional write of every column needs nothing of the row that is there.
  bool read = if_not_exists || if_exists || !whole_row;
  Result<std::string> existing = Status::NotFound("not read");
  if (read) existing = writer_.Read(table, key);
  bool exists = existing.ok();
  if (!exists && existing.status().code() != StatusCode::kNotFound) {
    return ErrorFromStatus(existing.status());
  }
  if (if_not_exists && exists) {
    // Like Cassandra: [applied] = false and the row that is there.
    std::vector<std::optional<std::string>> values(t.columns.size());
    simdjson::dom::parser parser;
    simdjson::dom::object o;
    if (parser.parse(*existing).get(o) == simdjson::SUCCESS) {
      for (auto field : o) {
        auto i = t.Find(std::string(field.key));
        if (!i || *i == t.key_index) continue;
        auto v = JsonToValue(t.columns[*i].type, simdjson::minify(field.value));
        if (v.ok()) values[*i] = std::move(v).value();
      }
    }
    CQL_ASSIGN_OR_RETURN(values[t.key_index], KeyValue(t.columns[t.key_index].type, key));
    return Applied(t, false, t.columns, std::move(values));
  }
  if (if_exists && !exists) return Applied(t, false, {}, {});

  // The new values as JSON, back to back in one buffer (value j ends at ends[j]); an
  // overwritten column keeps its place in the row.
  std::string values;
  std::vector<size_t> ends(columns.size());
  for (size_t j = 0; j < columns.size(); ++j) {
    const auto& [i, value] = columns[j];
    Status st = AppendValueAsJson(t.columns[i].type, value, &values);
    if (!st.ok()) {
      return CqlError(ErrorCode::kInvalid, "Invalid value for column " + t.columns[i].name +
                                               " of type " + TypeName(t.columns[i].type) + ": " +
                                               st.message());
    }
    ends[j] = values.size();
  }
  auto json = [&](size_t j) {
    const size_t begin = j == 0 ? 0 : ends[j - 1];
    return std::string_view(values).substr(begin, ends[j] - begin);
  };
  std::vector<bool> written(columns.size(), false);
  JsonObjectWriter w;
  // The values, ~16 bytes of name and punctuation per column, and the stored row's members.
  w.Reserve(values.size() + 16 * columns.size() + (exists ? existing->size() : 0));
  if (exists) {
    simdjson::dom::parser parser;
    simdjson::dom::object o;
    if (parser.parse(*existing).get(o) != simdjson::SUCCESS) {
      return CqlError(ErrorCode::kServerError,
                      "table " + table + " row '" + key + "' is not a JSON object");
    }
    for (auto field : o) {
      std::string_view name = field.key;
      auto j = std::find_if(columns.begin(), columns.end(),
                            [&](const auto& c) { return t.columns[c.first].name == name; });
      if (j == columns.end()) {
        w.Raw(name, simdjson::minify(field.value));
      } else {
        size_t n = static_cast<size_t>(j - columns.begin());
        w.Raw(name, json(n));
        written[n] = true;
      }
    }
  }
  for (size_t j = 0; j < columns.size(); ++j) {
    if (!written[j]) w.RawQuotedKey(t.json_names[columns[j].first], json(j));
  }
  writer_.Queue(table, key, w.Finish(), false, request, read ? 0 : t.columns.size());
  if (if_not_exists || if_exists) return Applied(t, true, {}, {});
  return ResultMessage{};
}

StatementExecutor::Planned StatementExecutor::Plan(const SessionState& session,
                                                   const InsertStatement& s,
                                                   const BoundValues& values) {
  WritePlan plan;
  plan.kind = WritePlan::Kind::kInsert;
  CQL_ASSIGN_OR_RETURN(plan.table, Resolve(session, s.table));
  const TableInfo& t = *plan.table;
  if (t.system) return NotModifiable(t);
  if (auto e = CheckUsing(s.using_, "INSERT", t.full())) return *e;
  if (s.columns.size() != s.values.size()) {
    return CqlError(ErrorCode::kInvalid, "Unmatched column names/values");
  }
  std::optional<std::string> key;
  plan.columns.reserve(s.columns.size());
  for (size_t j = 0; j < s.columns.size(); ++j) {
    auto i = t.Find(s.columns[j], j);
    if (!i) return CqlError(ErrorCode::kInvalid, "Undefined column name " + s.columns[j]);
    if (std::any_of(plan.columns.begin(), plan.columns.end(),
                    [&](const auto& c) { return c.first == *i; })) {
      return CqlError(ErrorCode::kInvalid, "The column names contains duplicates");
    }
    bool unset = false;
    CQL_ASSIGN_OR_RETURN(auto v,
                         TermValue(s.values[j], t.columns[*i].type, s.columns[j], values, &unset));
    if (*i == t.key_index) {
      if (unset || !v) {
        return CqlError(ErrorCode::kInvalid,
                        "Invalid null value in condition for column " + s.columns[j]);
      }
      CQL_ASSIGN_OR_RETURN(key, KeyText(t.columns[*i].type, *v));
    }
    if (!unset) plan.columns.emplace_back(*i, std::move(v));
  }
  if (!key) {
    return CqlError(ErrorCode::kInvalid,
                    "Some partition key parts are missing: " + t.columns[t.key_index].name);
  }
  plan.keys.push_back(std::move(*key));
  plan.if_not_exists = s.if_not_exists;
  // Every column given (none unset): the row is replaced, as a Cassandra INSERT of every column
  // overwrites each of them.
  plan.whole_row = plan.columns.size() == t.columns.size();
  return plan;
}

StatementExecutor::Planned StatementExecutor::Plan(const SessionState& session,
                                                   const UpdateStatement& s,
                                                   const BoundValues& values) {
  WritePlan plan;
  plan.kind = WritePlan::Kind::kUpdate;
  CQL_ASSIGN_OR_RETURN(plan.table, Resolve(session, s.table));
  const TableInfo& t = *plan.table;
  if (t.system) return NotModifiable(t);
  if (auto e = CheckUsing(s.using_, "UPDATE", t.full())) return *e;
  for (const auto& [name, term] : s.assignments) {
    auto i = t.Find(name);
    if (!i) return CqlError(ErrorCode::kInvalid, "Undefined column name " + name);
    if (*i == t.key_index) {
      return CqlError(ErrorCode::kInvalid, "PRIMARY KEY part " + name + " found in SET part");
    }
    bool unset = false;
    CQL_ASSIGN_OR_RETURN(auto v, TermValue(term, t.columns[*i].type, name, values, &unset));
    if (!unset) plan.columns.emplace_back(*i, std::move(v));
  }
  CQL_ASSIGN_OR_RETURN(plan.keys, WhereKeys(t, s.where, values));
  if (s.if_exists && plan.keys.size() > 1) {
    return CqlError(ErrorCode::kInvalid,
                    "IN on the partition key is not supported with "
                    "conditional updates (IF EXISTS)");
  }
  plan.if_exists = s.if_exists;
  return plan;
}

StatementExecutor::Planned StatementExecutor::Plan(const SessionState& session,
                                                   const DeleteStatement& s,
                                                   const BoundValues& values) {
  WritePlan plan;
  plan.kind = s.columns.empty() ? WritePlan::Kind::kDeleteRow : WritePlan::Kind::kDeleteColumns;
  CQL_ASSIGN_OR_RETURN(plan.table, Resolve(session, s.table));
  const TableInfo& t = *plan.table;
  if (t.system) return NotModifiable(t);
  if (auto e = CheckUsing(s.using_, "DELETE", t.full())) return *e;
  for (const std::string& name : s.columns) {
    auto i = t.Find(name);
    if (!i) return CqlError(ErrorCode::kInvalid, "Undefined column name " + name);
    if (*i == t.key_index) {
      return CqlError(ErrorCode::kInvalid, "Invalid identifier " + name +
                                               " for deletion (should not be a PRIMARY KEY part)");
    }
    plan.columns.emplace_back(*i, std::nullopt);
  }
  CQL_ASSIGN_OR_RETURN(plan.keys, WhereKeys(t, s.where, values));
  if (s.if_exists && plan.keys.size() > 1) {
    return CqlError(ErrorCode::kInvalid,
                    "IN on the partition key is not supported with "
                    "conditional deletions (IF EXISTS)");
  }
  plan.if_exists = s.if_exists;
  return plan;
}

Response StatementExecutor::Apply(const WritePlan& plan, const Request& request) {
  const TableInfo& t = *plan.table;
  switch (plan.kind) {
    case WritePlan::Kind::kInsert:
      return WriteRow(t, plan.keys[0], plan.columns, plan.if_not_exists, false, plan.whole_row,
                      request);
    case WritePlan::Kind::kUpdate: {
      Response last = ResultMessage{};
      for (const std::string& key : plan.keys) {
        // The key first, as in the rows an INSERT or the pipeline writes.
        ColumnValues row;
        CQL_ASSIGN_OR_RETURN(auto key_value, KeyValue(t.columns[t.key_index].type, key));
        row.emplace_back(t.key_index, std::move(key_value));
        row.insert(row.end(), plan.columns.begin(), plan.columns.end());
        last = WriteRow(t, key, row, false, plan.if_exists, false, request);
        if (std::holds_alternative<ErrorMessage>(last)) return last;
      }
      return last;
    }
    case WritePlan::Kind::kDeleteColumns:
      for (const std::string& key : plan.keys) {
        // Deleting columns of a row that is not there changes nothing.
        Response r = WriteRow(t, key, plan.columns, false, true, false, request);
        if (std::holds_alternative<ErrorMessage>(r) || plan.if_exists) return r;
      }
      return ResultMessage{};
    case WritePlan::Kind::kDeleteRow:
      for (const std::string& key : plan.keys) {
        const std::string table = t.full();
        std::lock_guard lock(writer_.KeyLock(table, key));
        if (plan.if_exists) {
          auto existing = writer_.Read(table, key);
          if (existing.status().code() == StatusCode::kNotFound) return Applied(t, false, {}, {});
          if (!existing.ok()) return ErrorFromStatus(existing.status());
        }
        writer_.Queue(table, key, "", true, request);
        if (plan.if_exists) return Applied(t, true, {}, {});
      }
      return ResultMessage{};
  }
  return CqlError(ErrorCode::kServerError, "unknown write kind");
}

namespace {

bool Conditional(const WriteStatement& w) {
  return std::visit(
      [](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, InsertStatement>)
          return c.if_not_exists;
        else
          return c.if_exists;
      },
      w);
}

}  // namespace

Response StatementExecutor::Batch(const SessionState& session, const BatchStatementText& s,
                                  const BoundValues& values, const Request& request) {
  if (auto e = CheckUsing(s.using_, "BATCH", "")) return *e;
  for (const WriteStatement& w : s.statements) {
    if (Conditional(w)) {
      return CqlError(ErrorCode::kInvalid,
                      "conditional statements (IF ...) in a BATCH are not "
                      "supported by the embedded store");
    }
  }
  // Every statement checked before any is applied.
  std::vector<WritePlan> plans;
  for (const WriteStatement& w : s.statements) {
    Planned p = std::visit([&](const auto& c) { return Plan(session, c, values); }, w);
    if (auto* e = std::get_if<ErrorMessage>(&p)) return *e;
    plans.push_back(std::move(std::get<WritePlan>(p)));
  }
  for (const WritePlan& plan : plans) {
    Response r = Apply(plan, request);
    if (std::holds_alternative<ErrorMessage>(r)) return r;
  }
  return ResultMessage{};
}

Response StatementExecutor::ExecuteBatch(SessionState* session,
                                         const std::vector<BatchEntry>& statements,
                                         const Request& request) {
  std::vector<WritePlan> plans;
  for (size_t i = 0; i < statements.size(); ++i) {
    const BatchEntry& b = statements[i];
    const size_t given = b.values.values == nullptr ? 0 : b.values.values->size();
    if (static_cast<size_t>(b.marker_count) != given) {
      return CqlError(ErrorCode::kInvalid, "statement " + std::to_string(i) + " of the BATCH has " +
                                               std::to_string(b.marker_count) + " markers(?) but " +
                                               std::to_string(given) + " bound variables");
    }
    Planned p = std::visit(
        [&](const auto& c) -> Planned {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, InsertStatement> || std::is_same_v<T, UpdateStatement> ||
                        std::is_same_v<T, DeleteStatement>) {
            return Plan(*session, c, b.values);
          } else {
            return CqlError(ErrorCode::kInvalid,
                            "Invalid statement in batch: only UPDATE, INSERT "
                            "and DELETE statements are allowed.");
          }
        },
        *b.statement);
    if (auto* e = std::get_if<ErrorMessage>(&p)) return *e;
    plans.push_back(std::move(std::get<WritePlan>(p)));
  }
  for (const WritePlan& plan : plans) {
    Response r = Apply(plan, request);
    if (std::holds_alternative<ErrorMessage>(r)) return r;
  }
  return ResultMessage{};
}

}  // namespace dataforge::cql
