#include "orchestrate/tasks/subprocess_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

namespace dataforge {
namespace {

SubprocessResult RunCmd(const std::string& command, SubprocessSpec spec = {},
                        std::stop_token stop = {}) {
  spec.command = command;
  auto r = RunSubprocess(spec, stop);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : SubprocessResult{};
}

int64_t Ms(int64_t us) {
  return us / 1000;
}

// Processes whose parent is this process (running or zombie), from /proc.
std::vector<pid_t> OurChildren() {
  std::vector<pid_t> out;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    pid_t pid = static_cast<pid_t>(atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == getpid()) out.push_back(pid);
  }
  closedir(dir);
  return out;
}

// Running (a zombie waiting for init to reap it counts as gone).
bool ProcessAlive(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z' &&
         stat[paren + 2] != 'X';
}

TEST(SubprocessRunner, ExitCodes) {
  SubprocessResult ok = RunCmd("true");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.signal, 0);
  EXPECT_FALSE(ok.timed_out);
  EXPECT_FALSE(ok.cancelled);
  EXPECT_EQ(RunCmd("exit 3").exit_code, 3);
  EXPECT_EQ(RunCmd("/nonexistent/command").exit_code, 127);
}

TEST(SubprocessRunner, EndedBySignal) {
  SubprocessResult r = RunCmd("kill -9 $$");
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGKILL);
}

TEST(SubprocessRunner, CapturesBothStreamsInOrder) {
  SubprocessResult r = RunCmd("echo out; echo err >&2; echo out2");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "out\nerr\nout2\n");
  EXPECT_FALSE(r.truncated);
}

TEST(SubprocessRunner, StdinIsDevNull) {
  SubprocessResult r = RunCmd("cat; echo done");
  EXPECT_EQ(r.output, "done\n");
}

TEST(SubprocessRunner, KeepsTheTailOfLongOutput) {
  SubprocessSpec spec;
  spec.max_output_bytes = 1000;
  // 1 MB of 'a' lines, then a recognisable end.
  SubprocessResult r = RunCmd("head -c 1048576 /dev/zero | tr '\\0' a; echo; echo THE-END", spec);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.truncated);
  ASSERT_EQ(r.output.size(), 1000u);
  EXPECT_EQ(r.output.substr(r.output.size() - 8), "THE-END\n");
  EXPECT_EQ(r.output.substr(0, 10), std::string(10, 'a'));
}

TEST(SubprocessRunner, OutputOfExactlyTheLimitIsNotTruncated) {
  SubprocessSpec spec;
  spec.max_output_bytes = 6;
  SubprocessResult r = RunCmd("printf 123456", spec);
  EXPECT_EQ(r.output, "123456");
  EXPECT_FALSE(r.truncated);
}

TEST(SubprocessRunner, PassesEnvironmentAndCwd) {
  setenv("DF_SUBPROCESS_TEST_KEEP", "kept", 1);
  setenv("DF_SUBPROCESS_TEST_REPLACE", "old", 1);
  SubprocessSpec spec;
  spec.env = {{"DF_SUBPROCESS_TEST_REPLACE", "new"}, {"DF_SUBPROCESS_TEST_NEW", "a b"}};
  spec.cwd = "/tmp";
  SubprocessResult r = RunCmd(
      "echo \"$DF_SUBPROCESS_TEST_KEEP $DF_SUBPROCESS_TEST_REPLACE $DF_SUBPROCESS_TEST_NEW\"; "
      "env | grep -c '^DF_SUBPROCESS_TEST_REPLACE='; pwd",
      spec);
  EXPECT_EQ(r.output, "kept new a b\n1\n/tmp\n");
  unsetenv("DF_SUBPROCESS_TEST_KEEP");
  unsetenv("DF_SUBPROCESS_TEST_REPLACE");
}

TEST(SubprocessRunner, BadCwdFailsTheCommand) {
  SubprocessSpec spec;
  spec.cwd = "/nonexistent/dir";
  SubprocessResult r = RunCmd("echo never", spec);
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.output.find("working directory"), std::string::npos) << r.output;
}

TEST(SubprocessRunner, DoesNotLeakOurFileDescriptors) {
  // An fd opened without O_CLOEXEC must still not reach the child.
  int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  SubprocessResult r = RunCmd("ls /proc/self/fd | sort -n | tr '\\n' ' '");
  close(fd);
  // 0, 1, 2 and the fd `ls` opens for reading the directory.
  EXPECT_EQ(r.output, "0 1 2 3 ") << r.output;
}

TEST(SubprocessRunner, TimeoutKillsTheCommand) {
  SubprocessSpec spec;
  spec.timeout_us = 200'000;
  spec.kill_grace_us = 200'000;
  auto t0 = std::chrono::steady_clock::now();
  SubprocessResult r = RunCmd("sleep 30", spec);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_GE(ms, 190);
  // Far below the command's 30 s, however loaded the machine: it was not waited for to the end.
  EXPECT_LT(ms, 15000);
  EXPECT_GE(Ms(r.duration_us), 190);
}

