#include "common/testing/fault_injection_fs.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

namespace dataforge::testing {

std::string FaultInjectionFs::DirOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).lexically_normal().parent_path().string();
  return dir.empty() ? "." : dir;
}

namespace {

std::string Normal(const std::string& dir) {
  std::string n = std::filesystem::path(dir).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

Status PowerIsOff(const std::string& path) {
  return Status::IOError(fmt::format("{}: the power is off (simulated power cut)", path));
}

}  // namespace

FaultInjectionFs::Fault FaultInjectionFs::BeginCall(const std::string& op, const std::string& what,
                                                    const std::string& path, bool is_sync,
                                                    Status* status) {
  std::lock_guard lock(mu_);
  if (dead_) {
    *status = PowerIsOff(path);
    return Fault::kDead;
  }
  auto n = static_cast<int64_t>(calls_++);
  call_log_.push_back(op + " " + path);
  if (is_sync && static_cast<int64_t>(syncs_++) == cut_at_sync_) {
    dead_ = true;
    *status = PowerIsOff(path);
    return cut_after_sync_ ? Fault::kPowerCutAfter : Fault::kPowerCut;
  }
  if (n == fail_call_) {
    *status = ErrnoStatus(what, path, fail_errno_);
    return Fault::kFail;
  }
  return Fault::kNone;
}

void FaultInjectionFs::FileSynced(const std::string& path) {
  auto size = base_->FileSize(path);
  std::lock_guard lock(mu_);
  if (size.ok()) synced_size_[path] = *size;
}

// A WritableFile that reports its calls to the FaultInjectionFs that opened it.
class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionFs* fs, std::unique_ptr<WritableFile> base)
      : fs_(fs), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    Status s;
    auto fault = fs_->BeginCall("append", "cannot write", path(), false, &s);
    if (fault == FaultInjectionFs::Fault::kFail) {
      (void)base_->Append(data.substr(0, data.size() / 2));  // a short write, then the error
      return s;
    }
    if (fault != FaultInjectionFs::Fault::kNone) return s;
    return base_->Append(data);
  }
  Status Truncate(uint64_t size) override {
    Status s;
    if (fs_->BeginCall("truncate", "cannot truncate", path(), false, &s) !=
        FaultInjectionFs::Fault::kNone) {
      return s;
    }
    DF_RETURN_IF_ERROR(base_->Truncate(size));
    std::lock_guard lock(fs_->mu_);
    auto it = fs_->synced_size_.find(path());
    if (it != fs_->synced_size_.end()) it->second = std::min(it->second, size);
    return Status::OK();
  }
  Status Sync() override {
    Status s;
    auto fault = fs_->BeginCall("sync", "cannot fsync", path(), true, &s);
    if (fault == FaultInjectionFs::Fault::kPowerCutAfter && base_->Sync().ok()) {
      fs_->FileSynced(path());
    }
    if (fault != FaultInjectionFs::Fault::kNone) return s;
    DF_RETURN_IF_ERROR(base_->Sync());
    fs_->FileSynced(path());
    return Status::OK();
  }
  Status Close() override { return base_->Close(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionFs* const fs_;
  std::unique_ptr<WritableFile> base_;
};

void FaultInjectionFs::FailCall(uint64_t n, int err) {
  std::lock_guard lock(mu_);
  fail_call_ = static_cast<int64_t>(n);
  fail_errno_ = err;
}

void FaultInjectionFs::CutPowerAtSync(uint64_t k, bool after_sync) {
  std::lock_guard lock(mu_);
  cut_at_sync_ = static_cast<int64_t>(k);
  cut_after_sync_ = after_sync;
}

Status FaultInjectionFs::PowerCut() {
  std::lock_guard lock(mu_);
  // Data: every file written through us goes back to its durable size.
  for (const auto& [path, durable] : synced_size_) {
    auto size = base_->FileSize(path);
    if (size.ok() && *size > durable) DF_RETURN_IF_ERROR(base_->TruncateFile(path, durable));
  }
  // Names: undo creations, renames and links whose directory was not synced, newest first.
  for (auto op = pending_.rbegin(); op != pending_.rend(); ++op) {
    switch (op->kind) {
      case DirOp::kCreate:
      case DirOp::kLink:
        if (base_->FileExists(op->path)) DF_RETURN_IF_ERROR(base_->RemoveFile(op->path));
        break;
      case DirOp::kRename:
        if (base_->FileExists(op->path)) DF_RETURN_IF_ERROR(base_->Rename(op->path, op->from));
        if (op->replaced) {
          DF_ASSIGN_OR_RETURN(auto file, base_->NewWritableFile(op->path));
          DF_RETURN_IF_ERROR(file->Append(op->replaced_content));
          DF_RETURN_IF_ERROR(file->Close());
        }
        break;
    }
  }
  pending_.clear();
  synced_size_.clear();
  dead_ = false;
  cut_at_sync_ = -1;
  fail_call_ = -1;
  return Status::OK();
}

uint64_t FaultInjectionFs::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

uint64_t FaultInjectionFs::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

std::vector<std::string> FaultInjectionFs::call_log() const {
  std::lock_guard lock(mu_);
  return call_log_;
}

bool FaultInjectionFs::power_is_off() const {
  std::lock_guard lock(mu_);
  return dead_;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFs::NewWritableFile(const std::string& path) {
  Status s;
  if (BeginCall("create", "cannot create", path, false, &s) != Fault::kNone) return s;
  bool existed = base_->FileExists(path);
  DF_ASSIGN_OR_RETURN(auto file, base_->NewWritableFile(path));
  {
    std::lock_guard lock(mu_);
    synced_size_[path] = 0;  // truncated: the old bytes are gone, the new ones not yet synced
    if (!existed) pending_.push_back({DirOp::kCreate, DirOf(path), path, "", false, ""});
  }
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, std::move(file)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFs::NewAppendableFile(const std::string& path) {
  Status s;
  if (BeginCall("create", "cannot open", path, false, &s) != Fault::kNone) return s;
  bool existed = base_->FileExists(path);
  DF_ASSIGN_OR_RETURN(auto file, base_->NewAppendableFile(path));
  auto size = base_->FileSize(path);
  {
    std::lock_guard lock(mu_);
    if (!synced_size_.contains(path)) synced_size_[path] = existed && size.ok() ? *size : 0;
    if (!existed) pending_.push_back({DirOp::kCreate, DirOf(path), path, "", false, ""});
  }
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, std::move(file)));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionFs::NewRandomAccessFile(
    const std::string& path) {
  if (power_is_off()) return PowerIsOff(path);
  return base_->NewRandomAccessFile(path);
}

Status FaultInjectionFs::Rename(const std::string& from, const std::string& to) {
  Status s;
  if (BeginCall("rename", fmt::format("cannot rename {} to", from), to, false, &s) !=
      Fault::kNone) {
    return s;
  }
  DirOp op{DirOp::kRename, DirOf(to), to, from, base_->FileExists(to), ""};
  if (op.replaced) {
    DF_ASSIGN_OR_RETURN(op.replaced_content, ReadFileToString(base_, to));
    std::lock_guard lock(mu_);
    auto it = synced_size_.find(to);
    if (it != synced_size_.end() && it->second < op.replaced_content.size()) {
      op.replaced_content.resize(it->second);
    }
  }
  DF_RETURN_IF_ERROR(base_->Rename(from, to));
  std::lock_guard lock(mu_);
  auto it = synced_size_.find(from);
  if (it != synced_size_.end()) {
    synced_size_[to] = it->second;
    synced_size_.erase(from);
  } else {
    synced_size_.erase(to);
  }
  pending_.push_back(std::move(op));
  return Status::OK();
}

Status FaultInjectionFs::LinkFile(const std::string& from, const std::string& to) {
  Status s;
  if (BeginCall("link", fmt::format("cannot link {} as", from), to, false, &s) != Fault::kNone) {
    return s;
  }
  DF_RETURN_IF_ERROR(base_->LinkFile(from, to));
  std::lock_guard lock(mu_);
  auto it = synced_size_.find(from);
  if (it != synced_size_.end()) synced_size_[to] = it->second;
  pending_.push_back({DirOp::kLink, DirOf(to), to, from, false, ""});
  return Status::OK();
}

Status FaultInjectionFs::RemoveFile(const std::string& path) {
  Status s;
  if (BeginCall("remove", "cannot delete", path, false, &s) != Fault::kNone) return s;
  DF_RETURN_IF_ERROR(base_->RemoveFile(path));
  std::lock_guard lock(mu_);
  synced_size_.erase(path);
  return Status::OK();
}

Status FaultInjectionFs::TruncateFile(const std::string& path, uint64_t size) {
  Status s;
  if (BeginCall("truncate", "cannot truncate", path, false, &s) != Fault::kNone) return s;
  DF_RETURN_IF_ERROR(base_->TruncateFile(path, size));
  std::lock_guard lock(mu_);
  auto it = synced_size_.find(path);
  if (it != synced_size_.end()) it->second = std::min(it->second, size);
  return Status::OK();
}

Status FaultInjectionFs::SyncDir(const std::string& dir) {
  Status s;
  auto fault = BeginCall("syncdir", "cannot fsync directory", dir, true, &s);
  if (fault != Fault::kNone && fault != Fault::kPowerCutAfter) return s;
  Status synced = base_->SyncDir(dir);
  if (synced.ok()) {
    std::string d = Normal(dir);
    std::lock_guard lock(mu_);
    std::erase_if(pending_, [&](const DirOp& op) { return op.dir == d; });
  }
  return fault == Fault::kPowerCutAfter ? s : synced;
}

Status FaultInjectionFs::CreateDirs(const std::string& dir) {
  Status s;
  if (BeginCall("mkdir", "cannot create directory", dir, false, &s) != Fault::kNone) return s;
  return base_->CreateDirs(dir);
}

Result<std::vector<std::string>> FaultInjectionFs::ListDir(const std::string& dir) {
  if (power_is_off()) return PowerIsOff(dir);
  return base_->ListDir(dir);
}

Result<uint64_t> FaultInjectionFs::FileSize(const std::string& path) {
  if (power_is_off()) return PowerIsOff(path);
  return base_->FileSize(path);
}

bool FaultInjectionFs::FileExists(const std::string& path) {
  return !power_is_off() && base_->FileExists(path);
}

Status FaultInjectionFs::DropCachedPages(const std::string& path, uint64_t offset,
                                         uint64_t length) {
  return base_->DropCachedPages(path, offset, length);
}

Result<std::unique_ptr<FileLock>> FaultInjectionFs::LockFile(const std::string& path,
                                                             std::string* holder) {
  Status s;
  if (BeginCall("lock", "cannot open", path, false, &s) != Fault::kNone) return s;
  return base_->LockFile(path, holder);
}

}  // namespace dataforge::testing
