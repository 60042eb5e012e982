// The embedded log after a torn or corrupted tail: the pipeline recovers, and the relay
// streams again what the truncated tail had lost, so the log and the store end exact.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "integration/cli_helpers.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

namespace fs = std::filesystem;

// The newest segment file of partition 0.
std::string LastSegment(const std::string& data_dir) {
  std::string last;
  for (const auto& e : fs::directory_iterator(data_dir + "/log/topics/users_created/0")) {
    if (e.path().extension() == ".log" && e.path().string() > last) last = e.path().string();
  }
  return last;
}

void ExpectExact(const std::string& data, int64_t fetched) {
  StatusJson s = Status(data);
  EXPECT_EQ(s.fetched, fetched);
  EXPECT_EQ(s.stored, fetched);
  EXPECT_EQ(s.store_rows, fetched);
  EXPECT_EQ(s.log_lag, 0);
  auto consume =
      RunDataforge({"topic", "consume", "users_created", "--from-beginning", "--data-dir", data});
  ASSERT_EQ(consume.exit_code, 0) << consume.err;
  EXPECT_EQ(static_cast<int64_t>(SplitLines(consume.out).size()), fetched);
  EXPECT_EQ(static_cast<int64_t>(ScanIds(data).size()), fetched);
}

TEST(LogRecoveryTest, TruncatedSegmentTailIsRecoveredAndRestreamed) {
  TempDir dir;
  std::string data = dir.Sub("data");
  ASSERT_EQ(RunDataforge({"run", "--max-records", "3000", "--data-dir", data}).exit_code, 0);
  std::string seg = LastSegment(data);
  ASSERT_FALSE(seg.empty());
  auto size = fs::file_size(seg);
  fs::resize_file(seg, size - 100);  // a torn last batch
  auto r = RunDataforge({"run", "--max-records", "500", "--data-dir", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("log recovery: a torn batch body"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("relay: streaming "), std::string::npos) << r.err;
  ExpectExact(data, 3500);
}

TEST(LogRecoveryTest, CorruptedByteInTheActiveSegmentIsRecoveredAndRestreamed) {
  TempDir dir;
  std::string data = dir.Sub("data");
  ASSERT_EQ(RunDataforge({"run", "--max-records", "3000", "--data-dir", data}).exit_code, 0);
  std::string seg = LastSegment(data);
  auto size = fs::file_size(seg);
  {
    FILE* f = fopen(seg.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    fseek(f, static_cast<long>(size / 2), SEEK_SET);
    int c = fgetc(f);
    fseek(f, static_cast<long>(size / 2), SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
  }
  auto r = RunDataforge({"run", "--max-records", "500", "--data-dir", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("log recovery: checksum"), std::string::npos) << r.err;
  ExpectExact(data, 3500);
}

}  // namespace
}  // namespace dataforge::testing
