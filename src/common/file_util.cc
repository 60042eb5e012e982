#include "common/file_util.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace dataforge {

Status WriteFileAtomically(FileSystem* fs, const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  Status s = [&]() -> Status {
    DF_ASSIGN_OR_RETURN(auto file, fs->NewWritableFile(tmp));
    DF_RETURN_IF_ERROR(file->Append(text));
    DF_RETURN_IF_ERROR(file->Sync());
    DF_RETURN_IF_ERROR(file->Close());
    return fs->Rename(tmp, path);
  }();
  if (!s.ok()) {
    (void)fs->RemoveFile(tmp);
    return s;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return fs->SyncDir(dir.empty() ? "." : dir);
}

Status CheckWorkingDirectory() {
  std::error_code ec;
  (void)std::filesystem::current_path(ec);
  if (!ec) return Status::OK();
  return Status::IOError(
      fmt::format("the current directory no longer exists ({}): cd into an existing directory, "
                  "or give --data-dir as an absolute path",
                  ec.message()));
}

}  // namespace dataforge
