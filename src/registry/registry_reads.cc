// Reads: subjects, versions, schemas by id, referencedby (registry_impl.h).
#include <algorithm>

#include "registry/registry_impl.h"

namespace dataforge::registry {

Result<StoredVersion> RegistryImpl::FindVersion(RegistryTxn& txn, std::string_view subject,
                                                std::optional<int32_t> version,
                                                bool include_deleted) {
  if (version && *version == -1) version.reset();  // Confluent's "latest"
  if (version && *version < 1) return InvalidVersion(*version);
  DF_ASSIGN_OR_RETURN(auto versions, txn.SubjectVersions(subject));
  const StoredVersion* found = nullptr;
  bool any = false;
  for (const StoredVersion& v : versions) {
    if (v.deleted && !include_deleted) continue;
    any = true;
    if (!version || v.version == *version) found = &v;
  }
  if (!any) return SubjectNotFound(subject);
  if (!found) return VersionNotFound(version);
  return *found;
}

Result<SubjectVersion> RegistryImpl::ToSubjectVersion(RegistryTxn& txn, const StoredVersion& v) {
  DF_ASSIGN_OR_RETURN(auto stored, txn.SchemaById(v.id));
  if (!stored) return SchemaNotFound(v.id);
  return SubjectVersion{v.subject, v.version, v.id,
                        SchemaText{stored->type, stored->text, stored->references}, v.deleted};
}

Result<std::vector<std::string>> RegistryImpl::Subjects(bool include_deleted,
                                                        std::string_view prefix) {
  std::vector<std::string> out;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    DF_ASSIGN_OR_RETURN(out, txn.Subjects(include_deleted, prefix));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<int32_t>> RegistryImpl::Versions(std::string_view subject,
                                                    bool include_deleted) {
  std::vector<int32_t> out;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    out.clear();
    DF_ASSIGN_OR_RETURN(auto versions, txn.SubjectVersions(subject));
    for (const StoredVersion& v : versions) {
      if (include_deleted || !v.deleted) out.push_back(v.version);
    }
    if (out.empty()) return SubjectNotFound(subject);
    return Status::OK();
  }));
  return out;
}

Result<SubjectVersion> RegistryImpl::Version(std::string_view subject,
                                             std::optional<int32_t> version, bool include_deleted) {
  SubjectVersion out;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    DF_ASSIGN_OR_RETURN(StoredVersion v, FindVersion(txn, subject, version, include_deleted));
    DF_ASSIGN_OR_RETURN(out, ToSubjectVersion(txn, v));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<int64_t>> RegistryImpl::ReferencedBy(std::string_view subject,
                                                        std::optional<int32_t> version) {
  std::vector<int64_t> out;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    out.clear();
    DF_ASSIGN_OR_RETURN(StoredVersion v, FindVersion(txn, subject, version, false));
    DF_ASSIGN_OR_RETURN(auto referrers, txn.Referrers(subject, v.version));
    for (const StoredVersion& r : referrers) {
      if (!r.deleted) out.push_back(r.id);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return Status::OK();
  }));
  return out;
}

Result<std::shared_ptr<const RegistryImpl::IdEntry>> RegistryImpl::LoadId(int64_t id) {
  // Taken before the read: a write after it changes the generation, so what the read saw is
  // never kept past that write.
  const std::optional<uint64_t> generation = store_->Generation();
  if (generation) {
    std::lock_guard lock(id_mu_);
    if (id_generation_ != generation) {
      id_cache_.clear();
      id_generation_ = generation;
    }
    auto it = id_cache_.find(id);
    if (it != id_cache_.end()) return it->second;
  }
  auto out = std::make_shared<IdEntry>();
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    DF_ASSIGN_OR_RETURN(out->versions, txn.VersionsOfId(id));
    DF_ASSIGN_OR_RETURN(out->schema, txn.SchemaById(id));
    return Status::OK();
  }));
  if (generation) {
    std::lock_guard lock(id_mu_);
    constexpr size_t kMaxCachedIds = 100'000;
    if (id_generation_ == generation && id_cache_.size() < kMaxCachedIds) id_cache_[id] = out;
  }
  return std::shared_ptr<const IdEntry>(std::move(out));
}

Result<SchemaRecord> RegistryImpl::SchemaById(int64_t id, std::optional<std::string_view> subject) {
  DF_ASSIGN_OR_RETURN(auto loaded, LoadId(id));
  const IdEntry& entry = *loaded;
  // An id answers while a version (live or soft deleted) holds it, as Confluent's.
  bool held = false;
  for (const StoredVersion& v : entry.versions) held = held || !subject || v.subject == *subject;
  if (!held || !entry.schema) return SchemaNotFound(id);
  return SchemaRecord{id,
                      SchemaText{entry.schema->type, entry.schema->text, entry.schema->references}};
}

Result<std::vector<std::string>> RegistryImpl::SubjectsById(int64_t id, bool include_deleted) {
  DF_ASSIGN_OR_RETURN(auto loaded, LoadId(id));
  const IdEntry& entry = *loaded;
  std::vector<std::string> out;
  for (const StoredVersion& v : entry.versions) {
    if ((include_deleted || !v.deleted) && (out.empty() || out.back() != v.subject)) {
      out.push_back(v.subject);
    }
  }
  if (out.empty()) return SchemaNotFound(id);
  return out;
}

Result<std::vector<std::pair<std::string, int32_t>>> RegistryImpl::VersionsById(
    int64_t id, bool include_deleted) {
  DF_ASSIGN_OR_RETURN(auto loaded, LoadId(id));
  const IdEntry& entry = *loaded;
  std::vector<std::pair<std::string, int32_t>> out;
  for (const StoredVersion& v : entry.versions) {
    if (include_deleted || !v.deleted) out.emplace_back(v.subject, v.version);
  }
  if (out.empty()) return SchemaNotFound(id);
  return out;
}

}  // namespace dataforge::registry
