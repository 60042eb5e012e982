#include "registry/store/sqlite/sqlite_registry_store.h"

#include <unistd.h>

#include <fmt/format.h>

#include "registry/registry_error.h"

namespace dataforge::registry {
namespace {

// The staging file's other tables are in staging/sqlite/, orchestrate/state/sqlite/ and
// auth/sqlite/; none shares a name. The same tables as migration 4 of the PostgreSQL staging
// schema (staging/postgres/postgres_schema.cc).
constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS registry_schemas(
  id INTEGER PRIMARY KEY,               -- never reused: rows are never deleted
  type TEXT NOT NULL,                   -- AVRO | JSON
  text TEXT NOT NULL,                   -- as registered (or normalized)
  fingerprint TEXT NOT NULL UNIQUE,     -- sha256 of type, canonical text, references
  refs TEXT NOT NULL);                  -- [{"name":..,"subject":..,"version":N}]
CREATE TABLE IF NOT EXISTS registry_schema_refs(
  schema_id INTEGER NOT NULL, subject TEXT NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (subject, version, schema_id));
CREATE TABLE IF NOT EXISTS registry_versions(
  subject TEXT NOT NULL, version INTEGER NOT NULL,
  schema_id INTEGER NOT NULL,
  deleted INTEGER NOT NULL,             -- 1 = soft deleted
  PRIMARY KEY (subject, version));
CREATE INDEX IF NOT EXISTS registry_versions_id ON registry_versions(schema_id);
CREATE TABLE IF NOT EXISTS registry_config(subject TEXT PRIMARY KEY, level TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS registry_mode(subject TEXT PRIMARY KEY, mode TEXT NOT NULL);
)SQL";

constexpr const char* kVersionColumns = "subject, version, schema_id, deleted";

StoredVersion ReadVersion(const SqliteStatement& q, int first = 0) {
  return StoredVersion{q.ColumnText(first), static_cast<int32_t>(q.ColumnInt(first + 1)),
                       q.ColumnInt(first + 2), q.ColumnInt(first + 3) != 0};
}

Result<std::vector<StoredVersion>> ReadVersions(SqliteStatement& q) {
  std::vector<StoredVersion> out;
  while (true) {
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadVersion(q));
  }
  return out;
}

class SqliteTxn final : public RegistryTxn {
 public:
  SqliteTxn(SqliteDb* db, SqliteRegistryStore::StatementCache* cache) : db_(db), cache_(cache) {}
  // Resets the statements it used: none holds the read snapshot past the transaction.
  ~SqliteTxn() override {
    for (SqliteStatement* s : used_) s->Reset();
  }

  Result<std::optional<StoredSchema>> SchemaById(int64_t id) override {
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt("SELECT id, type, text, fingerprint, refs FROM "
                             "registry_schemas WHERE id = ?"));
    SqliteStatement& q = *q_ptr;
    q.BindInt(1, id);
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<StoredSchema>();
    StoredSchema s;
    s.id = q.ColumnInt(0);
    s.type = ParseSchemaType(q.ColumnText(1)).value_or(SchemaType::kAvro);
    s.text = q.ColumnText(2);
    s.fingerprint = q.ColumnText(3);
    DF_ASSIGN_OR_RETURN(s.references, ReferencesFromJson(q.ColumnText(4)));
    return std::optional<StoredSchema>(std::move(s));
  }

