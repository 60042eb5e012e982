#include "orchestrate/tasks/subprocess_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

extern char** environ;

namespace dataforge {
namespace {

// After the shell exits, how long a grandchild that still holds the output pipe may keep it
// before we kill the group and stop reading.
constexpr int64_t kDrainAfterExitUs = 1'000'000;
// Poll interval when the kernel offers no pidfd to wait on the child's exit.
constexpr int64_t kFallbackPollUs = 20'000;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Closes an fd on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string ErrnoText(std::string_view what) {
  return fmt::format("{}: {}", what, std::strerror(errno));
}

// Our environment with `extra` added, replacing variables of the same name.
std::vector<std::string> BuildEnv(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool replaced =
        std::any_of(extra.begin(), extra.end(), [&](const auto& kv) { return kv.first == name; });
    if (!replaced) env.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

// Keeps the last `max` bytes of everything appended.
class Tail {
 public:
  explicit Tail(size_t max) : max_(max) {}
  void Append(const char* p, size_t n) {
    total_ += n;
    buf_.append(p, n);
    // Trim lazily so a steady stream costs amortised O(1) per byte.
    if (buf_.size() > 2 * max_ + (64 << 10)) buf_.erase(0, buf_.size() - max_);
  }
  std::string Take(bool* truncated) {
    if (buf_.size() > max_) buf_.erase(0, buf_.size() - max_);
    *truncated = total_ > max_;
    return std::move(buf_);
  }

 private:
  size_t max_;
  size_t total_ = 0;
  std::string buf_;
};

// In the child between vfork and exec: only system calls, no allocation, no writes to memory
// (it is the parent's).
[[noreturn]] void ExecChild(const char* cwd, int devnull, int out_fd, int max_fd,
                            char* const argv[], char* const envp[]) {
  setpgid(0, 0);
  // Dies with the scheduler thread that started it: a scheduler killed with kill -9 leaves no
  // task running on unsupervised (its attempt is retried elsewhere).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Dispositions set to SIG_IGN and the signal mask survive exec: give the command defaults.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // fails harmlessly
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) _exit(127);
  if (cwd != nullptr && chdir(cwd) != 0) {
    static constexpr char kMsg[] = "dataforge: cannot change to the task's working directory\n";
    ssize_t ignored = write(2, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    _exit(127);
  }
  if (close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < max_fd; ++fd) close(fd);
  }
  execve("/bin/sh", argv, envp);
  _exit(127);
}

// Its own frame, so nothing of the caller's lives across vfork's two returns.
[[gnu::noinline]] pid_t VforkChild(const char* cwd, int devnull, int out_fd, int max_fd,
                                   char* const argv[], char* const envp[]) {
  pid_t pid = vfork();
  if (pid == 0) ExecChild(cwd, devnull, out_fd, max_fd, argv, envp);
  return pid;
}

}  // namespace

