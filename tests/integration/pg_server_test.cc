// The PostgreSQL test harness itself: a throwaway server per test, isolated from the others.
#include <filesystem>

#include <gtest/gtest.h>

#include "integration/pg_server.h"

namespace dataforge::testing {
namespace {

TEST(PostgresServer, StartsWithTheAdvertisedSettings) {
  PostgresServer pg;
  ASSERT_FALSE(::testing::Test::HasFailure()) << pg.LogTail();
  EXPECT_GT(pg.port(), 0);
  EXPECT_EQ(pg.Psql("select 1"), "1");
  EXPECT_EQ(pg.Psql("SHOW wal_level"), "logical");
  EXPECT_EQ(pg.Psql("SHOW max_wal_senders"), "10");
  EXPECT_EQ(pg.Psql("SHOW max_replication_slots"), "10");
  EXPECT_EQ(pg.Psql("SHOW fsync"), "on");
  EXPECT_EQ(pg.Psql("SHOW port"), std::to_string(pg.port()));
  EXPECT_EQ(pg.Psql("SHOW listen_addresses"), "127.0.0.1");
  EXPECT_EQ(pg.Psql("SHOW unix_socket_directories"), pg.dir());
  EXPECT_EQ(pg.Psql("SHOW data_directory"), pg.data_dir());
  EXPECT_EQ(pg.Psql("select current_database(), current_user, rolsuper from pg_roles "
                    "where rolname = current_user"),
            "dataforge|postgres|t");
  EXPECT_EQ(pg.Url(),
            "postgresql://postgres:secret@127.0.0.1:" + std::to_string(pg.port()) + "/dataforge");
  EXPECT_TRUE(std::filesystem::exists(pg.dir() + "/.s.PGSQL." + std::to_string(pg.port())));
}

TEST(PostgresServer, PsqlRunsAScriptAndReportsErrors) {
  PostgresServer pg;
  // Statement by statement: CREATE DATABASE cannot run inside a multi-statement transaction.
  EXPECT_EQ(pg.Psql("CREATE DATABASE other; select 2; select 3"), "2\n3");
  EXPECT_EQ(pg.Psql("select current_database()", "other"), "other");
  auto bad = pg.TryPsql("select 1; select * from no_such_table; select 2");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("no_such_table"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.out, "1\n");  // ON_ERROR_STOP: nothing after the error ran
}

TEST(PostgresServer, TcpRequiresThePassword) {
  PostgresServer pg;
  auto good = PostgresServer::TryPsqlUrl(pg.Url(), "select 42");
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_EQ(good.out, "42\n");

  auto wrong = PostgresServer::TryPsqlUrl(pg.Url("dataforge", "postgres", "wrong"), "select 1");
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("password authentication failed"), std::string::npos) << wrong.err;

  // No password at all (psql -w never prompts): refused too, so TCP really is not `trust`.
  auto none = PostgresServer::TryPsqlUrl(
      "postgresql://postgres@127.0.0.1:" + std::to_string(pg.port()) + "/dataforge", "select 1");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_EQ(pg.Psql("select count(*) from pg_hba_file_rules where type = 'host' and "
                    "auth_method <> 'scram-sha-256'"),
            "0");
}

TEST(PostgresServer, RestartStopStartAndKill9KeepCommittedData) {
  PostgresServer pg;
  int port = pg.port();
  pg.Psql("CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1), (2)");

  pg.Restart();
  EXPECT_EQ(pg.port(), port);
  EXPECT_EQ(pg.Psql("select count(*) from t"), "2");

  pg.Stop();
  EXPECT_NE(pg.TryPsql("select 1").exit_code, 0);
  pg.Start();
  pg.Psql("INSERT INTO t VALUES (3)");
  EXPECT_EQ(pg.Psql("select count(*) from t"), "3");

  // A crash: committed rows survive recovery (fsync is on).
  pg.Psql("INSERT INTO t VALUES (4)");
  pg.Kill9();
  EXPECT_NE(pg.TryPsql("select 1").exit_code, 0);
  pg.Start();
  EXPECT_EQ(pg.Psql("select count(*) from t"), "4");
  EXPECT_NE(pg.LogTail(200).find("was interrupted"), std::string::npos) << pg.LogTail();
}

TEST(PostgresServer, TwoServersAtOnceAreIndependent) {
  PostgresServer a;
  PostgresServer b;
  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.data_dir(), b.data_dir());
  a.Psql("CREATE TABLE only_in_a (x int)");
  EXPECT_EQ(a.Psql("select count(*) from pg_tables where tablename = 'only_in_a'"), "1");
  EXPECT_EQ(b.Psql("select count(*) from pg_tables where tablename = 'only_in_a'"), "0");
  a.Kill9();
  EXPECT_EQ(b.Psql("select 1"), "1");
}

TEST(PostgresServer, OptionsConfTakesEffect) {
  PostgresServer pg(PostgresServer::Options{{"wal_level=replica", "work_mem = '7MB'"}});
  EXPECT_EQ(pg.Psql("SHOW wal_level"), "replica");
  EXPECT_EQ(pg.Psql("SHOW work_mem"), "7MB");
  EXPECT_EQ(pg.Psql("SHOW max_connections"), "50");  // the defaults still apply
}

TEST(PostgresServer, DestructorStopsAndRemovesTheServer) {
  std::string dir;
  int port = 0;
  {
    PostgresServer pg;
    dir = pg.dir();
    port = pg.port();
    EXPECT_EQ(pg.Psql("select 1"), "1");
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  auto r = PostgresServer::TryPsqlUrl(
      "postgresql://postgres:secret@127.0.0.1:" + std::to_string(port) + "/dataforge", "select 1");
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace dataforge::testing
