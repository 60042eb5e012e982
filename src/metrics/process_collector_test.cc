#include "metrics/process_collector.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

namespace dataforge::metrics {
namespace {

namespace fs = std::filesystem;

class FakeProc {
 public:
  FakeProc() {
    dir_ = fs::temp_directory_path() / fmt::format("df_proc_{}_{}", getpid(), counter_++);
    fs::create_directories(dir_ / "self" / "fd");
  }
  ~FakeProc() { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::string self() const { return (dir_ / "self").string(); }
  std::string stat() const { return (dir_ / "stat").string(); }
  fs::path dir_;
  static inline int counter_ = 0;
};

// A /proc/<pid>/stat line: fields numbered from 1 (pid) as proc(5) numbers them.
std::string StatLine(const std::string& comm) {
  std::string line = "1234 (" + comm + ")";
  for (int field = 3; field <= 52; ++field) {
    std::string v = field == 3    ? "S"
                    : field == 14 ? "250"        // utime, ticks
                    : field == 15 ? "150"        // stime
                    : field == 22 ? "5000"       // starttime, ticks after boot
                    : field == 23 ? "104857600"  // vsize, bytes
                    : field == 24 ? "2560"       // rss, pages
                                  : "0";
    line += " " + v;
  }
  return line + "\n";
}

TEST(ProcessCollectorTest, ReadsStatLimitsAndFds) {
  FakeProc p;
  p.Write("self/stat", StatLine("data forge (x) y"));  // spaces and parentheses in the name
  p.Write("self/limits",
          "Limit                     Soft Limit           Hard Limit           Units\n"
          "Max cpu time              unlimited            unlimited            seconds\n"
          "Max open files            1024                 1048576              files\n");
  for (int i = 0; i < 3; ++i) p.Write(fmt::format("self/fd/{}", i), "");
  p.Write("stat", "cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n");
  auto s = ReadProcessStats(p.self(), p.stat(), 100, 4096);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1700000050.0);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 104857600.0);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 2560.0 * 4096);
  EXPECT_DOUBLE_EQ(s->max_fds, 1024.0);
  EXPECT_DOUBLE_EQ(s->open_fds, 3.0);
}

TEST(ProcessCollectorTest, MissingOrMalformedFilesAreNamed) {
  FakeProc p;
  auto missing = ReadProcessStats(p.self(), p.stat(), 100, 4096);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "cannot read " + p.self() + "/stat");
  p.Write("self/stat", "1234 (x) S 1 2\n");
  auto short_line = ReadProcessStats(p.self(), p.stat(), 100, 4096);
  ASSERT_FALSE(short_line.ok());
  EXPECT_EQ(short_line.status().message(), p.self() + "/stat: 5 fields, expected at least 24");
  p.Write("self/stat", StatLine("x"));
  p.Write("stat", "cpu 1\n");
  auto no_btime = ReadProcessStats(p.self(), p.stat(), 100, 4096);
  ASSERT_FALSE(no_btime.ok());
  EXPECT_EQ(no_btime.status().message(), p.stat() + ": no btime line");
}

TEST(ProcessCollectorTest, ThisProcess) {
  auto before =
      ReadProcessStats("/proc/self", "/proc/stat", sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  int fds[5];
  for (int& fd : fds) fd = open("/dev/null", O_RDONLY);
  auto after =
      ReadProcessStats("/proc/self", "/proc/stat", sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
  for (int fd : fds) close(fd);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->open_fds - before->open_fds, 5.0);
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  EXPECT_EQ(after->max_fds, static_cast<double>(lim.rlim_cur));
  EXPECT_GT(after->resident_bytes, 0);
  EXPECT_GE(after->virtual_bytes, after->resident_bytes);
  EXPECT_LE(after->start_time_seconds, static_cast<double>(time(nullptr)) + 1);
  EXPECT_GT(after->start_time_seconds, static_cast<double>(time(nullptr)) - 3600);

  std::set<std::string> names;
  for (const auto& f : ProcessCollector().Collect()) names.insert(f.name);
  EXPECT_EQ(names,
            (std::set<std::string>{"process_cpu_seconds_total", "process_max_fds",
                                   "process_open_fds", "process_resident_memory_bytes",
                                   "process_start_time_seconds", "process_virtual_memory_bytes"}));
  EXPECT_TRUE(ProcessCollector("/nonexistent").Collect().empty());
}

}  // namespace
}  // namespace dataforge::metrics
