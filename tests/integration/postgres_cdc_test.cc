// The postgres_cdc source against a real PostgreSQL 15 with wal_level=logical: row changes made
// by psql while the pipeline runs reach the store exactly once, through a kill -9 of dataforge;
// bad configuration gets one line saying the fix.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>

#include <fmt/format.h>

#include "integration/cdc_accounts.h"
#include "integration/cli_helpers.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

std::string CdcConfig(const std::string& url, const std::string& table = "public.accounts") {
  return fmt::format(R"(source:
  name: accounts
  type: postgres_cdc
  url: {}
  tables: [{}]
log: {{topic: accounts_changes, partitions: 2}}
process:
  table: app.accounts
  key_column: id
  delete_when: {{path: op, equals: delete}}
  columns:
    - {{name: id, path: data.id, required: true}}
    - {{name: note, path: data.note}}
tuning: {{batch_records: 200}}
)",
                     url, table);
}

TEST(PostgresCdcTest, ChangesReachTheStoreExactlyOnceThroughAKillNine) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql("CREATE TABLE accounts(id bigint PRIMARY KEY, note text NOT NULL, balance numeric)");
  std::string config = dir.Sub("cdc.yaml");
  WriteFile(config, CdcConfig(pg.Url()));
  std::string data = dir.Sub("data");
  std::vector<std::string> extra = {"--config", config};
  auto run = StartDataforge({"run", "--config", config, "--data-dir", data});
  WaitForSlot(pg, run);

  // Phase 1: set-based statements. 2000 inserts, 500 updates, 100 deletes, and one update of a
  // primary key (a delete of the old key and an insert of the new one): 2602 change events.
  pg.Psql(
      "INSERT INTO accounts SELECT g, 'n' || g, g FROM generate_series(1, 2000) g;"
      "UPDATE accounts SET note = note || '-u1' WHERE id <= 500;"
      "DELETE FROM accounts WHERE id > 1900;"
      "UPDATE accounts SET id = 100007, note = 'moved' WHERE id = 7;");
  WaitForStored(data, extra, 2602, run);
  EXPECT_EQ(StoreRows(data, extra), TableRows(pg));
  std::string phase1_lsn = pg.Psql("SELECT pg_current_wal_lsn()");

  // Phase 2: 2000 single-row transactions from another psql while dataforge is killed with
  // SIGKILL in the middle and started again.
  std::string script;
  for (int i = 0; i < 2000; ++i) {
    int id = 8 + (i * 37) % 1800;  // 8..1807: rows that exist (7 moved, 1901+ deleted)
    if (i % 10 == 3) {
      script += fmt::format("INSERT INTO accounts VALUES ({}, 'new{}', 0);\n", 200000 + i, i);
    } else if (i % 10 == 7) {
      script += fmt::format("DELETE FROM accounts WHERE id = {};\n", 200000 + i - 4);
    } else {
      script += fmt::format("UPDATE accounts SET note = 'v{}' WHERE id = {};\n", i, id);
    }
    script += "SELECT pg_sleep(0.002);\n";
  }
  WriteFile(dir.Sub("changes.sql"), script);
  auto writer = ChildProcess::Start({"/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                                     dir.Sub("changes.sql"), pg.Url()});
  int64_t stored = 0;
  for (int i = 0; i < 600 && stored < 3200; ++i) {
    usleep(20'000);
    stored = StoredNow(data, extra);
  }
  run.Signal(SIGKILL);
  ASSERT_EQ(run.Wait(10000).signal, SIGKILL);
  auto restarted = StartDataforge({"run", "--config", config, "--data-dir", data});
  auto w = writer.Wait(120000);
  ASSERT_EQ(w.exit_code, 0) << w.err;
  // 2000 statements, each one row change (an UPDATE of a deleted row changes nothing: none is).
  WaitForStored(data, extra, 4602, restarted);
  restarted.Signal(SIGTERM);
  auto r = restarted.Wait(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // The store equals the table, row by row.
  EXPECT_EQ(StoreRows(data, extra), TableRows(pg));
  // Every change staged exactly once: 4602 change events in the outbox, 4602 row versions
  // applied, nothing dead-lettered.
  EXPECT_EQ(pg.Psql("SELECT count(*) FROM accounts"), std::to_string(1900 + 200 - 200));
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.fetched, 4602);
  EXPECT_EQ(s.staged, 4602);
  EXPECT_EQ(s.streamed, 4602);
  EXPECT_EQ(s.stored, 4602);
  EXPECT_EQ(s.dead_lettered, 0);
  // The slot's confirmed position moved past phase 1 (the log acknowledged it).
  EXPECT_EQ(pg.Psql(fmt::format("SELECT confirmed_flush_lsn >= '{}' FROM pg_replication_slots",
                                phase1_lsn)),
            "t");
}

TEST(PostgresCdcTest, ServerRestartMidStreamLosesAndDoublesNothing) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql("CREATE TABLE accounts(id bigint PRIMARY KEY, note text NOT NULL)");
  std::string config = dir.Sub("cdc.yaml");
  WriteFile(config, CdcConfig(pg.Url()));
  std::string data = dir.Sub("data");
  std::vector<std::string> extra = {"--config", config};
  auto run = StartDataforge({"run", "--config", config, "--data-dir", data});
  WaitForSlot(pg, run);
  pg.Psql("INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 1000) g");
  pg.Restart();
  // Committed while dataforge is reconnecting.
  pg.Psql(
      "UPDATE accounts SET note = 'b' || id WHERE id <= 300;"
      "DELETE FROM accounts WHERE id > 900");
  WaitForStored(data, extra, 1400, run);
  run.Signal(SIGTERM);
  auto r = run.Wait(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("reconnecting"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("postgres_cdc: replication resumed at v1;lsn="), std::string::npos) << r.err;
  EXPECT_EQ(StoreRows(data, extra), TableRows(pg));
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.fetched, 1400);
  EXPECT_EQ(s.stored, 1400);
  EXPECT_EQ(s.dead_lettered, 0);
}

TEST(PostgresCdcTest, BadConfigurationSaysWhatToFix) {
  TempDir dir;
  {
    PostgresServer pg(PostgresServer::Options{{"wal_level=replica"}});
    pg.Psql("CREATE TABLE accounts(id bigint PRIMARY KEY, note text)");
    WriteFile(dir.Sub("a.yaml"), CdcConfig(pg.Url()));
    auto r = RunDataforge({"run", "--config", dir.Sub("a.yaml"), "--data-dir", dir.Sub("a")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, fmt::format("dataforge: postgres_cdc source: PostgreSQL at "
                                 "127.0.0.1:{}/dataforge has wal_level=replica, and logical "
                                 "replication needs wal_level=logical: run ALTER SYSTEM SET "
                                 "wal_level = logical; then restart the server\n",
                                 pg.port()));
  }
  PostgresServer pg;
  pg.Psql("CREATE TABLE nokey(id bigint, note text)");
  WriteFile(dir.Sub("b.yaml"), CdcConfig(pg.Url(), "public.nokey"));
  auto r = RunDataforge({"run", "--config", dir.Sub("b.yaml"), "--data-dir", dir.Sub("b")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "dataforge: postgres_cdc source: table public.nokey has no primary key, so its "
            "updates and deletes cannot name a row: add a primary key, or ALTER TABLE "
            "public.nokey REPLICA IDENTITY FULL\n");
  WriteFile(dir.Sub("c.yaml"), CdcConfig(pg.Url(), "public.missing"));
  r = RunDataforge({"run", "--config", dir.Sub("c.yaml"), "--data-dir", dir.Sub("c")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, fmt::format("dataforge: postgres_cdc source: table public.missing does not "
                               "exist in 127.0.0.1:{}/dataforge: fix source.tables\n",
                               pg.port()));
  // A user without the REPLICATION attribute.
  pg.Psql(
      "CREATE ROLE app LOGIN PASSWORD 'pw'; CREATE TABLE owned(id int PRIMARY KEY);"
      "ALTER TABLE owned OWNER TO app; GRANT CREATE ON DATABASE dataforge TO app");
  WriteFile(dir.Sub("d.yaml"), CdcConfig(pg.Url("dataforge", "app", "pw"), "public.owned"));
  r = RunDataforge({"run", "--config", dir.Sub("d.yaml"), "--data-dir", dir.Sub("d")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("must be superuser or replication role"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ALTER ROLE app REPLICATION"), std::string::npos) << r.err;
  // One line of error after the progress log.
  auto lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("dataforge: postgres_cdc source: creating replication slot ", 0), 0u)
      << r.err;
  EXPECT_NE(lines.back().find("must be superuser or replication role"), std::string::npos);
}

}  // namespace
}  // namespace dataforge::testing
