// Test only: a FileSystem over the real one that (1) remembers what has been made durable and
// can cut the power, dropping every byte not covered by a Sync() and undoing every creation,
// rename and link whose directory was not synced (leveldb's db/fault_injection_test.cc), and
// (2) fails a chosen call with a chosen errno (EIO, ENOSPC), as the disk would.
//
// Calls are numbered from 0 in the order they are made: "mutating calls" (create, append,
// truncate, sync, rename, link, remove, sync dir, create dirs, lock) for FailCall(), and
// "syncs" (WritableFile::Sync and SyncDir) for CutPowerAtSync(). call_log() names each
// mutating call ("sync /tmp/x/00000000000000000000.log"), so a test can say which call site
// it broke and check that the error names the same file.
//
// Model, worst case of what POSIX allows:
//   - A file's durable size is its size at its last successful Sync() (files this object did
//     not write count as durable as they are). A failed Sync() makes nothing durable.
//   - Creating a file, Rename() and LinkFile() are undone by a power cut unless SyncDir() of
//     the directory holding the new name succeeded after them. A rename over an existing file
//     brings the old file back. RemoveFile() and CreateDirs() are treated as durable at once.
//   - An injected Append() failure writes the first half of the bytes, then fails (a short
//     write, as a full disk does).
//
// Thread-safe (one mutex). The files it returns must not outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/file_system.h"

namespace dataforge::testing {

class FaultInjectionFs final : public FileSystem {
 public:
  explicit FaultInjectionFs(FileSystem* base = FileSystem::Default()) : base_(base) {}

  // The mutating call numbered `n` fails with `err` (and has no effect, but for the short
  // write of an Append). Every other call goes through.
  void FailCall(uint64_t n, int err);
  // At the sync numbered `k` the machine loses power: with `after_sync` the sync reaches the
  // disk first. That call and every later one fail (IOError "power cut") until PowerCut().
  void CutPowerAtSync(uint64_t k, bool after_sync);
  // Drops what is not durable (see the model above) from the real files, then starts a new
  // epoch in which everything on disk is durable and calls work again.
  Status PowerCut();

  uint64_t calls() const;
  uint64_t syncs() const;
  std::vector<std::string> call_log() const;
  bool power_is_off() const;

  // FileSystem.
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status LinkFile(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Status CreateDirs(const std::string& dir) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path, std::string* holder) override;
  // A cache hint: passed to the base file system (not a mutating call; it changes no content).
  Status DropCachedPages(const std::string& path, uint64_t offset, uint64_t length) override;

 private:
  friend class FaultWritableFile;
  // kDead: the power is off; kFail: the injected error; kPowerCut(After): the power goes off
  // at this sync, before (after) it reaches the disk.
  enum class Fault { kNone, kDead, kFail, kPowerCut, kPowerCutAfter };
  // Numbers a mutating call ("<op> <path>") and says whether it fails; *status gets the error
  // ("<what> <path>: <errno text>"). `is_sync` counts it as a sync too.
  Fault BeginCall(const std::string& op, const std::string& what, const std::string& path,
                  bool is_sync, Status* status);
  void FileSynced(const std::string& path);  // after a successful Sync()

  struct DirOp {
    enum Kind { kCreate, kRename, kLink } kind;
    std::string dir;               // the directory whose sync makes it durable
    std::string path;              // the new name
    std::string from;              // kRename: the old name
    bool replaced = false;         // kRename: `path` existed and was replaced
    std::string replaced_content;  // its durable bytes
  };
  static std::string DirOf(const std::string& path);

  FileSystem* const base_;
  mutable std::mutex mu_;
  uint64_t calls_ = 0;                           // guarded by mu_
  uint64_t syncs_ = 0;                           // guarded by mu_
  std::vector<std::string> call_log_;            // guarded by mu_
  int64_t fail_call_ = -1;                       // guarded by mu_
  int fail_errno_ = 0;                           // guarded by mu_
  int64_t cut_at_sync_ = -1;                     // guarded by mu_
  bool cut_after_sync_ = false;                  // guarded by mu_
  bool dead_ = false;                            // guarded by mu_
  std::map<std::string, uint64_t> synced_size_;  // guarded by mu_; files written through us
  std::vector<DirOp> pending_;                   // guarded by mu_; oldest first
};

}  // namespace dataforge::testing
