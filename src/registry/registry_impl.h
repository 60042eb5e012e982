// SchemaRegistry over a RegistryStore (private to registry/): the Confluent rules of
// schema_registry.h, written once for every backend. Split by purpose:
//   schema_registry.cc     Open, registration, lookup, parsing with references, the cache
//   registry_reads.cc      subjects, versions, schemas by id, referencedby
//   registry_deletes.cc    soft and permanent deletes
//   registry_settings.cc   compatibility config and checks, modes
//   registry_messages.cc   Confluent's error texts
//
// Thread-safety: safe for concurrent use; the store serializes its calls, cache_mu_ guards the
// parsed-schema cache.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "registry/schema_registry.h"
#include "registry/store/registry_store.h"

namespace dataforge::registry {

// Confluent's texts (registry_messages.cc), each a RegistryStatus with its code.
Status SubjectNotFound(std::string_view subject);                         // 40401
Status VersionNotFound(std::optional<int32_t> version);                   // 40402
Status SchemaNotFound(std::optional<int64_t> id = std::nullopt);          // 40403
Status SubjectSoftDeleted(std::string_view subject);                      // 40404
Status SubjectNotSoftDeleted(std::string_view subject);                   // 40405
Status VersionSoftDeleted(std::string_view subject, int32_t version);     // 40406
Status VersionNotSoftDeleted(std::string_view subject, int32_t version);  // 40407
Status InvalidVersion(int32_t version);                                   // 42202
Status InvalidSubject(std::string_view subject);                          // 42208
Status ReferenceExists(std::string_view subject, int32_t version);        // 42206
Status ReadOnlyMode(std::string_view subject);                            // 42205
// nullopt when `subject` is a valid subject name (not empty, no control characters).
std::optional<Status> CheckSubject(std::string_view subject);

class RegistryImpl final : public SchemaRegistry {
 public:
  RegistryImpl(std::unique_ptr<RegistryStore> store, RegistryOptions options)
      : store_(std::move(store)), options_(std::move(options)) {}

  Result<int64_t> Register(std::string_view subject, const SchemaText& schema,
                           const RegisterOptions& options) override;
  Result<SubjectVersion> Lookup(std::string_view subject, const SchemaText& schema, bool normalize,
                                bool include_deleted) override;
  Result<std::vector<std::string>> Subjects(bool include_deleted, std::string_view prefix) override;
  Result<std::vector<int32_t>> Versions(std::string_view subject, bool include_deleted) override;
  Result<SubjectVersion> Version(std::string_view subject, std::optional<int32_t> version,
                                 bool include_deleted) override;
  Result<std::vector<int64_t>> ReferencedBy(std::string_view subject,
                                            std::optional<int32_t> version) override;
  Result<int32_t> DeleteVersion(std::string_view subject, std::optional<int32_t> version,
                                bool permanent) override;
  Result<std::vector<int32_t>> DeleteSubject(std::string_view subject, bool permanent) override;
  Result<SchemaRecord> SchemaById(int64_t id, std::optional<std::string_view> subject) override;
  Result<std::vector<std::string>> SubjectsById(int64_t id, bool include_deleted) override;
  Result<std::vector<std::pair<std::string, int32_t>>> VersionsById(int64_t id,
                                                                    bool include_deleted) override;
  Result<Compatibility> GetCompatibility(std::optional<std::string_view> subject,
                                         bool default_to_global) override;
  Result<Compatibility> SetCompatibility(std::optional<std::string_view> subject,
                                         Compatibility level) override;
  Result<Compatibility> DeleteCompatibility(std::optional<std::string_view> subject) override;
  Result<CompatibilityVerdict> TestCompatibility(std::string_view subject,
                                                 std::optional<int32_t> version, bool all_versions,
                                                 const SchemaText& schema) override;
  Result<Mode> GetMode(std::optional<std::string_view> subject, bool default_to_global) override;
  Result<Mode> SetMode(std::optional<std::string_view> subject, Mode mode, bool force) override;
  Result<Mode> DeleteMode(std::string_view subject) override;
  Result<std::shared_ptr<const ParsedSchema>> ParsedById(int64_t id) override;
  Result<std::shared_ptr<const ParsedSchema>> Parse(const SchemaText& schema) override;

 private:
  using Parsed = std::shared_ptr<const ParsedSchema>;

  const SchemaFormat& Format(SchemaType type) const;
  // The references of a schema resolved from the registry, dependency order (42201 naming a
  // missing one).
  Status Resolve(RegistryTxn& txn, const std::vector<SchemaReference>& refs,
                 std::vector<ResolvedReference>* out, int depth);
  // `schema` with each reference to version -1 (latest) pinned to the latest live version (42201
  // when the subject has none).
  Result<SchemaText> PinReferences(RegistryTxn& txn, const SchemaText& schema);
  // 42209 when the text is over options_.max_schema_bytes.
  std::optional<Status> TooLarge(const SchemaText& schema) const;
  // Size check (42209), references, format parse (42201).
  Result<Parsed> ParseIn(RegistryTxn& txn, const SchemaText& schema);
  // The stored schema `id`, parsed (cached).
  Result<Parsed> ParsedIn(RegistryTxn& txn, int64_t id);
  // The subject's level, else the global one, else BACKWARD; the same for modes (READWRITE).
  Result<Compatibility> LevelInScope(RegistryTxn& txn, std::string_view subject);
  Result<Mode> ModeInScope(RegistryTxn& txn, std::string_view subject);
  // The incompatibilities of `next` with `previous` (ascending, live) under `level`; Confluent's
  // trailing "{validateFields: 'false', compatibility: 'LEVEL'}" line when any.
  Result<std::vector<std::string>> Check(RegistryTxn& txn, Compatibility level,
                                         const ParsedSchema& next,
                                         const std::vector<StoredVersion>& previous);
  // A version of the subject, `version` nullopt or -1 = the latest; 42202, 40401, 40402.
  Result<StoredVersion> FindVersion(RegistryTxn& txn, std::string_view subject,
                                    std::optional<int32_t> version, bool include_deleted);
  Result<SubjectVersion> ToSubjectVersion(RegistryTxn& txn, const StoredVersion& v);

  // What the store holds for an id: its schema row and the versions holding it. Served from
  // id_cache_ while the store's Generation() is unchanged (GET /schemas/ids/{id} is the hot read).
  struct IdEntry {
    std::optional<StoredSchema> schema;
    std::vector<StoredVersion> versions;
  };
  Result<std::shared_ptr<const IdEntry>> LoadId(int64_t id);

  const std::unique_ptr<RegistryStore> store_;
  const RegistryOptions options_;
  std::mutex cache_mu_;
  std::map<int64_t, Parsed> cache_;  // guarded by cache_mu_; a schema never changes under its id
  std::mutex id_mu_;
  std::optional<uint64_t> id_generation_;  // guarded by id_mu_: the generation id_cache_ holds
  std::map<int64_t, std::shared_ptr<const IdEntry>> id_cache_;  // guarded by id_mu_
};

}  // namespace dataforge::registry
