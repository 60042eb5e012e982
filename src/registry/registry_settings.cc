// Compatibility levels and checks, and modes (registry_impl.h).
#include <fmt/format.h>

#include "registry/registry_error.h"
#include "registry/registry_impl.h"

namespace dataforge::registry {
namespace {

constexpr std::string_view kGlobal = "";

Status LevelNotConfigured(std::string_view subject) {
  return RegistryStatus(kSubjectCompatibilityNotConfigured,
                        fmt::format("Subject '{}' does not have subject-level compatibility "
                                    "configured",
                                    subject));
}

Status ModeNotConfigured(std::string_view subject) {
  return RegistryStatus(
      kSubjectModeNotConfigured,
      fmt::format("Subject '{}' does not have subject-level mode configured", subject));
}

Result<std::optional<Compatibility>> StoredLevel(RegistryTxn& txn, std::string_view subject) {
  DF_ASSIGN_OR_RETURN(auto text, txn.GetSetting(Setting::kCompatibility, subject));
  if (!text) return std::optional<Compatibility>();
  return ParseCompatibility(*text);
}

Result<std::optional<Mode>> StoredMode(RegistryTxn& txn, std::string_view subject) {
  DF_ASSIGN_OR_RETURN(auto text, txn.GetSetting(Setting::kMode, subject));
  if (!text) return std::optional<Mode>();
  return ParseMode(*text);
}

bool Transitive(Compatibility level) {
  return level == Compatibility::kBackwardTransitive ||
         level == Compatibility::kForwardTransitive || level == Compatibility::kFullTransitive;
}

bool ChecksBackward(Compatibility level) {
  return level == Compatibility::kBackward || level == Compatibility::kBackwardTransitive ||
         level == Compatibility::kFull || level == Compatibility::kFullTransitive;
}

bool ChecksForward(Compatibility level) {
  return level == Compatibility::kForward || level == Compatibility::kForwardTransitive ||
         level == Compatibility::kFull || level == Compatibility::kFullTransitive;
}

}  // namespace

Result<Compatibility> RegistryImpl::LevelInScope(RegistryTxn& txn, std::string_view subject) {
  DF_ASSIGN_OR_RETURN(auto own, StoredLevel(txn, subject));
  if (own) return *own;
  DF_ASSIGN_OR_RETURN(auto global, StoredLevel(txn, kGlobal));
  return global.value_or(Compatibility::kBackward);
}

Result<Mode> RegistryImpl::ModeInScope(RegistryTxn& txn, std::string_view subject) {
  DF_ASSIGN_OR_RETURN(auto own, StoredMode(txn, subject));
  if (own) return *own;
  DF_ASSIGN_OR_RETURN(auto global, StoredMode(txn, kGlobal));
  return global.value_or(Mode::kReadWrite);
}

Result<std::vector<std::string>> RegistryImpl::Check(RegistryTxn& txn, Compatibility level,
                                                     const ParsedSchema& next,
                                                     const std::vector<StoredVersion>& previous) {
  std::vector<std::string> out;
  if (level == Compatibility::kNone || previous.empty()) return out;
  // Newest first, as Confluent reports them.
  const size_t first = Transitive(level) ? 0 : previous.size() - 1;
  for (size_t i = previous.size(); i-- > first;) {
    DF_ASSIGN_OR_RETURN(Parsed old, ParsedIn(txn, previous[i].id));
    if (old->type() != next.type()) {
      out.push_back(fmt::format("the schema type {} differs from version {}'s {}",
                                SchemaTypeName(next.type()), previous[i].version,
                                SchemaTypeName(old->type())));
      continue;
    }
    if (ChecksBackward(level)) {
      for (std::string& m : next.BackwardIncompatibilities(*old)) out.push_back(std::move(m));
    }
    if (ChecksForward(level)) {
      for (std::string& m : old->BackwardIncompatibilities(next)) out.push_back(std::move(m));
    }
  }
  if (!out.empty()) {
    out.push_back(
        fmt::format("{{validateFields: 'false', compatibility: '{}'}}", CompatibilityName(level)));
  }
  return out;
}

Result<Compatibility> RegistryImpl::GetCompatibility(std::optional<std::string_view> subject,
                                                     bool default_to_global) {
  Compatibility out = Compatibility::kBackward;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    if (subject) {
      DF_ASSIGN_OR_RETURN(auto own, StoredLevel(txn, *subject));
      if (own) {
        out = *own;
        return Status::OK();
      }
      if (!default_to_global) return LevelNotConfigured(*subject);
    }
    DF_ASSIGN_OR_RETURN(auto global, StoredLevel(txn, kGlobal));
    out = global.value_or(Compatibility::kBackward);
    return Status::OK();
  }));
  return out;
}

