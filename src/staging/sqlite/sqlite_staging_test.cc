#include "staging/sqlite/sqlite_staging.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <map>

#include "staging/sqlite/sqlite_db.h"

namespace dataforge {
namespace {

class SqliteStagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_staging_XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/staging.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Staging> OpenRw() {
    auto s = OpenStaging("sqlite://" + path_, OpenMode::kReadWrite, true);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  static SourceBatch Batch(std::initializer_list<std::pair<const char*, const char*>> recs,
                           std::string position, int dead = 0) {
    SourceBatch b;
    for (auto& [k, v] : recs) b.records.push_back({k, v, 1000});
    for (int i = 0; i < dead; ++i) {
      b.dead_letters.push_back(
          {"source", "bad " + std::to_string(i), "url#" + std::to_string(i), "{oops", 5});
    }
    b.position = std::move(position);
    return b;
  }

  // Runs `sql` on a connection of its own, as another program (or an older dataforge) would.
  void ExecRaw(const std::string& sql) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  // The first column of the first row `sql` returns, read on a connection of its own.
  int64_t QueryInt(const std::string& sql) const {
    auto db = SqliteDb::Open(path_, /*read_only=*/true);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return -1;
    auto q = (*db)->Prepare(sql);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    if (!q.ok()) return -1;
    auto row = q->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return q->ColumnInt(0);
  }

  std::string dir_, path_;
};

TEST_F(SqliteStagingTest, CommitAssignsSequencesAndCounts) {
  auto s = OpenRw();
  auto last = s->Commit("src", Batch({{"a", "{\"v\":1}"}, {"b", "{\"v\":2}"}}, "p1", 1));
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(*last, 2u);
  last = s->Commit("src", Batch({{"a", "{\"v\":3}"}}, "p2"));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 3u);
  auto c = s->Counters();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->fetched, 4u);
  EXPECT_EQ(c->staged, 3u);
  EXPECT_EQ(c->dead_lettered, 1u);
  EXPECT_EQ(c->distinct_keys, 0u);  // the view follows the relay cursor
  EXPECT_EQ(c->last_seq, 3u);
  EXPECT_EQ(c->relay_cursor, 0u);
  EXPECT_EQ(s->SourcePosition("src").value(), "p2");
  EXPECT_EQ(s->SourcePosition("other").value(), "");
  auto row = s->Get("a");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->seq, 3u);
  EXPECT_EQ(row->raw, "{\"v\":3}");
  EXPECT_EQ(s->Get("zz").status().code(), StatusCode::kNotFound);
}

// The upsert view holds each key's last version up to the relay cursor, upserted in the cursor's
// transaction; Get() sees a newer version past the cursor at once.
TEST_F(SqliteStagingTest, UpsertViewFollowsTheRelayCursor) {
  auto s = OpenRw();
  ASSERT_TRUE(s->Commit("src", Batch({{"a", "1"}, {"b", "2"}, {"a", "3"}}, "p1")).ok());
  ASSERT_TRUE(s->Commit("src", Batch({{"c", "4"}, {"a", "5"}, {"a", "6"}}, "p2")).ok());
  EXPECT_EQ(s->Counters()->distinct_keys, 0u);
  EXPECT_EQ(s->Get("a")->seq, 6u);

  ASSERT_TRUE(s->CommitRelayCursor(2, 2).ok());  // a@1, b@2
  EXPECT_EQ(s->Counters()->distinct_keys, 2u);
  EXPECT_EQ(s->Get("a")->seq, 6u);   // past the cursor
  EXPECT_EQ(s->Get("b")->raw, "2");  // from the view
  EXPECT_EQ(s->Get("c")->seq, 4u);

  ASSERT_TRUE(s->CommitRelayCursor(5, 3).ok());  // a@3, c@4, a@5: a's last in the range wins
  ASSERT_TRUE(s->CommitRelayCursor(4, 0).ok());  // a retry below the cursor changes nothing
  auto reader = OpenStaging("sqlite://" + path_, OpenMode::kReadOnly, true);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Counters()->distinct_keys, 3u);
  EXPECT_EQ((*reader)->Get("a")->seq, 6u);
  EXPECT_EQ((*reader)->Get("c")->raw, "4");

  ASSERT_TRUE(s->CommitRelayCursor(6, 1).ok());
  EXPECT_EQ((*reader)->Get("a")->raw, "6");
  EXPECT_EQ((*reader)->Counters()->distinct_keys, 3u);
  EXPECT_EQ((*reader)->Get("zz").status().code(), StatusCode::kNotFound);
  // What the view holds, row by row: orchestrator sql tasks read it as a table.
  auto db = SqliteDb::Open(path_, /*read_only=*/true);
  ASSERT_TRUE(db.ok());
  auto q = (*db)->Prepare("SELECT o.key, s.seq FROM staged s JOIN outbox o USING(seq) ORDER BY 1");
  ASSERT_TRUE(q.ok());
  std::vector<std::string> view;
  while (*q->Step()) view.push_back(q->ColumnText(0) + "@" + std::to_string(q->ColumnInt(1)));
  EXPECT_EQ(view, (std::vector<std::string>{"a@6", "b@2", "c@4"}));
}

