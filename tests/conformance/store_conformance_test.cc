// The Store contract (store/store.h), checked for every backend: RocksDB, and the Cassandra
// store against DataForge's own CQL endpoint (CqlServer + CqlEngine over a RocksDB store),
// in-process over loopback: real TCP, real protocol.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "integration/subprocess.h"
#include "serve/cql/cql_engine.h"
#include "serve/cql/cql_server.h"
#include "store/store.h"

namespace dataforge {
namespace {

using testing::TempDir;

// ---- Backends: each opens fresh store handles over one place that keeps its data. ----

struct RocksDbBackend {
  static constexpr bool kKeyOrder = true;           // Scan visits keys in byte order
  static constexpr bool kAddsColumns = true;        // EnsureTable adds missing columns
  static constexpr bool kReadsEveryColumn = false;  // a row holds the columns written to it
  TempDir dir;
  std::string url() const { return "rocksdb://" + dir.Sub("store"); }
  Result<std::unique_ptr<Store>> Open(OpenMode mode) {
    return OpenStore(url(), mode, StoreOptions{});
  }
  static std::string TypeConflict(const std::string& table, const std::string& column,
                                  const std::string& have, const std::string& want) {
    return fmt::format(
        "table {}: column {} is {} in the store but the pipeline maps it as {}; change "
        "process.columns or use another table",
        table, column, have, want);
  }
  static std::string KeyConflict(const std::string& table, const std::string& have,
                                 const std::string& want) {
    return fmt::format(
        "table {}: its primary key is {} but the pipeline keys it by {}; use another table "
        "(process.table) or the same key_column",
        table, have, want);
  }
  static std::string ReadOnlyApply() { return "the store is open read-only: Apply refused"; }
};

struct CassandraBackend {
  static constexpr bool kKeyOrder = false;  // token order (our endpoint: key order; not promised)
  static constexpr bool kAddsColumns = false;
  static constexpr bool kReadsEveryColumn = true;  // a column never written reads as null
  TempDir dir;
  std::unique_ptr<Store> backing;
  std::unique_ptr<cql::CqlEngine> engine;
  std::unique_ptr<cql::CqlServer> server;

  CassandraBackend() {
    auto s = OpenStore("rocksdb://" + dir.Sub("backing"), OpenMode::kReadWrite, StoreOptions{});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    backing = std::move(s).value();
    engine = std::make_unique<cql::CqlEngine>(backing.get(), cql::EngineOptions{});
    cql::CqlServerOptions options;
    options.port = 0;
    server = std::make_unique<cql::CqlServer>(options);
    Status listen = server->Listen();
    EXPECT_TRUE(listen.ok()) << listen.ToString();
    Status start = server->Start(engine.get());
    EXPECT_TRUE(start.ok()) << start.ToString();
  }
  ~CassandraBackend() {
    server->Stop();
    server.reset();
    engine.reset();
    backing.reset();
  }
  // No keyspace in the URL: logical table names are the CQL names.
  Result<std::unique_ptr<Store>> Open(OpenMode mode) {
    StoreOptions options;
    options.cassandra.consistency = "ONE";
    return OpenStore(fmt::format("cassandra://127.0.0.1:{}", server->port()), mode, options);
  }
  static std::string TypeConflict(const std::string& table, const std::string& column,
                                  const std::string& have, const std::string& want) {
    return fmt::format(
        "cassandra table {}: column {} is {} in Cassandra but the pipeline maps it as {}; "
        "change process.columns or use another table",
        table, column, have, want);
  }
  static std::string KeyConflict(const std::string& table, const std::string& have,
                                 const std::string& want) {
    return fmt::format(
        "cassandra table {}: the primary key is {} in Cassandra but the pipeline maps {} as the "
        "key; change process.key_column or use another table",
        table, have, want);
  }
  static std::string ReadOnlyApply() { return "cassandra store opened read-only: Apply refused"; }
};

// ---- Data ----

const char kTable[] = "shop.users";

TableSchema Users() {
  return TableSchema{kTable,
                     "id",
                     {{"id", "text"},
                      {"name", "text"},
                      {"age", "int"},
                      {"score", "double"},
                      {"active", "boolean"},
                      {"dob", "timestamp"}}};
}

std::string Key(int i) {
  return fmt::format("user-{:04d}", i);
}
std::string RowJson(int i, const std::string& name) {
  return fmt::format(
      R"({{"id":"{}","name":"{}","age":{},"score":{}.5,"active":{},"dob":"2000-01-02T03:04:05.006Z"}})",
      Key(i), name, i % 90, i, i % 2 == 0 ? "true" : "false");
}

DeadLetter Letter(int i) {
  return DeadLetter{"process", fmt::format("record {} is not JSON", i),
                    fmt::format("users/{}@{}", i % 2, 100 + i), fmt::format("payload-{}", i),
                    1'000'000 + i};
}

// Rows `keys` (in that order) as upserts named `name`; the offsets of partitions 0 and 1 of
// topic "users" for group "g" advance to `next_offset`, each counting its rows (even keys on 0).
StoreBatch Batch(const std::vector<int>& keys, const std::string& name, int64_t next_offset) {
  StoreBatch b;
  b.table = kTable;
  b.group = "g";
  PartitionOffset p0, p1;
  p0.topic = p1.topic = "users";
  p1.partition = 1;
  p0.next_offset = p1.next_offset = next_offset;
  for (int i : keys) {
    b.rows.push_back({Key(i), RowJson(i, name), false});
    ++(i % 2 == 0 ? p0 : p1).stored;
  }
  b.offsets = {p0, p1};
  return b;
}

// `b` as a batch of the log `log_id` (Log::LogId): its offsets carry that identity.
StoreBatch OfLog(StoreBatch b, const std::string& log_id) {
  for (auto& o : b.offsets) o.log_id = log_id;
  return b;
}

template <typename B>
class StoreConformance : public ::testing::Test {
 protected:
  void SetUp() override { store_ = Open(); }