Result<SubprocessResult> RunSubprocess(const SubprocessSpec& spec, std::stop_token stop) {
  SubprocessResult result;
  const int64_t start = NowUs();
  if (stop.stop_requested()) {
    result.cancelled = true;
    return result;
  }

  // Everything the child needs is prepared before vfork: it may not allocate.
  std::vector<std::string> env = BuildEnv(spec.env);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = "sh", dash_c = "-c", command = spec.command;
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
  struct rlimit nofile;
  int max_fd = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
                   ? static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, 1 << 20))
                   : 1024;

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Status::IOError(ErrnoText("shell task: pipe"));
  Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  Fd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull.get() < 0) return Status::IOError(ErrnoText("shell task: open /dev/null"));
  // Woken by a stop request, so cancellation does not wait for a poll timeout.
  Fd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake.get() < 0) return Status::IOError(ErrnoText("shell task: eventfd"));

  // vfork: the child borrows our memory until it execs, so starting a task costs no page-table
  // copy (fork of a many-threaded scheduler spent most of its time there). The child only makes
  // system calls (ExecChild) and we wait, suspended, until it execs or exits.
  pid_t pid = VforkChild(spec.cwd.empty() ? nullptr : spec.cwd.c_str(), devnull.get(),
                         write_end.get(), max_fd, argv, envp.data());
  if (pid < 0) return Status::IOError(ErrnoText("shell task: vfork"));
  // Also from here, so the group exists before we might signal it (whichever runs first wins;
  // EACCES once the child has exec'd is fine).
  setpgid(pid, pid);
  write_end.Reset();
  devnull.Reset();
  fcntl(read_end.get(), F_SETFL, fcntl(read_end.get(), F_GETFL) | O_NONBLOCK);
  // Readable when the child exits; -1 on kernels before 5.3 (then we poll). A raw syscall:
  // glibc 2.36's <sys/pidfd.h> lacks extern "C".
  Fd exit_fd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));

  std::stop_callback on_stop(stop, [fd = wake.get()] {
    uint64_t one = 1;
    ssize_t ignored = write(fd, &one, sizeof(one));
    (void)ignored;
  });

  Tail tail(spec.max_output_bytes);
  const int64_t deadline = spec.timeout_us > 0 ? start + spec.timeout_us : 0;
  int64_t term_sent_at = 0;      // when the group got SIGTERM (0 = not yet)
  bool kill_sent = false;        // the group got SIGKILL
  int64_t exited_at = 0;         // when we saw the child exit (0 = still running)
  bool eof = false;              // every writer closed the pipe
  bool stopped_reading = false;  // gave up on a grandchild holding the pipe
  std::vector<char> buf(64 << 10);

  auto terminate = [&](int64_t now) {
    if (term_sent_at != 0) return;
    kill(-pid, SIGTERM);
    term_sent_at = now;
  };

  while (true) {
    int64_t now = NowUs();
    // The child exited? WNOWAIT leaves it a zombie, so its pid (and so the group id) cannot be
    // reused while we may still signal the group.
    if (exited_at == 0) {
      siginfo_t info;
      info.si_pid = 0;
      if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
        exited_at = now;
      }
    }
    if (exited_at != 0 && !eof && !stopped_reading && now - exited_at >= kDrainAfterExitUs) {
      // A grandchild keeps the pipe open: end the whole group, keep what we have.
      kill(-pid, SIGKILL);
      stopped_reading = true;
    }
    if (exited_at != 0 && (eof || stopped_reading)) break;

    if (exited_at == 0) {
      if (stop.stop_requested() && term_sent_at == 0 && !result.timed_out) {
        result.cancelled = true;
        terminate(now);
      }
      if (deadline != 0 && now >= deadline && term_sent_at == 0 && !result.cancelled) {
        result.timed_out = true;
        terminate(now);
      }
      if (term_sent_at != 0 && !kill_sent && now - term_sent_at >= spec.kill_grace_us) {
        kill(-pid, SIGKILL);
        kill_sent = true;
      }
    }

    // Sleep until output, the child's exit, a stop request or the next time limit.
    int64_t wait_until = -1;
    auto limit = [&](int64_t t) { wait_until = wait_until < 0 ? t : std::min(wait_until, t); };
    if (exited_at != 0) {
      limit(exited_at + kDrainAfterExitUs);
    } else {
      if (deadline != 0 && term_sent_at == 0) limit(deadline);
      if (term_sent_at != 0 && !kill_sent) limit(term_sent_at + spec.kill_grace_us);
      if (exit_fd.get() < 0) limit(now + kFallbackPollUs);
    }
    pollfd fds[3];
    nfds_t n = 0;
    int out_index = -1;
    if (!eof) {
      out_index = static_cast<int>(n);
      fds[n++] = {read_end.get(), POLLIN, 0};
    }
    // The exit itself is read by waitid() at the top of the loop.
    if (exited_at == 0 && exit_fd.get() >= 0) fds[n++] = {exit_fd.get(), POLLIN, 0};
    if (exited_at == 0 && term_sent_at == 0) fds[n++] = {wake.get(), POLLIN, 0};
    int timeout_ms = -1;
    if (wait_until >= 0) {
      timeout_ms = static_cast<int>(std::max<int64_t>(0, (wait_until - now + 999) / 1000));
    }
    int ready = poll(fds, n, timeout_ms);
    if (ready < 0 && errno != EINTR) {
      // Should not happen; do not spin: fall back to a short sleep.
      usleep(static_cast<useconds_t>(kFallbackPollUs));
      continue;
    }
    if (out_index >= 0 && ready > 0 && fds[out_index].revents != 0) {
      while (true) {
        ssize_t got = read(read_end.get(), buf.data(), buf.size());
        if (got > 0) {
          tail.Append(buf.data(), static_cast<size_t>(got));
          continue;
        }
        if (got == 0) eof = true;
        if (got < 0 && errno == EINTR) continue;
        break;  // EAGAIN: drained for now
      }
    }
  }

  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.signal = WTERMSIG(wstatus);
  }
  result.output = tail.Take(&result.truncated);
  result.duration_us = NowUs() - start;
  return result;
}

}  // namespace dataforge