// Rows an earlier run committed past its last cursor are read back from the outbox; the rows
// this run commits are remembered; one cursor commit upserts both.
TEST_F(SqliteStagingTest, UpsertViewAfterAReopenReadsTheEarlierRunsRowsBack) {
  {
    auto s = OpenRw();
    ASSERT_TRUE(s->Commit("src", Batch({{"a", "1"}, {"b", "2"}}, "p1")).ok());
    ASSERT_TRUE(s->CommitRelayCursor(1, 1).ok());
    ASSERT_TRUE(s->Commit("src", Batch({{"c", "3"}, {"d", "4"}}, "p2")).ok());
  }
  auto s = OpenRw();
  EXPECT_EQ(s->Counters()->distinct_keys, 1u);
  ASSERT_TRUE(s->Commit("src", Batch({{"b", "5"}, {"e", "6"}}, "p3")).ok());
  ASSERT_TRUE(s->CommitRelayCursor(3, 2).ok());  // b@2, c@3 read back
  EXPECT_EQ(s->Counters()->distinct_keys, 3u);
  ASSERT_TRUE(s->CommitRelayCursor(6, 3).ok());  // d@4 read back; b@5, e@6 remembered
  EXPECT_EQ(s->Counters()->distinct_keys, 5u);
  for (auto [key, seq] : std::vector<std::pair<std::string, uint64_t>>{
           {"a", 1}, {"b", 5}, {"c", 3}, {"d", 4}, {"e", 6}}) {
    auto row = s->Get(key);
    ASSERT_TRUE(row.ok()) << key;
    EXPECT_EQ(row->seq, seq) << key;
  }
  EXPECT_EQ(QueryInt("SELECT count(*) FROM staged"), 5);
  EXPECT_EQ(QueryInt("SELECT sum(seq) FROM staged"), 1 + 5 + 3 + 4 + 6);
}

// More rows than one slice of the view's upserts (kViewSlice, 2,000): several transactions, the
// same view.
TEST_F(SqliteStagingTest, UpsertViewOfManyKeysCommitsInSlices) {
  auto s = OpenRw();
  std::vector<std::string> keys;
  for (int i = 0; i < 4500; ++i) keys.push_back("key-" + std::to_string(i));
  SourceBatch batch;
  for (int i = 0; i < 4500; ++i) batch.records.push_back({keys[i], "v", 1});
  for (int i = 0; i < 4500; i += 9) batch.records.push_back({keys[i], "again", 2});  // 500
  ASSERT_TRUE(s->Commit("src", batch).ok());
  ASSERT_TRUE(s->CommitRelayCursor(5000, 5000).ok());
  auto c = s->Counters();
  EXPECT_EQ(c->distinct_keys, 4500u);
  EXPECT_EQ(c->relay_cursor, 5000u);
  EXPECT_EQ(c->streamed, 5000u);
  EXPECT_EQ(s->Get("key-9")->seq, 4502u);
  EXPECT_EQ(s->Get("key-9")->raw, "again");
  EXPECT_EQ(s->Get("key-10")->seq, 11u);
  // Seqs 1..4500, except each of the 500 updated keys points at its update (4501..5000).
  int64_t want = 0;
  for (int i = 1; i <= 4500; ++i) want += (i - 1) % 9 == 0 ? 4501 + (i - 1) / 9 : i;
  EXPECT_EQ(QueryInt("SELECT sum(seq) FROM staged"), want);
}

