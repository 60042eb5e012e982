#include "pipeline/data_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/testing/fault_injection_fs.h"

namespace dataforge {
namespace {

// Regression: `status` reading a data dir while `run` created it wrote the same ID.tmp and one
// of them failed with "cannot write .../ID: No such file or directory" (or the two kept
// different ids). Every concurrent caller must get the one id that ends up in the file.
TEST(DataDirTest, ConcurrentFirstCallsAgreeOnOneId) {
  char tmpl[] = "/tmp/df_datadir_XXXXXX";
  std::string root = mkdtemp(tmpl);
  for (int round = 0; round < 20; ++round) {
    std::string dir = root + "/d" + std::to_string(round);
    std::filesystem::create_directories(dir);
    std::vector<std::string> ids(8);
    std::vector<std::string> errors(8);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        auto id = DataDirId(dir);
        if (id.ok()) {
          ids[t] = *id;
        } else {
          errors[t] = id.status().ToString();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
    EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
    std::ifstream in(dir + "/ID");
    std::string in_file;
    in >> in_file;
    EXPECT_EQ(in_file, ids[0]);
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                            std::filesystem::directory_iterator()),
              1);  // no temporary file left behind
  }
  std::filesystem::remove_all(root);
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Every file-system call of creating the ID fails in turn, with EIO and with ENOSPC: the error
// names the file and the cause, no temporary file is left behind, and the next call (the disk
// healthy again) gives the data dir one id.
TEST(DataDirTest, FailedIdWriteNamesFileAndCauseAndLeavesNoTemporaryFile) {
  char tmpl[] = "/tmp/df_datadir_XXXXXX";
  std::string root = mkdtemp(tmpl);
  uint64_t calls = 0;
  {
    testing::FaultInjectionFs fs;
    ASSERT_TRUE(DataDirId(root, &fs).ok());
    calls = fs.calls();
    std::filesystem::remove(root + "/ID");
  }
  ASSERT_EQ(calls, 8u);  // create, append, sync, rename, sync dir; link, remove, sync dir
  for (int err : {EIO, ENOSPC}) {
    for (uint64_t n = 0; n < calls; ++n) {
      std::string dir = fmt::format("{}/{}-{}", root, err, n);
      std::filesystem::create_directories(dir);
      testing::FaultInjectionFs fs;
      fs.FailCall(n, err);
      auto id = DataDirId(dir, &fs);
      std::string call = fs.call_log().at(n);
      SCOPED_TRACE(call);
      if (call.starts_with("remove ")) {
        // Removing the temporary name after the link: the id is in place, the stray name is
        // harmless and not worth failing the run for.
        EXPECT_TRUE(id.ok()) << id.status().ToString();
        continue;
      }
      ASSERT_FALSE(id.ok());
      const std::string& message = id.status().message();
      EXPECT_NE(message.find(call.substr(call.find(' ') + 1)), std::string::npos) << message;
      EXPECT_NE(message.find(std::strerror(err)), std::string::npos) << message;
      EXPECT_EQ(id.status().code(),
                err == ENOSPC ? StatusCode::kResourceExhausted : StatusCode::kIOError);
      // Only the last directory sync comes after the ID is linked in place.
      auto expected = n + 1 == calls ? std::vector<std::string>{"ID"} : std::vector<std::string>{};
      EXPECT_EQ(Names(dir), expected);
      auto again = DataDirId(dir);
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      EXPECT_EQ(again->size(), 36u);
      EXPECT_EQ(*DataDirId(dir), *again);
    }
  }
  std::filesystem::remove_all(root);
}

TEST(DataDirTest, FailedDataDirCreationNamesTheDirectoryAndTheCause) {
  char tmpl[] = "/tmp/df_datadir_XXXXXX";
  std::string root = mkdtemp(tmpl);
  std::string dir = root + "/data";
  testing::FaultInjectionFs fs;
  fs.FailCall(0, ENOSPC);
  EXPECT_EQ(PrepareDataDir(dir, /*create=*/true, &fs).ToString(),
            "ResourceExhausted: cannot create data dir " + dir + ": cannot create directory " +
                dir + ": No space left on device (the disk is full: free space, then run again)");
  fs.FailCall(1, EIO);
  EXPECT_EQ(PrepareDataDir(dir, /*create=*/true, &fs).ToString(),
            "IOError: cannot create data dir " + dir + ": cannot create directory " + dir +
                ": Input/output error (choose another --data-dir or fix the permissions)");
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_TRUE(PrepareDataDir(dir, /*create=*/true, &fs).ok());
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  std::filesystem::remove_all(root);
}

TEST(DataDirTest, FailedLockFileNamesFileAndCause) {
  char tmpl[] = "/tmp/df_datadir_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  {
    testing::FaultInjectionFs fs;
    fs.FailCall(0, EIO);
    auto lock = DataDirLock::Acquire(dir, &fs);
    EXPECT_EQ(lock.status().ToString(),
              "IOError: cannot open " + dir +
                  "/LOCK: Input/output error (fix the permissions or choose another --data-dir)");
  }
  {
    testing::FaultInjectionFs fs;
    fs.FailCall(0, ENOSPC);
    auto lock = DataDirLock::Acquire(dir, &fs);
    EXPECT_EQ(lock.status().ToString(),
              "ResourceExhausted: cannot open " + dir +
                  "/LOCK: No space left on device (the disk is full: free space, then run again)");
  }
  auto lock = DataDirLock::Acquire(dir);
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  auto second = DataDirLock::Acquire(dir);
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(fmt::format("(pid {})", getpid())), std::string::npos)
      << second.status().message();
  std::filesystem::remove_all(dir);
}

