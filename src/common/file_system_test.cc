// The POSIX FileSystem's errors, and the fault-injecting one's model of a power cut (the other
// fault tests are only as good as this model).
#include "common/file_system.h"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/testing/fault_injection_fs.h"
#include "common/testing/page_cache.h"

namespace dataforge {
namespace {

using dataforge::testing::FaultInjectionFs;

class FileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_fs_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Content(const std::string& path) {
    auto text = ReadFileToString(FileSystem::Default(), path);
    return text.ok() ? *text : "<" + text.status().ToString() + ">";
  }
  std::string dir_;
};

TEST_F(FileSystemTest, ErrorsNameThePathAndTheCause) {
  FileSystem* fs = FileSystem::Default();
  auto missing = fs->NewRandomAccessFile(dir_ + "/nope");
  EXPECT_EQ(missing.status().ToString(),
            "NotFound: cannot open " + dir_ + "/nope: No such file or directory");
  EXPECT_EQ(fs->Rename(dir_ + "/a", dir_ + "/b").ToString(),
            "NotFound: cannot rename " + dir_ + "/a to " + dir_ + "/b: No such file or directory");
  EXPECT_EQ(ErrnoStatus("cannot write", "/x", ENOSPC).ToString(),
            "ResourceExhausted: cannot write /x: No space left on device (the disk is full: free "
            "space, then run again)");
  EXPECT_EQ(ErrnoStatus("cannot fsync", "/x", EIO).ToString(),
            "IOError: cannot fsync /x: Input/output error");
}

TEST_F(FileSystemTest, CreateDirsListAndSize) {
  FileSystem* fs = FileSystem::Default();
  ASSERT_TRUE(fs->CreateDirs(dir_ + "/a/b/c").ok());
  ASSERT_TRUE(fs->CreateDirs(dir_ + "/a/b/c").ok());  // exists: fine
  ASSERT_TRUE(WriteFileAtomically(fs, dir_ + "/a/f", "hello").ok());
  auto names = fs->ListDir(dir_ + "/a");
  ASSERT_TRUE(names.ok());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"b", "f"}));
  EXPECT_EQ(*fs->FileSize(dir_ + "/a/f"), 5u);
  EXPECT_EQ(fs->ListDir(dir_ + "/none").status().code(), StatusCode::kNotFound);
}

TEST_F(FileSystemTest, PowerCutDropsBytesAppendedAfterTheLastSync) {
  FaultInjectionFs fs;
  std::string path = dir_ + "/f";
  auto file = fs.NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(fs.SyncDir(dir_).ok());
  ASSERT_TRUE((*file)->Append("durable").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append("-lost").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Content(path), "durable-lost");
  ASSERT_TRUE(fs.PowerCut().ok());
  EXPECT_EQ(Content(path), "durable");
}

// The cache hint drops a synced file's pages and the content reads back the same, also through
// the fault-injecting file system (it passes the hint on and does not count it as a mutating
// call).
TEST_F(FileSystemTest, DropCachedPagesEvictsSyncedPagesAndKeepsTheContent) {
  FaultInjectionFs fault_fs;
  for (FileSystem* fs : {FileSystem::Default(), static_cast<FileSystem*>(&fault_fs)}) {
    std::string path = dir_ + (fs == &fault_fs ? "/fault" : "/posix");
    std::string data;
    for (int i = 0; i < 64 * 1024 + 100; ++i) data += static_cast<char>('a' + i % 26);
    auto file = fs->NewAppendableFile(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(data).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    uint64_t calls = fault_fs.calls();
    ASSERT_TRUE(fs->DropCachedPages(path, 0, data.size()).ok()) << path;
    EXPECT_EQ(fault_fs.calls(), calls);
    EXPECT_EQ(testing::ResidentPages(path, 0, data.size()), 0) << path;
    EXPECT_EQ(Content(path), data) << path;
    ASSERT_TRUE((*file)->Close().ok());
  }
  EXPECT_EQ(FileSystem::Default()->DropCachedPages(dir_ + "/none", 0, 1).ToString(),
            "NotFound: cannot open " + dir_ + "/none: No such file or directory");
}

TEST_F(FileSystemTest, PowerCutRemovesAFileWhoseDirectoryWasNotSynced) {
  FaultInjectionFs fs;
  std::string path = dir_ + "/f";
  auto file = fs.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("synced data, unsynced name").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE(fs.PowerCut().ok());
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(FileSystemTest, PowerCutBeforeTheDirectorySyncUndoesARenameOverAFile) {
  std::string path = dir_ + "/meta";
  ASSERT_TRUE(WriteFileAtomically(FileSystem::Default(), path, "old").ok());
  FaultInjectionFs fs;
  // WriteFileAtomically's directory sync is its last sync: cut the power there.
  fs.CutPowerAtSync(1, /*after_sync=*/false);
  Status s = WriteFileAtomically(&fs, path, "new");
  EXPECT_EQ(s.ToString(), "IOError: " + dir_ + ": the power is off (simulated power cut)");
  EXPECT_EQ(Content(path), "new");  // before the cut the page cache has it
  ASSERT_TRUE(fs.PowerCut().ok());
  EXPECT_EQ(Content(path), "old");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  // With the directory synced, the new content stays.
  FaultInjectionFs fs2;
  ASSERT_TRUE(WriteFileAtomically(&fs2, path, "new").ok());
  ASSERT_TRUE(fs2.PowerCut().ok());
  EXPECT_EQ(Content(path), "new");
}

TEST_F(FileSystemTest, InjectedFailuresCarryTheErrnoAndTheNthCallOnly) {
  FaultInjectionFs fs;
  std::string path = dir_ + "/f";
  fs.FailCall(1, ENOSPC);  // 0: create, 1: append, 2: sync
  auto file = fs.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((*file)->Append("0123456789").ToString(),
            "ResourceExhausted: cannot write " + path +
                ": No space left on device (the disk is full: free space, then run again)");
  EXPECT_EQ(Content(path), "01234");  // a short write
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(fs.call_log(),
            (std::vector<std::string>{"create " + path, "append " + path, "sync " + path}));
}

}  // namespace
}  // namespace dataforge
