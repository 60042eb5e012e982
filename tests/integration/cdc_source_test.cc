// The postgres_cdc source's keys, publication and slot against a real PostgreSQL 15:
// - a REPLICA IDENTITY FULL table without a primary key is keyed by the store's key column, so
//   an update stays an update and every change of one store row goes through one log partition;
// - a partitioned table is captured under its own name (publish_via_partition_root) through any
//   number of restarts;
// - a dropped replication slot stops the run (exit 1, naming the gap) instead of being recreated.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"

namespace dataforge::testing {
namespace {

// A pipeline over `table`, keyed in the store by data.id, with the event's op and table kept in
// store columns. `source_extra` is appended to the source section.
std::string Config(const std::string& url, const std::string& name, const std::string& table,
                   const std::string& source_extra = "",
                   const std::string& id_spec =
                       "path: "
                       "data.id") {
  return fmt::format(R"(source:
  name: {name}
  type: postgres_cdc
  url: {url}
  tables: [{table}]
{extra}log: {{topic: {name}_changes, partitions: 4}}
process:
  table: app.{name}
  key_column: id
  delete_when: {{path: op, equals: delete}}
  columns:
    - {{name: id, {id_spec}, required: true}}
    - {{name: note, path: data.note}}
    - {{name: op, path: op}}
    - {{name: tbl, path: table}}
tuning: {{batch_records: 200}}
)",
                     fmt::arg("name", name), fmt::arg("url", url), fmt::arg("table", table),
                     fmt::arg("extra", source_extra), fmt::arg("id_spec", id_spec));
}

// Every store row as "id|note|op|tbl", sorted.
std::vector<std::string> StoreRows(const std::string& data, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"table", "scan", "--data-dir", data};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = RunDataforge(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> rows;
  for (const auto& line : SplitLines(r.out)) {
    rows.push_back(JsonField(line, "id") + "|" + JsonField(line, "note") + "|" +
                   JsonField(line, "op") + "|" + JsonField(line, "tbl"));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

bool SlotActive(PostgresServer& pg, const std::string& slot) {
  return pg.Psql(fmt::format("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{}' "
                             "AND active",
                             slot)) == "1";
}

// Waits until `stored` reaches n (or goes past it), then asserts it is exactly n.
void WaitForStored(const std::string& data, const std::vector<std::string>& extra, int64_t n,
                   ChildProcess& child) {
  int64_t stored = -1;
  WaitFor([&] { return (stored = StoredNow(data, extra)) >= n; }, 60);
  ASSERT_EQ(stored, n) << child.Stderr();
}

void Stop(ChildProcess& child) {
  child.Signal(SIGTERM);
  auto r = child.Wait(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// (a) REPLICA IDENTITY FULL, no primary key: the record key is built from data.id (the store's
// key column), not from every column. Each UPDATE is one "update" event on id's partition; only
// a change of id itself is a delete of the old row and an insert of the new one.
TEST(CdcSourceTest, FullIdentityUpdatesStayUpdatesOnTheStoreKeysPartition) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql(
      "CREATE TABLE items(id bigint NOT NULL, note text NOT NULL);"
      "ALTER TABLE items REPLICA IDENTITY FULL");
  std::string config = dir.Sub("cdc.yaml");
  WriteFile(config, Config(pg.Url(), "items", "public.items"));
  std::string data = dir.Sub("data");
  std::vector<std::string> extra = {"--config", config};
  auto run = StartDataforge({"run", "--config", config, "--data-dir", data});
  ASSERT_TRUE(WaitFor([&] { return SlotActive(pg, "dataforge_items"); }, 60)) << run.Stderr();

  // 300 inserts; 10 transactions that each update all 300 rows (3000 updates); 50 deletes
  // (under FULL identity the delete event's data is the whole old row); 10 updates of id
  // (each a delete and an insert): 300 + 3000 + 50 + 20 = 3370 events.
  std::string sql = "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 300) g;";
  for (int round = 0; round < 10; ++round) {
    sql += fmt::format("UPDATE items SET note = note || '.{}';", round);
  }
  sql +=
      "DELETE FROM items WHERE id > 250;"
      "UPDATE items SET id = id + 1000 WHERE id <= 10;";
  pg.Psql(sql);
  WaitForStored(data, extra, 3370, run);
  Stop(run);

  // The store equals the table; a row's last event was an update, except the moved ones.
  auto table = SplitLines(pg.Psql(
      "SELECT id || '|' || note || '|' || CASE WHEN id > 1000 THEN 'insert' ELSE 'update' END "
      "|| '|public.items' FROM items"));
  ASSERT_EQ(table.size(), 250u);
  EXPECT_EQ(StoreRows(data, extra), Sorted(table));
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.staged, 3370);
  EXPECT_EQ(s.stored, 3370);
  EXPECT_EQ(s.dead_lettered, 0);
  EXPECT_EQ(s.store_rows, 250);
}

// Without a primary key and with a store key that is not "data.<column>", the table has no
// column that names a store row: Open() fails with one line naming the table and the option.
// source.key_columns then names it.
TEST(CdcSourceTest, FullIdentityWithoutAKeyColumnNamesTheOptionToSet) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql(
      "CREATE TABLE items(id bigint NOT NULL, note text NOT NULL);"
      "ALTER TABLE items REPLICA IDENTITY FULL");
  const std::string by_template = "template: \"{data.id}\"";
  WriteFile(dir.Sub("a.yaml"), Config(pg.Url(), "items", "public.items", "", by_template));
  auto r = RunDataforge({"run", "--config", dir.Sub("a.yaml"), "--data-dir", dir.Sub("a")}, 30000);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(SplitLines(r.err).back(),
            "dataforge: postgres_cdc source: table public.items has REPLICA IDENTITY FULL and no "
            "primary key, and the store's key (process.key_column) is not read from a path "
            "data.<column>: name the columns that identify a store row with source.key_columns: "
            "{public.items: [COLUMN, ...]}");

  WriteFile(dir.Sub("b.yaml"), Config(pg.Url(), "items", "public.items",
                                      "  key_columns: {items: [nosuch]}\n", by_template));
  r = RunDataforge({"run", "--config", dir.Sub("b.yaml"), "--data-dir", dir.Sub("b")}, 30000);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(SplitLines(r.err).back(),
            "dataforge: postgres_cdc source: source.key_columns names column 'nosuch' of "
            "public.items, which has no such column (columns: id, note)");

  // With key_columns the pipeline runs, and an update is an update.
  WriteFile(dir.Sub("c.yaml"), Config(pg.Url(), "items", "public.items",
                                      "  key_columns: {items: [id]}\n", by_template));
  std::vector<std::string> extra = {"--config", dir.Sub("c.yaml")};
  auto run = StartDataforge({"run", "--config", dir.Sub("c.yaml"), "--data-dir", dir.Sub("c")});
  ASSERT_TRUE(WaitFor([&] { return SlotActive(pg, "dataforge_items"); }, 60)) << run.Stderr();
  pg.Psql("INSERT INTO items VALUES (1, 'a'), (2, 'b'); UPDATE items SET note = 'c' WHERE id = 1");
  WaitForStored(dir.Sub("c"), extra, 3, run);
  Stop(run);
  EXPECT_EQ(StoreRows(dir.Sub("c"), extra),
            (std::vector<std::string>{"1|c|update|public.items", "2|b|insert|public.items"}));
}

// (b) A partitioned table: three runs with changes between them. Every change arrives under the
// parent's name, and a row moved to another partition (a change of its primary key (id, region)
// but not of the store key id) stays one store row.
TEST(CdcSourceTest, PartitionedTableSurvivesRestartsUnderTheParentsName) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql(
      "CREATE TABLE readings(id bigint NOT NULL, region text NOT NULL, note text NOT NULL, "
      "PRIMARY KEY (id, region)) PARTITION BY LIST (region);"
      "CREATE TABLE readings_eu PARTITION OF readings FOR VALUES IN ('eu');"
      "CREATE TABLE readings_us PARTITION OF readings FOR VALUES IN ('us')");
  std::string config = dir.Sub("cdc.yaml");
  WriteFile(config, Config(pg.Url(), "readings", "public.readings"));
  std::string data = dir.Sub("data");
  std::vector<std::string> extra = {"--config", config};
  auto run = StartDataforge({"run", "--config", config, "--data-dir", data});
  ASSERT_TRUE(WaitFor([&] { return SlotActive(pg, "dataforge_readings"); }, 60)) << run.Stderr();
  pg.Psql(
      "INSERT INTO readings SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'n' || g "
      "FROM generate_series(1, 100) g");
  WaitForStored(data, extra, 100, run);
  Stop(run);

  // Run 2 and run 3 each find the publication and the slot from before and read the changes
  // made while nothing ran: 40 updates, 10 deletes, 10 rows moved to the other partition (a
  // delete and an insert each) = 70 events; then 20 inserts and 20 updates = 40 events.
  pg.Psql(
      "UPDATE readings SET note = note || '-2' WHERE id <= 40;"
      "DELETE FROM readings WHERE id > 90;"
      "UPDATE readings SET region = CASE region WHEN 'eu' THEN 'us' ELSE 'eu' END "
      "WHERE id BETWEEN 41 AND 50");
  auto r2 = RunDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "70"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  pg.Psql(
      "INSERT INTO readings SELECT g, 'eu', 'n' || g FROM generate_series(201, 220) g;"
      "UPDATE readings SET note = note || '-3' WHERE id BETWEEN 31 AND 50");
  auto r3 = RunDataforge({"run", "--config", config, "--data-dir", data, "--max-records", "40"});
  ASSERT_EQ(r3.exit_code, 0) << r3.err;

  auto table = SplitLines(pg.Psql(
      "SELECT id || '|' || note || '|' || CASE WHEN id > 200 THEN 'insert' WHEN id <= 50 THEN "
      "'update' ELSE 'insert' END || '|public.readings' FROM readings"));
  ASSERT_EQ(table.size(), 110u);
  EXPECT_EQ(StoreRows(data, extra), Sorted(table));
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.stored, 210);
  EXPECT_EQ(s.dead_lettered, 0);
  EXPECT_EQ(pg.Psql("SELECT pubviaroot FROM pg_publication WHERE pubname = 'dataforge_readings'"),
            "t");
  EXPECT_EQ(pg.Psql("SELECT string_agg(tablename, ',') FROM pg_publication_tables WHERE pubname = "
                    "'dataforge_readings'"),
            "readings");
}

