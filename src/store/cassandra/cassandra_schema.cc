// CassandraStore: the schema catalog (keyspaces, tables, EnsureTable's checks) and DDL.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "store/cassandra/cassandra_store.h"

namespace dataforge {
namespace {

constexpr int64_t kSchemaAgreementWaitMs = 10000;
constexpr int64_t kSchemaAgreementPollMs = 200;

// 'text' as a CQL string literal.
std::string Literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string ReplicationLiteral(const std::vector<std::pair<std::string, std::string>>& repl) {
  std::string out = "{";
  for (const auto& [k, v] : repl) {
    if (out.size() > 1) out += ", ";
    out += Literal(k) + ": " + Literal(v);
  }
  return out + "}";
}

std::pair<std::string, std::string> SplitName(const std::string& physical) {
  size_t dot = physical.find('.');
  return {physical.substr(0, dot), physical.substr(dot + 1)};
}

bool IsSystemKeyspace(const std::string& ks) {
  return ks.rfind("system", 0) == 0;
}

std::string TextAt(const std::vector<std::optional<std::string>>& row, size_t i) {
  return i < row.size() && row[i] ? *row[i] : std::string();
}

// A map<text, text> value: [int] n, then n pairs of [bytes].
std::vector<std::pair<std::string, std::string>> DecodeTextMap(
    const std::optional<std::string>& v) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!v) return out;
  cql::WireReader r(*v);
  int32_t n = r.Int();
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    auto k = r.Bytes();
    auto val = r.Bytes();
    if (r.ok()) out.emplace_back(k.value_or(""), val.value_or(""));
  }
  return out;
}

}  // namespace

Status CassandraStore::Ddl(const std::string& statement) {
  cql::QueryParameters p;
  p.consistency = cql::Consistency::kOne;
  DF_ASSIGN_OR_RETURN(auto r, session_->Query(statement, std::move(p)));
  (void)r;
  return Status::OK();
}

Status CassandraStore::WaitForSchemaAgreement() {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kSchemaAgreementWaitMs);
  std::set<std::string> versions;
  for (;;) {
    versions.clear();
    cql::QueryParameters p;
    p.consistency = cql::Consistency::kOne;
    for (const char* q :
         {"SELECT schema_version FROM system.local", "SELECT schema_version FROM system.peers"}) {
      auto r = session_->Query(q, p);
      // An endpoint without schema versions (a single node) is always in agreement.
      if (!r.ok() && r.status().code() == StatusCode::kInvalidArgument) return Status::OK();
      if (!r.ok()) return r.status();
      for (const auto& row : r->rows.rows) {
        if (!row.empty() && row[0]) versions.insert(*row[0]);
      }
    }
    if (versions.size() <= 1) return Status::OK();
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(kSchemaAgreementPollMs));
  }
  return Status::Unavailable(fmt::format(
      "cassandra: no schema agreement after {} ms ({} schema versions among the nodes); check "
      "`nodetool describecluster` for unreachable nodes",
      kSchemaAgreementWaitMs, versions.size()));
}

Status CassandraStore::CreateKeyspaceIfMissing(
    const std::string& name, const std::vector<std::pair<std::string, std::string>>& repl) {
  if (!IsPlainCqlIdentifier(name)) {
    return Status::ConfigError(fmt::format(
        "cassandra keyspace '{}' is not a plain CQL name; use lower-case letters, digits and _",
        name));
  }
  return Ddl(fmt::format("CREATE KEYSPACE IF NOT EXISTS {} WITH replication = {}", name,
                         ReplicationLiteral(repl.empty() ? url_.options.replication : repl)));
}

