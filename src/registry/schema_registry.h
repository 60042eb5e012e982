// The schema registry: Confluent Schema Registry's model and rules over the staging database
// (SQLite in the data dir, or a PostgreSQL that several servers share, so they share ids).
// serve/registry/ puts Confluent's REST API on it; the pipeline reads it directly
// (process.schema, log.format). docs/schema-registry.md.
//
// Errors: every refusal Confluent has a code for is a RegistryStatus(code, ...) (registry_error.h)
// with Confluent's message text ("Subject 'x' not found."); the HTTP layer only formats them.
//
// Rules (as Confluent's):
// - A subject's versions are 1, 2, ... A schema is identified by its canonical text
//   (ParsedSchema::canonical) plus its type and references: registering it again, under this
//   subject or another, returns the id it has; ids are never reused, also after a permanent delete.
//   Registering a schema that is already the subject's latest or any live version returns that
//   version's id without a new version.
// - A new version must be compatible (per the subject's level, else the global one, default
//   BACKWARD) with the latest live version or, for *_TRANSITIVE, all live versions; else 409
//   with the incompatibilities in the message.
// - Delete is soft first (the version stays readable with deleted=true and keeps its id);
//   `permanent` only after a soft delete (40405/40407 otherwise); a version another schema
//   references cannot be deleted (42206).
// - Mode: READONLY refuses writes (42205); IMPORT allows registering with a given id and version
//   (and only then).
//
// Thread-safety: safe for concurrent use. Several processes may open one database: each call
// is one short transaction; registration takes a lock so two servers registering the same schema
// at once get one id. Parsed schemas are cached by id (a schema's text never changes under its id);
// reads by id (SchemaById, SubjectsById, VersionsById) are cached until any write to the database,
// by this or any other process, so a delete elsewhere is seen at the next call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/open_mode.h"
#include "common/status.h"
#include "registry/schema_format.h"
#include "registry/schema_types.h"

namespace dataforge::registry {

struct RegistryOptions {
  // A schema text longer than this is refused with 42209 (the HTTP layer refuses a body over
  // twice this with 413 before reading it).
  size_t max_schema_bytes = 1 << 20;
  // The format of each schema type; empty = FormatFor (schema_format.h). Tests put a format of
  // their own here.
  std::function<const SchemaFormat&(SchemaType)> formats;
};

// A schema under its id (GET /schemas/ids/{id}).
struct SchemaRecord {
  int64_t id = 0;
  SchemaText schema;
};

// One version of a subject (GET /subjects/{s}/versions/{v}, POST /subjects/{s}).
struct SubjectVersion {
  std::string subject;
  int32_t version = 0;
  int64_t id = 0;
  SchemaText schema;
  bool deleted = false;
};

struct RegisterOptions {
  bool normalize = false;          // ?normalize=true: compare and store the canonical text
  std::optional<int64_t> id;       // IMPORT mode only (42205 otherwise)
  std::optional<int32_t> version;  // IMPORT mode only
};

struct CompatibilityVerdict {
  bool compatible = true;
  std::vector<std::string> messages;  // one per incompatibility (filled also without verbose)
};

class SchemaRegistry {
 public:
  virtual ~SchemaRegistry() = default;

  // Opens the registry tables of the staging database `staging_url` (resolved: "sqlite:///abs
  // /staging.db" or "postgresql://..."), creating them when mode is kReadWrite. kReadOnly
  // creates nothing and refuses writes (50001 with the reason); a database without the tables
  // reads as an empty registry.
  static Result<std::unique_ptr<SchemaRegistry>> Open(const std::string& staging_url, OpenMode mode,
                                                      RegistryOptions options = {});

  // POST /subjects/{s}/versions: the id (new, or the one the schema has).
  virtual Result<int64_t> Register(std::string_view subject, const SchemaText& schema,
                                   const RegisterOptions& options = {}) = 0;
  // POST /subjects/{s}: the subject's version holding `schema`. 40401 no such subject, 40403 not
  // under it.
  virtual Result<SubjectVersion> Lookup(std::string_view subject, const SchemaText& schema,
                                        bool normalize, bool include_deleted) = 0;

