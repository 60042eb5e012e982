// PREPARE's view of a statement: the column each bind marker binds to (bind_columns), which
// markers give the partition key (pk_indexes), and the columns a SELECT returns.
#include <algorithm>

#include "serve/cql/statement_executor.h"

namespace dataforge::cql {
namespace {

// Collects the spec of each marker by its index.
class MarkerSpecs {
 public:
  explicit MarkerSpecs(int count) : specs_(static_cast<size_t>(std::max(count, 0))) {}

  void Add(const Term& term, const ColumnSpec& spec, bool partition_key) {
    if (!term.is_marker() || term.marker < 0 || static_cast<size_t>(term.marker) >= specs_.size()) {
      return;
    }
    ColumnSpec s = spec;
    if (!term.name.empty()) s.name = term.name;  // :name markers bind by their own name
    specs_[static_cast<size_t>(term.marker)] = std::move(s);
    if (partition_key && pk_index_ < 0) pk_index_ = term.marker;
  }
  // A marker that is not a column value ([limit]).
  void AddSpecial(const std::optional<Term>& term, const TableInfo& t, std::string name,
                  TypeId type) {
    if (term) Add(*term, {t.keyspace, t.name, std::move(name), DataType::Of(type)}, false);
  }

  Status Finish(PreparedResult* out) const {
    for (size_t i = 0; i < specs_.size(); ++i) {
      if (!specs_[i]) {
        return Status::InvalidArgument("bind marker " + std::to_string(i) +
                                       " is in a place the embedded store cannot bind");
      }
      out->bind_columns.push_back(*specs_[i]);
    }
    if (pk_index_ >= 0) out->pk_indexes.push_back(static_cast<uint16_t>(pk_index_));
    return Status::OK();
  }

 private:
  std::vector<std::optional<ColumnSpec>> specs_;
  int pk_index_ = -1;
};

Status AddRelations(const TableInfo& t, const std::vector<Relation>& where, MarkerSpecs* m) {
  for (const Relation& r : where) {
    auto col = t.Find(r.column);
    if (!col) return Status::InvalidArgument("Undefined column name " + r.column);
    bool pk = !t.system && *col == t.key_index && !r.token && r.op == RelationOp::kEq;
    for (const Term& term : r.terms) m->Add(term, t.columns[*col], pk);
  }
  return Status::OK();
}

void FillKeyspace(const SessionState& session, TableRef* ref) {
  if (ref->keyspace.empty()) ref->keyspace = session.keyspace;
}

}  // namespace

std::optional<ErrorMessage> StatementExecutor::Describe(SessionState* session, Statement* statement,
                                                        int marker_count, PreparedResult* out) {
  PreparedResult fresh = *out;
  auto error = DescribeOnce(session, statement, marker_count, out);
  if (!error || !StaleSchemaError(*error)) return error;
  // A column the cached description lacks: once more with descriptions read again.
  ForgetTables();
  *out = std::move(fresh);
  return DescribeOnce(session, statement, marker_count, out);
}

std::optional<ErrorMessage> StatementExecutor::DescribeOnce(SessionState* session,
                                                            Statement* statement, int marker_count,
                                                            PreparedResult* out) {
  MarkerSpecs markers(marker_count);
  out->result_metadata = RowsMetadata{};
  out->result_metadata.no_metadata = true;

  auto write = [&](auto* s) -> Status {
    FillKeyspace(*session, &s->table);
    DF_ASSIGN_OR_RETURN(auto table_info, Resolve(*session, s->table));
    const TableInfo& t = *table_info;
    using T = std::decay_t<decltype(*s)>;
    const char* kind = std::is_same_v<T, InsertStatement>   ? "INSERT"
                       : std::is_same_v<T, UpdateStatement> ? "UPDATE"
                                                            : "DELETE";
    if (auto e = CheckUsing(s->using_, kind, t.full())) return Status::InvalidArgument(e->message);
    if constexpr (std::is_same_v<T, InsertStatement>) {
      for (size_t j = 0; j < s->columns.size() && j < s->values.size(); ++j) {
        auto col = t.Find(s->columns[j]);
        if (!col) return Status::InvalidArgument("Undefined column name " + s->columns[j]);
        markers.Add(s->values[j], t.columns[*col], *col == t.key_index);
      }
    } else if constexpr (std::is_same_v<T, UpdateStatement>) {
      for (const auto& [name, term] : s->assignments) {
        auto col = t.Find(name);
        if (!col) return Status::InvalidArgument("Undefined column name " + name);
        markers.Add(term, t.columns[*col], false);
      }
      DF_RETURN_IF_ERROR(AddRelations(t, s->where, &markers));
    } else {
      DF_RETURN_IF_ERROR(AddRelations(t, s->where, &markers));
    }
    return Status::OK();
  };

  Status st = std::visit(
      [&](auto& s) -> Status {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, SelectStatement>) {
          FillKeyspace(*session, &s.table);
          DF_ASSIGN_OR_RETURN(auto table_info, Resolve(*session, s.table));
          const TableInfo& t = *table_info;
          DF_ASSIGN_OR_RETURN(std::vector<size_t> proj, Projection(t, s));
          DF_RETURN_IF_ERROR(AddRelations(t, s.where, &markers));
          markers.AddSpecial(s.limit, t, "[limit]", TypeId::kInt);
          RowsMetadata& m = out->result_metadata;
          m.no_metadata = false;
          if (s.projection == SelectStatement::Projection::kCount) {
            m.columns.push_back({t.keyspace, t.name, s.count_alias, DataType::Of(TypeId::kBigint)});
          } else if (s.json) {
            m.columns.push_back({t.keyspace, t.name, "[json]", DataType::Of(TypeId::kVarchar)});
          } else {
            for (size_t i : proj) m.columns.push_back(t.columns[i]);
          }
          m.column_count = static_cast<int32_t>(m.columns.size());
          return Status::OK();
        } else if constexpr (std::is_same_v<T, InsertStatement> ||
                             std::is_same_v<T, UpdateStatement> ||
                             std::is_same_v<T, DeleteStatement>) {
          return write(&s);
        } else if constexpr (std::is_same_v<T, BatchStatementText>) {
          if (auto e = CheckUsing(s.using_, "BATCH", "")) {
            return Status::InvalidArgument(e->message);
          }
          for (WriteStatement& w : s.statements) {
            DF_RETURN_IF_ERROR(std::visit([&](auto& c) { return write(&c); }, w));
          }
          return Status::OK();
        } else if constexpr (std::is_same_v<T, CreateTableStatement> ||
                             std::is_same_v<T, AlterTableAddStatement>) {
          FillKeyspace(*session, &s.table);
          return Status::OK();
        } else if constexpr (std::is_same_v<T, UnsupportedStatement>) {
          return Status::InvalidArgument(UnsupportedError(s).message);
        } else {
          return Status::OK();
        }
      },
      *statement);
  if (!st.ok()) return ErrorFromStatus(st);
  st = markers.Finish(out);
  if (!st.ok()) return ErrorFromStatus(st);
  return std::nullopt;
}

}  // namespace dataforge::cql