  std::unique_ptr<Store> Open(OpenMode mode = OpenMode::kReadWrite) {
    auto s = backend_.Open(mode);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  void Apply(Store* store, const StoreBatch& b) {
    Status s = store->Apply(b);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::vector<std::string> ScanKeys(Store* store, const std::string& start_after, size_t limit) {
    std::vector<std::string> keys;
    Status s = store->Scan(
        kTable, start_after, limit, [&](const std::string& key, const std::string& json) {
          EXPECT_NE(json.find("\"id\":\"" + key + "\""), std::string::npos) << key << " " << json;
          keys.push_back(key);
          return true;
        });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return keys;
  }

  uint64_t Count(Store* store) {
    auto n = store->Count(kTable);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : ~0ull;
  }

  // Everything one Apply wrote, seen through `store`.
  void ExpectFirstBatch(Store* store) {
    for (int i = 0; i < 10; ++i) {
      auto row = store->Get(kTable, Key(i));
      ASSERT_TRUE(row.ok()) << row.status().ToString();
      EXPECT_EQ(*row, RowJson(i, "a"));
    }
    EXPECT_EQ(Count(store), 10u);
    auto counters = store->Counters();
    ASSERT_TRUE(counters.ok()) << counters.status().ToString();
    EXPECT_EQ(counters->stored, 10u);
    EXPECT_EQ(counters->dead_lettered, 2u);
    EXPECT_EQ(*store->CommittedOffset("g", "users", 0, ""), std::optional<int64_t>(12));
    EXPECT_EQ(*store->CommittedOffset("g", "users", 1, ""), std::optional<int64_t>(12));
    EXPECT_EQ(*store->CommittedOffset("g", "users", 2, ""), std::nullopt);
    EXPECT_EQ(*store->CommittedOffset("other", "users", 0, ""), std::nullopt);
    EXPECT_EQ(*store->CommittedOffset("g", "orders", 0, ""), std::nullopt);
    std::vector<StoredDeadLetter> letters;
    ASSERT_TRUE(store->ListDeadLetters(0, 0, &letters).ok());
    ASSERT_EQ(letters.size(), 2u);
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(letters[i].id, static_cast<uint64_t>(i + 1));
      EXPECT_EQ(letters[i].letter.stage, "process");
      EXPECT_EQ(letters[i].letter.reason, Letter(i).reason);
      EXPECT_EQ(letters[i].letter.location, Letter(i).location);
      EXPECT_EQ(letters[i].letter.payload, Letter(i).payload);
      EXPECT_EQ(letters[i].letter.at_us, Letter(i).at_us);
    }
  }

  StoreBatch FirstBatch() {
    StoreBatch b = Batch({3, 0, 7, 1, 9, 2, 8, 4, 6, 5}, "a", 12);
    b.dead_letters = {Letter(0), Letter(1)};
    b.offsets[0].dead_lettered = 1;
    b.offsets[1].dead_lettered = 1;
    return b;
  }

  B backend_;
  std::unique_ptr<Store> store_;
};

using Backends = ::testing::Types<RocksDbBackend, CassandraBackend>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, RocksDbBackend> ? "RocksDb" : "Cassandra";
  }
};
TYPED_TEST_SUITE(StoreConformance, Backends, BackendNames);

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

TYPED_TEST(StoreConformance, EnsureTableIsIdempotentAndReportsConflicts) {
  Store* store = this->store_.get();
  EXPECT_EQ(store->DescribeTable(kTable).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  ASSERT_TRUE(store->EnsureTable(Users()).ok());
  auto described = store->DescribeTable(kTable);
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->table, kTable);
  EXPECT_EQ(described->key_column, "id");
  ASSERT_FALSE(described->columns.empty());
  EXPECT_EQ(described->columns[0].name, "id");  // the key column first
  std::set<std::pair<std::string, std::string>> columns;
  for (const auto& c : described->columns) columns.insert({c.name, c.type});
  std::set<std::pair<std::string, std::string>> want;
  for (const auto& c : Users().columns) want.insert({c.name, c.type});
  EXPECT_EQ(columns, want);

  TableSchema retyped = Users();
  retyped.columns[5].type = "text";
  Status s = store->EnsureTable(retyped);
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(), TypeParam::TypeConflict(kTable, "dob", "timestamp", "text"));

