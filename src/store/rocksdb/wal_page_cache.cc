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
  // Advises the synced bytes up to the last whole page: the partial last page is written again
  // by the next append, which would otherwise read it back from the disk. The kernel drops only
  // cached folios wholly inside the range, and a folio may span up to 2 MiB, so each range
  // starts that far back (advising bytes with no pages costs little).
  void DropSynced(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) {
    constexpr uint64_t kFolioSpan = 2 << 20;
    static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    uint64_t end = target()->GetFileSize(options, dbg) / page * page;
    if (end <= dropped_) return;
    if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return;  // only a hint
    uint64_t from = dropped_ / kFolioSpan * kFolioSpan;
    (void)::posix_fadvise(fd_, static_cast<off_t>(from), static_cast<off_t>(end - from),
                          POSIX_FADV_DONTNEED);
    dropped_ = end;
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
