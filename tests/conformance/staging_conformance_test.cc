// The Staging contract (staging/staging.h), checked for every backend: SQLite, and PostgreSQL on
// a real throwaway server (shared_postgres.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "conformance/shared_postgres.h"
#include "integration/subprocess.h"
#include "staging/staging.h"

namespace dataforge {
namespace {

struct SqliteBackend {
  testing::TempDir dir;
  std::string url() { return "sqlite://" + dir.Sub("staging.db"); }
};

struct PostgresBackend {
  std::string db = testing::FreshPostgresDatabase();
  std::string url() { return db; }
};

SourceRecord Record(const std::string& key, int version) {
  return SourceRecord{key, fmt::format(R"({{"k":"{}","v":{}}})", key, version),
                      1'700'000'000'000'000 + version};
}

DeadLetter Letter(int i) {
  // The payload holds bytes that are not text: a dead letter keeps them exactly.
  return DeadLetter{"source", fmt::format("record {} has no key", i),
                    fmt::format("http://api/users?page={}#{}", i / 3, i % 3),
                    std::string("bad\0\xff", 5) + std::to_string(i), 2'000'000 + i};
}

template <typename B>
class StagingConformance : public ::testing::Test {
 protected:
  void SetUp() override { staging_ = Open(OpenMode::kReadWrite); }

  std::unique_ptr<Staging> Open(OpenMode mode) {
    auto s = OpenStaging(backend_.url(), mode, /*synchronous_full=*/true, "conformance");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  uint64_t Commit(Staging* s, const std::string& source, const SourceBatch& b) {
    auto seq = s->Commit(source, b);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }

  std::vector<OutboxRow> Outbox(Staging* s, uint64_t after, size_t max) {
    std::vector<OutboxRow> rows;
    Status st = s->ReadOutbox(after, max, &rows);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return rows;
  }

  StagingCounters Counters(Staging* s) {
    auto c = s->Counters();
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : StagingCounters{};
  }

  // a, b, a (a second version) and one dead letter, at position "page=1".
  SourceBatch FirstBatch() {
    SourceBatch b;
    b.records = {Record("a", 1), Record("b", 1), Record("a", 2)};
    b.dead_letters = {Letter(0)};
    b.position = "page=1";
    return b;
  }

  void ExpectFirstBatch(Staging* s) {
    auto rows = Outbox(s, 0, 100);
    ASSERT_EQ(rows.size(), 3u);
    const char* keys[] = {"a", "b", "a"};
    int versions[] = {1, 1, 2};
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(rows[i].seq, i + 1);
      EXPECT_EQ(rows[i].key, keys[i]);
      EXPECT_EQ(rows[i].raw, Record(keys[i], versions[i]).raw);
      EXPECT_EQ(rows[i].fetched_at_us, Record(keys[i], versions[i]).fetched_at_us);
    }
    auto a = s->Get("a");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->seq, 3u);
    EXPECT_EQ(a->raw, Record("a", 2).raw);
    EXPECT_EQ(*s->SourcePosition("users"), "page=1");
    StagingCounters c = Counters(s);
    EXPECT_EQ(c.fetched, 4u);
    EXPECT_EQ(c.staged, 3u);
    EXPECT_EQ(c.dead_lettered, 1u);
    EXPECT_EQ(c.last_seq, 3u);
    std::vector<StoredDeadLetter> letters;
    ASSERT_TRUE(s->ListDeadLetters(0, 10, &letters).ok());
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_EQ(letters[0].id, 1u);
    EXPECT_EQ(letters[0].letter.stage, "source");
    EXPECT_EQ(letters[0].letter.reason, Letter(0).reason);
    EXPECT_EQ(letters[0].letter.location, Letter(0).location);
    EXPECT_EQ(letters[0].letter.payload, Letter(0).payload);
    EXPECT_EQ(letters[0].letter.at_us, Letter(0).at_us);
  }

  B backend_;
  std::unique_ptr<Staging> staging_;
};

using Backends = ::testing::Types<SqliteBackend, PostgresBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteBackend> ? "Sqlite" : "Postgres";
  }
};
TYPED_TEST_SUITE(StagingConformance, Backends, BackendNames);

TYPED_TEST(StagingConformance, CommitWritesRecordsDeadLettersPositionAndCountersTogether) {
  Staging* s = this->staging_.get();
  EXPECT_EQ(*s->SourcePosition("users"), "");
  EXPECT_EQ(s->Get("a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->Commit(s, "users", this->FirstBatch()), 3u);
  this->ExpectFirstBatch(s);
  // Durable: a new handle sees the same.
  this->staging_.reset();
  auto reopened = this->Open(OpenMode::kReadWrite);
  ASSERT_NE(reopened, nullptr);
  this->ExpectFirstBatch(reopened.get());
}

TYPED_TEST(StagingConformance, SequencesContinueAndOutboxPages) {
  Staging* s = this->staging_.get();
  EXPECT_EQ(this->Commit(s, "users", this->FirstBatch()), 3u);
  SourceBatch second;
  for (int i = 0; i < 7; ++i) second.records.push_back(Record(fmt::format("k{}", i), 1));
  second.position = "page=2";
  EXPECT_EQ(this->Commit(s, "users", second), 10u);
  SourceBatch only_letters;  // no records: the last seq stays
  only_letters.dead_letters = {Letter(1)};
  only_letters.position = "page=3";
  EXPECT_EQ(this->Commit(s, "users", only_letters), 10u);

  std::vector<uint64_t> seqs;
  std::vector<size_t> sizes;
  uint64_t after = 0;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10) << "paging does not end";
    auto page = this->Outbox(s, after, 4);
    if (page.empty()) break;
    sizes.push_back(page.size());
    for (const auto& r : page) seqs.push_back(r.seq);
    after = page.back().seq;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2}));
  EXPECT_EQ(seqs, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(this->Outbox(s, 7, 100).size(), 3u);
  EXPECT_EQ(*s->SourcePosition("users"), "page=3");
  StagingCounters c = this->Counters(s);
  EXPECT_EQ(c.fetched, 12u);
  EXPECT_EQ(c.staged, 10u);
  EXPECT_EQ(c.dead_lettered, 2u);
  EXPECT_EQ(c.last_seq, 10u);
}

