// SELECT over user tables (by key, key IN, token range, full scan with paging) and over the
// system tables.
#include <simdjson.h>

#include <algorithm>
#include <limits>

#include "common/json_writer.h"
#include "cql/json_element.h"
#include "serve/cql/statement_executor.h"

namespace dataforge::cql {
namespace {

using Cells = std::vector<std::optional<std::string>>;

constexpr char kPagingStateVersion = 1;

// Paging state: version byte, rows returned so far (8 bytes, big-endian), last key returned.
std::string EncodePagingState(uint64_t returned, const std::string& last_key) {
  std::string out(1, kPagingStateVersion);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((returned >> (8 * i)) & 0xff));
  return out + last_key;
}

Status DecodePagingState(const std::string& state, uint64_t* returned, std::string* last_key) {
  if (state.size() < 9 || state[0] != kPagingStateVersion) {
    return Status::InvalidArgument("Invalid paging state (" + std::to_string(state.size()) +
                                   " bytes): it was not returned by this server's SELECT; "
                                   "start the query again without a paging state");
  }
  *returned = 0;
  for (int i = 1; i <= 8; ++i) *returned = (*returned << 8) | static_cast<uint8_t>(state[i]);
  *last_key = state.substr(9);
  return Status::OK();
}

// All columns of one stored row, in t.columns order; absent columns are null.
Status DecodeRow(const TableInfo& t, const std::string& key, const std::string& json, Cells* out) {
  out->assign(t.columns.size(), std::nullopt);
  static thread_local simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(json).get(o) != simdjson::SUCCESS) {
    return Status::Corruption("table " + t.full() + " row '" + key + "' is not a JSON object");
  }
  for (auto field : o) {
    std::string_view name = field.key;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      if (i == t.key_index || t.columns[i].name != name) continue;
      auto v = JsonElementToValue(t.columns[i].type, field.value);  // no text round trip
      if (!v.ok()) {
        return Status::Internal("table " + t.full() + " row '" + key + "' column " +
                                t.columns[i].name + ": " + v.status().message());
      }
      (*out)[i] = std::move(v).value();
    }
  }
  DF_ASSIGN_OR_RETURN((*out)[t.key_index], KeyValue(t.columns[t.key_index].type, key));
  return Status::OK();
}

RowsMetadata Metadata(std::vector<ColumnSpec> columns, bool skip) {
  RowsMetadata m;
  m.column_count = static_cast<int32_t>(columns.size());
  m.no_metadata = skip;
  if (!skip) m.columns = std::move(columns);
  return m;
}

// One row for SELECT JSON: {"col": value, ...} as a text cell.
Result<Cells> JsonRow(const std::vector<ColumnSpec>& columns, const std::vector<size_t>& proj,
                      const Cells& cells) {
  std::string json = "{";
  for (size_t j = 0; j < proj.size(); ++j) {
    if (j > 0) json += ", ";
    AppendJsonString(&json, columns[proj[j]].name);
    json += ": ";
    DF_RETURN_IF_ERROR(AppendValueAsJson(columns[proj[j]].type, cells[proj[j]], &json));
  }
  json += "}";
  return Cells{EncodeText(json)};
}

}  // namespace

Result<std::vector<size_t>> StatementExecutor::Projection(const TableInfo& t,
                                                          const SelectStatement& s) {
  std::vector<size_t> out;
  if (s.projection == SelectStatement::Projection::kStar) {
    for (size_t i = 0; i < t.columns.size(); ++i) out.push_back(i);
  } else {
    for (const std::string& c : s.columns) {
      auto i = t.Find(c);
      if (!i) return Status::InvalidArgument("Undefined column name " + c);
      out.push_back(*i);
    }
  }
  return out;
}

