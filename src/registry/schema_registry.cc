// SchemaRegistry::Open, registration and lookup, and parsing with references (registry_impl.h).
#include "registry/schema_registry.h"

#include <fmt/format.h>

#include <cstdint>

#include "registry/registry_error.h"
#include "registry/registry_impl.h"

namespace dataforge::registry {
namespace {

// References deeper than this are a cycle (a schema cannot reference one registered after it,
// so only a corrupt database has one).
constexpr int kMaxReferenceDepth = 64;

Status InvalidSchema(std::string message) {
  return RegistryStatus(kInvalidSchema, std::move(message));
}

}  // namespace

Result<std::unique_ptr<SchemaRegistry>> SchemaRegistry::Open(const std::string& staging_url,
                                                             OpenMode mode,
                                                             RegistryOptions options) {
  DF_ASSIGN_OR_RETURN(auto store, OpenRegistryStore(staging_url, mode));
  return std::unique_ptr<SchemaRegistry>(new RegistryImpl(std::move(store), std::move(options)));
}

const SchemaFormat& RegistryImpl::Format(SchemaType type) const {
  return options_.formats ? options_.formats(type) : FormatFor(type);
}

Status RegistryImpl::Resolve(RegistryTxn& txn, const std::vector<SchemaReference>& refs,
                             std::vector<ResolvedReference>* out, int depth) {
  if (depth > kMaxReferenceDepth) {
    return InvalidSchema(
        fmt::format("Invalid schema: references nest deeper than {}", kMaxReferenceDepth));
  }
  for (const SchemaReference& ref : refs) {
    bool seen = false;
    for (const ResolvedReference& r : *out) seen = seen || r.name == ref.name;
    if (seen) continue;
    const std::string where =
        fmt::format("reference '{}' (subject '{}' version {})", ref.name, ref.subject, ref.version);
    if (ref.name.empty() || ref.subject.empty()) {
      return InvalidSchema(fmt::format("Invalid schema: {} needs a name and a subject", where));
    }
    DF_ASSIGN_OR_RETURN(auto versions, txn.SubjectVersions(ref.subject));
    const StoredVersion* found = nullptr;
    for (const StoredVersion& v : versions) {
      // -1: the latest live version, as Confluent resolves it.
      if (ref.version == -1 ? !v.deleted : v.version == ref.version) found = &v;
    }
    if (!found) return InvalidSchema(fmt::format("Invalid schema: {} not found", where));
    DF_ASSIGN_OR_RETURN(auto stored, txn.SchemaById(found->id));
    if (!stored) return InvalidSchema(fmt::format("Invalid schema: {} has no schema", where));
    DF_RETURN_IF_ERROR(Resolve(txn, stored->references, out, depth + 1));
    out->push_back(ResolvedReference{ref.name, stored->type, stored->text});
  }
  return Status::OK();
}

Result<SchemaText> RegistryImpl::PinReferences(RegistryTxn& txn, const SchemaText& schema) {
  SchemaText out = schema;
  for (SchemaReference& ref : out.references) {
    if (ref.version != -1) continue;
    // "latest" is pinned to the version it means now: the schema's identity must not move.
    DF_ASSIGN_OR_RETURN(auto versions, txn.SubjectVersions(ref.subject));
    for (const StoredVersion& v : versions) {
      if (!v.deleted) ref.version = v.version;
    }
    if (ref.version == -1) {
      return InvalidSchema(
          fmt::format("Invalid schema: reference '{}' (subject '{}' version "
                      "latest) not found",
                      ref.name, ref.subject));
    }
  }
  return out;
}

std::optional<Status> RegistryImpl::TooLarge(const SchemaText& schema) const {
  if (schema.schema.size() <= options_.max_schema_bytes) return std::nullopt;
  return RegistryStatus(kSchemaTooLarge,
                        fmt::format("Register operation failed because schema is too large "
                                    "({} bytes; the limit is {})",
                                    schema.schema.size(), options_.max_schema_bytes));
}

Result<RegistryImpl::Parsed> RegistryImpl::ParseIn(RegistryTxn& txn, const SchemaText& schema) {
  if (auto too_large = TooLarge(schema)) return *too_large;
  if (schema.schema.empty()) return InvalidSchema("Invalid schema: the schema is empty");
  std::vector<ResolvedReference> resolved;
  DF_RETURN_IF_ERROR(Resolve(txn, schema.references, &resolved, 0));
  auto parsed = Format(schema.type).Parse(schema.schema, resolved);
  if (!parsed.ok()) {
    return InvalidSchema(fmt::format("Invalid schema: {}", parsed.status().message()));
  }
  return std::move(parsed).value();
}

Result<RegistryImpl::Parsed> RegistryImpl::ParsedIn(RegistryTxn& txn, int64_t id) {
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(id);
    if (it != cache_.end()) return it->second;
  }
  DF_ASSIGN_OR_RETURN(auto stored, txn.SchemaById(id));
  if (!stored) return SchemaNotFound(id);
  std::vector<ResolvedReference> resolved;
  DF_RETURN_IF_ERROR(Resolve(txn, stored->references, &resolved, 0));
  auto parsed = Format(stored->type).Parse(stored->text, resolved);
  if (!parsed.ok()) {
    return RegistryStatus(kStoreError, fmt::format("schema {} in the registry does not parse: {}",
                                                   id, parsed.status().message()));
  }
  std::lock_guard lock(cache_mu_);
  return cache_.emplace(id, *parsed).first->second;
}