TYPED_TEST(StagingConformance, SourcePositionsAreKeptPerSource) {
  Staging* s = this->staging_.get();
  SourceBatch a;
  a.records = {Record("x", 1)};
  a.position = "a-1";
  SourceBatch b;
  b.records = {Record("y", 1)};
  b.position = "b-7";
  this->Commit(s, "alpha", a);
  this->Commit(s, "beta", b);
  a.position = "a-2";
  this->Commit(s, "alpha", a);
  EXPECT_EQ(*s->SourcePosition("alpha"), "a-2");
  EXPECT_EQ(*s->SourcePosition("beta"), "b-7");
  EXPECT_EQ(*s->SourcePosition("gamma"), "");
  auto all = s->SourcePositions();
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::sort(all->begin(), all->end());
  EXPECT_EQ(*all,
            (std::vector<std::pair<std::string, std::string>>{{"alpha", "a-2"}, {"beta", "b-7"}}));
}

TYPED_TEST(StagingConformance, RelayCursorIsMonotonicAndCountsDistinctKeys) {
  Staging* s = this->staging_.get();
  this->Commit(s, "users", this->FirstBatch());
  StagingCounters c = this->Counters(s);
  EXPECT_EQ(c.relay_cursor, 0u);
  EXPECT_EQ(c.streamed, 0u);
  ASSERT_TRUE(s->CommitRelayCursor(2, 2).ok());
  ASSERT_TRUE(s->CommitRelayCursor(3, 1).ok());
  c = this->Counters(s);
  EXPECT_EQ(c.relay_cursor, 3u);
  EXPECT_EQ(c.streamed, 3u);
  EXPECT_EQ(c.distinct_keys, 2u);  // a and b, as of the relay cursor
  // A seq not above the cursor (a retried call) changes nothing.
  ASSERT_TRUE(s->CommitRelayCursor(1, 5).ok());
  ASSERT_TRUE(s->CommitRelayCursor(3, 1).ok());
  c = this->Counters(s);
  EXPECT_EQ(c.relay_cursor, 3u);
  EXPECT_EQ(c.streamed, 3u);
  EXPECT_EQ(c.distinct_keys, 2u);
  // Get is exact whatever the relay cursor: the newest version.
  SourceBatch more;
  more.records = {Record("b", 2), Record("c", 1)};
  this->Commit(s, "users", more);
  EXPECT_EQ(s->Get("b")->raw, Record("b", 2).raw);
  EXPECT_EQ(s->Get("b")->seq, 4u);
  EXPECT_EQ(s->Get("c")->seq, 5u);
  ASSERT_TRUE(s->CommitRelayCursor(5, 2).ok());
  c = this->Counters(s);
  EXPECT_EQ(c.distinct_keys, 3u);
  EXPECT_EQ(c.streamed, 5u);
}

TYPED_TEST(StagingConformance, ListDeadLettersPagesOldestFirst) {
  Staging* s = this->staging_.get();
  for (int b = 0; b < 3; ++b) {
    SourceBatch batch;
    for (int i = 0; i < 3; ++i) batch.dead_letters.push_back(Letter(b * 3 + i));
    batch.position = fmt::format("page={}", b);
    this->Commit(s, "users", batch);
  }
  std::vector<std::string> payloads;
  std::vector<size_t> sizes;
  uint64_t after = 0;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10) << "paging does not end";
    std::vector<StoredDeadLetter> page;
    ASSERT_TRUE(s->ListDeadLetters(after, 4, &page).ok());
    if (page.empty()) break;
    sizes.push_back(page.size());
    for (const auto& d : page) {
      EXPECT_GT(d.id, after);
      payloads.push_back(d.letter.payload);
    }
    after = page.back().id;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 1}));
  ASSERT_EQ(payloads.size(), 9u);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(payloads[i], Letter(i).payload);
  EXPECT_EQ(this->Counters(s).dead_lettered, 9u);
  EXPECT_EQ(this->Counters(s).fetched, 9u);
}

TYPED_TEST(StagingConformance, ReadOnlyReadsAndRefusesWrites) {
  this->Commit(this->staging_.get(), "users", this->FirstBatch());
  auto ro = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(ro, nullptr);
  this->ExpectFirstBatch(ro.get());
  auto refused = ro->Commit("users", this->FirstBatch());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(), "staging is open read-only");
  Status cursor = ro->CommitRelayCursor(3, 3);
  EXPECT_EQ(cursor.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cursor.message(), "staging is open read-only");
  EXPECT_EQ(this->Counters(this->staging_.get()).relay_cursor, 0u);
  // The writer goes on and the reader sees it without blocking it.
  SourceBatch more;
  more.records = {Record("c", 1)};
  more.position = "page=2";
  EXPECT_EQ(this->Commit(this->staging_.get(), "users", more), 4u);
  EXPECT_EQ(this->Counters(ro.get()).last_seq, 4u);
  EXPECT_EQ(*ro->SourcePosition("users"), "page=2");
}

}  // namespace
}  // namespace dataforge
