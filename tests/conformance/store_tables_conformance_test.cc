// The Store contract for batches that write several tables (store/store.h RowWrite::table:
// process.outputs, process.aggregates), checked for every backend (store_conformance.h): the
// rows of every table land with the offsets; a failed Apply moves no offset or counter; a row
// for a table that does not exist is a clear error that writes nothing. And the fourth outcome
// of a record, `filtered` (process.where), kept per partition beside the offsets.
#include "conformance/store_conformance.h"
#include "cql/client/session.h"

namespace dataforge::store_conformance {

STORE_CONFORMANCE_SUITE();

namespace {

constexpr char kByCountry[] = "shop.by_country";

TableSchema ByCountry() {
  return TableSchema{kByCountry, "id", {{"id", "text"}, {"country", "text"}}};
}

std::string CountryJson(int i, const std::string& country) {
  return fmt::format(R"({{"id":"{}","country":"{}"}})", Key(i), country);
}

// Batch(keys, name, next_offset) plus, for each key, a row of shop.by_country.
StoreBatch TwoTableBatch(const std::vector<int>& keys, const std::string& name, int64_t next_offset,
                         const std::string& country) {
  StoreBatch b = Batch(keys, name, next_offset);
  for (int i : keys) {
    RowWrite w{Key(i), CountryJson(i, country), false};
    w.table = kByCountry;
    b.rows.push_back(w);
  }
  return b;
}

}  // namespace

TYPED_TEST(StoreConformance, MultiTableBatchLandsWholeWithTheOffsets) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  ASSERT_TRUE(store->EnsureTable(ByCountry()).ok());
  StoreBatch b = TwoTableBatch({0, 1, 2}, "a", 3, "France");
  b.rows[1].table = kTable;  // the batch's own table, named: the same as ""
  this->Apply(store, b);
  auto check = [&](Store* s) {
    for (int i : {0, 1, 2}) {
      EXPECT_EQ(*s->Get(kTable, Key(i)), RowJson(i, "a"));
      EXPECT_EQ(*s->Get(kByCountry, Key(i)), CountryJson(i, "France"));
    }
    EXPECT_EQ(*s->Count(kTable), 3u);
    EXPECT_EQ(*s->Count(kByCountry), 3u);
    // Only the batch's table counts: the derived rows come from the same three records.
    auto counters = s->Counters();
    ASSERT_TRUE(counters.ok()) << counters.status().ToString();
    EXPECT_EQ(counters->stored, 3u);
    EXPECT_EQ(*s->CommittedOffset("g", "users", 0, ""), std::optional<int64_t>(3));
    EXPECT_EQ(*s->CommittedOffset("g", "users", 1, ""), std::optional<int64_t>(3));
    auto tables = s->ListTables();
    ASSERT_TRUE(tables.ok());
    EXPECT_NE(std::find(tables->begin(), tables->end(), kByCountry), tables->end());
  };
  check(store);
  // A later batch updates both tables again, versions in batch order.
  StoreBatch later = TwoTableBatch({2, 3}, "b", 5, "Spain");
  this->Apply(store, later);
  EXPECT_EQ(*store->Get(kByCountry, Key(2)), CountryJson(2, "Spain"));
  EXPECT_EQ(*store->Get(kByCountry, Key(3)), CountryJson(3, "Spain"));
  EXPECT_EQ(*store->Count(kByCountry), 4u);
  EXPECT_EQ(store->Counters()->stored, 5u);
  this->store_.reset();
  auto reopened = this->Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(*reopened->Get(kByCountry, Key(0)), CountryJson(0, "France"));
  EXPECT_EQ(*reopened->Count(kByCountry), 4u);
  EXPECT_EQ(*reopened->CommittedOffset("g", "users", 0, ""), std::optional<int64_t>(5));
}