Result<int64_t> RegistryImpl::Register(std::string_view subject, const SchemaText& schema,
                                       const RegisterOptions& options) {
  if (auto bad = CheckSubject(subject)) return *bad;
  if (auto too_large = TooLarge(schema)) return *too_large;  // before taking the write lock
  if (options.version && *options.version < 1) return InvalidVersion(*options.version);
  if (options.id && (*options.id < 1 || *options.id > INT32_MAX)) {
    // Confluent's wire format carries the id in 4 bytes.
    return RegistryStatus(kInvalidSchema,
                          fmt::format("Invalid schema id {}: ids are 1 to 2^31-1", *options.id));
  }
  int64_t out = 0;
  DF_RETURN_IF_ERROR(store_->Write("registering a schema", [&](RegistryTxn& txn) -> Status {
    DF_ASSIGN_OR_RETURN(Mode mode, ModeInScope(txn, subject));
    if (mode == Mode::kReadOnly) return ReadOnlyMode(subject);
    const bool importing = options.id.has_value() || options.version.has_value();
    if (importing && mode != Mode::kImport) {
      return RegistryStatus(kOperationNotPermitted,
                            fmt::format("Subject {} in context  is not in import mode", subject));
    }
    if (!importing && mode != Mode::kReadWrite) {
      return RegistryStatus(
          kOperationNotPermitted,
          fmt::format("Subject {} in context  is not in read-write mode", subject));
    }
    DF_ASSIGN_OR_RETURN(const SchemaText pinned, PinReferences(txn, schema));
    DF_ASSIGN_OR_RETURN(Parsed parsed, ParseIn(txn, pinned));
    const std::string fingerprint =
        SchemaFingerprint(pinned.type, parsed->canonical(), pinned.references);
    DF_ASSIGN_OR_RETURN(std::optional<int64_t> existing, txn.IdByFingerprint(fingerprint));
    if (options.id) {
      if (existing && *existing != *options.id) {
        return RegistryStatus(kIdDoesNotMatch,
                              fmt::format("The ID of an imported schema does not match the "
                                          "existing ID: the schema has id {}, not {}",
                                          *existing, *options.id));
      }
      if (!existing) {
        DF_ASSIGN_OR_RETURN(auto taken, txn.SchemaById(*options.id));
        if (taken) {
          return RegistryStatus(kIdDoesNotMatch,
                                fmt::format("Overwrite new schema with id {} in context  is not "
                                            "permitted.",
                                            *options.id));
        }
      }
    }
    DF_ASSIGN_OR_RETURN(auto versions, txn.SubjectVersions(subject));
    std::vector<StoredVersion> live;
    for (const StoredVersion& v : versions) {
      if (!v.deleted) live.push_back(v);
    }
    if (existing && !options.version) {
      for (const StoredVersion& v : live) {
        if (v.id == *existing) {
          out = v.id;
          return Status::OK();
        }
      }
    }
    if (mode != Mode::kImport) {
      DF_ASSIGN_OR_RETURN(Compatibility level, LevelInScope(txn, subject));
      DF_ASSIGN_OR_RETURN(auto problems, Check(txn, level, *parsed, live));
      if (!problems.empty()) {
        return RegistryStatus(kIncompatibleSchema,
                              fmt::format("Schema being registered is incompatible with an "
                                          "earlier schema for subject \"{}\", details: [{}]",
                                          subject, fmt::join(problems, ", ")));
      }
    }
    int64_t id = existing ? *existing : options.id.value_or(0);
    const int32_t version =
        options.version.value_or(versions.empty() ? 1 : versions.back().version + 1);
    for (const StoredVersion& v : versions) {
      if (v.version != version) continue;
      if (existing && v.id == *existing) {
        out = v.id;
        return Status::OK();
      }
      return RegistryStatus(kOperationNotPermitted,
                            fmt::format("Overwrite of version {} of subject {} in context  is not "
                                        "permitted: it holds schema id {}",
                                        version, subject, v.id));
    }
    if (!existing) {
      if (id == 0) {
        DF_ASSIGN_OR_RETURN(int64_t max, txn.MaxId());
        id = max + 1;
      }
      StoredSchema row{id, pinned.type, options.normalize ? parsed->canonical() : pinned.schema,
                       fingerprint, pinned.references};
      DF_RETURN_IF_ERROR(txn.InsertSchema(row));
    }
    DF_RETURN_IF_ERROR(txn.PutVersion(StoredVersion{std::string(subject), version, id, false}));
    out = id;
    return Status::OK();
  }));
  return out;
}

