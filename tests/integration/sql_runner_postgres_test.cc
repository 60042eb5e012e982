// The `sql` task runner against a real throwaway PostgreSQL 15: results, affected counts, the
// server's own error text, statement_timeout as DeadlineExceeded, and PQcancel on stop.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "integration/pg_server.h"
#include "orchestrate/tasks/sql_runner.h"

namespace dataforge::testing {
namespace {

using Row = std::vector<std::optional<std::string>>;

int64_t MillisSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

TEST(SqlRunnerPostgresTest, StatementsRowsErrorsTimeoutAndCancel) {
  PostgresServer pg;
  const std::string url = pg.Url();

  auto created = RunSql(url, "CREATE TABLE t (id int PRIMARY KEY, name text)", 0, {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->columns.empty());
  EXPECT_EQ(created->affected, 0);

  auto inserted = RunSql(url, "INSERT INTO t VALUES (1, 'ann'), (2, NULL), (3, 'cy')", 0, {});
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_EQ(inserted->affected, 3);

  auto selected = RunSql(url, "SELECT id, name FROM t ORDER BY id", 0, {});
  ASSERT_TRUE(selected.ok()) << selected.status().ToString();
  EXPECT_EQ(selected->columns, (std::vector<std::string>{"id", "name"}));
  ASSERT_EQ(selected->rows.size(), 3u);
  EXPECT_EQ(selected->rows[1], (Row{"2", std::nullopt}));
  EXPECT_EQ(selected->affected, 0);
  EXPECT_EQ(FormatSqlResult(*selected), "id | name\n1 | ann\n2 | NULL\n3 | cy\n(3 rows)");

  auto several =
      RunSql(url, "UPDATE t SET name = 'x' WHERE id > 1; SELECT count(*) AS n FROM t", 0, {});
  ASSERT_TRUE(several.ok()) << several.status().ToString();
  EXPECT_EQ(several->affected, 2);
  EXPECT_EQ(several->rows, (std::vector<Row>{{"3"}}));

  auto syntax = RunSql(url, "SELEC 1", 0, {});
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(syntax.status().message().find("syntax error at or near \"SELEC\""), std::string::npos)
      << syntax.status().message();

  auto missing = RunSql(url, "SELECT * FROM nope", 0, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("relation \"nope\" does not exist"), std::string::npos)
      << missing.status().message();

  auto t0 = std::chrono::steady_clock::now();
  auto slow = RunSql(url, "SELECT pg_sleep(30)", 300'000, {});
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded) << slow.status().ToString();
  EXPECT_LT(MillisSince(t0), 3000);

  std::stop_source source;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    source.request_stop();
  });
  t0 = std::chrono::steady_clock::now();
  auto cancelled = RunSql(url, "SELECT pg_sleep(30)", 0, source.get_token());
  stopper.join();
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled) << cancelled.status().ToString();
  EXPECT_LT(MillisSince(t0), 3000);
}

TEST(SqlRunnerPostgresTest, UnreachableServerIsUnavailable) {
  auto r = RunSql("postgresql://postgres:secret@127.0.0.1:1/dataforge", "SELECT 1", 0, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

}  // namespace
}  // namespace dataforge::testing