TEST_F(SqliteStagingTest, UpsertViewMovesKeysItHeldBeforeToTheirNewVersions) {
  // Upserts of many rows per statement: a later cursor commit updates keys the view holds.
  auto s = OpenRw();
  SourceBatch first;
  for (int i = 0; i < 1000; ++i) first.records.push_back({"k" + std::to_string(i), "v1", 1});
  ASSERT_TRUE(s->Commit("src", first).ok());
  ASSERT_TRUE(s->CommitRelayCursor(1000, 1000).ok());
  SourceBatch second;  // every other key again (500), then 300 new keys: seqs 1001..1800
  for (int i = 0; i < 1000; i += 2) second.records.push_back({"k" + std::to_string(i), "v2", 2});
  for (int i = 1000; i < 1300; ++i) second.records.push_back({"k" + std::to_string(i), "v1", 2});
  ASSERT_TRUE(s->Commit("src", second).ok());
  ASSERT_TRUE(s->CommitRelayCursor(1800, 800).ok());
  EXPECT_EQ(s->Counters()->distinct_keys, 1300u);
  EXPECT_EQ(s->Get("k998")->seq, 1500u);
  EXPECT_EQ(s->Get("k998")->raw, "v2");
  EXPECT_EQ(s->Get("k999")->seq, 1000u);
  EXPECT_EQ(s->Get("k1299")->seq, 1800u);
  int64_t want = 0;
  for (int i = 0; i < 1000; ++i) want += i % 2 == 0 ? 1001 + i / 2 : i + 1;
  for (int i = 1501; i <= 1800; ++i) want += i;
  EXPECT_EQ(QueryInt("SELECT sum(seq) FROM staged"), want);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM staged"), 1300);
}

// A view of 64,000 keys trails the cursor by up to 8,000 rows (an eighth): cursor commits of
// 1,000 rows wait, then one pass of 8,000 keys runs over three commits (twice the rows each
// passes: 2,000 keys), its last slice with the third. Get() sees past it all along; after a
// reopen in the middle of a pass, CompleteView() brings the view up to the cursor.
TEST_F(SqliteStagingTest, TheUpsertViewTrailsALargeViewsCursorAndCompletes) {
  auto s = OpenRw();
  std::map<std::string, uint64_t> want;  // key -> last seq up to the cursor
  uint64_t seq = 0;
  auto commit = [&](int from, int n, const std::string& value) {
    SourceBatch b;
    for (int i = from; i < from + n; ++i) {
      b.records.push_back({"k" + std::to_string(i), value, 1});
      want["k" + std::to_string(i)] = ++seq;
    }
    ASSERT_TRUE(s->Commit("src", b).ok());
    ASSERT_TRUE(s->CommitRelayCursor(seq, n).ok());
  };
  auto view_sum = [&] {
    int64_t sum = 0;
    for (const auto& [key, v] : want) sum += static_cast<int64_t>(v);
    return sum;
  };
  commit(0, 64000, "v1");  // an empty view waits for nothing
  EXPECT_EQ(s->Counters()->distinct_keys, 64000u);
  EXPECT_EQ(QueryInt("SELECT value FROM counters WHERE name='viewed'"), 64000);
  for (int c = 0; c < 7; ++c) commit(64000 + c * 1000, 1000, "v2");  // 7,000 rows wait
  EXPECT_EQ(s->Counters()->distinct_keys, 64000u);
  EXPECT_EQ(QueryInt("SELECT value FROM counters WHERE name='viewed'"), 64000);
  EXPECT_EQ(s->Counters()->relay_cursor, 71000u);
  EXPECT_EQ(s->Get("k70999")->seq, 71000u);  // past `viewed`, from the outbox
  EXPECT_EQ(s->Get("k70999")->raw, "v2");
  EXPECT_EQ(s->Get("k63999")->seq, 64000u);  // from the view
  commit(71000, 1000, "v3");  // 8,000 rows wait: a pass starts; one slice of 2,000 keys
  EXPECT_EQ(s->Counters()->distinct_keys, 66000u);
  EXPECT_EQ(QueryInt("SELECT value FROM counters WHERE name='viewed'"), 64000);
  commit(72000, 1000, "v3");  // a second slice
  EXPECT_EQ(s->Counters()->distinct_keys, 68000u);
  s.reset();
  s = OpenRw();  // the pass under way is forgotten; the view is ahead of `viewed`, not behind
  for (const char* key : {"k0", "k64000", "k70999", "k71500", "k72999"}) {
    auto row = s->Get(key);
    ASSERT_TRUE(row.ok()) << key;
    EXPECT_EQ(row->seq, want[key]) << key;
  }
  ASSERT_TRUE(s->CompleteView().ok());
  EXPECT_EQ(QueryInt("SELECT value FROM counters WHERE name='viewed'"), 73000);
  EXPECT_EQ(s->Counters()->distinct_keys, 73000u);
  EXPECT_EQ(QueryInt("SELECT sum(seq) FROM staged"), view_sum());
  ASSERT_TRUE(s->CompleteView().ok());  // nothing to do
  // Updates of keys the view holds: 3,000 rows wait, fewer than 73,000 / 8.
  SourceBatch again;
  for (int i = 0; i < 3000; ++i) {
    again.records.push_back({"k" + std::to_string(i * 7), "v4", 1});
    want["k" + std::to_string(i * 7)] = ++seq;
  }
  ASSERT_TRUE(s->Commit("src", again).ok());
  ASSERT_TRUE(s->CommitRelayCursor(seq, 3000).ok());
  EXPECT_EQ(QueryInt("SELECT value FROM counters WHERE name='viewed'"), 73000);
  EXPECT_EQ(s->Get("k7")->raw, "v4");
  auto reader = OpenStaging("sqlite://" + path_, OpenMode::kReadOnly, true);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Get("k7")->raw, "v4");
  EXPECT_EQ((*reader)->CompleteView().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(s->CompleteView().ok());
  EXPECT_EQ(QueryInt("SELECT value FROM counters WHERE name='viewed'"), 76000);
  EXPECT_EQ(s->Counters()->distinct_keys, 73000u);
  EXPECT_EQ(QueryInt("SELECT sum(seq) FROM staged"), view_sum());
}

