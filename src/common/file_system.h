// The file-system seam: every byte DataForge's own on-disk formats write (the embedded log, the
// data dir's ID and LOCK files, WriteFileAtomically) goes through a FileSystem, so tests can
// drop unsynced data (a power cut) or fail any call with EIO or ENOSPC
// (common/testing/fault_injection_fs.h). Modelled on leveldb's Env and RocksDB's FileSystem.
// RocksDB, SQLite and librdkafka keep their own I/O.
//
// Durability contract (what survives a crash or power cut):
//   - Bytes appended to a WritableFile are durable once Sync() on it has returned OK; before
//     that they may be lost, in whole or from any point on.
//   - A file's creation, a Rename(), a LinkFile() and a RemoveFile() are durable once
//     SyncDir() of the directory holding the name has returned OK. Until then a power cut may
//     undo them (a renamed file is back under its old name, a new file is gone).
//   - CreateDirs() is durable when it returns: it syncs the parent of each directory it creates.
//   - After Sync() fails, the state of the unsynced bytes is unknown (Linux may have dropped
//     them from the page cache while marking them clean): callers must not retry and assume
//     success. The embedded log turns such a failure into a sticky error.
//
// Errors: every non-OK Status names the operation, the path and the errno text, e.g.
// "cannot fsync log segment /d/00000000000000000000.log: Input/output error". ENOSPC and
// EDQUOT map to ResourceExhausted with "(the disk is full: free space, then run again)";
// other errors are IOError (ENOENT from the open and stat calls is NotFound).
//
// Thread-safety: a FileSystem is safe to call from any thread. A WritableFile or
// RandomAccessFile is used by one thread at a time (RandomAccessFile::Read is also safe
// concurrently: it is a pread). Ownership: the caller owns the files it opens; FileSystem*
// handed to a component outlives it (Default() lives forever).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dataforge {

// An open file written at its end.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` at the end of the file (retrying short writes). On failure some
  // prefix of `data` may have been written; Truncate() back to the known size to undo it.
  virtual Status Append(std::string_view data) = 0;
  // Cuts the file to `size` bytes (not durable until the next Sync()).
  virtual Status Truncate(uint64_t size) = 0;
  // fdatasync: every byte appended so far is durable when this returns OK.
  virtual Status Sync() = 0;
  // Closes the file; unsynced bytes stay unsynced. Idempotent; the destructor closes too.
  virtual Status Close() = 0;
  virtual const std::string& path() const = 0;
};

// An open file read at any offset.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `n` bytes at `offset` into `scratch`; fewer only at the end of the file.
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const = 0;
  virtual Result<uint64_t> Size() const = 0;
  virtual const std::string& path() const = 0;
};

// An exclusive advisory lock (flock) held until destroyed or the process dies.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The real POSIX file system. Never null; lives for the whole process.
  static FileSystem* Default();

  // Creates `path` (truncating an existing file) for writing.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending at its end, creating it if missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  // NotFound if `path` does not exist.
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  // Atomically replaces `to` with `from` (rename(2)).
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // A second name for `from` (link(2)); fails ("File exists") if `to` exists, so the first
  // of several racing callers wins.
  virtual Status LinkFile(const std::string& from, const std::string& to) = 0;
  // Removes a file; NotFound if it is missing.
  virtual Status RemoveFile(const std::string& path) = 0;
  // Cuts a file (not open for writing) to `size` bytes.
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes the creations, renames, links and removals in `dir` durable (fsync of the dir).
  virtual Status SyncDir(const std::string& dir) = 0;
  // mkdir -p; each directory it creates is durable when this returns.
  virtual Status CreateDirs(const std::string& dir) = 0;

  // The names (not paths) in `dir`, unsorted, without "." and "..". NotFound if missing.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // NotFound if missing.
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;

  // Takes an exclusive flock on `path` (created if missing) without waiting and writes this
  // process's pid into it. Unavailable if another process holds it; then `*holder` (if not
  // null) gets the file's content, the holder's pid.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path,
                                                     std::string* holder) = 0;

  // A cache hint: the bytes [offset, offset + length) of `path` will not be read again soon,
  // so the kernel may drop their pages from its page cache (posix_fadvise DONTNEED; only whole
  // pages inside the range). Changes no content and no durability: dirty (unsynced) pages are
  // never dropped, and a later read gets the same bytes from the disk. Writers that append
  // much (the embedded log) use it for what their reader has consumed, so new appends reuse
  // those pages instead of growing the page cache (growing it costs ~5 µs of kernel time per
  // KiB written on our CI VM; docs/benchmarks.md "Issue 19: kernel time and ingest"). Callers
  // ignore its errors. The default does nothing.
  virtual Status DropCachedPages(const std::string& path, uint64_t offset, uint64_t length);
};

// The error for a failed call: "<what> <path>: <strerror(err)>", ResourceExhausted for
// ENOSPC/EDQUOT (with how to fix it), NotFound for ENOENT, IOError otherwise.
Status ErrnoStatus(std::string_view what, const std::string& path, int err);

// Reads a whole file. NotFound if it is missing.
Result<std::string> ReadFileToString(FileSystem* fs, const std::string& path);

}  // namespace dataforge
