#include "staging/sqlite/sqlite_staging.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

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
  EXPECT_EQ(c->distinct_keys, 2u);
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
