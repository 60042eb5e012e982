#include "store/rocksdb/wal_page_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include <rocksdb/file_system.h>

namespace dataforge {
namespace {

bool IsWal(const std::string& fname) {
  return fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0;
}

class WalFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  WalFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string path)
      : FSWritableFileOwnerWrapper(std::move(file)), path_(std::move(path)) {}
  ~WalFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->Sync(options, dbg);
    if (s.ok()) DropSynced(options, dbg);
    return s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->Fsync(options, dbg);
    if (s.ok()) DropSynced(options, dbg);
    return s;
  }

 private:
  // Advises [dropped_, synced size) once; the partial last page stays (the kernel drops whole
  // pages only), so the next append does not read it back.
  void DropSynced(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) {
    uint64_t size = target()->GetFileSize(options, dbg);
    if (size <= dropped_) return;
    if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return;  // only a hint
    (void)::posix_fadvise(fd_, static_cast<off_t>(dropped_), static_cast<off_t>(size - dropped_),
                          POSIX_FADV_DONTNEED);
    dropped_ = size & ~uint64_t{4095};
  }

  const std::string path_;
  int fd_ = -1;
  uint64_t dropped_ = 0;
};

class WalCacheDroppingFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit WalCacheDroppingFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base)
      : FileSystemWrapper(base) {}
  const char* Name() const override { return "DataForgeWalCacheDropping"; }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(fname, opts, result, dbg);
    Wrap(fname, s, result);
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->ReuseWritableFile(fname, old_fname, opts, result, dbg);
    Wrap(fname, s, result);
    return s;
  }

 private:
  static void Wrap(const std::string& fname, const rocksdb::IOStatus& s,
                   std::unique_ptr<rocksdb::FSWritableFile>* result) {
    if (s.ok() && IsWal(fname) && *result != nullptr) {
      *result = std::make_unique<WalFile>(std::move(*result), fname);
    }
  }
};

}  // namespace

rocksdb::Env* WalCacheDroppingEnv() {
  static rocksdb::Env* env = rocksdb::NewCompositeEnv(std::make_shared<WalCacheDroppingFileSystem>(
                                                          rocksdb::FileSystem::Default()))
                                 .release();
  return env;
}

}  // namespace dataforge
