#include "registry/store/postgres/postgres_registry_store.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "registry/registry_error.h"
#include "staging/postgres/postgres_schema.h"

namespace dataforge::registry {
namespace {

constexpr const char* kVersionColumns = "subject, version, schema_id, deleted";

std::string Int(int64_t v) {
  return std::to_string(v);
}

std::vector<StoredVersion> ReadVersions(const PgResult& r) {
  std::vector<StoredVersion> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back(StoredVersion{std::string(r.Text(i, 0)), static_cast<int32_t>(r.Int(i, 1)),
                                r.Int(i, 2), r.Text(i, 3) == "t"});
  }
  return out;
}

class PgTxn final : public RegistryTxn {
 public:
  explicit PgTxn(PgConnection& c) : c_(c) {}

  Result<std::optional<StoredSchema>> SchemaById(int64_t id) override {
    DF_ASSIGN_OR_RETURN(auto r, c_.Query("SELECT id, type, text, fingerprint, refs FROM "
                                         "dataforge.registry_schemas WHERE id = $1",
                                         {Int(id)}));
    if (r.rows() == 0) return std::optional<StoredSchema>();
    StoredSchema s;
    s.id = r.Int(0, 0);
    s.type = ParseSchemaType(r.Text(0, 1)).value_or(SchemaType::kAvro);
    s.text = std::string(r.Text(0, 2));
    s.fingerprint = std::string(r.Text(0, 3));
    DF_ASSIGN_OR_RETURN(s.references, ReferencesFromJson(r.Text(0, 4)));
    return std::optional<StoredSchema>(std::move(s));
  }

  Result<std::optional<int64_t>> IdByFingerprint(const std::string& fingerprint) override {
    DF_ASSIGN_OR_RETURN(auto r,
                        c_.Query("SELECT id FROM dataforge.registry_schemas WHERE fingerprint = $1",
                                 {fingerprint}));
    if (r.rows() == 0) return std::optional<int64_t>();
    return std::optional<int64_t>(r.Int(0, 0));
  }

  Result<int64_t> MaxId() override {
    DF_ASSIGN_OR_RETURN(auto r,
                        c_.Query("SELECT coalesce(max(id), 0) FROM dataforge.registry_schemas"));
    return r.Int(0, 0);
  }

  Status InsertSchema(const StoredSchema& s) override {
    DF_RETURN_IF_ERROR(c_.Query("INSERT INTO dataforge.registry_schemas(id, type, text, "
                                "fingerprint, refs) VALUES($1, $2, $3, $4, $5)",
                                {Int(s.id), std::string(SchemaTypeName(s.type)), s.text,
                                 s.fingerprint, ReferencesToJson(s.references)})
                           .status());
    for (const SchemaReference& ref : s.references) {
      DF_RETURN_IF_ERROR(c_.Query("INSERT INTO dataforge.registry_schema_refs(schema_id, "
                                  "subject, version) VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
                                  {Int(s.id), ref.subject, Int(ref.version)})
                             .status());
    }
    return Status::OK();
  }

  Result<std::vector<StoredVersion>> SubjectVersions(std::string_view subject) override {
    DF_ASSIGN_OR_RETURN(auto r, c_.Query(fmt::format("SELECT {} FROM dataforge.registry_versions "
                                                     "WHERE subject = $1 ORDER BY version",
                                                     kVersionColumns),
                                         {std::string(subject)}));
    return ReadVersions(r);
  }

  Result<std::vector<StoredVersion>> VersionsOfId(int64_t id) override {
    DF_ASSIGN_OR_RETURN(auto r, c_.Query(fmt::format("SELECT {} FROM dataforge.registry_versions "
                                                     "WHERE schema_id = $1 ORDER BY subject "
                                                     "COLLATE \"C\", version",
                                                     kVersionColumns),
                                         {Int(id)}));
    return ReadVersions(r);
  }

  Result<std::vector<std::string>> Subjects(bool include_deleted,
                                            std::string_view prefix) override {
    DF_ASSIGN_OR_RETURN(auto r, c_.Query(fmt::format("SELECT DISTINCT subject COLLATE \"C\" AS s "
                                                     "FROM dataforge.registry_versions WHERE "
                                                     "starts_with(subject, $1) {} ORDER BY s",
                                                     include_deleted ? "" : "AND NOT deleted"),
                                         {std::string(prefix)}));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0));
    return out;
  }

  Status PutVersion(const StoredVersion& v) override {
    return c_
        .Query(
            "INSERT INTO dataforge.registry_versions(subject, version, schema_id, deleted) "
            "VALUES($1, $2, $3, $4) ON CONFLICT (subject, version) DO UPDATE SET schema_id "
            "= excluded.schema_id, deleted = excluded.deleted",
            {v.subject, Int(v.version), Int(v.id), v.deleted ? "t" : "f"})
        .status();
  }

  Status RemoveVersion(std::string_view subject, int32_t version) override {
    return c_
        .Query("DELETE FROM dataforge.registry_versions WHERE subject = $1 AND version = $2",
               {std::string(subject), Int(version)})
        .status();
  }

  Result<std::vector<StoredVersion>> Referrers(std::string_view subject, int32_t version) override {
    DF_ASSIGN_OR_RETURN(
        auto r, c_.Query("SELECT v.subject, v.version, v.schema_id, v.deleted FROM "
                         "dataforge.registry_schema_refs r JOIN dataforge.registry_versions v ON "
                         "v.schema_id = r.schema_id WHERE r.subject = $1 AND r.version = $2 "
                         "ORDER BY v.subject COLLATE \"C\", v.version",
                         {std::string(subject), Int(version)}));
    return ReadVersions(r);
  }

  Result<std::optional<std::string>> GetSetting(Setting kind, std::string_view subject) override {
    DF_ASSIGN_OR_RETURN(
        auto r, c_.Query(kind == Setting::kCompatibility
                             ? "SELECT level FROM dataforge.registry_config WHERE subject = $1"
                             : "SELECT mode FROM dataforge.registry_mode WHERE subject = $1",
                         {std::string(subject)}));
    if (r.rows() == 0) return std::optional<std::string>();
    return std::optional<std::string>(std::string(r.Text(0, 0)));
  }

  Status PutSetting(Setting kind, std::string_view subject,
                    const std::optional<std::string>& value) override {
    const char* table = kind == Setting::kCompatibility ? "registry_config" : "registry_mode";
    const char* column = kind == Setting::kCompatibility ? "level" : "mode";
    if (!value) {
      return c_
          .Query(fmt::format("DELETE FROM dataforge.{} WHERE subject = $1", table),
                 {std::string(subject)})
          .status();
    }
    return c_
        .Query(fmt::format("INSERT INTO dataforge.{0}(subject, {1}) VALUES($1, $2) ON CONFLICT "
                           "(subject) DO UPDATE SET {1} = excluded.{1}",
                           table, column),
               {std::string(subject), *value})
        .status();
  }

 private:
  PgConnection& c_;
};

// Runs `body` between `begin` and COMMIT; rolls back on any failure.
Status RunIn(PgConnection& c, const char* begin, const std::function<Status(RegistryTxn&)>& body) {
  DF_RETURN_IF_ERROR(c.Exec(begin));
  PgTxn txn(c);
  Status s = body(txn);
  if (s.ok()) s = c.Exec("COMMIT");
  if (!s.ok() && !c.Broken()) (void)c.Exec("ROLLBACK");
  return s;
}

}  // namespace

Result<std::unique_ptr<RegistryStore>> PostgresRegistryStore::Open(const std::string& url,
                                                                   OpenMode mode) {
  std::unique_ptr<PostgresRegistryStore> s(new PostgresRegistryStore(mode == OpenMode::kReadOnly));
  s->session_ = std::make_unique<PgSession>(url, "PostgreSQL staging (schema registry)",
                                            Clock::Real(), kMaxWaitUs);
  DF_RETURN_IF_ERROR(s->session_->Connect());
  if (mode == OpenMode::kReadWrite) {
    DF_RETURN_IF_ERROR(
        s->session_->Run("creating the schema registry tables",
                         [](PgConnection& c, int) { return MigrateStagingSchema(c); }));
    s->tables_ = true;
  }
  return std::unique_ptr<RegistryStore>(std::move(s));
}

Result<bool> PostgresRegistryStore::Readable(PgConnection& c) {
  if (tables_) return true;
  DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT to_regclass('dataforge.registry_generation') IS NOT "
                                      "NULL"));
  tables_ = r.Text(0, 0) == "t";
  return tables_.load();
}

Status PostgresRegistryStore::Read(const std::function<Status(RegistryTxn&)>& body) {
  return AsRegistryStatus(
      session_->Run("reading the schema registry", [&](PgConnection& c, int) -> Status {
        DF_ASSIGN_OR_RETURN(bool readable, Readable(c));
        if (!readable) return body(EmptyRegistryTxn());
        return RunIn(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body);
      }));
}

Status PostgresRegistryStore::Write(std::string_view doing,
                                    const std::function<Status(RegistryTxn&)>& body) {
  if (read_only_) {
    return RegistryStatus(kStoreError,
                          fmt::format("{}: the schema registry is open read-only", doing));
  }
  return AsRegistryStatus(session_->Run(doing, [&](PgConnection& c, int) -> Status {
    return RunIn(c, "BEGIN", [&](RegistryTxn& txn) -> Status {
      DF_RETURN_IF_ERROR(c.Exec(fmt::format("SELECT pg_advisory_xact_lock({})", kRegistryLock)));
      DF_RETURN_IF_ERROR(body(txn));
      return c.Exec("UPDATE dataforge.registry_generation SET n = n + 1");
    });
  }));
}

std::optional<uint64_t> PostgresRegistryStore::Generation() {
  std::optional<uint64_t> out;
  Status s = session_->Run("reading the registry generation", [&](PgConnection& c, int) -> Status {
    out.reset();
    DF_ASSIGN_OR_RETURN(bool readable, Readable(c));
    if (!readable) return Status::OK();
    DF_ASSIGN_OR_RETURN(auto r, c.Query("SELECT n FROM dataforge.registry_generation"));
    if (r.rows() == 1) out = static_cast<uint64_t>(r.Int(0, 0));
    return Status::OK();
  });
  if (!s.ok()) return std::nullopt;  // the read that follows reports it
  return out;
}

}  // namespace dataforge::registry