// A file from before the view could trail the cursor (schema version 1: no `viewed`): its view
// holds every row up to the relay cursor. A read-only open reads it so; the first writable open
// records that as `viewed`.
TEST_F(SqliteStagingTest, AVersionOneFileKeepsItsViewAndIsUpgraded) {
  {
    auto s = OpenRw();
    ASSERT_TRUE(s->Commit("src", Batch({{"a", "1"}, {"b", "2"}, {"a", "3"}}, "p1")).ok());
    ASSERT_TRUE(s->CommitRelayCursor(3, 3).ok());
    ASSERT_TRUE(s->Commit("src", Batch({{"b", "4"}}, "p2")).ok());
  }
  ExecRaw(
      "BEGIN; DELETE FROM counters WHERE name='viewed'; DELETE FROM schema_version; INSERT INTO "
      "schema_version VALUES(1); COMMIT");
  auto reader = OpenStaging("sqlite://" + path_, OpenMode::kReadOnly, true);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->Counters()->distinct_keys, 2u);
  EXPECT_EQ((*reader)->Get("a")->seq, 3u);
  EXPECT_EQ((*reader)->Get("b")->raw, "4");

  auto s = OpenRw();
  EXPECT_EQ(QueryInt("SELECT max(version) FROM schema_version"), 2);
  EXPECT_EQ(QueryInt("SELECT value FROM counters WHERE name='viewed'"), 3);
  EXPECT_EQ(s->Get("b")->raw, "4");
  ASSERT_TRUE(s->Commit("src", Batch({{"c", "5"}}, "p3")).ok());
  ASSERT_TRUE(s->CommitRelayCursor(5, 2).ok());
  EXPECT_EQ(s->Counters()->distinct_keys, 3u);
  EXPECT_EQ(QueryInt("SELECT sum(seq) FROM staged"), 3 + 4 + 5);
}

// A file from a newer dataforge is refused, not rewritten.
TEST_F(SqliteStagingTest, ANewerSchemaVersionIsAConfigError) {
  { auto s = OpenRw(); }
  ExecRaw("INSERT INTO schema_version VALUES(3)");
  auto s = OpenStaging("sqlite://" + path_, OpenMode::kReadWrite, true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(s.status().message(),
            "staging database " + path_ +
                " has schema version 3, newer than this dataforge understands (2); use a newer "
                "dataforge or another data dir");
}

TEST_F(SqliteStagingTest, OutboxInOrderAfterCursor) {
  auto s = OpenRw();
  ASSERT_TRUE(s->Commit("src", Batch({{"a", "1"}, {"b", "2"}, {"c", "3"}}, "p")).ok());
  std::vector<OutboxRow> rows;
  ASSERT_TRUE(s->ReadOutbox(1, 10, &rows).ok());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].seq, 2u);
  EXPECT_EQ(rows[0].key, "b");
  EXPECT_EQ(rows[1].raw, "3");
  rows.clear();
  ASSERT_TRUE(s->ReadOutbox(0, 2, &rows).ok());
  EXPECT_EQ(rows.size(), 2u);
  ASSERT_TRUE(s->CommitRelayCursor(2, 2).ok());
  ASSERT_TRUE(s->CommitRelayCursor(1, 0).ok());  // lower cursor is ignored
  auto c = s->Counters();
  EXPECT_EQ(c->relay_cursor, 2u);
  EXPECT_EQ(c->streamed, 2u);
}