Result<SubjectVersion> RegistryImpl::Lookup(std::string_view subject, const SchemaText& schema,
                                            bool normalize, bool include_deleted) {
  (void)normalize;  // the canonical text decides in both cases
  SubjectVersion out;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    DF_ASSIGN_OR_RETURN(auto versions, txn.SubjectVersions(subject));
    std::vector<StoredVersion> visible;
    for (const StoredVersion& v : versions) {
      if (include_deleted || !v.deleted) visible.push_back(v);
    }
    if (visible.empty()) return SubjectNotFound(subject);
    DF_ASSIGN_OR_RETURN(const SchemaText pinned, PinReferences(txn, schema));
    DF_ASSIGN_OR_RETURN(Parsed parsed, ParseIn(txn, pinned));
    DF_ASSIGN_OR_RETURN(auto id, txn.IdByFingerprint(SchemaFingerprint(
                                     pinned.type, parsed->canonical(), pinned.references)));
    const StoredVersion* found = nullptr;
    for (const StoredVersion& v : visible) {
      // The newest version holding it (a live one before a deleted one).
      if (id && v.id == *id && (!found || found->deleted || !v.deleted)) found = &v;
    }
    if (!found) return SchemaNotFound();
    DF_ASSIGN_OR_RETURN(out, ToSubjectVersion(txn, *found));
    return Status::OK();
  }));
  return out;
}

Result<std::shared_ptr<const ParsedSchema>> RegistryImpl::ParsedById(int64_t id) {
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(id);
    if (it != cache_.end()) return it->second;
  }
  Parsed out;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    DF_ASSIGN_OR_RETURN(out, ParsedIn(txn, id));
    return Status::OK();
  }));
  return out;
}

Result<std::shared_ptr<const ParsedSchema>> RegistryImpl::Parse(const SchemaText& schema) {
  Parsed out;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    DF_ASSIGN_OR_RETURN(out, ParseIn(txn, schema));
    return Status::OK();
  }));
  return out;
}

}  // namespace dataforge::registry