Result<Compatibility> RegistryImpl::SetCompatibility(std::optional<std::string_view> subject,
                                                     Compatibility level) {
  if (subject) {
    if (auto bad = CheckSubject(*subject)) return *bad;
  }
  DF_RETURN_IF_ERROR(
      store_->Write("setting a compatibility level", [&](RegistryTxn& txn) -> Status {
        if (subject) {
          DF_ASSIGN_OR_RETURN(Mode mode, ModeInScope(txn, *subject));
          if (mode == Mode::kReadOnly) return ReadOnlyMode(*subject);
        }
        return txn.PutSetting(Setting::kCompatibility, subject.value_or(kGlobal),
                              std::string(CompatibilityName(level)));
      }));
  return level;
}

Result<Compatibility> RegistryImpl::DeleteCompatibility(std::optional<std::string_view> subject) {
  Compatibility out = Compatibility::kBackward;
  DF_RETURN_IF_ERROR(
      store_->Write("deleting a compatibility level", [&](RegistryTxn& txn) -> Status {
        const std::string_view key = subject.value_or(kGlobal);
        if (subject) {
          DF_ASSIGN_OR_RETURN(Mode mode, ModeInScope(txn, *subject));
          if (mode == Mode::kReadOnly) return ReadOnlyMode(*subject);
        }
        DF_ASSIGN_OR_RETURN(auto own, StoredLevel(txn, key));
        if (!own && subject) return LevelNotConfigured(*subject);
        out = own.value_or(Compatibility::kBackward);
        return txn.PutSetting(Setting::kCompatibility, key, std::nullopt);
      }));
  return out;
}

Result<CompatibilityVerdict> RegistryImpl::TestCompatibility(std::string_view subject,
                                                             std::optional<int32_t> version,
                                                             bool all_versions,
                                                             const SchemaText& schema) {
  CompatibilityVerdict out;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    out = CompatibilityVerdict{};
    std::vector<StoredVersion> previous;
    Compatibility level = Compatibility::kBackward;
    DF_ASSIGN_OR_RETURN(level, LevelInScope(txn, subject));
    if (all_versions) {
      DF_ASSIGN_OR_RETURN(auto versions, txn.SubjectVersions(subject));
      for (const StoredVersion& v : versions) {
        if (!v.deleted) previous.push_back(v);
      }
    } else {
      DF_ASSIGN_OR_RETURN(StoredVersion v, FindVersion(txn, subject, version, false));
      previous.push_back(v);
    }
    DF_ASSIGN_OR_RETURN(Parsed parsed, ParseIn(txn, schema));
    DF_ASSIGN_OR_RETURN(out.messages, Check(txn, level, *parsed, previous));
    out.compatible = out.messages.empty();
    return Status::OK();
  }));
  return out;
}

Result<Mode> RegistryImpl::GetMode(std::optional<std::string_view> subject,
                                   bool default_to_global) {
  Mode out = Mode::kReadWrite;
  DF_RETURN_IF_ERROR(store_->Read([&](RegistryTxn& txn) -> Status {
    if (subject) {
      DF_ASSIGN_OR_RETURN(auto own, StoredMode(txn, *subject));
      if (own) {
        out = *own;
        return Status::OK();
      }
      if (!default_to_global) return ModeNotConfigured(*subject);
    }
    DF_ASSIGN_OR_RETURN(auto global, StoredMode(txn, kGlobal));
    out = global.value_or(Mode::kReadWrite);
    return Status::OK();
  }));
  return out;
}

Result<Mode> RegistryImpl::SetMode(std::optional<std::string_view> subject, Mode mode, bool force) {
  if (subject) {
    if (auto bad = CheckSubject(*subject)) return *bad;
  }
  DF_RETURN_IF_ERROR(store_->Write("setting a mode", [&](RegistryTxn& txn) -> Status {
    const std::string_view key = subject.value_or(kGlobal);
    if (mode == Mode::kImport && !force) {
      DF_ASSIGN_OR_RETURN(Mode current, ModeInScope(txn, key));
      if (current != Mode::kImport) {
        // IMPORT needs no live schemas in its scope: imported ids must not meet existing ones.
        DF_ASSIGN_OR_RETURN(auto subjects, txn.Subjects(false, ""));
        bool found = false;
        for (const std::string& s : subjects) found = found || !subject || s == *subject;
        if (found) {
          return RegistryStatus(kOperationNotPermitted,
                                "Cannot import since found existing subjects");
        }
      }
    }
    return txn.PutSetting(Setting::kMode, key, std::string(ModeName(mode)));
  }));
  return mode;
}

Result<Mode> RegistryImpl::DeleteMode(std::string_view subject) {
  Mode out = Mode::kReadWrite;
  DF_RETURN_IF_ERROR(store_->Write("deleting a mode", [&](RegistryTxn& txn) -> Status {
    DF_ASSIGN_OR_RETURN(auto own, StoredMode(txn, subject));
    if (!own) return ModeNotConfigured(subject);
    out = *own;
    return txn.PutSetting(Setting::kMode, subject, std::nullopt);
  }));
  return out;
}

}  // namespace dataforge::registry
