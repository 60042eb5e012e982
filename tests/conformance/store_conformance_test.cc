// The Store contract (store/store.h), checked for every backend (store_conformance.h): batches,
// offsets and counters per log, reads, scans and paging, deletes, partial upserts, truncate and
// dead letters.
#include "conformance/store_conformance.h"

namespace dataforge::store_conformance {

STORE_CONFORMANCE_SUITE();

TYPED_TEST(StoreConformance, ApplyWritesRowsDeadLettersOffsetsAndCountersTogether) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  this->Apply(this->store_.get(), this->FirstBatch());
  this->ExpectFirstBatch(this->store_.get());
  // Durable together: a new handle (RocksDB: reopened; Cassandra: new session) sees all of it.
  this->store_.reset();
  auto reopened = this->Open();
  ASSERT_NE(reopened, nullptr);
  this->ExpectFirstBatch(reopened.get());
}

TYPED_TEST(StoreConformance, LaterBatchesAddToCountersAndMoveOffsets) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  this->Apply(this->store_.get(), this->FirstBatch());
  StoreBatch second = Batch({10, 11, 3}, "b", 15);  // two new rows, one new version of user-0003
  second.offsets[0].next_offset = 14;
  this->Apply(this->store_.get(), second);
  EXPECT_EQ(this->Count(this->store_.get()), 12u);
  EXPECT_EQ(*this->store_->Get(kTable, Key(3)), RowJson(3, "b"));
  auto counters = this->store_->Counters();
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ(counters->stored, 13u);  // row versions, not distinct keys
  EXPECT_EQ(counters->dead_lettered, 2u);
  EXPECT_EQ(*this->store_->CommittedOffset("g", "users", 0, ""), std::optional<int64_t>(14));
  EXPECT_EQ(*this->store_->CommittedOffset("g", "users", 1, ""), std::optional<int64_t>(15));
}

// Two logs write into one store (two data dirs' embedded logs, a Kafka topic made again): each
// log sees only its own offsets and counters.
TYPED_TEST(StoreConformance, OffsetsAndCountersBelongToTheLogTheyCameFrom) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  this->Apply(store, OfLog(this->FirstBatch(), "log-a"));  // 10 stored, 2 dead-lettered, at 12
  StoreBatch b = OfLog(Batch({30, 31, 32}, "b", 2), "log-b");
  b.offsets[1].next_offset = 7;
  b.offsets[1].lost = 5;  // offsets 0..4 of log-b's partition 1 were deleted unread
  this->Apply(store, b);
  auto ro = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(ro, nullptr);
  for (Store* s : {store, ro.get()}) {
    EXPECT_EQ(*s->CommittedOffset("g", "users", 0, "log-a"), std::optional<int64_t>(12));
    EXPECT_EQ(*s->CommittedOffset("g", "users", 1, "log-a"), std::optional<int64_t>(12));
    EXPECT_EQ(*s->CommittedOffset("g", "users", 0, "log-b"), std::optional<int64_t>(2));
    EXPECT_EQ(*s->CommittedOffset("g", "users", 1, "log-b"), std::optional<int64_t>(7));
    EXPECT_EQ(*s->CommittedOffset("g", "users", 0, "log-c"), std::nullopt);  // a new log
    EXPECT_EQ(*s->CommittedOffset("g", "users", 0, ""), std::nullopt);
    EXPECT_EQ(*s->CommittedOffset("other", "users", 0, "log-a"), std::nullopt);
    EXPECT_EQ(*s->PartitionLost("g", "users", 1, "log-b"), 5u);
    EXPECT_EQ(*s->PartitionLost("g", "users", 1, "log-a"), 0u);
    auto a = s->LogCounters("g", "users", "log-a");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->stored, 10u);
    EXPECT_EQ(a->dead_lettered, 2u);
    EXPECT_EQ(a->lost, 0u);
    auto bc = s->LogCounters("g", "users", "log-b");
    ASSERT_TRUE(bc.ok()) << bc.status().ToString();
    EXPECT_EQ(bc->stored, 3u);
    EXPECT_EQ(bc->dead_lettered, 0u);
    EXPECT_EQ(bc->lost, 5u);
    EXPECT_EQ(s->LogCounters("g", "users", "log-c")->stored, 0u);
    EXPECT_EQ(s->LogCounters("other", "users", "log-a")->stored, 0u);
    auto all = s->Counters();  // the whole store: both logs
    EXPECT_EQ(all->stored, 13u);
    EXPECT_EQ(all->dead_lettered, 2u);
    EXPECT_EQ(all->lost, 5u);
    EXPECT_EQ(s->LogCounters("g", "users", "")->stored, 13u);  // no identity: the whole store
  }
  // Dead letters of the same position in both logs are both kept.
  StoreBatch da = OfLog(Batch({}, "a", 12), "log-a");
  da.dead_letters = {Letter(7)};
  da.offsets[1].dead_lettered = 1;
  StoreBatch db = OfLog(Batch({}, "b", 7), "log-b");
  db.dead_letters = {Letter(7)};
  db.offsets[0].next_offset = 2;
  db.offsets[1].dead_lettered = 1;
  this->Apply(store, da);
  this->Apply(store, db);
  std::vector<StoredDeadLetter> letters;
  ASSERT_TRUE(store->ListDeadLetters(0, 0, &letters).ok());
  EXPECT_EQ(letters.size(), 4u);  // FirstBatch's 2, and one of each log at users/1@107
  EXPECT_EQ(store->LogCounters("g", "users", "log-a")->dead_lettered, 3u);
  EXPECT_EQ(store->LogCounters("g", "users", "log-b")->dead_lettered, 1u);
  EXPECT_EQ(store->Counters()->dead_lettered, 4u);
  // log-a goes on from its own offsets; log-b's stay.
  this->Apply(store, OfLog(Batch({40}, "a2", 13), "log-a"));
  EXPECT_EQ(*store->CommittedOffset("g", "users", 0, "log-a"), std::optional<int64_t>(13));
  EXPECT_EQ(*store->CommittedOffset("g", "users", 0, "log-b"), std::optional<int64_t>(2));
  EXPECT_EQ(store->LogCounters("g", "users", "log-a")->stored, 11u);
  EXPECT_EQ(store->LogCounters("g", "users", "log-b")->stored, 3u);
}