namespace {

// What a SELECT's rows look like: projected columns, COUNT, or JSON.
struct Shape {
  std::vector<size_t> proj;
  std::vector<ColumnSpec> specs;
};

Shape MakeShape(const TableInfo& t, const SelectStatement& s, std::vector<size_t> proj) {
  Shape shape;
  shape.proj = std::move(proj);
  if (s.projection == SelectStatement::Projection::kCount) {
    shape.specs.push_back({t.keyspace, t.name, s.count_alias, DataType::Of(TypeId::kBigint)});
  } else if (s.json) {
    shape.specs.push_back({t.keyspace, t.name, "[json]", DataType::Of(TypeId::kVarchar)});
  } else {
    for (size_t i : shape.proj) shape.specs.push_back(t.columns[i]);
  }
  return shape;
}

Result<Cells> Project(const TableInfo& t, const SelectStatement& s, const Shape& shape,
                      const Cells& cells) {
  if (s.json) return JsonRow(t.columns, shape.proj, cells);
  Cells out;
  for (size_t i : shape.proj) out.push_back(cells[i]);
  return out;
}

// A column = value (or IN values) condition, values already encoded.
struct Filter {
  size_t column;
  std::vector<std::optional<std::string>> values;
  bool Matches(const Cells& cells) const {
    return std::find(values.begin(), values.end(), cells[column]) != values.end();
  }
};

Result<Filter> MakeFilter(const TableInfo& t, size_t column, const Relation& r,
                          const BoundValues& values) {
  Filter f{column, {}};
  for (const Term& term : r.terms) {
    DF_ASSIGN_OR_RETURN(auto v, TermValue(term, t.columns[column].type, r.column, values));
    f.values.push_back(std::move(v));
  }
  return f;
}

Result<uint64_t> LimitValue(const SelectStatement& s, const BoundValues& values) {
  if (!s.limit) return uint64_t{0};
  DF_ASSIGN_OR_RETURN(auto v, TermValue(*s.limit, DataType::Of(TypeId::kInt), "[limit]", values));
  if (!v) return Status::InvalidArgument("Invalid null value of limit");
  DF_ASSIGN_OR_RETURN(int32_t n, DecodeInt(*v));
  if (n <= 0) return Status::InvalidArgument("LIMIT must be strictly positive");
  return static_cast<uint64_t>(n);
}

ResultMessage Rows(RowsMetadata metadata, std::vector<Cells> rows) {
  ResultMessage r;
  r.kind = ResultKind::kRows;
  r.rows.metadata = std::move(metadata);
  r.rows.rows = std::move(rows);
  return r;
}

}  // namespace

Response StatementExecutor::SelectSystem(const TableInfo& t, const SelectStatement& s,
                                         const BoundValues& values, const PageOptions& page) {
  CQL_ASSIGN_OR_RETURN(Catalog catalog, ReadCatalog());
  CQL_ASSIGN_OR_RETURN(VirtualTable vt, ReadSystemTable(info_, catalog, t.keyspace, t.name));
  CQL_ASSIGN_OR_RETURN(std::vector<size_t> proj, Projection(t, s));
  CQL_ASSIGN_OR_RETURN(uint64_t limit, LimitValue(s, values));
  std::vector<Filter> filters;
  for (const Relation& r : s.where) {
    auto col = t.Find(r.column);
    if (!col) return CqlError(ErrorCode::kInvalid, "Undefined column name " + r.column);
    if (r.token || (r.op != RelationOp::kEq && r.op != RelationOp::kIn)) {
      return CqlError(ErrorCode::kInvalid, "only = and IN conditions are supported on " + t.full() +
                                               " (column " + r.column + ")");
    }
    CQL_ASSIGN_OR_RETURN(Filter f, MakeFilter(t, *col, r, values));
    filters.push_back(std::move(f));
  }
  Shape shape = MakeShape(t, s, std::move(proj));
  std::vector<Cells> rows;
  int64_t count = 0;
  for (const Cells& cells : vt.rows) {
    if (!std::all_of(filters.begin(), filters.end(),
                     [&](const Filter& f) { return f.Matches(cells); })) {
      continue;
    }
    ++count;
    if (s.projection == SelectStatement::Projection::kCount) continue;
    if (limit > 0 && rows.size() >= limit) break;
    CQL_ASSIGN_OR_RETURN(Cells out, Project(t, s, shape, cells));
    rows.push_back(std::move(out));
  }
  if (s.projection == SelectStatement::Projection::kCount) rows.push_back({EncodeBigint(count)});
  return Rows(Metadata(shape.specs, page.skip_metadata), std::move(rows));
}

