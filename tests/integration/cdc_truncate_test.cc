// TRUNCATE through the postgres_cdc source against a real PostgreSQL 15: the truncate is
// published, broadcast to every log partition, and applied in order (the store table loses
// the rows written before it, keeps every row written after it, in the same transaction
// too); `status` balances. A pipeline that captures several tables into its one store table
// refuses a TRUNCATE with exit 1 naming the table, the LSN and the fix.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>

#include <fmt/format.h>

#include "integration/cdc_accounts.h"
#include "integration/cli_helpers.h"
#include "integration/kafka_cluster.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

std::string TruncateConfig(const std::string& url, const std::string& tables) {
  return fmt::format(R"(source:
  name: accounts
  type: postgres_cdc
  url: {}
  tables: [{}]
log: {{topic: accounts_changes, partitions: 4}}
process:
  table: app.accounts
  key_column: id
  delete_when: {{path: op, equals: delete}}
  columns:
    - {{name: id, path: data.id, required: true}}
    - {{name: note, path: data.note}}
tuning: {{batch_records: 50}}
)",
                     url, tables);
}

TEST(CdcTruncateTest, TruncateEmptiesTheStoreTableInOrderOnEveryPartition) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql("CREATE TABLE accounts(id bigint PRIMARY KEY, note text NOT NULL)");
  // A publication as an older DataForge made it, without truncate: it is made to publish it.
  pg.Psql(
      "CREATE PUBLICATION dataforge_accounts FOR TABLE accounts WITH (publish = 'insert, "
      "update, delete')");
  std::string config = dir.Sub("cdc.yaml");
  WriteFile(config, TruncateConfig(pg.Url(), "public.accounts"));
  std::string data = dir.Sub("data");
  std::vector<std::string> extra = {"--config", config};
  auto run = StartDataforge({"run", "--config", config, "--data-dir", data});
  WaitForSlot(pg, run);
  EXPECT_EQ(pg.Psql("SELECT pubtruncate FROM pg_publication WHERE pubname = "
                    "'dataforge_accounts'"),
            "t");

  // 400 rows over the 4 partitions, then in one transaction: 100 more inserts and 50 updates,
  // the TRUNCATE, then 100 inserts (some keys the same as before the truncate) and 20 updates
  // of those; then 200 inserts and 30 deletes in later transactions.
  pg.Psql("INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 400) g");
  pg.Psql(
      "BEGIN;"
      "INSERT INTO accounts SELECT g, 'b' || g FROM generate_series(401, 500) g;"
      "UPDATE accounts SET note = note || '-u' WHERE id <= 50;"
      "TRUNCATE accounts;"
      "INSERT INTO accounts SELECT g, 'c' || g FROM generate_series(351, 450) g;"
      "UPDATE accounts SET note = note || '-v' WHERE id <= 370;"
      "COMMIT;");
  pg.Psql("INSERT INTO accounts SELECT g, 'd' || g FROM generate_series(1001, 1200) g");
  pg.Psql("DELETE FROM accounts WHERE id > 1170");
  // 400 + 100 + 50 + 1 (the truncate) + 100 + 20 + 200 + 30 change events.
  const int64_t events = 901;
  WaitForStored(data, extra, events, run);
  EXPECT_EQ(pg.Psql("SELECT count(*) FROM accounts"), "270");
  EXPECT_EQ(StoreRows(data, extra), TableRows(pg));

  // A second truncate of a table that is empty in the store after it.
  pg.Psql("TRUNCATE accounts; INSERT INTO accounts VALUES (7, 'after')");
  WaitForStored(data, extra, events + 2, run);
  run.Signal(SIGTERM);
  auto r = run.Wait(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("processor: TRUNCATE of public.accounts at LSN "), std::string::npos)
      << r.err;
  EXPECT_EQ(StoreRows(data, extra), (std::vector<std::string>{"7|after"}));
  EXPECT_EQ(StoreRows(data, extra), TableRows(pg));

  // Balanced: each truncate is one fetched, one staged, one streamed, one stored event, although
  // it reached all 4 partitions.
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.fetched, events + 2);
  EXPECT_EQ(s.staged, events + 2);
  EXPECT_EQ(s.streamed, events + 2);
  EXPECT_EQ(s.stored, events + 2);
  EXPECT_EQ(s.dead_lettered, 0);
  EXPECT_EQ(s.store_rows, 1);
  EXPECT_EQ(s.log_lag, 0);
  auto text = RunDataforge({"status", "--data-dir", data, "--config", config});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << text.out;
}

