#include "auth/audit_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "auth/testing/jwt_test_keys.h"

namespace dataforge::auth {
namespace {

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_audit_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/audit.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Contents() const {
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string dir_, path_;
  testing::ManualClock clock_;  // 2026-12-03T12:13:20Z
};

TEST_F(AuditLogTest, OneExactJsonLinePerEntry) {
  auto log = AuditLog::Open(path_, &clock_);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  clock_.Advance(123'456);
  (*log)->Record({Principal{"alice", "operator", "key", "k1d"}, "127.0.0.1",
                  "PUT /v1/tables/dataforge.users/rows/42", "200"});
  clock_.Advance(1'000'000);
  (*log)->Record({Principal{"bob \"the\" admin", "admin", "basic", ""}, "::1",
                  "DELETE /v1/tables/t/rows/a\nb", "forbidden"});
  (*log)->Record({Principal{"anonymous", "admin", "none", ""}, "cli", "users add bob", "ok"});
  EXPECT_EQ(Contents(),
            R"({"at":"2026-12-03T12:13:20.123456Z","who":"alice","role":"operator",)"
            R"("method":"key","key_id":"k1d","from":"127.0.0.1",)"
            R"("action":"PUT /v1/tables/dataforge.users/rows/42","result":200})"
            "\n"
            R"({"at":"2026-12-03T12:13:21.123456Z","who":"bob \"the\" admin","role":"admin",)"
            R"("method":"basic","from":"::1","action":"DELETE /v1/tables/t/rows/a\nb",)"
            R"("result":"forbidden"})"
            "\n"
            R"({"at":"2026-12-03T12:13:21.123456Z","who":"anonymous","role":"admin",)"
            R"("method":"none","from":"cli","action":"users add bob","result":"ok"})"
            "\n");
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(AuditLogTest, AppendsAcrossOpensAndThreadsWithoutInterleaving) {
  {
    auto log = AuditLog::Open(path_, &clock_);
    ASSERT_TRUE(log.ok());
    (*log)->Record({Principal{"first", "admin", "key", "x"}, "a", "b", "200"});
  }
  auto a = AuditLog::Open(path_, &clock_);
  auto b = AuditLog::Open(path_, &clock_);
  ASSERT_TRUE(a.ok() && b.ok());
  std::vector<std::thread> threads;
  const std::string big(3000, 'x');  // lines longer than a pipe buffer's atomic size
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      AuditLog* log = (t % 2 ? a : b)->get();
      for (int i = 0; i < 250; ++i) {
        log->Record({Principal{"u" + std::to_string(t), "admin", "key", "k"}, "h", big, "201"});
      }
    });
  }
  for (auto& t : threads) t.join();
  std::istringstream lines(Contents());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (n == 1) {
      EXPECT_NE(line.find(R"("who":"first")"), std::string::npos);
      continue;
    }
    EXPECT_EQ(line.substr(line.size() - 13), R"("result":201})") << "line " << n;
    EXPECT_EQ(line.size(), line.find(big) + big.size() + 15) << "line " << n;
  }
  EXPECT_EQ(n, 1001);
}

TEST_F(AuditLogTest, UnwritablePathIsAnIOError) {
  auto log = AuditLog::Open(dir_ + "/missing/audit.log", &clock_);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kIOError);
  EXPECT_EQ(log.status().message(), "cannot open the audit log " + dir_ +
                                        "/missing/audit.log (auth.audit_log): No such file or "
                                        "directory");
}

}  // namespace
}  // namespace dataforge::auth