  Result<std::optional<int64_t>> IdByFingerprint(const std::string& fingerprint) override {
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt("SELECT id FROM registry_schemas WHERE fingerprint = ?"));
    SqliteStatement& q = *q_ptr;
    q.BindText(1, fingerprint);
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(q.ColumnInt(0));
  }

  Result<int64_t> MaxId() override {
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt("SELECT coalesce(max(id), 0) FROM registry_schemas"));
    SqliteStatement& q = *q_ptr;
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColumnInt(0) : 0;
  }

  Status InsertSchema(const StoredSchema& s) override {
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt("INSERT INTO registry_schemas(id, type, text, "
                             "fingerprint, refs) VALUES(?, ?, ?, ?, ?)"));
    SqliteStatement& q = *q_ptr;
    const std::string refs = ReferencesToJson(s.references);
    q.BindInt(1, s.id);
    q.BindText(2, SchemaTypeName(s.type));
    q.BindText(3, s.text);
    q.BindText(4, s.fingerprint);
    q.BindText(5, refs);
    DF_RETURN_IF_ERROR(q.Run());
    DF_ASSIGN_OR_RETURN(SqliteStatement * r_ptr,
                        Stmt("INSERT OR IGNORE INTO registry_schema_refs("
                             "schema_id, subject, version) VALUES(?, ?, ?)"));
    SqliteStatement& r = *r_ptr;
    for (const SchemaReference& ref : s.references) {
      r.BindInt(1, s.id);
      r.BindText(2, ref.subject);
      r.BindInt(3, ref.version);
      DF_RETURN_IF_ERROR(r.Run());
    }
    return Status::OK();
  }

  Result<std::vector<StoredVersion>> SubjectVersions(std::string_view subject) override {
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt(fmt::format("SELECT {} FROM registry_versions WHERE "
                                         "subject = ? ORDER BY version",
                                         kVersionColumns)));
    SqliteStatement& q = *q_ptr;
    q.BindText(1, subject);
    return ReadVersions(q);
  }

  Result<std::vector<StoredVersion>> VersionsOfId(int64_t id) override {
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt(fmt::format("SELECT {} FROM registry_versions WHERE "
                                         "schema_id = ? ORDER BY subject, version",
                                         kVersionColumns)));
    SqliteStatement& q = *q_ptr;
    q.BindInt(1, id);
    return ReadVersions(q);
  }

  Result<std::vector<std::string>> Subjects(bool include_deleted,
                                            std::string_view prefix) override {
    // substr(): a prefix match without LIKE's wildcards.
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt(fmt::format("SELECT DISTINCT subject FROM registry_versions WHERE "
                                         "substr(subject, 1, length(?1)) = ?1 {} ORDER BY subject",
                                         include_deleted ? "" : "AND deleted = 0")));
    SqliteStatement& q = *q_ptr;
    q.BindText(1, prefix);
    std::vector<std::string> out;
    while (true) {
      DF_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(q.ColumnText(0));
    }
    return out;
  }

  Status PutVersion(const StoredVersion& v) override {
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt("INSERT INTO registry_versions(subject, version, "
                             "schema_id, deleted) VALUES(?, ?, ?, ?) ON "
                             "CONFLICT(subject, version) DO UPDATE SET "
                             "schema_id = excluded.schema_id, deleted = "
                             "excluded.deleted"));
    SqliteStatement& q = *q_ptr;
    q.BindText(1, v.subject);
    q.BindInt(2, v.version);
    q.BindInt(3, v.id);
    q.BindInt(4, v.deleted ? 1 : 0);
    return q.Run();
  }

  Status RemoveVersion(std::string_view subject, int32_t version) override {
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt("DELETE FROM registry_versions WHERE subject = ? AND version = ?"));
    SqliteStatement& q = *q_ptr;
    q.BindText(1, subject);
    q.BindInt(2, version);
    return q.Run();
  }

  Result<std::vector<StoredVersion>> Referrers(std::string_view subject, int32_t version) override {
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt("SELECT v.subject, v.version, v.schema_id, v.deleted "
                             "FROM registry_schema_refs r JOIN registry_versions "
                             "v ON v.schema_id = r.schema_id WHERE r.subject = ? "
                             "AND r.version = ? ORDER BY v.subject, v.version"));
    SqliteStatement& q = *q_ptr;
    q.BindText(1, subject);
    q.BindInt(2, version);
    return ReadVersions(q);
  }

  Result<std::optional<std::string>> GetSetting(Setting kind, std::string_view subject) override {
    DF_ASSIGN_OR_RETURN(
        SqliteStatement * q_ptr,
        Stmt(kind == Setting::kCompatibility ? "SELECT level FROM registry_config WHERE "
                                               "subject = ?"
                                             : "SELECT mode FROM registry_mode WHERE "
                                               "subject = ?"));
    SqliteStatement& q = *q_ptr;
    q.BindText(1, subject);
    DF_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(q.ColumnText(0));
  }

  Status PutSetting(Setting kind, std::string_view subject,
                    const std::optional<std::string>& value) override {
    const char* table = kind == Setting::kCompatibility ? "registry_config" : "registry_mode";
    const char* column = kind == Setting::kCompatibility ? "level" : "mode";
    if (!value) {
      DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                          Stmt(fmt::format("DELETE FROM {} WHERE subject = ?", table)));
      SqliteStatement& q = *q_ptr;
      q.BindText(1, subject);
      return q.Run();
    }
    DF_ASSIGN_OR_RETURN(SqliteStatement * q_ptr,
                        Stmt(fmt::format("INSERT INTO {0}(subject, {1}) VALUES(?, ?) ON "
                                         "CONFLICT(subject) DO UPDATE SET {1} = excluded.{1}",
                                         table, column)));
    SqliteStatement& q = *q_ptr;
    q.BindText(1, subject);
    q.BindText(2, *value);
    return q.Run();
  }

 private:
  // The prepared statement of `sql`, ready to bind (prepared once per store).
  Result<SqliteStatement*> Stmt(const std::string& sql) {
    auto it = cache_->find(sql);
    if (it == cache_->end()) {
      DF_ASSIGN_OR_RETURN(auto q, db_->Prepare(sql));
      it = cache_->emplace(sql, std::move(q)).first;
    }
    it->second.Reset();
    used_.push_back(&it->second);
    return &it->second;
  }

  SqliteDb* db_;
  SqliteRegistryStore::StatementCache* cache_;
  std::vector<SqliteStatement*> used_;
};