TYPED_TEST(StoreConformance, FailedMultiTableApplyMovesNoOffsetsOrCounters) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  ASSERT_TRUE(store->EnsureTable(ByCountry()).ok());
  this->Apply(store, TwoTableBatch({0}, "a", 1, "France"));
  // The second table's write of user-0000 is a partial upsert that is not JSON: the batch fails.
  StoreBatch bad = TwoTableBatch({1, 2}, "b", 7, "Spain");
  RowWrite broken{Key(0), R"({"country":)", false};
  broken.table = kByCountry;
  bad.rows.push_back(broken);
  Status s = store->Apply(bad);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(Key(0)), std::string::npos) << s.ToString();
  // Neither the offsets nor the counters moved, whatever rows a non-atomic store left.
  EXPECT_EQ(*store->CommittedOffset("g", "users", 0, ""), std::optional<int64_t>(1));
  EXPECT_EQ(*store->CommittedOffset("g", "users", 1, ""), std::optional<int64_t>(1));
  EXPECT_EQ(store->Counters()->stored, 1u);
  EXPECT_EQ(*store->Get(kByCountry, Key(0)), CountryJson(0, "France"));
  if constexpr (TypeParam::kAtomicBatch) {
    EXPECT_EQ(store->Get(kTable, Key(1)).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(store->Get(kByCountry, Key(1)).status().code(), StatusCode::kNotFound);
    EXPECT_EQ(*store->Count(kTable), 1u);
    EXPECT_EQ(*store->Count(kByCountry), 1u);
  }
  // The batch again from the committed offsets, without the broken write: all of it lands.
  this->Apply(store, TwoTableBatch({1, 2}, "b", 7, "Spain"));
  EXPECT_EQ(*store->Count(kTable), 3u);
  EXPECT_EQ(*store->Count(kByCountry), 3u);
  EXPECT_EQ(*store->Get(kByCountry, Key(2)), CountryJson(2, "Spain"));
  EXPECT_EQ(store->Counters()->stored, 3u);
  EXPECT_EQ(*store->CommittedOffset("g", "users", 1, ""), std::optional<int64_t>(7));
}

TYPED_TEST(StoreConformance, RowForATableThatDoesNotExistIsAClearErrorAndWritesNothing) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  StoreBatch b = Batch({0, 1}, "a", 2);
  RowWrite stray{Key(1), CountryJson(1, "Peru"), false};
  stray.table = "shop.nowhere";
  b.rows.push_back(stray);
  Status s = store->Apply(b);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(s.message(), TypeParam::UnknownTable("shop.nowhere", Key(1)));
  EXPECT_EQ(store->Get(kTable, Key(0)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*store->CommittedOffset("g", "users", 0, ""), std::nullopt);
  EXPECT_EQ(store->Counters()->stored, 0u);
  // The store still takes batches (the error did not stick).
  this->Apply(store, Batch({0, 1}, "a", 2));
  EXPECT_EQ(*store->Count(kTable), 2u);
}

TYPED_TEST(StoreConformance, FilteredIsCountedPerPartitionAndPerLogWithTheOffsets) {
  Store* store = this->store_.get();
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  StoreBatch b = OfLog(Batch({0, 1, 2}, "a", 10), "log-a");
  b.offsets[0].filtered = 4;  // partition 0: offsets 0..9 = 2 stored + 4 filtered + ...
  b.offsets[1].filtered = 3;
  this->Apply(store, b);
  StoreBatch other = OfLog(Batch({5}, "a", 2), "log-b");
  other.offsets[0].filtered = 1;
  this->Apply(store, other);
  StoreBatch uncounted = Batch({7}, "a", 3);
  uncounted.counted = false;
  uncounted.offsets.clear();
  this->Apply(store, uncounted);
  auto check = [&](Store* s) {
    auto all = s->Counters();
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    EXPECT_EQ(all->filtered, 8u);
    EXPECT_EQ(all->stored, 4u);
    auto a = s->LogCounters("g", "users", "log-a");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(a->filtered, 7u);
    EXPECT_EQ(a->stored, 3u);
    auto other_log = s->LogCounters("g", "users", "log-b");
    ASSERT_TRUE(other_log.ok());
    EXPECT_EQ(other_log->filtered, 1u);
    EXPECT_EQ(s->LogCounters("g", "users", "log-c")->filtered, 0u);
  };
  check(store);
  // A failed batch adds nothing to it.
  StoreBatch bad = OfLog(Batch({3}, "a", 12), "log-a");
  bad.offsets[0].filtered = 100;
  RowWrite stray{Key(3), "{}", false};
  stray.table = "shop.nowhere";
  bad.rows.push_back(stray);
  EXPECT_FALSE(store->Apply(bad).ok());
  check(store);
  this->store_.reset();
  auto reopened = this->Open();
  ASSERT_NE(reopened, nullptr);
  check(reopened.get());
  auto read_only = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(read_only, nullptr);
  check(read_only.get());
}

}  // namespace dataforge::store_conformance

