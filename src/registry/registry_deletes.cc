// Deletes: soft first, then permanent; never a version another schema references
// (registry_impl.h). A schema row outlives its versions, so its id is never given again.
#include "registry/registry_impl.h"

namespace dataforge::registry {

Result<int32_t> RegistryImpl::DeleteVersion(std::string_view subject,
                                            std::optional<int32_t> version, bool permanent) {
  int32_t out = 0;
  DF_RETURN_IF_ERROR(store_->Write("deleting a schema version", [&](RegistryTxn& txn) -> Status {
    DF_ASSIGN_OR_RETURN(Mode mode, ModeInScope(txn, subject));
    if (mode == Mode::kReadOnly) return ReadOnlyMode(subject);
    // "latest" is the latest live version; a permanent delete may name a soft-deleted one.
    auto found = FindVersion(txn, subject, version, /*include_deleted=*/permanent);
    if (!found.ok() && permanent && (!version || *version == -1)) {
      found = FindVersion(txn, subject, std::nullopt, true);
    }
    if (!found.ok()) {
      // A soft-deleted version asked for again without `permanent`.
      if (!permanent && version && *version > 0) {
        auto deleted = FindVersion(txn, subject, version, true);
        if (deleted.ok()) return VersionSoftDeleted(subject, deleted->version);
        // A subject that has only deleted versions still exists: 40402, not 40401.
        auto any = FindVersion(txn, subject, std::nullopt, true);
        if (any.ok()) return VersionNotFound(version);
      }
      return found.status();
    }
    const StoredVersion v = *found;
    DF_ASSIGN_OR_RETURN(auto referrers, txn.Referrers(subject, v.version));
    for (const StoredVersion& r : referrers) {
      if (permanent || !r.deleted) return ReferenceExists(subject, v.version);
    }
    if (permanent && !v.deleted) return VersionNotSoftDeleted(subject, v.version);
    if (permanent) {
      DF_RETURN_IF_ERROR(txn.RemoveVersion(subject, v.version));
    } else {
      DF_RETURN_IF_ERROR(txn.PutVersion(StoredVersion{v.subject, v.version, v.id, true}));
    }
    out = v.version;
    return Status::OK();
  }));
  return out;
}

Result<std::vector<int32_t>> RegistryImpl::DeleteSubject(std::string_view subject, bool permanent) {
  std::vector<int32_t> out;
  DF_RETURN_IF_ERROR(store_->Write("deleting a subject", [&](RegistryTxn& txn) -> Status {
    out.clear();
    DF_ASSIGN_OR_RETURN(Mode mode, ModeInScope(txn, subject));
    if (mode == Mode::kReadOnly) return ReadOnlyMode(subject);
    DF_ASSIGN_OR_RETURN(auto versions, txn.SubjectVersions(subject));
    if (versions.empty()) return SubjectNotFound(subject);
    bool any_live = false;
    for (const StoredVersion& v : versions) any_live = any_live || !v.deleted;
    if (!permanent && !any_live) return SubjectSoftDeleted(subject);
    for (const StoredVersion& v : versions) {
      if (!permanent && v.deleted) continue;
      DF_ASSIGN_OR_RETURN(auto referrers, txn.Referrers(subject, v.version));
      for (const StoredVersion& r : referrers) {
        // References within the subject go with it.
        if (r.subject != subject && (permanent || !r.deleted)) {
          return ReferenceExists(subject, v.version);
        }
      }
      if (permanent && !v.deleted) return SubjectNotSoftDeleted(subject);
      out.push_back(v.version);
    }
    for (const StoredVersion& v : versions) {
      if (permanent) {
        DF_RETURN_IF_ERROR(txn.RemoveVersion(subject, v.version));
      } else if (!v.deleted) {
        DF_RETURN_IF_ERROR(txn.PutVersion(StoredVersion{v.subject, v.version, v.id, true}));
      }
    }
    if (permanent) {
      DF_RETURN_IF_ERROR(txn.PutSetting(Setting::kCompatibility, subject, std::nullopt));
      DF_RETURN_IF_ERROR(txn.PutSetting(Setting::kMode, subject, std::nullopt));
    }
    return Status::OK();
  }));
  return out;
}

}  // namespace dataforge::registry
