// The Store contract's dead-letter replays (store/store.h ApplyReplay), for every backend
// (store_conformance.h).
#include "conformance/store_conformance.h"

namespace dataforge::store_conformance {

STORE_CONFORMANCE_SUITE();

// A replay of `letter` (as ListDeadLetters gave it) into the row Key(i) named `name`.
DeadLetterReplay StoredReplay(const StoredDeadLetter& letter, int i, const std::string& name,
                              int64_t at_us) {
  DeadLetterReplay r;
  r.letter_id = letter.id;
  r.location = letter.letter.location;
  r.marker = ReplayMarker{at_us, "stored", Key(i), ""};
  r.table = kTable;
  r.row = RowWrite{Key(i), RowJson(i, name), false};
  return r;
}
DeadLetterReplay FailedReplay(const StoredDeadLetter& letter, const std::string& reason,
                              int64_t at_us) {
  DeadLetterReplay r;
  r.letter_id = letter.id;
  r.location = letter.letter.location;
  r.marker = ReplayMarker{at_us, "dead_lettered", "", reason};
  return r;
}

std::vector<StoredDeadLetter> Letters(Store* store) {
  std::vector<StoredDeadLetter> letters;
  Status s = store->ListDeadLetters(0, 0, &letters);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return letters;
}

TYPED_TEST(StoreConformance, ReplayStoresALetterOnceAndMovesItFromDeadLetteredToStored) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  StoreBatch first = this->FirstBatch();  // 10 stored, 2 dead-lettered
  first.dead_letters[0].key = "k-0";
  this->Apply(store, first);
  auto letters = Letters(store);
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0].letter.key, "k-0");  // the record key is kept with the letter
  EXPECT_EQ(letters[1].letter.key, "");
  EXPECT_FALSE(letters[0].replay.has_value());

  // Mapped again: still refused. The marker says so; the counters do not move.
  Status s = store->ApplyReplay(FailedReplay(letters[1], "column \"age\": still bad", 4'000'000));
  ASSERT_TRUE(s.ok()) << s.ToString();
  // Stored: the row and the marker, and the letter counts as stored.
  s = store->ApplyReplay(StoredReplay(letters[0], 100, "r", 5'000'000));
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto check = [&](Store* st) {
    EXPECT_EQ(*st->Get(kTable, Key(100)), RowJson(100, "r"));
    EXPECT_EQ(this->Count(st), 11u);
    auto c = st->Counters();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->stored, 11u);
    EXPECT_EQ(c->dead_lettered, 1u);
    EXPECT_EQ(c->replayed, 1u);
    EXPECT_EQ(c->lost, 0u);
    auto lc = st->LogCounters("g", "users", "");
    EXPECT_EQ(lc->stored, 11u);
    EXPECT_EQ(lc->dead_lettered, 1u);
    auto now = Letters(st);
    ASSERT_EQ(now.size(), 2u);  // the letters stay, with their markers
    ASSERT_TRUE(now[0].replay.has_value());
    EXPECT_EQ(now[0].replay->outcome, "stored");
    EXPECT_EQ(now[0].replay->key, Key(100));
    EXPECT_EQ(now[0].replay->at_us, 5'000'000);
    ASSERT_TRUE(now[1].replay.has_value());
    EXPECT_EQ(now[1].replay->outcome, "dead_lettered");
    EXPECT_EQ(now[1].replay->reason, "column \"age\": still bad");
    EXPECT_EQ(now[1].replay->at_us, 4'000'000);
  };
  check(store);

  // Never stored twice: refused, nothing written.
  s = store->ApplyReplay(StoredReplay(letters[0], 100, "twice", 6'000'000));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "already replayed at 1970-01-01T00:00:05.000Z: stored key user-0100");
  check(store);
  // A new handle (RocksDB reopened, Cassandra a new session) sees the same.
  this->store_.reset();
  auto reopened = this->Open();
  ASSERT_NE(reopened, nullptr);
  check(reopened.get());
  EXPECT_EQ(reopened->ApplyReplay(StoredReplay(letters[0], 100, "twice", 6'000'000)).code(),
            StatusCode::kFailedPrecondition);

  // A letter dead-lettered again can be replayed after another fix.
  s = reopened->ApplyReplay(StoredReplay(letters[1], 101, "fixed", 7'000'000));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*reopened->Get(kTable, Key(101)), RowJson(101, "fixed"));
  EXPECT_EQ(reopened->Counters()->stored, 12u);
  EXPECT_EQ(reopened->Counters()->dead_lettered, 0u);
  EXPECT_EQ(reopened->Counters()->replayed, 2u);
  EXPECT_EQ(Letters(reopened.get())[1].replay->outcome, "stored");

  // No such letter: NotFound, nothing written.
  StoredDeadLetter missing = letters[0];
  missing.id = 99;
  missing.letter.location = "users/0@999";
  EXPECT_EQ(reopened->ApplyReplay(StoredReplay(missing, 102, "x", 8'000'000)).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(reopened->Get(kTable, Key(102)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(reopened->Counters()->stored, 12u);
}

TYPED_TEST(StoreConformance, ReplayCountsForTheLogItsLetterCameFrom) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  this->Apply(store, OfLog(this->FirstBatch(), "log-a"));  // 10 stored, 2 dead-lettered
  StoreBatch b = OfLog(Batch({30}, "b", 2), "log-b");
  b.dead_letters = {Letter(9)};
  b.offsets[1].dead_lettered = 1;
  this->Apply(store, b);  // 1 stored, 1 dead-lettered
  auto letters = Letters(store);
  ASSERT_EQ(letters.size(), 3u);
  ASSERT_EQ(letters[2].letter.reason, Letter(9).reason);
  ASSERT_TRUE(store->ApplyReplay(StoredReplay(letters[2], 109, "r", 9'000'000)).ok());
  auto a = store->LogCounters("g", "users", "log-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->stored, 10u);
  EXPECT_EQ(a->dead_lettered, 2u);
  EXPECT_EQ(a->replayed, 0u);
  auto bc = store->LogCounters("g", "users", "log-b");
  EXPECT_EQ(bc->stored, 2u);
  EXPECT_EQ(bc->dead_lettered, 0u);
  EXPECT_EQ(bc->replayed, 1u);
  EXPECT_EQ(store->Counters()->stored, 12u);
  EXPECT_EQ(store->Counters()->dead_lettered, 2u);
}

TYPED_TEST(StoreConformance, ReadOnlyRefusesReplays) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  this->Apply(this->store_.get(), this->FirstBatch());
  auto ro = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(ro, nullptr);
  auto letters = Letters(ro.get());
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_FALSE(letters[0].replay.has_value());
  EXPECT_EQ(ro->ApplyReplay(StoredReplay(letters[0], 100, "r", 5'000'000)).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(this->store_->Get(kTable, Key(100)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Counters()->stored, 10u);
  EXPECT_FALSE(Letters(this->store_.get())[0].replay.has_value());
  // A replay by the writer is seen by the reader after Refresh.
  ASSERT_TRUE(this->store_->ApplyReplay(StoredReplay(letters[0], 100, "r", 5'000'000)).ok());
  ASSERT_TRUE(ro->Refresh().ok());
  EXPECT_EQ(ro->Counters()->stored, 11u);
  EXPECT_EQ(ro->Counters()->dead_lettered, 1u);
  EXPECT_EQ(Letters(ro.get())[0].replay->key, Key(100));
}

}  // namespace dataforge::store_conformance