// Truncates among 2000 single-row transactions, dataforge killed with SIGKILL in the middle
// and started again: the store equals the table, each event is stored once.
TEST(CdcTruncateTest, KillNineAmongTruncatesLosesAndRepeatsNothing) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql("CREATE TABLE accounts(id bigint PRIMARY KEY, note text NOT NULL)");
  std::string config = dir.Sub("cdc.yaml");
  WriteFile(config, TruncateConfig(pg.Url(), "public.accounts"));
  std::string data = dir.Sub("data");
  std::vector<std::string> extra = {"--config", config};
  auto run = StartDataforge({"run", "--config", config, "--data-dir", data});
  WaitForSlot(pg, run);
  std::string script;
  for (int i = 1; i <= 2000; ++i) {
    script += fmt::format("INSERT INTO accounts VALUES ({}, 'n{}');\n", i, i);
    if (i % 300 == 0) script += "TRUNCATE accounts;\n";  // 6 truncates
    script += "SELECT pg_sleep(0.001);\n";
  }
  WriteFile(dir.Sub("changes.sql"), script);
  auto writer = ChildProcess::Start({"/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
                                     dir.Sub("changes.sql"), pg.Url()});
  int64_t stored = 0;
  for (int i = 0; i < 1500 && stored < 700; ++i) {
    usleep(20'000);
    stored = StoredNow(data, extra);
  }
  run.Signal(SIGKILL);
  ASSERT_EQ(run.Wait(10000).signal, SIGKILL);
  auto restarted = StartDataforge({"run", "--config", config, "--data-dir", data});
  auto w = writer.Wait(120000);
  ASSERT_EQ(w.exit_code, 0) << w.err;
  WaitForStored(data, extra, 2006, restarted);
  restarted.Signal(SIGTERM);
  auto r = restarted.Wait(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(pg.Psql("SELECT count(*) FROM accounts"), "200");  // 1801..2000
  EXPECT_EQ(StoreRows(data, extra), TableRows(pg));
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.fetched, 2006);
  EXPECT_EQ(s.stored, 2006);
  EXPECT_EQ(s.dead_lettered, 0);
  EXPECT_EQ(s.log_lag, 0);
}

TEST(CdcTruncateTest, SeveralTablesIntoOneStoreTableRefuseATruncateLoudly) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql(
      "CREATE TABLE accounts(id bigint PRIMARY KEY, note text NOT NULL);"
      "CREATE TABLE others(id bigint PRIMARY KEY, note text NOT NULL)");
  std::string config = dir.Sub("cdc.yaml");
  WriteFile(config, TruncateConfig(pg.Url(), "public.accounts, public.others"));
  std::string data = dir.Sub("data");
  auto run = StartDataforge({"run", "--config", config, "--data-dir", data});
  WaitForSlot(pg, run);
  pg.Psql("INSERT INTO accounts VALUES (1, 'a'); INSERT INTO others VALUES (2, 'o')");
  pg.Psql("TRUNCATE others");
  auto r = run.Wait(60000);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  const std::string& last = lines.back();
  EXPECT_EQ(last.rfind("dataforge: ", 0), 0u) << r.err;
  EXPECT_NE(last.find("postgres_cdc source: TRUNCATE of public.others at LSN "), std::string::npos)
      << r.err;
  EXPECT_NE(last.find("cannot be applied: this source captures 2 tables into one store table"),
            std::string::npos)
      << r.err;
  EXPECT_NE(last.find("capture each table with a pipeline of its own"), std::string::npos) << r.err;
  // A restart stops at the same place: the truncate is never skipped silently.
  auto again = RunDataforge({"run", "--config", config, "--data-dir", data});
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_NE(again.err.find("TRUNCATE of public.others at LSN "), std::string::npos) << again.err;
}

}  // namespace
}  // namespace dataforge::testing