namespace dataforge::store_conformance {

// A keyspace an older DataForge wrote: dataforge_offsets without the filtered column. A
// read-only handle reads filtered as 0 (no DDL); a read-write one adds the column (ALTER TABLE),
// and rows written before it read their null as 0.
TYPED_TEST(StoreConformance, OffsetsTableWithoutFilteredIsAlteredAndNullReadsAsZero) {
  if constexpr (!std::is_same_v<TypeParam, CassandraBackend>) {
    GTEST_SKIP() << "RocksDB's older offset rows: rocksdb_store_test "
                    "OffsetRowsWithoutFilteredKeepReading";
  } else {
    TypeParam& backend = this->backend_;
    this->store_.reset();
    cql::client::SessionOptions so;
    so.contact_points = {{"127.0.0.1", backend.server->port()}};
    auto session = cql::client::Session::Open(so);
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    cql::QueryParameters one;
    one.consistency = cql::Consistency::kOne;
    for (const char* ddl :
         {"CREATE KEYSPACE dataforge WITH replication = {'class': 'SimpleStrategy', "
          "'replication_factor': '1'}",
          "CREATE TABLE dataforge.dataforge_offsets (id text PRIMARY KEY, group_name text, topic "
          "text, partition int, log_id text, next_offset bigint, stored bigint, dead_lettered "
          "bigint, lost bigint)",
          "CREATE TABLE dataforge.dataforge_dead_letters (location text PRIMARY KEY, stage text, "
          "reason text, payload text, at_us bigint, record_key text)",
          "INSERT INTO dataforge.dataforge_offsets (id, group_name, topic, partition, log_id, "
          "next_offset, stored, dead_lettered, lost) VALUES ('g/users/0/log-a', 'g', 'users', 0, "
          "'log-a', 12, 9, 2, 1)"}) {
      auto r = (*session)->Query(ddl, one);
      ASSERT_TRUE(r.ok()) << ddl << ": " << r.status().ToString();
    }
    {
      auto read_only = backend.Open(OpenMode::kReadOnly);
      ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
      auto c = (*read_only)->LogCounters("g", "users", "log-a");
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      EXPECT_EQ(c->stored, 9u);
      EXPECT_EQ(c->filtered, 0u);
      EXPECT_EQ((*read_only)->Counters()->filtered, 0u);
    }
    // Read-write, the store adds the column first (ALTER TABLE, which the endpoint serves), and
    // the rows written before it read filtered as null: 0.
    auto store = backend.Open(OpenMode::kReadWrite);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto c = (*store)->Counters();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->stored, 9u);
    EXPECT_EQ(c->dead_lettered, 2u);
    EXPECT_EQ(c->lost, 1u);
    EXPECT_EQ(c->filtered, 0u);
    auto columns = (*session)->Query(
        "SELECT column_name FROM system_schema.columns WHERE keyspace_name = 'dataforge' AND "
        "table_name = 'dataforge_offsets'",
        one);
    ASSERT_TRUE(columns.ok()) << columns.status().ToString();
    EXPECT_EQ(columns->rows.rows.size(), 10u);  // the nine above and filtered
    ASSERT_TRUE((*store)->EnsureTable(Users()).ok());
    StoreBatch b = OfLog(Batch({0}, "a", 14), "log-a");
    b.offsets.resize(1);
    b.offsets[0].filtered = 1;
    ASSERT_TRUE((*store)->Apply(b).ok());
    auto after = (*store)->LogCounters("g", "users", "log-a");
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_EQ(after->stored, 10u);
    EXPECT_EQ(after->filtered, 1u);
    EXPECT_EQ(*(*store)->CommittedOffset("g", "users", 0, "log-a"), std::optional<int64_t>(14));
  }
}

}  // namespace dataforge::store_conformance
