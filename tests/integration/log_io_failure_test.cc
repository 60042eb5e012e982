// The embedded log's disk fails under the real binary (tools/io_fault_preload.cc): the run stops
// with exit code 1 and one line naming the segment file and the cause, and the next run on a
// healthy disk recovers the log and balances. The fault model in full (power cuts, every call
// site) is tested through the FileSystem seam in src/log/embedded/embedded_log_fault_test.cc;
// tests/integration/disk_full_test.cc keeps what only a real full disk shows (SQLite, RocksDB).
#include <cerrno>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "integration/cli_helpers.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

struct IoFault {
  const char* call;  // fdatasync or write
  int err;
  const char* name;
  const char* cause;  // strerror text in the error line
};

class LogIoFailureTest : public ::testing::TestWithParam<IoFault> {};

std::vector<std::string> FaultEnv(const std::string& log_dir, const IoFault& fault) {
  // ASan wants its runtime first in the library list; the preloaded tool comes before it.
  const char* asan = std::getenv("ASAN_OPTIONS");
  std::string asan_options = std::string(asan != nullptr ? asan : "") +
                             (asan != nullptr && *asan != '\0' ? ":" : "") +
                             "verify_asan_link_order=0";
  std::string preload = std::string("LD_PRELOAD=") + IO_FAULT_PRELOAD;
  return {preload,
          "DF_IO_FAULT_DIR=" + log_dir,
          std::string("DF_IO_FAULT_CALL=") + fault.call,
          "DF_IO_FAULT_AFTER=3",
          "DF_IO_FAULT_ERRNO=" + std::to_string(fault.err),
          "ASAN_OPTIONS=" + asan_options};
}

TEST_P(LogIoFailureTest, RunExitsOneWithOneLineNamingTheSegmentAndTheNextRunRecovers) {
  const IoFault& fault = GetParam();
  TempDir dir;
  std::string data = dir.Sub("data");
  auto r = RunDataforge({"run", "--max-records", "3000", "--data-dir", data}, 300000,
                        FaultEnv(data + "/log/", fault));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.signal, 0);
  auto lines = SplitLines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;  // one line, nothing after it
  const std::string& line = lines[0];
  EXPECT_EQ(line.rfind("dataforge: ", 0), 0u) << line;
  std::string what = std::string(fault.call) == "write" ? "cannot write " : "cannot fsync ";
  std::string segment_dir = data + "/log/topics/users_created/";
  EXPECT_NE(line.find("cannot append to the log: " + what + segment_dir), std::string::npos)
      << line;
  EXPECT_NE(line.find(std::string(".log: ") + fault.cause), std::string::npos) << line;

  // A healthy disk: the next run recovers the log (a prefix of what was appended) and balances.
  auto again = RunDataforge({"run", "--max-records", "100", "--data-dir", data}, 300000);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  StatusJson s = Status(data);
  EXPECT_GE(s.fetched, 100);
  EXPECT_EQ(s.staged, s.fetched);
  EXPECT_EQ(s.streamed, s.fetched);
  EXPECT_EQ(s.stored + s.dead_lettered, s.fetched);
  EXPECT_EQ(s.store_rows, s.stored);
  EXPECT_EQ(s.log_lag, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, LogIoFailureTest,
    ::testing::Values(IoFault{"fdatasync", EIO, "fsync_EIO", "Input/output error"},
                      IoFault{"write", ENOSPC, "write_ENOSPC",
                              "No space left on device (the disk is full: free space, then run "
                              "again)"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace dataforge::testing