// An upgrade: offset rows written before identities existed belong to the first log that asks
// for them with its identity, once; a reader only reads them.
TYPED_TEST(StoreConformance, OffsetRowsWithoutIdentityGoToTheFirstLogThatAsks) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  StoreBatch old = this->FirstBatch();  // no log_id: as written before identities existed
  old.offsets[1].lost = 4;
  this->Apply(store, old);
  {
    auto ro = this->Open(OpenMode::kReadOnly);
    ASSERT_NE(ro, nullptr);
    EXPECT_EQ(*ro->CommittedOffset("g", "users", 0, "log-b"), std::optional<int64_t>(12));
    auto counters = ro->LogCounters("g", "users", "log-b");  // the rows no log took yet
    ASSERT_TRUE(counters.ok()) << counters.status().ToString();
    EXPECT_EQ(counters->stored, 10u);
    EXPECT_EQ(counters->dead_lettered, 2u);
    EXPECT_EQ(counters->lost, 4u);
  }
  // The first read-write ask: the rows of partitions 0 and 1 become log-a's.
  EXPECT_EQ(*store->CommittedOffset("g", "users", 0, "log-a"), std::optional<int64_t>(12));
  EXPECT_EQ(*store->CommittedOffset("g", "users", 1, "log-a"), std::optional<int64_t>(12));
  EXPECT_EQ(*store->CommittedOffset("g", "users", 0, "log-b"), std::nullopt);
  EXPECT_EQ(*store->CommittedOffset("g", "users", 1, "log-b"), std::nullopt);
  EXPECT_EQ(*store->CommittedOffset("g", "users", 0, ""), std::nullopt);
  EXPECT_EQ(*store->PartitionLost("g", "users", 1, "log-a"), 4u);
  auto a = store->LogCounters("g", "users", "log-a");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->stored, 10u);
  EXPECT_EQ(a->dead_lettered, 2u);
  EXPECT_EQ(a->lost, 4u);
  // log-a goes on from there; nothing is counted twice.
  this->Apply(store, OfLog(Batch({10, 11}, "b", 14), "log-a"));
  store = nullptr;
  this->store_.reset();
  auto reopened = this->Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(*reopened->CommittedOffset("g", "users", 1, "log-a"), std::optional<int64_t>(14));
  EXPECT_EQ(*reopened->CommittedOffset("g", "users", 1, "log-b"), std::nullopt);
  EXPECT_EQ(reopened->LogCounters("g", "users", "log-a")->stored, 12u);
  EXPECT_EQ(reopened->LogCounters("g", "users", "log-b")->stored, 0u);
  EXPECT_EQ(reopened->Counters()->stored, 12u);
  EXPECT_EQ(reopened->Counters()->lost, 4u);
  // A row without identity of a partition some log has a row for is nobody's (Cassandra: what
  // an adoption interrupted between its copy and its delete leaves).
  StoreBatch leftover = Batch({}, "x", 3);
  leftover.offsets.resize(1);  // partition 0
  this->Apply(reopened.get(), leftover);
  EXPECT_EQ(*reopened->CommittedOffset("g", "users", 0, "log-c"), std::nullopt);
  EXPECT_EQ(*reopened->CommittedOffset("g", "users", 0, "log-a"), std::optional<int64_t>(14));
  EXPECT_EQ(reopened->LogCounters("g", "users", "log-c")->stored, 0u);
}

