#include "serve/cql/statement_executor.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <variant>

#include "common/json_writer.h"
#include "cql/value_check.h"

namespace dataforge::cql {

ErrorMessage CqlError(ErrorCode code, std::string message) {
  ErrorMessage e;
  e.code = static_cast<int32_t>(code);
  e.message = std::move(message);
  return e;
}

ErrorMessage UnsupportedError(const UnsupportedStatement& s) {
  return CqlError(ErrorCode::kInvalid,
                  s.what + " is not supported by the DataForge CQL endpoint" +
                      (s.hint.empty() ? " (it serves SELECT, INSERT, UPDATE, DELETE, BATCH, "
                                        "CREATE KEYSPACE, CREATE TABLE, ALTER TABLE ... ADD and "
                                        "USE)"
                                      : ": " + s.hint));
}

ErrorMessage ErrorFromStatus(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kConfigError:
    case StatusCode::kFailedPrecondition:
      return CqlError(ErrorCode::kInvalid, s.message());
    default:
      return CqlError(ErrorCode::kServerError, s.message());
  }
}

std::optional<size_t> TableInfo::Find(const std::string& column, size_t hint) const {
  if (hint < columns.size() && columns[hint].name == column) return hint;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return i;
  }
  return std::nullopt;
}

namespace {

bool IsTextType(const DataType& t) {
  return t.id == TypeId::kVarchar || t.id == TypeId::kAscii;
}

// Types whose JSON form is a bare number or boolean (the rest, decimal too, are JSON strings).
bool IsBareJsonType(const DataType& t) {
  switch (t.id) {
    case TypeId::kBigint:
    case TypeId::kCounter:
    case TypeId::kInt:
    case TypeId::kSmallint:
    case TypeId::kTinyint:
    case TypeId::kVarint:
    case TypeId::kDouble:
    case TypeId::kFloat:
    case TypeId::kBoolean:
      return true;
    default:
      return false;
  }
}

bool HasDecimal(const DataType& t) {
  if (t.id == TypeId::kDecimal) return true;
  return std::any_of(t.params.begin(), t.params.end(), HasDecimal);
}

// A literal's JSON text with every bare number quoted ("[1.50,2]" -> "[\"1.50\",\"2\"]"), so
// that decimals keep their digits instead of passing through a JSON reader's double. Numbers of
// other types inside it are read from the text the same way.
std::string QuoteNumbers(std::string_view json) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < json.size()) {
        out.push_back(json[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t end = json.find_first_of(",]}: ", i);
      if (end == std::string_view::npos) end = json.size();
      out += JsonString(json.substr(i, end - i));
      i = end - 1;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Result<std::optional<std::string>> TermValue(const Term& term, const DataType& type,
                                             const std::string& column, const BoundValues& values,
                                             bool* unset) {
  if (unset != nullptr) *unset = false;
  if (!term.is_marker()) {
    if (term.json == "null") return std::optional<std::string>();
    // A decimal literal keeps every digit: its text, not the double a JSON reader makes of it.
    auto v = JsonToValue(type, HasDecimal(type) ? QuoteNumbers(term.json) : term.json);
    if (!v.ok()) {
      return Status::InvalidArgument("Invalid value " + term.text + " for column " + column +
                                     " of type " + TypeName(type) + ": " + v.status().message());
    }
    return v;
  }
  const Value* v = nullptr;
  if (values.names != nullptr && !values.names->empty()) {
    const std::string& name = term.name.empty() ? column : term.name;
    for (size_t i = 0; i < values.names->size() && i < values.values->size(); ++i) {
      if ((*values.names)[i] == name) v = &(*values.values)[i];
    }
    if (v == nullptr) return Status::InvalidArgument("No value given for bind marker " + name);
  } else {
    if (values.values == nullptr || term.marker < 0 ||
        static_cast<size_t>(term.marker) >= values.values->size()) {
      return Status::InvalidArgument("No value given for bind marker " +
                                     std::to_string(term.marker) + " (column " + column + ")");
    }
    v = &(*values.values)[static_cast<size_t>(term.marker)];
  }
  if (v->unset) {
    if (unset == nullptr) {
      return Status::InvalidArgument("Invalid unset value for column " + column);
    }
    *unset = true;
    return std::optional<std::string>();
  }
  if (!v->bytes) return std::optional<std::string>();
  // The check a literal gets in JsonToValue, on the bound bytes.
  std::string bytes = *v->bytes;
  Status st = CheckValue(type, &bytes);
  if (!st.ok()) {
    const std::string marker = term.name.empty() ? std::to_string(term.marker) : term.name;
    return Status::InvalidArgument("Invalid value for column " + column + " of type " +
                                   TypeName(type) + " (bind marker " + marker +
                                   "): " + st.message());
  }
  return std::optional<std::string>(std::move(bytes));
}

Result<std::string> KeyText(const DataType& type, const std::string& value) {
  if (IsTextType(type)) return value;
  std::string json;
  DF_RETURN_IF_ERROR(AppendValueAsJson(type, value, &json));
  if (json.empty() || json[0] != '"') return json;
  // A JSON string without escapes is the text between its quotes (uuids, timestamps, ...).
  if (json.size() >= 2 && json.back() == '"' && json.find('\\') == std::string::npos) {
    return json.substr(1, json.size() - 2);
  }
  thread_local simdjson::dom::parser parser;
  std::string_view s;
  if (parser.parse(json).get(s) != simdjson::SUCCESS) {
    return Status::Internal("key value " + json + " is not a JSON string");
  }
  return std::string(s);
}

Result<std::optional<std::string>> KeyValue(const DataType& type, const std::string& key) {
  if (IsTextType(type)) return std::optional<std::string>(key);
  return JsonToValue(type, IsBareJsonType(type) ? key : JsonString(key));
}

StatementExecutor::StatementExecutor(Store* store, const EngineOptions& options)
    : store_(store),
      options_(options),
      writer_(store, [this](const std::string& table) { return CurrentColumnCount(table); }) {
  info_.cluster_name = options.cluster_name;
  info_.data_center = options.data_center;
  info_.rack = options.rack;
  info_.listen_address = options.listen_address;
  info_.release_version = options.release_version;
}

Response StatementExecutor::Execute(SessionState* session, const Statement& statement,
                                    int marker_count, const BoundValues& values,
                                    const PageOptions& page, const Request& request) {
  if (const auto* u = std::get_if<UnsupportedStatement>(&statement)) return UnsupportedError(*u);
  size_t given = values.values == nullptr ? 0 : values.values->size();
  if (static_cast<size_t>(marker_count) != given &&
      (values.names == nullptr || values.names->empty())) {
    return CqlError(ErrorCode::kInvalid, "There were " + std::to_string(marker_count) +
                                             " markers(?) in CQL but " + std::to_string(given) +
                                             " bound variables");
  }
  return std::visit(
      [&](const auto& s) -> Response {
        using T = std::decay_t<decltype(s)>;
        // A column the cached description lacks: read the descriptions again, once (nothing
        // was read or queued before the error).
        if constexpr (std::is_same_v<T, SelectStatement>) {
          Response r = Select(*session, s, values, page);
          if (!StaleSchemaError(r)) return r;
          ForgetTables();
          return Select(*session, s, values, page);
        } else if constexpr (std::is_same_v<T, InsertStatement> ||
                             std::is_same_v<T, UpdateStatement> ||
                             std::is_same_v<T, DeleteStatement>) {
          Planned p = Plan(*session, s, values);
          if (auto* e = std::get_if<ErrorMessage>(&p); e != nullptr && StaleSchemaError(*e)) {
            ForgetTables();
            p = Plan(*session, s, values);
          }
          if (auto* e = std::get_if<ErrorMessage>(&p)) return *e;
          return Apply(std::get<WritePlan>(p), request);
        } else if constexpr (std::is_same_v<T, BatchStatementText>) {
          return Batch(*session, s, values, request);
        } else if constexpr (std::is_same_v<T, CreateKeyspaceStatement>) {
          return CreateKeyspace(s);
        } else if constexpr (std::is_same_v<T, CreateTableStatement>) {
          return CreateTable(*session, s);
        } else if constexpr (std::is_same_v<T, AlterTableAddStatement>) {
          return AlterTableAdd(*session, s);
        } else if constexpr (std::is_same_v<T, UseStatement>) {
          return Use(session, s);
        } else {
          return UnsupportedError(s);
        }
      },
      statement);
}

Result<Catalog> StatementExecutor::ReadCatalog() {
  std::vector<std::string> created;
  {
    std::lock_guard lock(schema_mu_);
    created = created_tables_;
  }
  return LoadCatalog(store_, created);
}

Result<std::string> StatementExecutor::CurrentSchemaVersion() {
  DF_ASSIGN_OR_RETURN(Catalog c, ReadCatalog());
  return SchemaVersion(c);
}

namespace {

bool SameSchema(const TableSchema& a, const TableSchema& b) {
  if (a.table != b.table || a.key_column != b.key_column || a.columns.size() != b.columns.size()) {
    return false;
  }
  for (size_t i = 0; i < a.columns.size(); ++i) {
    if (a.columns[i].name != b.columns[i].name || a.columns[i].type != b.columns[i].type) {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace {

int64_t SteadyMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::shared_ptr<const TableInfo>> StatementExecutor::Resolve(const SessionState& session,
                                                                    const TableRef& ref) {
  const std::string& keyspace = ref.keyspace.empty() ? session.keyspace : ref.keyspace;
  if (keyspace.empty()) {
    return Status::InvalidArgument(
        "No keyspace has been specified. USE a keyspace, or explicitly specify "
        "keyspace.tablename");
  }
  if (IsSystemKeyspace(keyspace)) {
    auto t = std::make_shared<TableInfo>();
    t->keyspace = keyspace;
    t->name = ref.name;
    t->full_name = keyspace + "." + ref.name;
    t->system = true;
    DF_ASSIGN_OR_RETURN(VirtualTable vt, ReadSystemTable(info_, Catalog{}, t->keyspace, t->name));
    t->columns = std::move(vt.columns);
    return std::shared_ptr<const TableInfo>(std::move(t));
  }
  std::string full;
  full.reserve(keyspace.size() + 1 + ref.name.size());
  full += keyspace;
  full += '.';
  full += ref.name;
  const int64_t now = SteadyMillis();
  {
    std::lock_guard lock(tables_mu_);
    auto it = tables_.find(full);
    if (it != tables_.end() && now - it->second.checked_ms < kSchemaRecheckMs) {
      return it->second.info;
    }
  }
  auto schema = store_->DescribeTable(full);
  if (schema.status().code() == StatusCode::kNotFound) {
    return Status::InvalidArgument("unconfigured table " + ref.name);
  }
  if (!schema.ok()) return schema.status();
  {
    std::lock_guard lock(tables_mu_);
    auto it = tables_.find(full);
    if (it != tables_.end() && SameSchema(it->second.info->schema, *schema)) {
      it->second.checked_ms = now;
      return it->second.info;
    }
  }
  auto t = std::make_shared<TableInfo>();
  t->keyspace = keyspace;
  t->name = ref.name;
  t->full_name = full;
  t->schema = std::move(schema).value();
  auto add = [&](const ColumnSchema& c) -> Status {
    auto type = ParseTypeName(c.type);
    if (!type.ok()) {
      return Status::Internal("table " + full + " column " + c.name + " has type '" + c.type +
                              "' in the store's catalog: " + type.status().message());
    }
    t->columns.push_back({t->keyspace, t->name, c.name, std::move(type).value()});
    return Status::OK();
  };
  auto key = std::find_if(t->schema.columns.begin(), t->schema.columns.end(),
                          [&](const ColumnSchema& c) { return c.name == t->schema.key_column; });
  if (key == t->schema.columns.end()) {
    DF_RETURN_IF_ERROR(add({t->schema.key_column, "text"}));
  } else {
    DF_RETURN_IF_ERROR(add(*key));
  }
  for (const ColumnSchema& c : t->schema.columns) {
    if (c.name != t->schema.key_column) DF_RETURN_IF_ERROR(add(c));
  }
  t->key_index = 0;
  for (const ColumnSpec& c : t->columns) t->json_names.push_back(JsonString(c.name));
  std::shared_ptr<const TableInfo> shared = std::move(t);
  std::lock_guard lock(tables_mu_);
  tables_[full] = CachedTable{shared, now};
  return shared;
}

void StatementExecutor::ForgetTables() {
  std::lock_guard lock(tables_mu_);
  tables_.clear();
}

bool StatementExecutor::StaleSchemaError(const ErrorMessage& e) {
  return e.code == static_cast<int32_t>(ErrorCode::kInvalid) &&
         e.message.rfind("Undefined column name ", 0) == 0;
}

bool StatementExecutor::StaleSchemaError(const Response& r) {
  const auto* e = std::get_if<ErrorMessage>(&r);
  return e != nullptr && StaleSchemaError(*e);
}

size_t StatementExecutor::CurrentColumnCount(const std::string& table) {
  auto dot = table.find('.');
  if (dot == std::string::npos) return 0;
  {
    std::lock_guard lock(tables_mu_);
    auto it = tables_.find(table);
    if (it != tables_.end()) it->second.checked_ms = INT64_MIN / 2;  // read it again, now
  }
  SessionState session;
  auto t = Resolve(session, TableRef{table.substr(0, dot), table.substr(dot + 1)});
  return t.ok() ? (*t)->columns.size() : 0;
}

namespace {

// The keyspace a CREATE TABLE or ALTER TABLE names (else the session's), or why it cannot be
// changed: none given, or a system keyspace.
std::variant<std::string, ErrorMessage> DdlKeyspace(const SessionState& session,
                                                    const TableRef& table) {
  std::string keyspace = table.keyspace.empty() ? session.keyspace : table.keyspace;
  if (keyspace.empty()) {
    return CqlError(ErrorCode::kInvalid,
                    "No keyspace has been specified. USE a keyspace, or explicitly specify "
                    "keyspace.tablename");
  }
  if (IsSystemKeyspace(keyspace)) {
    return CqlError(ErrorCode::kUnauthorized, keyspace + " keyspace is not user-modifiable");
  }
  return keyspace;
}

// A column of CREATE TABLE or ALTER TABLE ... ADD (`statement` names which, with the table) as
// the store keeps it, or why it is refused: an unknown type, or one no value of which could be
// stored (refused now, not at the first INSERT).
std::variant<ColumnSchema, ErrorMessage> StoredColumn(const ColumnDefinition& c,
                                                      const std::string& statement) {
  auto type = ParseTypeName(c.type);
  if (!type.ok()) {
    return CqlError(ErrorCode::kInvalid,
                    "Unknown type " + c.type + " for column " + c.name + " in " + statement);
  }
  if (std::string why; !StorableType(*type, &why)) {
    return CqlError(ErrorCode::kInvalid,
                    "column " + c.name + " " + c.type + " in " + statement + ": " + why);
  }
  return ColumnSchema{c.name, TypeName(*type)};
}

ResultMessage SchemaChanged(std::string change_type, std::string target, std::string keyspace,
                            std::string name) {
  ResultMessage r;
  r.kind = ResultKind::kSchemaChange;
  r.schema_change.change_type = std::move(change_type);
  r.schema_change.target = std::move(target);
  r.schema_change.keyspace = std::move(keyspace);
  r.schema_change.name = std::move(name);
  return r;
}

}  // namespace

Response StatementExecutor::CreateKeyspace(const CreateKeyspaceStatement& s) {
  if (IsSystemKeyspace(s.name)) {
    return CqlError(ErrorCode::kUnauthorized, s.name + " keyspace is not user-modifiable");
  }
  auto cls = std::find_if(s.replication.begin(), s.replication.end(),
                          [](const auto& kv) { return kv.first == "class"; });
  if (cls == s.replication.end()) {
    return CqlError(ErrorCode::kConfigError,
                    "Missing replication strategy class in CREATE KEYSPACE " + s.name +
                        ": add 'class': 'SimpleStrategy' to the replication map");
  }
  std::lock_guard lock(schema_mu_);
  auto keyspaces = store_->ListKeyspaces();
  if (!keyspaces.ok()) return ErrorFromStatus(keyspaces.status());
  bool exists = std::any_of(keyspaces->begin(), keyspaces->end(),
                            [&](const KeyspaceSchema& k) { return k.name == s.name; });
  if (exists) {
    if (s.if_not_exists) return ResultMessage{};
    ErrorMessage e =
        CqlError(ErrorCode::kAlreadyExists, "Cannot add existing keyspace \"" + s.name + "\"");
    e.keyspace = s.name;
    return e;
  }
  Status st = store_->CreateKeyspace({s.name, s.replication});
  if (!st.ok()) return ErrorFromStatus(st);
  return SchemaChanged("CREATED", "KEYSPACE", s.name, "");
}

Response StatementExecutor::CreateTable(const SessionState& session,
                                        const CreateTableStatement& s) {
  auto ddl_keyspace = DdlKeyspace(session, s.table);
  if (auto* e = std::get_if<ErrorMessage>(&ddl_keyspace)) return *e;
  const std::string& keyspace = std::get<std::string>(ddl_keyspace);
  std::string full = keyspace + "." + s.table.name;
  if (s.partition_key.size() + s.clustering.size() != 1) {
    return CqlError(
        ErrorCode::kInvalid,
        "compound primary keys are not supported by the embedded store: " + s.primary_key_text +
            " in CREATE TABLE " + full + "; declare one column as the PRIMARY KEY");
  }
  if (s.default_time_to_live && *s.default_time_to_live != "0") {
    return CqlError(ErrorCode::kInvalid,
                    "default_time_to_live is not supported by the DataForge CQL endpoint: remove "
                    "WITH default_time_to_live = " +
                        *s.default_time_to_live + " from the CREATE TABLE " + full +
                        " (rows never expire)");
  }
  TableSchema schema;
  schema.table = full;
  schema.key_column = s.partition_key[0];
  for (const ColumnDefinition& c : s.columns) {
    auto column = StoredColumn(c, "CREATE TABLE " + full);
    if (auto* e = std::get_if<ErrorMessage>(&column)) return *e;
    if (std::any_of(schema.columns.begin(), schema.columns.end(),
                    [&](const ColumnSchema& o) { return o.name == c.name; })) {
      return CqlError(ErrorCode::kInvalid, "Multiple definition of identifier " + c.name);
    }
    schema.columns.push_back(std::get<ColumnSchema>(std::move(column)));
  }
  if (std::none_of(schema.columns.begin(), schema.columns.end(),
                   [&](const ColumnSchema& o) { return o.name == schema.key_column; })) {
    return CqlError(ErrorCode::kInvalid,
                    "Unknown definition " + schema.key_column + " referenced in PRIMARY KEY");
  }
  std::lock_guard lock(schema_mu_);
  auto keyspaces = store_->ListKeyspaces();
  if (!keyspaces.ok()) return ErrorFromStatus(keyspaces.status());
  if (std::none_of(keyspaces->begin(), keyspaces->end(),
                   [&](const KeyspaceSchema& k) { return k.name == keyspace; })) {
    return CqlError(ErrorCode::kInvalid, "Cannot add table '" + s.table.name +
                                             "' to non existing keyspace '" + keyspace + "'.");
  }
  auto existing = store_->DescribeTable(full);
  if (existing.ok()) {
    if (s.if_not_exists) return ResultMessage{};
    ErrorMessage e =
        CqlError(ErrorCode::kAlreadyExists, "Cannot add already existing table \"" + s.table.name +
                                                "\" to keyspace \"" + keyspace + "\"");
    e.keyspace = keyspace;
    e.table = s.table.name;
    return e;
  }
  if (existing.status().code() != StatusCode::kNotFound) {
    return ErrorFromStatus(existing.status());
  }
  Status st = store_->EnsureTable(schema);
  if (!st.ok()) return ErrorFromStatus(st);
  created_tables_.push_back(full);
  {
    std::lock_guard tables_lock(tables_mu_);
    tables_.erase(full);
  }
  return SchemaChanged("CREATED", "TABLE", keyspace, s.table.name);
}

Response StatementExecutor::AlterTableAdd(const SessionState& session,
                                          const AlterTableAddStatement& s) {
  auto ddl_keyspace = DdlKeyspace(session, s.table);
  if (auto* e = std::get_if<ErrorMessage>(&ddl_keyspace)) return *e;
  const std::string& keyspace = std::get<std::string>(ddl_keyspace);
  const std::string full = keyspace + "." + s.table.name;
  std::lock_guard lock(schema_mu_);
  auto existing = store_->DescribeTable(full);
  if (!existing.ok()) {
    if (existing.status().code() != StatusCode::kNotFound) {
      return ErrorFromStatus(existing.status());
    }
    if (s.if_exists) return ResultMessage{};
    return CqlError(ErrorCode::kInvalid, "Table '" + full + "' doesn't exist");
  }
  TableSchema schema = *existing;
  const size_t before = schema.columns.size();
  for (const ColumnDefinition& c : s.columns) {
    auto column = StoredColumn(c, "ALTER TABLE " + full);
    if (auto* e = std::get_if<ErrorMessage>(&column)) return *e;
    if (std::any_of(schema.columns.begin(), schema.columns.end(),
                    [&](const ColumnSchema& o) { return o.name == c.name; })) {
      if (s.if_not_exists) continue;
      return CqlError(ErrorCode::kInvalid, "Column with name '" + c.name + "' already exists");
    }
    schema.columns.push_back(std::get<ColumnSchema>(std::move(column)));
  }
  if (schema.columns.size() == before) return ResultMessage{};  // IF NOT EXISTS: all there
  Status st = store_->EnsureTable(schema);
  if (!st.ok()) return ErrorFromStatus(st);
  {
    std::lock_guard tables_lock(tables_mu_);
    tables_.erase(full);
  }
  return SchemaChanged("UPDATED", "TABLE", keyspace, s.table.name);
}

Response StatementExecutor::Use(SessionState* session, const UseStatement& s) {
  if (!IsSystemKeyspace(s.keyspace)) {
    auto keyspaces = store_->ListKeyspaces();
    if (!keyspaces.ok()) return ErrorFromStatus(keyspaces.status());
    if (std::none_of(keyspaces->begin(), keyspaces->end(),
                     [&](const KeyspaceSchema& k) { return k.name == s.keyspace; })) {
      return CqlError(ErrorCode::kInvalid, "Keyspace '" + s.keyspace + "' does not exist");
    }
  }
  session->keyspace = s.keyspace;
  ResultMessage r;
  r.kind = ResultKind::kSetKeyspace;
  r.keyspace = s.keyspace;
  return r;
}

}  // namespace dataforge::cql