  // GET /subjects (sorted), optionally only names starting with `prefix`.
  virtual Result<std::vector<std::string>> Subjects(bool include_deleted,
                                                    std::string_view prefix = "") = 0;
  // GET /subjects/{s}/versions (ascending). 40401 when the subject has none (live ones, unless
  // include_deleted).
  virtual Result<std::vector<int32_t>> Versions(std::string_view subject, bool include_deleted) = 0;
  // GET /subjects/{s}/versions/{v}; nullopt = latest. 40401, 40402.
  virtual Result<SubjectVersion> Version(std::string_view subject, std::optional<int32_t> version,
                                         bool include_deleted) = 0;
  // GET .../referencedby: ids of schemas that reference this version (ascending).
  virtual Result<std::vector<int64_t>> ReferencedBy(std::string_view subject,
                                                    std::optional<int32_t> version) = 0;
  // DELETE /subjects/{s}/versions/{v}: the version deleted.
  virtual Result<int32_t> DeleteVersion(std::string_view subject, std::optional<int32_t> version,
                                        bool permanent) = 0;
  // DELETE /subjects/{s}: the versions deleted (ascending).
  virtual Result<std::vector<int32_t>> DeleteSubject(std::string_view subject, bool permanent) = 0;

  // GET /schemas/ids/{id} (?subject= only checks that the subject holds it: 40403 otherwise).
  virtual Result<SchemaRecord> SchemaById(int64_t id,
                                          std::optional<std::string_view> subject = {}) = 0;
  // GET /schemas/ids/{id}/subjects and /versions.
  virtual Result<std::vector<std::string>> SubjectsById(int64_t id, bool include_deleted) = 0;
  virtual Result<std::vector<std::pair<std::string, int32_t>>> VersionsById(
      int64_t id, bool include_deleted) = 0;

  // Compatibility config; subject nullopt = the global level. Get: 40408 for a subject without its
  // own level unless default_to_global. Set answers the new level; Delete the one removed
  // (global: back to BACKWARD).
  virtual Result<Compatibility> GetCompatibility(std::optional<std::string_view> subject,
                                                 bool default_to_global) = 0;
  virtual Result<Compatibility> SetCompatibility(std::optional<std::string_view> subject,
                                                 Compatibility level) = 0;
  virtual Result<Compatibility> DeleteCompatibility(std::optional<std::string_view> subject) = 0;
  // POST /compatibility/subjects/{s}/versions[/{v}]: `schema` against version `version` (nullopt
  // with `all_versions` false: the latest; `all_versions`: every version the level says).
  virtual Result<CompatibilityVerdict> TestCompatibility(std::string_view subject,
                                                         std::optional<int32_t> version,
                                                         bool all_versions,
                                                         const SchemaText& schema) = 0;

  // Mode; subject nullopt = global (default READWRITE). IMPORT on a non-empty registry or subject
  // needs `force` (42205 otherwise). Get for a subject without its own mode: 40409 unless
  // default_to_global.
  virtual Result<Mode> GetMode(std::optional<std::string_view> subject, bool default_to_global) = 0;
  virtual Result<Mode> SetMode(std::optional<std::string_view> subject, Mode mode, bool force) = 0;
  virtual Result<Mode> DeleteMode(std::string_view subject) = 0;

  // For the pipeline: the parsed schema of an id (cached), and a schema parsed with its references
  // resolved from the registry (42201 / 40402 for a missing reference).
  virtual Result<std::shared_ptr<const ParsedSchema>> ParsedById(int64_t id) = 0;
  virtual Result<std::shared_ptr<const ParsedSchema>> Parse(const SchemaText& schema) = 0;
};

}  // namespace dataforge::registry