Status CassandraStore::EnsureBookkeeping() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (bookkeeping_ready_ || mode_ == OpenMode::kReadOnly) return Status::OK();
  }
  DF_RETURN_IF_ERROR(CreateKeyspaceIfMissing(meta_keyspace_, {}));
  DF_RETURN_IF_ERROR(Ddl(fmt::format(
      "CREATE TABLE IF NOT EXISTS {}.dataforge_offsets (id text PRIMARY KEY, group_name text, "
      "topic text, partition int, log_id text, next_offset bigint, stored bigint, dead_lettered "
      "bigint, lost bigint, filtered bigint)",
      meta_keyspace_)));
  DF_RETURN_IF_ERROR(Ddl(fmt::format(
      "CREATE TABLE IF NOT EXISTS {}.dataforge_dead_letters (location text PRIMARY KEY, stage "
      "text, reason text, payload text, at_us bigint, record_key text)",
      meta_keyspace_)));
  DF_RETURN_IF_ERROR(Ddl(fmt::format(
      "CREATE TABLE IF NOT EXISTS {}.dataforge_replays (location text PRIMARY KEY, at_us bigint, "
      "outcome text, row_key text, reason text, topic text, log_id text)",
      meta_keyspace_)));
  DF_RETURN_IF_ERROR(WaitForSchemaAgreement());
  // Letters written before they kept their record's key lack its column.
  DF_ASSIGN_OR_RETURN(TableSchema letters,
                      DescribePhysical(meta_keyspace_ + ".dataforge_dead_letters"));
  if (std::none_of(letters.columns.begin(), letters.columns.end(),
                   [](const ColumnSchema& c) { return c.name == "record_key"; })) {
    DF_RETURN_IF_ERROR(Ddl(
        fmt::format("ALTER TABLE {}.dataforge_dead_letters ADD record_key text", meta_keyspace_)));
  }
  // A keyspace made before the lost or filtered counters or log identities existed gets their
  // columns (a null lost or filtered reads as 0; a null log_id is a row without identity).
  DF_ASSIGN_OR_RETURN(TableSchema offsets, DescribePhysical(meta_keyspace_ + ".dataforge_offsets"));
  for (const char* column : {"lost bigint", "log_id text", "filtered bigint"}) {
    std::string name(column, std::string_view(column).find(' '));
    bool has = std::any_of(offsets.columns.begin(), offsets.columns.end(),
                           [&](const ColumnSchema& c) { return c.name == name; });
    if (!has) {
      DF_RETURN_IF_ERROR(
          Ddl(fmt::format("ALTER TABLE {}.dataforge_offsets ADD {}", meta_keyspace_, column)));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  bookkeeping_ready_ = true;
  return Status::OK();
}

Result<bool> CassandraStore::HasBookkeeping() {
  if (mode_ != OpenMode::kReadOnly) return true;
  auto offsets = DescribePhysical(meta_keyspace_ + ".dataforge_offsets");
  if (offsets.ok()) return true;
  if (offsets.status().code() == StatusCode::kNotFound) return false;
  return offsets.status();
}

Result<bool> CassandraStore::HasReplays() {
  if (mode_ != OpenMode::kReadOnly) return true;
  auto replays = DescribePhysical(meta_keyspace_ + ".dataforge_replays");
  if (replays.ok()) return true;
  if (replays.status().code() == StatusCode::kNotFound) return false;
  return replays.status();
}

Result<bool> CassandraStore::HasRecordKeys() {
  if (mode_ != OpenMode::kReadOnly) return true;
  DF_ASSIGN_OR_RETURN(TableSchema letters,
                      DescribePhysical(meta_keyspace_ + ".dataforge_dead_letters"));
  return std::any_of(letters.columns.begin(), letters.columns.end(),
                     [](const ColumnSchema& c) { return c.name == "record_key"; });
}

Result<bool> CassandraStore::HasLogIds() {
  if (mode_ != OpenMode::kReadOnly) return true;
  DF_ASSIGN_OR_RETURN(TableSchema offsets, DescribePhysical(meta_keyspace_ + ".dataforge_offsets"));
  return std::any_of(offsets.columns.begin(), offsets.columns.end(),
                     [](const ColumnSchema& c) { return c.name == "log_id"; });
}

Result<bool> CassandraStore::HasFiltered() {
  if (mode_ != OpenMode::kReadOnly) {
    DF_RETURN_IF_ERROR(EnsureBookkeeping());  // adds the column to an older keyspace's table
    return true;
  }
  DF_ASSIGN_OR_RETURN(TableSchema offsets, DescribePhysical(meta_keyspace_ + ".dataforge_offsets"));
  return std::any_of(offsets.columns.begin(), offsets.columns.end(),
                     [](const ColumnSchema& c) { return c.name == "filtered"; });
}

Result<TableSchema> CassandraStore::DescribePhysical(const std::string& physical) {
  auto [ks, name] = SplitName(physical);
  cql::QueryParameters p;
  p.consistency = cql::Consistency::kOne;
  DF_ASSIGN_OR_RETURN(
      auto r, session_->Query(fmt::format("SELECT column_name, kind, type FROM "
                                          "system_schema.columns WHERE keyspace_name = {} AND "
                                          "table_name = {}",
                                          Literal(ks), Literal(name)),
                              p));
  if (r.rows.rows.empty()) {
    return Status::NotFound(fmt::format("cassandra table {} does not exist", physical));
  }
  TableSchema s;
  s.table = physical;
  std::vector<std::string> keys;
  std::vector<ColumnSchema> regular;
  for (const auto& row : r.rows.rows) {
    ColumnSchema c{TextAt(row, 0), TextAt(row, 2)};
    std::string kind = TextAt(row, 1);
    if (kind == "partition_key" || kind == "clustering") {
      keys.push_back(c.name);
      s.columns.insert(s.columns.begin() + static_cast<long>(keys.size() - 1), c);
    } else {
      regular.push_back(std::move(c));
    }
  }
  if (keys.size() != 1) {
    return Status::InvalidArgument(fmt::format(
        "cassandra table {} has a {}-column primary key; DataForge needs a one-column primary key",
        physical, keys.size()));
  }
  s.key_column = keys[0];
  for (auto& c : regular) s.columns.push_back(std::move(c));
  return s;
}

Result<TableSchema> CassandraStore::DescribeTable(const std::string& table) {
  return DescribePhysical(PhysicalName(table));
}

Status CassandraStore::EnsureTable(const TableSchema& schema) {
  const std::string physical = PhysicalName(schema.table);
  if (mode_ == OpenMode::kReadOnly) {
    return Status::FailedPrecondition(
        fmt::format("cassandra store opened read-only: cannot create table {}", physical));
  }
  auto [ks, name] = SplitName(physical);
  for (const std::string& id : {ks, name}) {
    if (!IsPlainCqlIdentifier(id)) {
      return Status::ConfigError(fmt::format(
          "cassandra table {}: '{}' is not a plain CQL name; use lower-case letters, digits and "
          "_ (starting with a letter)",
          physical, id));
    }
  }
  for (const auto& c : schema.columns) {
    if (!IsPlainCqlIdentifier(c.name)) {
      return Status::ConfigError(
          fmt::format("cassandra table {}: column name '{}' is not a plain CQL name; rename it in "
                      "process.columns (lower-case letters, digits and _)",
                      physical, c.name));
    }
  }
  DF_ASSIGN_OR_RETURN(TableShape shape, ShapeOf(schema, physical));
  DF_RETURN_IF_ERROR(EnsureBookkeeping());
  DF_RETURN_IF_ERROR(CreateKeyspaceIfMissing(ks, {}));
  std::string columns = fmt::format("{} {} PRIMARY KEY", shape.names[shape.key_index],
                                    cql::TypeName(shape.types[shape.key_index]));
  for (size_t i = 0; i < shape.names.size(); ++i) {
    if (i != shape.key_index) {
      columns += fmt::format(", {} {}", shape.names[i], cql::TypeName(shape.types[i]));
    }
  }
  DF_RETURN_IF_ERROR(Ddl(fmt::format("CREATE TABLE IF NOT EXISTS {} ({})", physical, columns)));
  DF_RETURN_IF_ERROR(WaitForSchemaAgreement());
  {
    std::lock_guard<std::mutex> lock(mu_);
    tables_.erase(schema.table);
  }
  DF_ASSIGN_OR_RETURN(TableSchema existing, DescribePhysical(physical));
  if (existing.key_column != schema.key_column) {
    return Status::ConfigError(fmt::format(
        "cassandra table {}: the primary key is {} in Cassandra but the pipeline maps {} as the "
        "key; change process.key_column or use another table",
        physical, existing.key_column, schema.key_column));
  }
  std::vector<std::string> missing, missing_names;
  for (size_t i = 0; i < shape.names.size(); ++i) {
    auto it = std::find_if(existing.columns.begin(), existing.columns.end(),
                           [&](const ColumnSchema& c) { return c.name == shape.names[i]; });
    if (it == existing.columns.end()) {
      missing.push_back(fmt::format("ALTER TABLE {} ADD {} {}", physical, shape.names[i],
                                    cql::TypeName(shape.types[i])));
      missing_names.push_back(shape.names[i]);
      continue;
    }
    auto have = cql::ParseTypeName(it->type);
    if (!have.ok() || *have != shape.types[i]) {
      return Status::ConfigError(fmt::format(
          "cassandra table {}: column {} is {} in Cassandra but the pipeline maps it as {}; "
          "change process.columns or use another table",
          physical, shape.names[i], it->type, cql::TypeName(shape.types[i])));
    }
  }
  if (!missing.empty()) {
    std::string alters, names;
    for (const auto& a : missing) alters += (alters.empty() ? "" : "; ") + a;
    for (const auto& n : missing_names) names += (names.empty() ? "" : ", ") + n;
    return Status::ConfigError(
        fmt::format("cassandra table {}: {} {} {} missing in Cassandra; run `{}` and start again",
                    physical, missing.size() == 1 ? "column" : "columns", names,
                    missing.size() == 1 ? "is" : "are", alters));
  }
  return Status::OK();
}

Status CassandraStore::CreateKeyspace(const KeyspaceSchema& keyspace) {
  if (mode_ == OpenMode::kReadOnly) {
    return Status::FailedPrecondition(
        fmt::format("cassandra store opened read-only: cannot create keyspace {}", keyspace.name));
  }
  DF_RETURN_IF_ERROR(CreateKeyspaceIfMissing(keyspace.name, keyspace.replication));
  return WaitForSchemaAgreement();
}

Result<std::vector<KeyspaceSchema>> CassandraStore::ListKeyspaces() {
  cql::QueryParameters p;
  p.consistency = cql::Consistency::kOne;
  DF_ASSIGN_OR_RETURN(
      auto r, session_->Query("SELECT keyspace_name, replication FROM system_schema.keyspaces", p));
  std::vector<KeyspaceSchema> out;
  for (const auto& row : r.rows.rows) {
    std::string name = TextAt(row, 0);
    if (IsSystemKeyspace(name)) continue;
    out.push_back({name, DecodeTextMap(row.size() > 1 ? row[1] : std::nullopt)});
  }
  std::sort(out.begin(), out.end(),
            [](const KeyspaceSchema& a, const KeyspaceSchema& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<std::string>> CassandraStore::ListTables() {
  cql::QueryParameters p;
  p.consistency = cql::Consistency::kOne;
  DF_ASSIGN_OR_RETURN(
      auto r, session_->Query("SELECT keyspace_name, table_name FROM system_schema.tables", p));
  std::vector<std::string> out;
  for (const auto& row : r.rows.rows) {
    std::string ks = TextAt(row, 0), name = TextAt(row, 1);
    if (IsSystemKeyspace(ks)) continue;
    if (!url_.keyspace.empty() && ks != url_.keyspace) continue;
    if (ks == meta_keyspace_ && (name == "dataforge_offsets" || name == "dataforge_dead_letters" ||
                                 name == "dataforge_replays")) {
      continue;
    }
    out.push_back(ks + "." + name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dataforge