  TableSchema rekeyed = Users();
  rekeyed.key_column = "name";
  s = store->EnsureTable(rekeyed);
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(), TypeParam::KeyConflict(kTable, "id", "name"));

  TableSchema wider = Users();
  wider.columns.push_back({"email", "text"});
  s = store->EnsureTable(wider);
  if (TypeParam::kAddsColumns) {
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(store->DescribeTable(kTable)->columns.size(), 7u);
  } else {
    EXPECT_EQ(s.code(), StatusCode::kConfigError);
    EXPECT_NE(s.message().find("ALTER TABLE shop.users ADD email text"), std::string::npos)
        << s.message();
    EXPECT_EQ(store->DescribeTable(kTable)->columns.size(), 6u);
  }

  auto tables = store->ListTables();
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ(*tables, std::vector<std::string>{kTable});  // no bookkeeping tables
  TableSchema orders{"shop.orders", "order_id", {{"order_id", "text"}, {"total", "double"}}};
  ASSERT_TRUE(store->EnsureTable(orders).ok());
  EXPECT_EQ(*store->ListTables(), (std::vector<std::string>{"shop.orders", kTable}));
}

TYPED_TEST(StoreConformance, CreateKeyspaceKeepsAnExistingOne) {
  Store* store = this->store_.get();
  ASSERT_TRUE(
      store->CreateKeyspace({"conf_ks", {{"class", "SimpleStrategy"}, {"replication_factor", "1"}}})
          .ok());
  ASSERT_TRUE(
      store->CreateKeyspace({"conf_ks", {{"class", "SimpleStrategy"}, {"replication_factor", "3"}}})
          .ok());
  ASSERT_TRUE(store->EnsureTable(Users()).ok());  // creates keyspace "shop"
  auto keyspaces = store->ListKeyspaces();
  ASSERT_TRUE(keyspaces.ok()) << keyspaces.status().ToString();
  std::vector<std::string> names;
  std::string factor;
  for (const auto& k : *keyspaces) {
    names.push_back(k.name);
    if (k.name != "conf_ks") continue;
    for (const auto& [key, value] : k.replication) {
      if (key == "replication_factor") factor = value;
    }
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::count(names.begin(), names.end(), "conf_ks"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "shop"), 1);
  EXPECT_EQ(factor, "1");  // the first creation's replication stays
}

TYPED_TEST(StoreConformance, ReadOnlyReadsAndRefusesWrites) {
  ASSERT_TRUE(this->store_->EnsureTable(Users()).ok());
  this->Apply(this->store_.get(), this->FirstBatch());
  auto ro = this->Open(OpenMode::kReadOnly);
  ASSERT_NE(ro, nullptr);
  this->ExpectFirstBatch(ro.get());

  Status s = ro->Apply(Batch({50}, "x", 50));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), TypeParam::ReadOnlyApply());
  TableSchema other{"shop.other", "id", {{"id", "text"}}};
  EXPECT_EQ(ro->EnsureTable(other).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ro->CreateKeyspace({"ro_ks", {}}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ro->DescribeTable("shop.other").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Get(kTable, Key(50)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(this->store_->Counters()->stored, 10u);

  // The writer goes on; after Refresh the reader sees it.
  this->Apply(this->store_.get(), Batch({10, 11}, "b", 14));
  ASSERT_TRUE(ro->Refresh().ok());
  EXPECT_EQ(this->Count(ro.get()), 12u);
  EXPECT_EQ(ro->Counters()->stored, 12u);
  EXPECT_EQ(*ro->CommittedOffset("g", "users", 1, ""), std::optional<int64_t>(14));
}

// ---- Replays of dead letters (store.h ApplyReplay) ----

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

}  // namespace
}  // namespace dataforge