TYPED_TEST(StoreConformance, UncountedBatchWritesRowsOnly) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  this->Apply(this->store_.get(), this->FirstBatch());
  StoreBatch b = Batch({20, 21}, "cql", 99);
  b.offsets.clear();
  b.group.clear();
  b.counted = false;
  this->Apply(this->store_.get(), b);
  EXPECT_EQ(this->Count(this->store_.get()), 12u);
  EXPECT_EQ(*this->store_->Get(kTable, Key(21)), RowJson(21, "cql"));
  EXPECT_EQ(this->store_->Counters()->stored, 10u);
  EXPECT_EQ(*this->store_->CommittedOffset("g", "users", 0, ""), std::optional<int64_t>(12));
}

TYPED_TEST(StoreConformance, GetOfMissingKeyOrTableIsNotFound) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  this->Apply(this->store_.get(), Batch({1}, "a", 1));
  auto missing = this->store_->Get(kTable, "nobody");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nobody'"), std::string::npos)
      << missing.status().message();
  auto no_table = this->store_->Get("shop.nothing", Key(1));
  EXPECT_EQ(no_table.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_table.status().message().find("shop.nothing"), std::string::npos)
      << no_table.status().message();
}

TYPED_TEST(StoreConformance, ScanAndCountOfMissingTableAreNotFound) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  int calls = 0;
  Status s = this->store_->Scan("shop.nothing", "", 0, [&](const auto&, const auto&) {
    ++calls;
    return true;
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("shop.nothing"), std::string::npos) << s.message();
  EXPECT_EQ(calls, 0);
  auto n = this->store_->Count("shop.nothing");
  EXPECT_EQ(n.status().code(), StatusCode::kNotFound);
  // An existing table without rows is empty, not missing.
  EXPECT_EQ(this->Count(this->store_.get()), 0u);
  EXPECT_TRUE(this->ScanKeys(this->store_.get(), "", 0).empty());
}

TYPED_TEST(StoreConformance, ScanVisitsEveryRowOnceAndPagesResumeWithoutSkipsOrRepeats) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  std::vector<int> order;
  for (int i = 0; i < 25; ++i) order.push_back((i * 7) % 25);  // not in key order
  this->Apply(this->store_.get(), Batch(order, "a", 25));
  Store* store = this->store_.get();

  std::vector<std::string> all = this->ScanKeys(store, "", 0);
  ASSERT_EQ(all.size(), 25u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 25u);
  EXPECT_EQ(all, this->ScanKeys(store, "", 0));  // the order is fixed
  if (TypeParam::kKeyOrder) {
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  }

  // Pages of 7, each resuming after the last key of the one before.
  std::vector<std::string> paged;
  std::string after;
  std::vector<size_t> sizes;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10) << "paging does not end";
    auto page = this->ScanKeys(store, after, 7);
    if (page.empty()) break;
    sizes.push_back(page.size());
    paged.insert(paged.end(), page.begin(), page.end());
    after = page.back();
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{7, 7, 7, 4}));
  EXPECT_EQ(paged, all);

  // Resuming after a key deleted since it was seen continues at the same place.
  StoreBatch del;
  del.table = kTable;
  del.counted = false;
  del.rows = {{all[9], "", true}};
  this->Apply(store, del);
  EXPECT_EQ(this->ScanKeys(store, all[9], 0),
            std::vector<std::string>(all.begin() + 10, all.end()));

  // fn returning false stops the scan at once.
  int calls = 0;
  ASSERT_TRUE(
      store
          ->Scan(kTable, "", 0, [&](const std::string&, const std::string&) { return ++calls < 3; })
          .ok());
  EXPECT_EQ(calls, 3);
}

TYPED_TEST(StoreConformance, DeletesAndVersionsWithinABatch) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  this->Apply(this->store_.get(), Batch({1, 2, 3}, "a", 3));
  StoreBatch b = Batch({1}, "b", 7);
  b.rows.push_back({Key(1), RowJson(1, "c"), false});  // the last version of a key wins
  b.rows.push_back({Key(2), "", true});
  b.rows.push_back({Key(4), RowJson(4, "a"), false});
  b.rows.push_back({Key(4), "", true});  // upserted then deleted in one batch
  b.offsets[0].stored = 3;               // 2, 4, 4
  b.offsets[1].stored = 2;               // 1, 1
  this->Apply(this->store_.get(), b);
  Store* store = this->store_.get();
  EXPECT_EQ(*store->Get(kTable, Key(1)), RowJson(1, "c"));
  EXPECT_EQ(store->Get(kTable, Key(2)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Get(kTable, Key(4)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->Count(store), 2u);
  EXPECT_EQ(this->ScanKeys(store, "", 0).size(), 2u);
  EXPECT_EQ(store->Counters()->stored, 8u);  // every version: 3 + 5 (deletes too)
  // Deleting a key that was never written is not an error.
  StoreBatch ghost;
  ghost.table = kTable;
  ghost.counted = false;
  ghost.rows = {{"ghost", "", true}};
  this->Apply(store, ghost);
  EXPECT_EQ(this->Count(store), 2u);
}

// Issue 22: an UPDATE that left a TOASTed column out of its event erased the column. A write
// carrying some columns leaves the others as stored; only an explicit null clears one.
TYPED_TEST(StoreConformance, PartialUpsertKeepsColumnsItDoesNotCarry) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  Store* store = this->store_.get();
  this->Apply(store, Batch({1}, "a", 1));
  const std::string rest =
      R"("age":1,"score":1.5,"active":false,"dob":"2000-01-02T03:04:05.006Z"})";
  ASSERT_EQ(*store->Get(kTable, Key(1)), R"({"id":"user-0001","name":"a",)" + rest);

  StoreBatch b = Batch({}, "", 2);
  b.rows = {{Key(1), R"({"id":"user-0001","name":"b"})", false}};
  b.offsets[1].stored = 1;
  this->Apply(store, b);
  EXPECT_EQ(*store->Get(kTable, Key(1)), R"({"id":"user-0001","name":"b",)" + rest);

  b = Batch({}, "", 3);
  b.rows = {{Key(1), R"({"id":"user-0001","age":null})", false}};
  b.offsets[1].stored = 1;
  this->Apply(store, b);
  EXPECT_EQ(*store->Get(kTable, Key(1)),
            R"({"id":"user-0001","name":"b","age":null,"score":1.5,"active":false,)"
            R"("dob":"2000-01-02T03:04:05.006Z"})");
  EXPECT_EQ(store->Counters()->stored, 3u);

  // Writes of one key in one batch compose in order: partial over partial, partial over a row
  // written earlier in the batch, and after a delete only what came after it. Uncounted too.
  StoreBatch c;
  c.table = kTable;
  c.counted = false;
  c.rows = {{Key(1), R"({"id":"user-0001","name":"c","score":2.5})", false},
            {Key(1), R"({"id":"user-0001","score":null,"active":true})", false},
            {Key(5), RowJson(5, "a"), false},
            {Key(5), R"({"id":"user-0005","name":"z"})", false},
            {Key(6), RowJson(6, "a"), false},
            {Key(6), "", true},
            {Key(6), R"({"id":"user-0006","name":"n"})", false},
            {Key(6), R"({"id":"user-0006","age":7})", false}};
  this->Apply(store, c);
  EXPECT_EQ(*store->Get(kTable, Key(1)),
            R"({"id":"user-0001","name":"c","age":null,"score":null,"active":true,)"
            R"("dob":"2000-01-02T03:04:05.006Z"})");
  EXPECT_EQ(*store->Get(kTable, Key(5)),
            R"({"id":"user-0005","name":"z","age":5,"score":5.5,"active":false,)"
            R"("dob":"2000-01-02T03:04:05.006Z"})");
  EXPECT_EQ(*store->Get(kTable, Key(6)),
            TypeParam::kReadsEveryColumn
                ? R"({"id":"user-0006","name":"n","age":7,"score":null,"active":null,"dob":null})"
                : R"({"id":"user-0006","name":"n","age":7})");
  EXPECT_EQ(this->Count(store), 3u);
  EXPECT_EQ(store->Counters()->stored, 3u);

  // A new handle (RocksDB reopened) reads the same rows: the merges were durable.
  this->store_.reset();
  auto reopened = this->Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(*reopened->Get(kTable, Key(1)),
            R"({"id":"user-0001","name":"c","age":null,"score":null,"active":true,)"
            R"("dob":"2000-01-02T03:04:05.006Z"})");
}

// A source table truncated (StoreBatch::truncate): every row of the table goes, other tables
// keep theirs, the batch's own rows are written after, and the truncate counts as one stored
// version. More rows than one Cassandra delete page (1000), so paging is exercised.
TYPED_TEST(StoreConformance, TruncateRemovesEveryRowOfTheTableThenWritesTheBatch) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  TableSchema others = Users();
  others.table = "shop.others";
  ASSERT_TRUE(store->EnsureTable(others).ok());
  std::vector<int> keys(1203);
  for (int i = 0; i < 1203; ++i) keys[i] = i;
  this->Apply(store, Batch(keys, "a", 700));
  StoreBatch other = Batch({1, 2}, "o", 0);
  other.table = "shop.others";
  other.counted = false;
  other.offsets.clear();
  this->Apply(store, other);
  ASSERT_EQ(this->Count(store), 1203u);

  StoreBatch t = Batch({5000, 5001}, "t", 710);
  t.truncate = true;
  t.offsets[0].stored += 1;  // the truncate event itself, counted on one partition
  this->Apply(store, t);
  auto expect_after = [&](Store* s) {
    std::vector<std::string> left = this->ScanKeys(s, "", 0);
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{Key(5000), Key(5001)}));
    EXPECT_EQ(this->Count(s), 2u);
    EXPECT_EQ(*s->Get(kTable, Key(5000)), RowJson(5000, "t"));
    EXPECT_EQ(s->Get(kTable, Key(0)).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(s->Get(kTable, Key(1202)).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(*s->Count("shop.others"), 2u);
    EXPECT_EQ(*s->Get("shop.others", Key(1)), RowJson(1, "o"));
    EXPECT_EQ(*s->CommittedOffset("g", "users", 0, ""), std::optional<int64_t>(710));
    EXPECT_EQ(*s->CommittedOffset("g", "users", 1, ""), std::optional<int64_t>(710));
  };
  expect_after(store);
  EXPECT_EQ(store->Counters()->stored, 1203u + 3u);  // 1203 rows, the truncate, 2 rows
  // Durable: a new handle sees the same.
  this->store_.reset();
  auto reopened = this->Open();
  ASSERT_NE(reopened, nullptr);
  expect_after(reopened.get());
  // Replayed from the committed offsets (a crash before they were written): the same rows.
  this->Apply(reopened.get(), t);
  expect_after(reopened.get());
  // A truncate of a table that has no rows (or does not exist) writes nothing else.
  StoreBatch empty;
  empty.table = "shop.never";
  empty.truncate = true;
  empty.counted = false;
  this->Apply(reopened.get(), empty);
  EXPECT_EQ(reopened->Count("shop.never").status().code(), StatusCode::kNotFound);
}

// An in-place rebuild (StoreBatch::truncate_also): the derived tables named go with the batch's
// own, their rows in the batch are written after, and a table not named keeps its rows. Only
// the batch's own table counts (the rows and the truncate event).
TYPED_TEST(StoreConformance, TruncateAlsoEmptiesTheNamedTablesInTheSameBatch) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  for (const char* name : {"shop.derived", "shop.kept"}) {
    TableSchema t = Users();
    t.table = name;
    ASSERT_TRUE(store->EnsureTable(t).ok());
  }
  this->Apply(store, Batch({1, 2, 3}, "a", 3));
  for (const char* name : {"shop.derived", "shop.kept"}) {
    StoreBatch b = Batch({1, 2, 3}, "d", 0);
    b.table = name;
    b.counted = false;
    b.offsets.clear();
    this->Apply(store, b);
  }
  StoreBatch t = Batch({7}, "t", 10);
  t.truncate = true;
  t.truncate_also = {"shop.derived"};
  t.offsets[0].stored += 1;
  t.rows.push_back({Key(8), RowJson(8, "x"), false, true, "shop.derived"});
  this->Apply(store, t);
  auto expect_after = [&](Store* s) {
    EXPECT_EQ(this->ScanKeys(s, "", 0), (std::vector<std::string>{Key(7)}));
    std::vector<std::string> derived;
    ASSERT_TRUE(s->Scan("shop.derived", "", 0, [&](const std::string& k, const std::string& v) {
                   derived.push_back(k + " " + v);
                   return true;
                 }).ok());
    EXPECT_EQ(derived, (std::vector<std::string>{Key(8) + " " + RowJson(8, "x")}));
    EXPECT_EQ(*s->Count("shop.kept"), 3u);
  };
  expect_after(store);
  EXPECT_EQ(store->Counters()->stored, 3u + 2u);  // 3 rows, then the truncate and 1 row
  this->store_.reset();
  auto reopened = this->Open();
  ASSERT_NE(reopened, nullptr);
  expect_after(reopened.get());
}

// A rebuild of derived tables only (reprocess --tables without process.table): truncate_also
// without truncate empties the named tables and leaves the batch's own table as it was.
TYPED_TEST(StoreConformance, TruncateAlsoWithoutTruncateKeepsTheBatchsOwnTable) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  TableSchema derived = Users();
  derived.table = "shop.derived";
  ASSERT_TRUE(store->EnsureTable(derived).ok());
  this->Apply(store, Batch({1, 2, 3}, "a", 3));
  StoreBatch d = Batch({1, 2}, "d", 0);
  d.table = "shop.derived";
  d.counted = false;
  d.offsets.clear();
  this->Apply(store, d);
  StoreBatch t = Batch({}, "t", 5);
  t.truncate_also = {"shop.derived"};
  t.rows.push_back({Key(9), RowJson(9, "y"), false, true, "shop.derived"});
  this->Apply(store, t);
  auto expect_after = [&](Store* s) {
    EXPECT_EQ(this->ScanKeys(s, "", 0), (std::vector<std::string>{Key(1), Key(2), Key(3)}));
    std::vector<std::string> rows;
    ASSERT_TRUE(s->Scan("shop.derived", "", 0, [&](const std::string& k, const std::string& v) {
                   rows.push_back(k + " " + v);
                   return true;
                 }).ok());
    EXPECT_EQ(rows, (std::vector<std::string>{Key(9) + " " + RowJson(9, "y")}));
  };
  expect_after(store);
  EXPECT_EQ(store->Counters()->stored, 3u);  // the derived rows and the emptying do not count
  this->store_.reset();
  auto reopened = this->Open();
  ASSERT_NE(reopened, nullptr);
  expect_after(reopened.get());
}

TYPED_TEST(StoreConformance, ListDeadLettersPagesOldestFirst) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  for (int b = 0; b < 3; ++b) {
    StoreBatch batch = Batch({}, "a", b + 1);
    for (int i = 0; i < 4; ++i) batch.dead_letters.push_back(Letter(b * 4 + i));
    batch.offsets[0].dead_lettered = 2;
    batch.offsets[1].dead_lettered = 2;
    this->Apply(this->store_.get(), batch);
  }
  EXPECT_EQ(this->store_->Counters()->dead_lettered, 12u);
  std::vector<std::string> reasons;
  uint64_t after = 0;
  std::vector<size_t> sizes;
  for (int pages = 0;; ++pages) {
    ASSERT_LT(pages, 10) << "paging does not end";
    std::vector<StoredDeadLetter> page;
    ASSERT_TRUE(this->store_->ListDeadLetters(after, 5, &page).ok());
    if (page.empty()) break;
    sizes.push_back(page.size());
    for (const auto& d : page) {
      EXPECT_GT(d.id, after);
      reasons.push_back(d.letter.reason);
    }
    after = page.back().id;
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{5, 5, 2}));
  ASSERT_EQ(reasons.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(reasons[i], Letter(i).reason);
  std::vector<StoredDeadLetter> all;  // limit 0 = all
  ASSERT_TRUE(this->store_->ListDeadLetters(0, 0, &all).ok());
  EXPECT_EQ(all.size(), 12u);
}

}  // namespace dataforge::store_conformance
