#include "integration/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>

namespace dataforge::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/df_it_XXXXXX";
  path_ = mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::filesystem::remove_all(path_);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

ChildProcess ChildProcess::Start(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& env) {
  ChildProcess c;
  char tmpl[] = "/tmp/df_child_XXXXXX";
  c.dir_ = mkdtemp(tmpl);
  std::string out = c.dir_ + "/stdout", err = c.dir_ + "/stderr";
  // Everything the child needs is built here: between fork and exec a child of a threaded
  // process (a test's HTTP server, a Kafka client) may only make async-signal-safe calls. A
  // malloc there can wait forever for a lock another thread held at the fork (seen under ASan:
  // a child that never printed a byte).
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    bool overridden = false;
    for (const auto& o : env) {
      size_t eq = o.find('=');
      overridden |= eq != std::string::npos && kv.starts_with(std::string_view(o).substr(0, eq + 1));
    }
    if (!overridden) environment.emplace_back(kv);
  }
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& kv : environment) envp.push_back(kv.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  c.pid_ = pid;
  return c;
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept : pid_(o.pid_), dir_(std::move(o.dir_)) {
  o.pid_ = -1;
  o.dir_.clear();
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

void ChildProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

std::string ChildProcess::Stdout() const {
  return ReadFile(dir_ + "/stdout");
}
std::string ChildProcess::Stderr() const {
  return ReadFile(dir_ + "/stderr");
}

ProcessResult ChildProcess::Wait(int timeout_ms) {
  ProcessResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      ADD_FAILURE() << "child " << pid_ << " did not finish within " << timeout_ms
                    << " ms; stderr:\n"
                    << Stderr();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = Stdout();
  r.err = Stderr();
  return r;
}

ProcessResult RunDataforge(const std::vector<std::string>& args, int timeout_ms,
                           const std::vector<std::string>& env) {
  return StartDataforge(args, env).Wait(timeout_ms);
}

ChildProcess StartDataforge(const std::vector<std::string>& args,
                            const std::vector<std::string>& env) {
  std::vector<std::string> argv = {DATAFORGE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return ChildProcess::Start(argv, env);
}

}  // namespace dataforge::testing