Response StatementExecutor::Select(const SessionState& session, const SelectStatement& s,
                                   const BoundValues& values, const PageOptions& page) {
  CQL_ASSIGN_OR_RETURN(auto table_info, Resolve(session, s.table));
  const TableInfo& t = *table_info;
  if (t.system) return SelectSystem(t, s, values, page);
  CQL_ASSIGN_OR_RETURN(std::vector<size_t> proj, Projection(t, s));
  CQL_ASSIGN_OR_RETURN(uint64_t limit, LimitValue(s, values));
  const DataType& key_type = t.columns[t.key_index].type;
  const std::string& key_name = t.columns[t.key_index].name;

  // Classify the WHERE clause: key = / IN, token(key) > / >=, or filters on other columns.
  const Relation* key_rel = nullptr;
  const Relation* token_rel = nullptr;
  std::vector<Filter> filters;
  for (const Relation& r : s.where) {
    auto col = t.Find(r.column);
    if (!col) return CqlError(ErrorCode::kInvalid, "Undefined column name " + r.column);
    if (r.token) {
      if (*col != t.key_index) {
        return CqlError(ErrorCode::kInvalid,
                        "The token function arguments must be the partition "
                        "key column " +
                            key_name + ", not " + r.column);
      }
      if (r.op != RelationOp::kGt && r.op != RelationOp::kGe) {
        return CqlError(ErrorCode::kInvalid, "only token(" + key_name +
                                                 ") > token(?) and >= ranges are supported by "
                                                 "the embedded store");
      }
      token_rel = &r;
    } else if (*col == t.key_index) {
      if (r.op != RelationOp::kEq && r.op != RelationOp::kIn) {
        return CqlError(ErrorCode::kInvalid,
                        "Only EQ and IN relations are supported on the partition key " + key_name +
                            " (unless you use the token() function)");
      }
      key_rel = &r;
    } else {
      if (r.op != RelationOp::kEq && r.op != RelationOp::kIn) {
        return CqlError(ErrorCode::kInvalid, "only = and IN conditions on column " + r.column +
                                                 " are supported by the embedded store");
      }
      if (!s.allow_filtering) {
        return CqlError(ErrorCode::kInvalid,
                        "Cannot execute this query as it might involve data filtering and thus "
                        "may have unpredictable performance. If you want to execute this query "
                        "despite the performance unpredictability, use ALLOW FILTERING");
      }
      CQL_ASSIGN_OR_RETURN(Filter f, MakeFilter(t, *col, r, values));
      filters.push_back(std::move(f));
    }
  }
  if (key_rel && token_rel) {
    return CqlError(ErrorCode::kInvalid,
                    "a SELECT cannot restrict " + key_name + " both by value and by token()");
  }
  Shape shape = MakeShape(t, s, std::move(proj));
  bool counting = s.projection == SelectStatement::Projection::kCount;
  auto matches = [&](const Cells& cells) {
    return std::all_of(filters.begin(), filters.end(),
                       [&](const Filter& f) { return f.Matches(cells); });
  };

  // By key: Get each key (no paging: at most one row per key).
  if (key_rel) {
    std::vector<std::string> keys;
    for (const Term& term : key_rel->terms) {
      CQL_ASSIGN_OR_RETURN(auto v, TermValue(term, key_type, key_name, values));
      if (!v) {
        return CqlError(ErrorCode::kInvalid,
                        "Invalid null value in condition for column " + key_name);
      }
      CQL_ASSIGN_OR_RETURN(std::string k, KeyText(key_type, *v));
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
    }
    std::vector<Cells> rows;
    int64_t count = 0;
    for (const std::string& k : keys) {
      auto json = store_->Get(t.full(), k);
      if (json.status().code() == StatusCode::kNotFound) continue;
      if (!json.ok()) return ErrorFromStatus(json.status());
      Cells cells;
      Status st = DecodeRow(t, k, *json, &cells);
      if (!st.ok()) return ErrorFromStatus(st);
      if (!matches(cells)) continue;
      ++count;
      if (counting || (limit > 0 && rows.size() >= limit)) continue;
      CQL_ASSIGN_OR_RETURN(Cells out, Project(t, s, shape, cells));
      rows.push_back(std::move(out));
    }
    if (counting) rows = {{EncodeBigint(count)}};
    return Rows(Metadata(shape.specs, page.skip_metadata), std::move(rows));
  }

  // A scan in key order: from the paging state, or after token(key) > token(v).
  std::string start_after;
  bool include_start = false;  // token(key) >= token(v): v itself too
  uint64_t returned = 0;
  if (page.paging_state && !counting) {
    Status st = DecodePagingState(*page.paging_state, &returned, &start_after);
    if (!st.ok()) return CqlError(ErrorCode::kProtocolError, st.message());
  } else if (token_rel) {
    CQL_ASSIGN_OR_RETURN(auto v, TermValue(token_rel->terms[0], key_type, key_name, values));
    if (!v) {
      return CqlError(ErrorCode::kInvalid,
                      "Invalid null value in condition for column " + key_name);
    }
    CQL_ASSIGN_OR_RETURN(start_after, KeyText(key_type, *v));
    include_start = token_rel->op == RelationOp::kGe;
  }

  if (counting && filters.empty() && !token_rel) {
    CQL_ASSIGN_OR_RETURN(uint64_t n, store_->Count(t.full()));
    return Rows(Metadata(shape.specs, page.skip_metadata),
                {{EncodeBigint(static_cast<int64_t>(n))}});
  }

  constexpr uint64_t kNoLimit = std::numeric_limits<uint32_t>::max();
  uint64_t want =
      page.page_size > 0 && !counting ? static_cast<uint64_t>(page.page_size) : kNoLimit;
  uint64_t remaining = limit > 0 ? (limit > returned ? limit - returned : 0) : kNoLimit;
  bool limit_bound = remaining <= want;
  want = std::min(want, remaining);
  // One row more than the page, to know whether another page follows.
  uint64_t target = limit_bound ? want : want + 1;

  std::vector<Cells> rows;
  std::vector<std::string> row_keys;
  int64_t count = 0;
  Status failed;
  auto visit = [&](const std::string& k, const std::string& json) {
    Cells cells;
    failed = DecodeRow(t, k, json, &cells);
    if (!failed.ok()) return false;
    if (!matches(cells)) return true;
    ++count;
    if (counting) return true;
    auto out = Project(t, s, shape, cells);
    if (!out.ok()) {
      failed = out.status();
      return false;
    }
    rows.push_back(std::move(out).value());
    row_keys.push_back(k);
    return rows.size() < target;
  };
  if (include_start && target > 0) {
    auto json = store_->Get(t.full(), start_after);
    if (json.ok()) {
      visit(start_after, *json);
    } else if (json.status().code() != StatusCode::kNotFound) {
      return ErrorFromStatus(json.status());
    }
    if (!failed.ok()) return ErrorFromStatus(failed);
  }
  if (target > 0 && rows.size() < target) {
    size_t scan_limit = filters.empty() && !counting ? target - rows.size() : 0;
    Status st = store_->Scan(t.full(), start_after, scan_limit, visit);
    if (!st.ok()) return ErrorFromStatus(st);
    if (!failed.ok()) return ErrorFromStatus(failed);
  }
  if (counting) {
    return Rows(Metadata(shape.specs, page.skip_metadata), {{EncodeBigint(count)}});
  }
  RowsMetadata metadata = Metadata(shape.specs, page.skip_metadata);
  if (!limit_bound && rows.size() > want) {
    rows.pop_back();
    row_keys.pop_back();
    metadata.paging_state = EncodePagingState(returned + rows.size(), row_keys.back());
  }
  return Rows(std::move(metadata), std::move(rows));
}

}  // namespace dataforge::cql