TEST_F(SqliteStagingTest, StateSurvivesReopenAndSequencesContinue) {
  {
    auto s = OpenRw();
    ASSERT_TRUE(s->Commit("src", Batch({{"a", "1"}, {"b", "2"}}, "page=2", 2)).ok());
  }
  auto s = OpenRw();
  EXPECT_EQ(s->SourcePosition("src").value(), "page=2");
  auto last = s->Commit("src", Batch({{"c", "3"}}, "page=3"));
  EXPECT_EQ(*last, 3u);
  std::vector<StoredDeadLetter> dls;
  ASSERT_TRUE(s->ListDeadLetters(0, 10, &dls).ok());
  ASSERT_EQ(dls.size(), 2u);
  EXPECT_EQ(dls[0].id, 1u);
  EXPECT_EQ(dls[0].letter.reason, "bad 0");
  EXPECT_EQ(dls[1].letter.location, "url#1");
  EXPECT_EQ(dls[1].letter.payload, "{oops");
}

TEST_F(SqliteStagingTest, ANewFileHas64KiBPages) {
  auto s = OpenRw();
  ASSERT_TRUE(s->Commit("src", Batch({{"a", "1"}}, "p1")).ok());
  EXPECT_EQ(QueryInt("PRAGMA page_size"), 65536);  // as read from the file
}

TEST_F(SqliteStagingTest, CheckpointsKeepTheWalNearThirtyTwoMiBOf64KiBPages) {
  // The checkpoint threshold is bytes, not frames: 8,192 frames of 64 KiB pages would let the
  // WAL grow to 512 MiB before the first checkpoint.
  auto s = OpenRw();
  const std::string value(1000, 'v');
  uintmax_t largest = 0;
  uint64_t seq = 0;
  for (int commit = 0; commit < 96; ++commit) {  // 96 MB of rows
    SourceBatch b;
    for (int i = 0; i < 1000; ++i) b.records.push_back({std::to_string(++seq), value, 1000});
    b.position = std::to_string(commit);
    ASSERT_TRUE(s->Commit("src", std::move(b)).ok());
    std::error_code ec;
    largest = std::max(largest, std::filesystem::file_size(path_ + "-wal", ec));
  }
  EXPECT_EQ(s->Counters()->last_seq, 96000u);
  EXPECT_LE(largest, uintmax_t{72} << 20);  // twice the threshold, and the commit that crossed it
}

TEST_F(SqliteStagingTest, AnEarlierFileKeepsItsPageSizeAndItsRows) {
  // As a version before 64 KiB pages made it: SQLite's default page, WAL mode, a table.
  ExecRaw(
      "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE earlier(x INTEGER); INSERT "
      "INTO earlier VALUES (7)");
  {
    auto s = OpenRw();
    ASSERT_TRUE(s->Commit("src", Batch({{"a", "1"}, {"b", "2"}}, "p1")).ok());
  }
  EXPECT_EQ(QueryInt("PRAGMA page_size"), 4096);
  auto s = OpenRw();
  EXPECT_EQ(s->Counters()->last_seq, 2u);
  EXPECT_EQ(QueryInt("SELECT x FROM earlier"), 7);
}

TEST_F(SqliteStagingTest, ReadOnlyReaderSeesWriterCommits) {
  auto w = OpenRw();
  auto r = OpenStaging("sqlite://" + path_, OpenMode::kReadOnly, true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(w->Commit("src", Batch({{"a", "1"}}, "p")).ok());
  EXPECT_EQ((*r)->Counters()->staged, 1u);
  EXPECT_EQ((*r)->Commit("src", Batch({}, "p")).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStagingTest, ReadOnlyOfMissingDatabaseIsNotFound) {
  auto r = OpenStaging("sqlite://" + dir_ + "/none.db", OpenMode::kReadOnly, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            "no staging database at " + dir_ + "/none.db (run `dataforge run` first)");
}

TEST_F(SqliteStagingTest, UnwritableDirectoryIsAClearError) {
  auto r = OpenStaging("sqlite:///proc/df/staging.db", OpenMode::kReadWrite, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_EQ(r.status().message(),
            "cannot open staging database /proc/df/staging.db: unable to open database file");
}

TEST_F(SqliteStagingTest, UnknownSchemeIsConfigError) {
  auto r = OpenStaging("mysql://x", OpenMode::kReadWrite, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(r.status().message(),
            "staging url 'mysql://x': unsupported scheme; use sqlite://PATH or "
            "postgresql://user:password@host:port/db");
}

}  // namespace
}  // namespace dataforge