// An existing publication without publish_via_partition_root (made by hand, or by an older
// DataForge) is altered to have it, once a partitioned table is captured through it.
TEST(CdcSourceTest, ExistingPublicationGetsPublishViaPartitionRoot) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql(
      "CREATE TABLE readings(id bigint PRIMARY KEY, note text NOT NULL) PARTITION BY RANGE (id);"
      "CREATE TABLE readings_low PARTITION OF readings FOR VALUES FROM (0) TO (1000);"
      "CREATE PUBLICATION dataforge_readings FOR TABLE readings");
  std::string config = dir.Sub("cdc.yaml");
  WriteFile(config, Config(pg.Url(), "readings", "public.readings"));
  std::string data = dir.Sub("data");
  std::vector<std::string> extra = {"--config", config};
  auto run = StartDataforge({"run", "--config", config, "--data-dir", data});
  ASSERT_TRUE(WaitFor([&] { return SlotActive(pg, "dataforge_readings"); }, 60)) << run.Stderr();
  pg.Psql("INSERT INTO readings VALUES (1, 'a'), (2, 'b')");
  WaitForStored(data, extra, 2, run);
  Stop(run);
  EXPECT_EQ(StoreRows(data, extra),
            (std::vector<std::string>{"1|a|insert|public.readings", "2|b|insert|public.readings"}));
  EXPECT_EQ(pg.Psql("SELECT pubviaroot FROM pg_publication WHERE pubname = 'dataforge_readings'"),
            "t");
}

// (c) The replication slot is dropped between two runs: the changes committed meanwhile are
// gone from the server, so the run fails (exit 1) naming the stored position and the server's
// current one, creates no slot, and leaves the store as it was; every later run too.
TEST(CdcSourceTest, DroppedSlotFailsNamingTheGap) {
  PostgresServer pg;
  TempDir dir;
  pg.Psql("CREATE TABLE accounts(id bigint PRIMARY KEY, note text NOT NULL)");
  std::string config = dir.Sub("cdc.yaml");
  WriteFile(config, Config(pg.Url(), "accounts", "public.accounts"));
  std::string data = dir.Sub("data");
  std::vector<std::string> extra = {"--config", config};
  auto run = StartDataforge({"run", "--config", config, "--data-dir", data});
  ASSERT_TRUE(WaitFor([&] { return SlotActive(pg, "dataforge_accounts"); }, 60)) << run.Stderr();
  std::string before_first = pg.Psql("SELECT pg_current_wal_lsn()");
  pg.Psql("INSERT INTO accounts SELECT g, 'n' || g FROM generate_series(1, 100) g");
  WaitForStored(data, extra, 100, run);
  Stop(run);
  auto stored_rows = StoreRows(data, extra);
  ASSERT_EQ(stored_rows.size(), 100u);

  pg.Psql("SELECT pg_drop_replication_slot('dataforge_accounts')");
  std::string gap_start = pg.Psql("SELECT pg_current_wal_lsn()");
  pg.Psql("INSERT INTO accounts SELECT g, 'gap' || g FROM generate_series(101, 150) g");
  std::string gap_end = pg.Psql("SELECT pg_current_wal_lsn()");

  for (int attempt = 0; attempt < 2; ++attempt) {
    auto r = RunDataforge({"run", "--config", config, "--data-dir", data}, 30000);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::smatch m;
    std::string last = SplitLines(r.err).empty() ? "" : SplitLines(r.err).back();
    ASSERT_TRUE(std::regex_match(
        last, m,
        std::regex("dataforge: postgres_cdc source: replication slot dataforge_accounts does not "
                   "exist \\(dropped\\?\\): the changes committed between the stored position "
                   "([0-9A-F]+/[0-9A-F]+) and the server's current position ([0-9A-F]+/[0-9A-F]+) "
                   "cannot be read; to go on without them, create the slot \\(SELECT "
                   "pg_create_logical_replication_slot\\('dataforge_accounts', 'pgoutput'\\)\\) "
                   "and run again; to start over, give the source a new name")))
        << r.err;
    // The stored position is after the first run's changes and before the gap; the current one
    // is after the gap.
    auto lsn = [&](const std::string& text) {
      return pg.Psql(fmt::format("SELECT '{}'::pg_lsn - '0/0'::pg_lsn", text));
    };
    auto cmp = [&](const std::string& a, const std::string& op, const std::string& b) {
      return pg.Psql(fmt::format("SELECT '{}'::pg_lsn {} '{}'::pg_lsn", a, op, b)) == "t";
    };
    EXPECT_TRUE(cmp(m[1], ">", before_first)) << m[1] << " " << lsn(m[1]);
    EXPECT_TRUE(cmp(m[1], "<=", gap_start)) << m[1] << " " << gap_start;
    EXPECT_TRUE(cmp(m[2], ">=", gap_end)) << m[2] << " " << gap_end;
    EXPECT_EQ(pg.Psql("SELECT count(*) FROM pg_replication_slots"), "0");
    EXPECT_EQ(StoreRows(data, extra), stored_rows);
  }
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.stored, 100);
  EXPECT_EQ(s.dead_lettered, 0);
}

}  // namespace
}  // namespace dataforge::testing
