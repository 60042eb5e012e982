// The schema registry's tables in the staging database (internal to registry/): what
// SchemaRegistry (schema_registry.h) keeps, as plain rows, with no Confluent rule in it. The rules
// run in the service over a RegistryTxn, so every backend shares them.
//
// Tables (SQLite: in the staging file; PostgreSQL: schema `dataforge`, staging migration 4):
//   registry_schemas(id PK, type, text, fingerprint UNIQUE, refs JSON)  -- never deleted: an id is
//                    never reused, and the same schema registered again gets its id back
//   registry_schema_refs(schema_id, subject, version)                    -- referencedby
//   registry_versions(subject, version, schema_id, deleted, PK(subject, version))
//   registry_config(subject PK, level)   -- subject '' = global
//   registry_mode(subject PK, mode)      -- subject '' = global
//   registry_generation(n)               -- PostgreSQL only: +1 per write (Generation())
//
// Transactions: Write() runs its body in one transaction that excludes every other writer on the
// database, also in other processes (SQLite BEGIN IMMEDIATE; PostgreSQL an advisory transaction
// lock), so "is this fingerprint known? else take max(id)+1" cannot give two ids to one schema.
// Read() runs its body on one consistent snapshot. A body may run twice on PostgreSQL when the
// connection breaks (PgSession): it must only read and write through the RegistryTxn.
//
// kReadOnly creates nothing: while the file or the tables are missing, reads see an empty
// registry; Write() answers 50001.
//
// Thread-safety: a RegistryStore is safe for concurrent use (calls are serialized on its one
// connection); a RegistryTxn is used only inside the body it was passed to.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/open_mode.h"
#include "common/status.h"
#include "registry/schema_types.h"

namespace dataforge::registry {

struct StoredSchema {
  int64_t id = 0;
  SchemaType type = SchemaType::kAvro;
  std::string text;
  std::string fingerprint;  // SchemaFingerprint(): type + canonical text + references
  std::vector<SchemaReference> references;
};

struct StoredVersion {
  std::string subject;
  int32_t version = 0;
  int64_t id = 0;
  bool deleted = false;
};

enum class Setting { kCompatibility, kMode };

class RegistryTxn {
 public:
  virtual ~RegistryTxn() = default;

  virtual Result<std::optional<StoredSchema>> SchemaById(int64_t id) = 0;
  virtual Result<std::optional<int64_t>> IdByFingerprint(const std::string& fingerprint) = 0;
  // The largest id ever given (0 when none).
  virtual Result<int64_t> MaxId() = 0;
  // A new row (id and fingerprint unused; a collision is an error).
  virtual Status InsertSchema(const StoredSchema& schema) = 0;

  // A subject's versions, deleted ones included, ascending.
  virtual Result<std::vector<StoredVersion>> SubjectVersions(std::string_view subject) = 0;
  // The versions holding `id`, by subject then version, deleted ones included.
  virtual Result<std::vector<StoredVersion>> VersionsOfId(int64_t id) = 0;
  // Subjects with a live version (or any version with include_deleted) starting with `prefix`,
  // in byte order.
  virtual Result<std::vector<std::string>> Subjects(bool include_deleted,
                                                    std::string_view prefix) = 0;
  // Inserts the version, or updates its id and deleted flag.
  virtual Status PutVersion(const StoredVersion& version) = 0;
  virtual Status RemoveVersion(std::string_view subject, int32_t version) = 0;
  // The versions whose schema references subject/version, by subject then version.
  virtual Result<std::vector<StoredVersion>> Referrers(std::string_view subject,
                                                       int32_t version) = 0;

  // A level or mode name; subject "" = global. nullopt when not set.
  virtual Result<std::optional<std::string>> GetSetting(Setting kind, std::string_view subject) = 0;
  // nullopt removes it.
  virtual Status PutSetting(Setting kind, std::string_view subject,
                            const std::optional<std::string>& value) = 0;
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;
  virtual Status Read(const std::function<Status(RegistryTxn&)>& body) = 0;
  // `doing` names the write in store errors ("registering a schema").
  virtual Status Write(std::string_view doing, const std::function<Status(RegistryTxn&)>& body) = 0;
  // A number that changes whenever a write to the tables was committed since the last call, by
  // this store or any other connection or process; nullopt when the backend cannot tell cheaply
  // (then the registry caches nothing that a write could change). SQLite: PRAGMA data_version
  // with this store's own commits; PostgreSQL: a counter row every write increments.
  virtual std::optional<uint64_t> Generation() { return std::nullopt; }
};

// The backend named by the staging URL ("sqlite:///abs/staging.db" or "postgresql://...").
Result<std::unique_ptr<RegistryStore>> OpenRegistryStore(const std::string& staging_url,
                                                         OpenMode mode);

// Hex SHA-256 of the type, the canonical text and the references: equal for "the same schema".
std::string SchemaFingerprint(SchemaType type, std::string_view canonical,
                              const std::vector<SchemaReference>& references);
// references <-> [{"name":...,"subject":...,"version":N},...]
std::string ReferencesToJson(const std::vector<SchemaReference>& references);
Result<std::vector<SchemaReference>> ReferencesFromJson(std::string_view json);

// What a Read()/Write() answers: `s` itself when OK or when it carries a Confluent code (a rule's
// refusal from the body); else the store's own failure as 50001 (50002 for a deadline) with its
// message, keeping its StatusCode (kUnavailable: the database is unreachable).
Status AsRegistryStatus(Status s);

// A RegistryTxn over no tables (a read-only open before the tables exist).
RegistryTxn& EmptyRegistryTxn();

}  // namespace dataforge::registry
