// RegistryConformance: two processes registering the same schema at the same moment on one
// database get one id and one version (registry_conformance.h). Each child opens its own
// registry (its own connection), waits at a start line (a pipe the parent closes), registers,
// and writes the id it got to a pipe.
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <fmt/format.h>

#include "conformance/registry_conformance.h"

namespace dataforge::registry {
namespace {

REGISTRY_CONFORMANCE_SUITE();

// In the child: never returns.
[[noreturn]] void RegisterInChild(const std::string& url, const std::string& subject,
                                  const std::string& schema, int start_fd, int result_fd) {
  int64_t id = -1;
  auto registry = SchemaRegistry::Open(url, OpenMode::kReadWrite, TinyOptions());
  char c;
  // Blocks until the parent closes its end: both children start together.
  if (read(start_fd, &c, 1) < 0) _exit(3);
  if (registry.ok()) {
    auto r = (*registry)->Register(subject, Tiny(schema));
    id = r.ok() ? *r : -2;
  }
  std::string line = std::to_string(id) + "\n";
  if (write(result_fd, line.data(), line.size()) < 0) _exit(4);
  _exit(0);
}

TYPED_TEST(RegistryConformance, TwoProcessesRegisteringOneSchemaAtOnceGetOneId) {
  const std::string url = this->backend_.url();
  constexpr int kRounds = 5;
  constexpr int kChildren = 2;
  for (int round = 0; round < kRounds; ++round) {
    const std::string subject = fmt::format("race-{}", round);
    const std::string schema = fmt::format("f{} g{}=1", round, round);
    int start[2], result[2];
    ASSERT_EQ(pipe(start), 0);
    ASSERT_EQ(pipe(result), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < kChildren; ++i) {
      pid_t pid = fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        close(start[1]);
        close(result[0]);
        RegisterInChild(url, subject, schema, start[0], result[1]);
      }
      children.push_back(pid);
    }
    close(start[0]);
    close(result[1]);
    close(start[1]);  // the start signal
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = read(result[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    close(result[0]);
    for (pid_t pid : children) {
      int status = 0;
      ASSERT_EQ(waitpid(pid, &status, 0), pid);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    }
    const int64_t want = round + 1;  // one new id per round
    EXPECT_EQ(out, fmt::format("{}\n{}\n", want, want)) << "round " << round;
    EXPECT_EQ(this->VersionsOf(subject), std::vector<int32_t>{1}) << "round " << round;
    EXPECT_EQ(*this->registry_->SubjectsById(want, false), std::vector<std::string>{subject});
  }
}

// The same through two registries on one process's threads, each with its own connection, and
// under different subjects: one id, one version in each subject.
TYPED_TEST(RegistryConformance, TwoRegistriesOnThreadsShareOneIdAcrossSubjects) {
  auto a = this->Open();
  auto b = this->Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  for (int round = 0; round < 5; ++round) {
    const std::string schema = fmt::format("t{}", round);
    int64_t ida = 0, idb = 0;
    auto run = [&](SchemaRegistry* reg, const std::string& subject, int64_t* id) {
      auto r = reg->Register(subject, Tiny(schema));
      *id = r.ok() ? *r : -1;
    };
    std::thread ta(run, a.get(), fmt::format("a-{}", round), &ida);
    std::thread tb(run, b.get(), fmt::format("b-{}", round), &idb);
    ta.join();
    tb.join();
    EXPECT_EQ(ida, round + 1);
    EXPECT_EQ(idb, round + 1);
  }
}

}  // namespace
}  // namespace dataforge::registry