namespace dataforge::testing {
namespace {

// Over Kafka with two `--role process` members, neither owns every partition: the member that
// meets the truncate stops with exit 1 naming the table, the LSN and the fix.
TEST(CdcTruncateTest, ProcessMembersSharingTheTopicRefuseATruncateLoudly) {
  MockKafkaCluster kafka(1, {"accounts_changes:4"});
  PostgresServer pg;
  TempDir dir;
  pg.Psql("CREATE TABLE accounts(id bigint PRIMARY KEY, note text NOT NULL)");
  std::string config = dir.Sub("cdc.yaml");
  std::string yaml = TruncateConfig(pg.Url(), "public.accounts");
  yaml.replace(yaml.find("log: {"), 6,
               "log: {url: \"" + kafka.url() +
                   "\", properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}, ");
  WriteFile(config, yaml);
  auto member_a =
      StartDataforge({"run", "--role", "process", "--config", config, "--data-dir", dir.Sub("a")});
  auto member_b =
      StartDataforge({"run", "--role", "process", "--config", config, "--data-dir", dir.Sub("b")});
  auto owns = [](const ChildProcess& m) {
    std::string err = m.Stderr();
    auto gave = err.rfind("gave this member partitions");
    auto gave_up = err.rfind("gives up partitions");
    return gave != std::string::npos && (gave_up == std::string::npos || gave > gave_up);
  };
  ASSERT_TRUE(WaitFor([&] { return owns(member_a) && owns(member_b); }, 60))
      << member_a.Stderr() << member_b.Stderr();
  auto ingest =
      StartDataforge({"run", "--role", "ingest", "--config", config, "--data-dir", dir.Sub("i")});
  WaitForSlot(pg, ingest);
  pg.Psql("INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 100) g");
  pg.Psql("TRUNCATE accounts");
  // Each member meets the marker on its own partitions. One that took over every partition
  // after the other left may apply it (correctly); the one that met it first refuses it.
  const std::string kRefusal = "must be applied by a process member that owns every";
  ASSERT_TRUE(WaitFor(
      [&] {
        return member_a.Stderr().find(kRefusal) != std::string::npos ||
               member_b.Stderr().find(kRefusal) != std::string::npos;
      },
      60))
      << member_a.Stderr() << member_b.Stderr();
  bool a_refused = member_a.Stderr().find(kRefusal) != std::string::npos;
  ChildProcess& refused = a_refused ? member_a : member_b;
  ChildProcess& other = a_refused ? member_b : member_a;
  auto r = refused.Wait(60000);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto lines = SplitLines(r.err);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("dataforge: processor: TRUNCATE of public.accounts at LSN ", 0), 0u)
      << r.err;
  EXPECT_NE(lines.back().find(" must be applied by a process member that owns every partition "
                              "of accounts_changes, and this one owns "),
            std::string::npos)
      << r.err;
  EXPECT_NE(lines.back().find(" of 4: run one `--role process` member for this pipeline"),
            std::string::npos)
      << r.err;
  other.Signal(SIGTERM);
  auto ro = other.Wait(60000);
  EXPECT_TRUE(ro.exit_code == 0 || ro.err.find(kRefusal) != std::string::npos) << ro.err;
  ingest.Signal(SIGTERM);
  EXPECT_EQ(ingest.Wait(60000).exit_code, 0);
}

}  // namespace
}  // namespace dataforge::testing