Status RunIn(SqliteDb* db, SqliteRegistryStore::StatementCache* cache, const char* begin,
             const std::function<Status(RegistryTxn&)>& body) {
  DF_RETURN_IF_ERROR(db->Exec(begin));
  Status s;
  {
    SqliteTxn txn(db, cache);
    s = body(txn);
  }
  if (s.ok()) s = db->Exec("COMMIT");
  if (!s.ok()) (void)db->Exec("ROLLBACK");
  return s;
}

}  // namespace

Result<std::unique_ptr<RegistryStore>> SqliteRegistryStore::Open(const std::string& path,
                                                                 OpenMode mode) {
  std::unique_ptr<SqliteRegistryStore> s(
      new SqliteRegistryStore(path, mode == OpenMode::kReadOnly));
  if (mode == OpenMode::kReadWrite) {
    DF_ASSIGN_OR_RETURN(s->db_, SqliteDb::Open(path, /*read_only=*/false));
    DF_RETURN_IF_ERROR(s->db_->Exec("PRAGMA journal_mode=WAL"));
    DF_RETURN_IF_ERROR(s->db_->Exec("PRAGMA synchronous=FULL"));
    std::lock_guard lock(s->mu_);
    DF_RETURN_IF_ERROR(RunIn(s->db_.get(), &s->statements_, "BEGIN IMMEDIATE", [&](RegistryTxn&) {
                         return s->db_->Exec(kSchema);
                       }).WithContext("creating the schema registry tables"));
  }
  return std::unique_ptr<RegistryStore>(std::move(s));
}

Result<bool> SqliteRegistryStore::ReadableLocked() {
  if (!read_only_) return true;
  if (!db_) {
    if (access(path_.c_str(), F_OK) != 0) return false;
    DF_ASSIGN_OR_RETURN(db_, SqliteDb::Open(path_, /*read_only=*/true));
  }
  DF_ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT count(*) FROM sqlite_master WHERE type='table' "
                                           "AND name IN ('registry_schemas', "
                                           "'registry_schema_refs', 'registry_versions', "
                                           "'registry_config', 'registry_mode')"));
  DF_ASSIGN_OR_RETURN(bool row, q.Step());
  return row && q.ColumnInt(0) == 5;
}

Status SqliteRegistryStore::Read(const std::function<Status(RegistryTxn&)>& body) {
  std::lock_guard lock(mu_);
  auto readable = ReadableLocked();
  if (!readable.ok()) return AsRegistryStatus(readable.status());
  if (!*readable) return body(EmptyRegistryTxn());
  return AsRegistryStatus(RunIn(db_.get(), &statements_, "BEGIN", body));
}

Status SqliteRegistryStore::Write(std::string_view doing,
                                  const std::function<Status(RegistryTxn&)>& body) {
  if (read_only_) {
    return RegistryStatus(kStoreError,
                          fmt::format("{}: the schema registry is open read-only", doing));
  }
  std::lock_guard lock(mu_);
  Status s = RunIn(db_.get(), &statements_, "BEGIN IMMEDIATE", body);
  ++own_writes_;  // also after a failure: a COMMIT may have landed
  return AsRegistryStatus(s);
}

std::optional<uint64_t> SqliteRegistryStore::Generation() {
  std::lock_guard lock(mu_);
  if (!db_) return std::nullopt;  // kReadOnly before the file exists
  auto it = statements_.find("PRAGMA data_version");
  if (it == statements_.end()) {
    auto q = db_->Prepare("PRAGMA data_version");
    if (!q.ok()) return std::nullopt;
    it = statements_.emplace("PRAGMA data_version", std::move(q).value()).first;
  }
  SqliteStatement& q = it->second;
  q.Reset();
  auto row = q.Step();
  const uint64_t version = row.ok() && *row ? static_cast<uint64_t>(q.ColumnInt(0)) : 0;
  q.Reset();
  if (!row.ok()) return std::nullopt;
  return (version << 32) ^ own_writes_;
}

}  // namespace dataforge::registry