// The backends file: absent until recorded; a run with another backend is refused naming both
// URLs; another password of the same server is the same backend and is recorded; mode 0600.
TEST(DataDirTest, RecordedBackends) {
  char tmpl[] = "/tmp/df_backends_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  PipelineConfig config;
  config.log.url = "kafka://127.0.0.1:9092";
  config.staging.url = "postgresql://u:pw1@127.0.0.1:5432/db";
  auto none = ReadRecordedBackends(dir);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  EXPECT_TRUE(CheckRecordedBackends(dir, config).ok());
  ASSERT_TRUE(RecordBackends(dir, config).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/backends").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir + "/backends.tmp"));
  auto read = ReadRecordedBackends(dir);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->log, "kafka://127.0.0.1:9092");
  EXPECT_EQ((*read)->staging, "postgresql://u:pw1@127.0.0.1:5432/db");
  EXPECT_EQ((*read)->store, "rocksdb://store");

  PipelineConfig rotated = config;
  rotated.staging.url = "postgresql://u:pw2@127.0.0.1:5432/db";
  EXPECT_TRUE(CheckRecordedBackends(dir, rotated).ok());
  ASSERT_TRUE(RecordBackends(dir, rotated).ok());
  EXPECT_EQ((*ReadRecordedBackends(dir))->staging, "postgresql://u:pw2@127.0.0.1:5432/db");

  PipelineConfig other = rotated;
  other.log.url = "file://log";
  Status s = CheckRecordedBackends(dir, other);
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(),
            fmt::format("data dir {} belongs to other backends: it was run with --log "
                        "kafka://127.0.0.1:9092 (this run: file://log); run with --log "
                        "kafka://127.0.0.1:9092 (or without the flag, or use another "
                        "--data-dir for these backends)",
                        dir));

  std::ofstream(dir + "/backends") << "log=kafka://h:1\nstore\n";
  auto bad = ReadRecordedBackends(dir);
  EXPECT_EQ(bad.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(bad.status().message(),
            dir +
                "/backends:2: expected log=URL, staging=URL or store=URL (delete the file to "
                "record the backends of the next run)");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge
