// PostgreSQL as the staging database, against a real throwaway PostgreSQL 15: the whole pipeline,
// the server restarting mid-run, dataforge killed mid-run, concurrent writers, records the
// server rejects, and the messages for bad configuration.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/pg_server.h"
#include "integration/subprocess.h"
#include "staging/staging.h"

namespace dataforge::testing {
namespace {

// Rows in the outbox so far (0 before dataforge created the schema).
int64_t OutboxRows(PostgresServer& pg) {
  auto r = pg.TryPsql("SELECT count(*) FROM dataforge.outbox");
  std::string n = r.out.substr(0, r.out.find('\n'));
  return r.exit_code == 0 && !n.empty() ? std::stoll(n) : 0;
}

// Checks staging in PostgreSQL against the store: one outbox row per fetched record with seqs
// 1..n, and the store's ids are exactly the staged keys.
void ExpectStagingMatchesStore(PostgresServer& pg, const std::string& data,
                               const std::vector<std::string>& extra, int64_t n) {
  std::string id = ReadFile(data + "/ID");
  id.erase(id.find_last_not_of("\n ") + 1);
  EXPECT_EQ(
      pg.Psql(fmt::format("SELECT count(*), count(DISTINCT key), coalesce(min(seq),0), "
                          "coalesce(max(seq),0) FROM dataforge.outbox WHERE instance_id = (SELECT "
                          "id FROM dataforge.instances WHERE name='{}')",
                          id)),
      fmt::format("{}|{}|{}|{}", n, n, n > 0 ? 1 : 0, n));
  auto keys = SplitLines(pg.Psql(fmt::format(
      "SELECT key FROM dataforge.staged_records WHERE instance='{}' ORDER BY key", id)));
  auto ids = ScanIds(data, extra);
  std::set<std::string> stored(ids.begin(), ids.end());
  std::set<std::string> staged(keys.begin(), keys.end());
  EXPECT_EQ(static_cast<int64_t>(ids.size()), n);
  EXPECT_TRUE(stored == staged) << stored.size() << " stored vs " << staged.size() << " staged";
}

TEST(PostgresStagingTest, DefaultPipelineRunsOnPostgresStaging) {
  PostgresServer pg;
  TempDir dir;
  std::string data = dir.Sub("data");
  std::vector<std::string> extra = {"--staging", pg.Url()};
  auto r =
      RunDataforge({"run", "--data-dir", data, "--staging", pg.Url(), "--max-records", "3000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stored + dead-lettered + lost == fetched: yes"), std::string::npos)
      << r.out;
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.fetched, 3000);
  EXPECT_EQ(s.staged, 3000);
  EXPECT_EQ(s.streamed, 3000);
  EXPECT_EQ(s.stored, 3000);
  EXPECT_EQ(s.staging_lag, 0);
  ExpectStagingMatchesStore(pg, data, extra, 3000);
  EXPECT_EQ(pg.Psql("SELECT version, description FROM dataforge.schema_migrations WHERE "
                    "version = 1"),
            "1|outbox, records, dead letters, source positions, counters");
  EXPECT_EQ(pg.Psql("SELECT max(version) FROM dataforge.schema_migrations"), "4");
  // The upsert view is plain SQL for anyone to query.
  EXPECT_EQ(pg.Psql("SELECT count(*) FROM dataforge.staged_records WHERE raw::jsonb ? 'login'"),
            "3000");
  // A second run resumes where the first stopped.
  r = RunDataforge({"run", "--data-dir", data, "--staging", pg.Url(), "--max-records", "1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectStagingMatchesStore(pg, data, extra, 4000);
}

TEST(PostgresStagingTest, ServerRestartMidRunLosesAndDoublesNothing) {
  PostgresServer pg;
  TempDir dir;
  std::string data = dir.Sub("data");
  std::string config = dir.Sub("p.yaml");
  // 10 pages/s of 100: the run takes ~4 s, the restart lands in the middle.
  WriteFile(config,
            "source:\n  results_per_page: 100\n  rate_limit_per_sec: 10\n"
            "tuning:\n  batch_records: 100\n");
  std::vector<std::string> extra = {"--config", config, "--staging", pg.Url()};
  auto child = StartDataforge({"run", "--config", config, "--data-dir", data, "--staging", pg.Url(),
                               "--max-records", "4000"});
  for (int i = 0; i < 200; ++i) {
    usleep(50'000);
    if (OutboxRows(pg) >= 800) break;
  }
  pg.Restart();
  auto r = child.Wait(120000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // It said what it was waiting for.
  EXPECT_NE(r.err.find("waiting for the server"), std::string::npos) << r.err;
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.fetched, 4000);
  EXPECT_EQ(s.stored, 4000);
  EXPECT_EQ(s.dead_lettered, 0);
  ExpectStagingMatchesStore(pg, data, extra, 4000);
}

TEST(PostgresStagingTest, KillNineMidRunThenRestartIsExact) {
  PostgresServer pg;
  TempDir dir;
  std::string data = dir.Sub("data");
  std::string config = dir.Sub("p.yaml");
  WriteFile(config,
            "source:\n  results_per_page: 100\n  rate_limit_per_sec: 20\n"
            "tuning:\n  batch_records: 100\n");
  std::vector<std::string> extra = {"--config", config, "--staging", pg.Url()};
  for (int64_t kill_after : {500, 1500}) {
    auto child = StartDataforge({"run", "--config", config, "--data-dir", data, "--staging",
                                 pg.Url(), "--max-records", "100000"});
    for (int i = 0; i < 400; ++i) {
      usleep(50'000);
      if (OutboxRows(pg) >= kill_after) break;
    }
    child.Signal(SIGKILL);
    auto r = child.Wait(10000);
    ASSERT_EQ(r.signal, SIGKILL);
  }
  auto r = RunDataforge({"run", "--config", config, "--data-dir", data, "--staging", pg.Url(),
                         "--max-records", "300"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  StatusJson s = Status(data, extra);
  EXPECT_GE(s.fetched, 1800);
  EXPECT_EQ(s.stored, s.fetched);
  EXPECT_EQ(s.streamed, s.fetched);
  EXPECT_EQ(s.staging_lag, 0);
  ExpectStagingMatchesStore(pg, data, extra, s.fetched);
}

TEST(PostgresStagingTest, StatementTimeoutsWhileLockedOutAreRetried) {
  PostgresServer pg;
  TempDir dir;
  std::string data = dir.Sub("data");
  std::string config = dir.Sub("p.yaml");
  WriteFile(config,
            "source:\n  results_per_page: 100\n  rate_limit_per_sec: 10\n"
            "tuning:\n  batch_records: 100\n");
  // Every statement of dataforge's gives up after 300 ms.
  std::string url = pg.Url() + "?options=-c%20statement_timeout%3D300";
  std::vector<std::string> extra = {"--config", config, "--staging", url};
  auto child = StartDataforge(
      {"run", "--config", config, "--data-dir", data, "--staging", url, "--max-records", "2000"});
  for (int i = 0; i < 200 && OutboxRows(pg) < 300; ++i) usleep(50'000);
  // Another session holds the outbox for 2 s: dataforge's COPY times out (57014), is retried.
  pg.Psql(
      "BEGIN; LOCK TABLE dataforge.outbox IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(2); "
      "COMMIT;");
  auto r = child.Wait(120000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("canceling statement due to statement timeout (SQLSTATE 57014)"),
            std::string::npos)
      << r.err;
  StatusJson s = Status(data, extra);
  EXPECT_EQ(s.fetched, 2000);
  EXPECT_EQ(s.stored, 2000);
  ExpectStagingMatchesStore(pg, data, extra, 2000);
}

TEST(PostgresStagingTest, TwoIngestProcessesShareOneDatabase) {
  PostgresServer pg;
  TempDir dir;
  auto a = StartDataforge(
      {"run", "--data-dir", dir.Sub("a"), "--staging", pg.Url(), "--max-records", "5000"});
  auto b = StartDataforge(
      {"run", "--data-dir", dir.Sub("b"), "--staging", pg.Url(), "--max-records", "5000"});
  auto ra = a.Wait(120000);
  auto rb = b.Wait(120000);
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  ExpectStagingMatchesStore(pg, dir.Sub("a"), {"--staging", pg.Url()}, 5000);
  ExpectStagingMatchesStore(pg, dir.Sub("b"), {"--staging", pg.Url()}, 5000);
  // Different seeds: 10,000 distinct keys in the shared upsert view.
  EXPECT_EQ(pg.Psql("SELECT count(*) FROM dataforge.records"), "10000");
  EXPECT_EQ(pg.Psql("SELECT value FROM dataforge.counters WHERE name='distinct_keys'"), "10000");
  // Read with no instance (a reader without a data dir): both instances, summed.
  auto all = OpenStaging(pg.Url(), OpenMode::kReadOnly, true, "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  auto counters = (*all)->Counters();
  ASSERT_TRUE(counters.ok()) << counters.status().ToString();
  EXPECT_EQ(counters->fetched, 10000u);
  EXPECT_EQ(counters->staged, 10000u);
  EXPECT_EQ(counters->streamed, 10000u);
  EXPECT_EQ(counters->distinct_keys, 10000u);
  EXPECT_EQ(counters->last_seq, 10000u);  // each instance's 5,000
  EXPECT_EQ(counters->relay_cursor, 10000u);
  auto positions = (*all)->SourcePositions();
  ASSERT_TRUE(positions.ok()) << positions.status().ToString();
  ASSERT_EQ(positions->size(), 2u);
  for (const auto& [name, position] : *positions) {
    EXPECT_EQ(name.size(), 36u + std::string("/randomuser").size()) << name;  // "<data dir id>/…"
    EXPECT_TRUE(name.ends_with("/randomuser")) << name;
    EXPECT_FALSE(position.empty());
  }
  auto count =
      RunDataforge({"staging", "count", "--staging", pg.Url(), "--data-dir", dir.Sub("none")});
  EXPECT_EQ(count.exit_code, 0) << count.err;
  EXPECT_EQ(count.out, "10000\n");
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("none")));
}

TEST(PostgresStagingTest, RejectedRecordsAreDeadLetteredWithTheServersReason) {
  PostgresServer pg;
  auto staging = OpenStaging(pg.Url(), OpenMode::kReadWrite, true, "test-instance");
  ASSERT_TRUE(staging.ok()) << staging.status().ToString();
  SourceBatch batch;
  batch.position = "p1";
  batch.records.push_back({"k1", R"({"a":1})", 1});
  batch.records.push_back({"k2", std::string("{\"a\":\"x\0y\"}", 11), 2});  // a NUL byte
  std::string huge_key;
  std::mt19937 random(42);  // incompressible, so TOAST cannot shrink it under the index limit
  for (int i = 0; i < 20000; ++i) huge_key += static_cast<char>('a' + random() % 26);
  batch.records.push_back({huge_key, R"({"a":3})", 3});  // too large for the key's index
  batch.records.push_back({"k4", R"({"a":4})", 4});
  auto seq = (*staging)->Commit("src", batch);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, 2u);  // the two accepted records got seqs 1 and 2
  std::vector<OutboxRow> rows;
  ASSERT_TRUE((*staging)->ReadOutbox(0, 10, &rows).ok());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, "k1");
  EXPECT_EQ(rows[1].key, "k4");
  EXPECT_EQ(rows[1].seq, 2u);
  std::vector<StoredDeadLetter> dead;
  ASSERT_TRUE((*staging)->ListDeadLetters(0, 10, &dead).ok());
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].letter.stage, "staging");
  EXPECT_EQ(dead[0].letter.reason,
            "PostgreSQL rejected the record: invalid byte sequence for encoding \"UTF8\": 0x00");
  EXPECT_EQ(dead[0].letter.payload, batch.records[1].raw);  // the NUL byte kept (bytea)
  EXPECT_EQ(dead[0].letter.location, "key k2 (source position p1)");
  EXPECT_NE(dead[1].letter.reason.find("PostgreSQL rejected the record: index row"),
            std::string::npos)
      << dead[1].letter.reason;
  auto c = (*staging)->Counters();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->fetched, 4u);
  EXPECT_EQ(c->staged, 2u);
  EXPECT_EQ(c->dead_lettered, 2u);
  EXPECT_EQ(c->distinct_keys, 0u);  // the upsert view follows the relay cursor
  EXPECT_EQ(c->last_seq, 2u);
  EXPECT_EQ((*staging)->Get("k4")->raw, R"({"a":4})");  // not in the view yet, found anyway
  // The next batch continues the sequence.
  SourceBatch next;
  next.position = "p2";
  next.records.push_back({"k1", R"({"a":5})", 5});
  EXPECT_EQ(*(*staging)->Commit("src", next), 3u);
  EXPECT_EQ((*staging)->Get("k1")->raw, R"({"a":5})");
  EXPECT_EQ(*(*staging)->SourcePosition("src"), "p2");
  // The relay cursor only moves forward, and a repeated commit adds nothing; it brings the
  // upsert view along: k1 (twice, latest wins) and k4.
  ASSERT_TRUE((*staging)->CommitRelayCursor(3, 3).ok());
  ASSERT_TRUE((*staging)->CommitRelayCursor(3, 3).ok());
  ASSERT_TRUE((*staging)->CommitRelayCursor(2, 1).ok());
  c = (*staging)->Counters();
  EXPECT_EQ(c->relay_cursor, 3u);
  EXPECT_EQ(c->streamed, 3u);
  EXPECT_EQ(c->distinct_keys, 2u);
  EXPECT_EQ((*staging)->Get("k1")->raw, R"({"a":5})");
  EXPECT_EQ((*staging)->Get("k1")->seq, 3u);
  EXPECT_EQ(pg.Psql("SELECT key || ':' || seq FROM dataforge.records ORDER BY key"), "k1:3\nk4:2");
}

TEST(PostgresStagingTest, BadConfigurationSaysWhatToFix) {
  PostgresServer pg;
  TempDir dir;
  auto run = [&](const std::string& url) {
    return RunDataforge(
        {"run", "--data-dir", dir.Sub("data"), "--staging", url, "--max-records", "10"}, 60000);
  };
  auto r = run(pg.Url("dataforge", "postgres", "wrong"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, fmt::format("dataforge: PostgreSQL staging at 127.0.0.1:{}/dataforge as "
                               "postgres: connecting failed: password authentication failed for "
                               "user \"postgres\"; check the user and password in the PostgreSQL "
                               "staging url (a pipeline file can use ${{ENV_VAR}} for the "
                               "password)\n",
                               pg.port()));
  r = run(pg.Url("nosuchdb"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("database \"nosuchdb\" does not exist; create the database"),
            std::string::npos)
      << r.err;
  r = run("postgresql://postgres:secret@127.0.0.1:1/dataforge");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Connection refused"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is PostgreSQL running there? check the host and port"), std::string::npos)
      << r.err;
  EXPECT_EQ(SplitLines(r.err).size(), 1u) << r.err;
  // A user that may connect but not create the schema.
  pg.Psql(
      "CREATE ROLE reader LOGIN PASSWORD 'pw'; REVOKE CREATE ON DATABASE dataforge FROM "
      "PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC");
  r = run(pg.Url("dataforge", "reader", "pw"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("permission denied for database dataforge"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("GRANT CREATE ON DATABASE"), std::string::npos) << r.err;
  // A schema from a newer dataforge is refused, not touched.
  r = run(pg.Url());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  pg.Psql("INSERT INTO dataforge.schema_migrations VALUES (99, 'from the future')");
  r = run(pg.Url());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, fmt::format("dataforge: staging database 127.0.0.1:{}/dataforge has DataForge "
                               "schema version 99, newer than this dataforge knows (4): a newer "
                               "dataforge migrated it; run that version (or use another "
                               "database)\n",
                               pg.port()));
}

}  // namespace
}  // namespace dataforge::testing