TEST(SubprocessRunner, CommandIgnoringSigtermIsKilledAfterTheGrace) {
  SubprocessSpec spec;
  spec.timeout_us = 200'000;
  spec.kill_grace_us = 200'000;
  auto t0 = std::chrono::steady_clock::now();
  // The output tells us the grandchild's pid so we can check it died too.
  SubprocessResult r = RunCmd("trap '' TERM; sleep 30 & echo $!; wait", spec);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(ms, 390);
  // Far below the command's 30 s, however loaded the machine: it was not waited for to the end.
  EXPECT_LT(ms, 15000);
  pid_t grandchild = static_cast<pid_t>(atoi(r.output.c_str()));
  ASSERT_GT(grandchild, 0) << r.output;
  // Killed with its group.
  // Under 15 + 10 s from the start: a `sleep 30` not killed would still be alive then.
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       ProcessAlive(grandchild) && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(ProcessAlive(grandchild));
}

TEST(SubprocessRunner, SimpleTrapIgnoringSigtermIsKilled) {
  SubprocessSpec spec;
  spec.timeout_us = 200'000;
  spec.kill_grace_us = 200'000;
  auto t0 = std::chrono::steady_clock::now();
  SubprocessResult r = RunCmd("trap '' TERM; sleep 30", spec);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(ms, 390);
  // Far below the command's 30 s, however loaded the machine: it was not waited for to the end.
  EXPECT_LT(ms, 15000);
}

TEST(SubprocessRunner, BackgroundedGrandchildHoldingThePipeDoesNotHangUs) {
  auto t0 = std::chrono::steady_clock::now();
  SubprocessResult r = RunCmd("sleep 30 & echo hi; echo $!");
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_EQ(r.output.substr(0, 3), "hi\n");
  EXPECT_FALSE(r.timed_out);
  // Far below the command's 30 s, however loaded the machine: it was not waited for to the end.
  EXPECT_LT(ms, 15000);
  // The grandchild went with its group.
  pid_t grandchild = static_cast<pid_t>(atoi(r.output.c_str() + 3));
  ASSERT_GT(grandchild, 0) << r.output;
  // Under 15 + 10 s from the start: a `sleep 30` not killed would still be alive then.
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       ProcessAlive(grandchild) && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(ProcessAlive(grandchild));
}

TEST(SubprocessRunner, GrandchildClosingItsOutputIsNotWaitedFor) {
  auto t0 = std::chrono::steady_clock::now();
  SubprocessResult r = RunCmd("sleep 30 >/dev/null 2>&1 & echo hi");
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_EQ(r.output, "hi\n");
  // Far below the command's 30 s, however loaded the machine: it was not waited for to the end.
  EXPECT_LT(ms, 15000);
}

TEST(SubprocessRunner, StopTokenCancels) {
  std::stop_source source;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    source.request_stop();
  });
  SubprocessSpec spec;
  spec.kill_grace_us = 200'000;
  auto t0 = std::chrono::steady_clock::now();
  SubprocessResult r = RunCmd("echo started; sleep 30", spec, source.get_token());
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  stopper.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.output, "started\n");
  // Far below the command's 30 s, however loaded the machine: it was not waited for to the end.
  EXPECT_LT(ms, 15000);
}

TEST(SubprocessRunner, AlreadyStoppedDoesNotStart) {
  std::stop_source source;
  source.request_stop();
  SubprocessResult r = RunCmd("echo never", {}, source.get_token());
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.output, "");
}

TEST(SubprocessRunner, LeavesNoZombies) {
  RunCmd("true");
  RunCmd("exit 3");
  SubprocessSpec spec;
  spec.timeout_us = 100'000;
  spec.kill_grace_us = 100'000;
  RunCmd("trap '' TERM; sleep 30", spec);
  RunCmd("sleep 30 & echo hi");
  EXPECT_EQ(OurChildren(), std::vector<pid_t>{});
}

TEST(SubprocessRunner, ConcurrentCommands) {
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<SubprocessResult> results(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([i, &results] {
      SubprocessSpec spec;
      spec.command = "for j in 1 2 3 4 5; do echo " + std::to_string(i) + "-$j; done; exit " +
                     std::to_string(i);
      if (i % 2 == 1) {
        spec.command = "sleep 0.1; " + spec.command;
      }
      auto r = RunSubprocess(spec, {});
      if (r.ok()) results[i] = std::move(r).value();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    std::string want;
    for (int j = 1; j <= 5; ++j) want += std::to_string(i) + "-" + std::to_string(j) + "\n";
    EXPECT_EQ(results[i].exit_code, i);
    EXPECT_EQ(results[i].output, want);
  }
  EXPECT_EQ(OurChildren(), std::vector<pid_t>{});
}

}  // namespace
}  // namespace dataforge
