#include "orchestrate/tasks/sql_runner.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

namespace dataforge {
namespace {

namespace fs = std::filesystem;

class SqlRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("df_sql_runner_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "staging.db").string();
    url_ = "sqlite://" + path_;
    // The staging creates the file; a task never does.
    FILE* f = fopen(path_.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
  }
  void TearDown() override { fs::remove_all(dir_); }

  SqlResult MustRun(const std::string& sql) {
    auto r = RunSql(url_, sql, 0, {});
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? std::move(r).value() : SqlResult{};
  }

  fs::path dir_;
  std::string path_, url_;
};

using Row = std::vector<std::optional<std::string>>;

TEST_F(SqlRunnerTest, CreateInsertSelect) {
  SqlResult created = MustRun("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)");
  EXPECT_TRUE(created.columns.empty());
  EXPECT_EQ(created.affected, 0);

  SqlResult inserted = MustRun(
      "INSERT INTO t (id, name, score) VALUES (1, 'ann', 1.5), (2, NULL, NULL), "
      "(3, 'cy', 3)");
  EXPECT_EQ(inserted.affected, 3);
  EXPECT_TRUE(inserted.columns.empty());

  SqlResult selected = MustRun("SELECT id, name, score FROM t ORDER BY id");
  EXPECT_EQ(selected.columns, (std::vector<std::string>{"id", "name", "score"}));
  ASSERT_EQ(selected.rows.size(), 3u);
  EXPECT_EQ(selected.rows[0], (Row{"1", "ann", "1.5"}));
  EXPECT_EQ(selected.rows[1], (Row{"2", std::nullopt, std::nullopt}));
  EXPECT_EQ(selected.rows[2], (Row{"3", "cy", "3.0"}));
  EXPECT_EQ(selected.affected, 0);

  SqlResult updated = MustRun("UPDATE t SET name = 'x' WHERE id >= 2");
  EXPECT_EQ(updated.affected, 2);
  // A query after a change does not report the earlier change.
  EXPECT_EQ(MustRun("SELECT count(*) AS n FROM t").affected, 0);
}

TEST_F(SqlRunnerTest, SeveralStatements) {
  SqlResult r = MustRun(
      "CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1), (2); -- a comment\n"
      "INSERT INTO t VALUES (3); SELECT sum(id) AS total FROM t;  ");
  EXPECT_EQ(r.affected, 3);
  EXPECT_EQ(r.columns, std::vector<std::string>{"total"});
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0], (Row{"6"}));
}

TEST_F(SqlRunnerTest, EmptySqlIsRejected) {
  auto r = RunSql(url_, "  -- nothing\n", 0, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqlRunnerTest, SyntaxErrorIsInvalidArgumentWithSqlitesText) {
  auto r = RunSql(url_, "SELEC 1", 0, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("near \"SELEC\": syntax error"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find(path_), std::string::npos) << r.status().message();
}

TEST_F(SqlRunnerTest, MissingTableIsInvalidArgument) {
  auto r = RunSql(url_, "SELECT * FROM nope", 0, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("no such table: nope"), std::string::npos)
      << r.status().message();
}

TEST_F(SqlRunnerTest, ConstraintViolationIsInvalidArgument) {
  MustRun("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1)");
  auto r = RunSql(url_, "INSERT INTO t VALUES (1)", 0, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("UNIQUE constraint failed"), std::string::npos)
      << r.status().message();
}

TEST_F(SqlRunnerTest, MissingFileIsAClearErrorAndNotCreated) {
  std::string missing = (dir_ / "missing.db").string();
  auto r = RunSql("sqlite://" + missing, "SELECT 1", 0, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("no staging database at " + missing), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(missing));
}

TEST_F(SqlRunnerTest, UnsupportedUrl) {
  auto r = RunSql("mysql://x", "SELECT 1", 0, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConfigError);
}

constexpr char kLongQuery[] =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
    "SELECT count(*) FROM c";

TEST_F(SqlRunnerTest, DeadlineInterruptsALongQuery) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = RunSql(url_, kLongQuery, 200'000, {});
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_NE(r.status().message().find("200 ms"), std::string::npos) << r.status().message();
  EXPECT_GE(ms, 190);
  // Far below the query's own run time, however loaded the machine: it was cut short.
  EXPECT_LT(ms, 15000);
}

TEST_F(SqlRunnerTest, StopCancelsALongQuery) {
  std::stop_source source;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    source.request_stop();
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = RunSql(url_, kLongQuery, 0, source.get_token());
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  stopper.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().ToString();
  // Far below the query's own run time, however loaded the machine: it was cut short.
  EXPECT_LT(ms, 15000);
}

TEST_F(SqlRunnerTest, AlreadyStoppedRunsNothing) {
  std::stop_source source;
  source.request_stop();
  auto r = RunSql(url_, "CREATE TABLE t (id INTEGER)", 0, source.get_token());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_TRUE(MustRun("SELECT name FROM sqlite_master").rows.empty());
}

TEST(SqlResultFormat, Rows) {
  SqlResult r;
  r.columns = {"id", "n"};
  r.rows = {{"1", "a"}, {"2", std::nullopt}};
  EXPECT_EQ(FormatSqlResult(r), "id | n\n1 | a\n2 | NULL\n(2 rows)");
}

TEST(SqlResultFormat, OneRowAndNoRows) {
  SqlResult r;
  r.columns = {"count"};
  r.rows = {{"7"}};
  EXPECT_EQ(FormatSqlResult(r), "count\n7\n(1 row)");
  r.rows.clear();
  EXPECT_EQ(FormatSqlResult(r), "count\n(0 rows)");
}

TEST(SqlResultFormat, MoreRowsThanShown) {
  SqlResult r;
  r.columns = {"x"};
  for (int i = 0; i < 5; ++i) r.rows.push_back({std::to_string(i)});
  EXPECT_EQ(FormatSqlResult(r, 2), "x\n0\n1\n... (3 more)\n(5 rows)");
}

TEST(SqlResultFormat, Affected) {
  SqlResult r;
  r.affected = 3;
  EXPECT_EQ(FormatSqlResult(r), "3 rows affected");
  r.affected = 1;
  EXPECT_EQ(FormatSqlResult(r), "1 row affected");
}

}  // namespace
}  // namespace dataforge
