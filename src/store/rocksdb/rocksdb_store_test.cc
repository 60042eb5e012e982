#include "store/rocksdb/rocksdb_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rocksdb/db.h>

#include <filesystem>

#include "common/testing/page_cache.h"
#include "store/rocksdb/rocksdb_keys.h"

namespace dataforge {
namespace {

class RocksDbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/df_store_XXXXXX";
    dir_ = mkdtemp(tmpl);
    url_ = "rocksdb://" + dir_ + "/store";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<Store> Open(OpenMode mode = OpenMode::kReadWrite) {
    auto s = OpenStore(url_, mode, {});
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  static StoreBatch Batch(int from, int n, int64_t next_offset) {
    StoreBatch b;
    b.table = "ks.users";
    b.group = "g";
    for (int i = from; i < from + n; ++i) {
      b.rows.push_back({"k" + std::to_string(1000 + i), "{\"i\":" + std::to_string(i) + "}"});
    }
    b.offsets.push_back({"t", 0, next_offset});
    return b;
  }
  std::string dir_, url_;
};

TEST_F(RocksDbStoreTest, ApplyGetScanCount) {
  auto s = Open();
  ASSERT_TRUE(s->Apply(Batch(0, 5, 5)).ok());
  EXPECT_EQ(*s->Get("ks.users", "k1003"), "{\"i\":3}");
  EXPECT_EQ(s->Get("ks.users", "k9").status().message(), "no row with key 'k9' in table ks.users");
  EXPECT_EQ(*s->Count("ks.users"), 5u);
  EXPECT_EQ(s->Count("other").status().code(), StatusCode::kNotFound);  // no such table
  std::vector<std::string> keys;
  ASSERT_TRUE(s->Scan("ks.users", "k1001", 2, [&](const std::string& k, const std::string&) {
                 keys.push_back(k);
                 return true;
               }).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"k1002", "k1003"}));
  EXPECT_EQ(*s->ListTables(), std::vector<std::string>{"ks.users"});
}

TEST_F(RocksDbStoreTest, UpsertKeepsOneRowAndCountersCountVersions) {
  {
    auto s = Open();
    ASSERT_TRUE(s->Apply(Batch(0, 3, 3)).ok());
    StoreBatch again = Batch(0, 1, 4);
    again.rows[0].row_json = "{\"i\":\"new\"}";
    again.dead_letters.push_back({"process", "bad", "t/0@3", "{}", 7});
    ASSERT_TRUE(s->Apply(again).ok());
    EXPECT_EQ(*s->Count("ks.users"), 3u);
    EXPECT_EQ(s->Counters()->stored, 4u);
  }
  auto s = Open();
  EXPECT_EQ(s->Counters()->stored, 4u);
  EXPECT_EQ(s->Counters()->dead_lettered, 1u);
  EXPECT_EQ(**s->CommittedOffset("g", "t", 0, ""), 4);
  EXPECT_FALSE(s->CommittedOffset("g", "t", 1, "")->has_value());
  EXPECT_EQ(*s->Get("ks.users", "k1000"), "{\"i\":\"new\"}");
  ASSERT_TRUE(
      s->Apply(StoreBatch{"ks.users", {}, {{"process", "bad2", "t/0@9", "x", 8}}, "g", {}}).ok());
  std::vector<StoredDeadLetter> dl;
  ASSERT_TRUE(s->ListDeadLetters(0, 10, &dl).ok());
  ASSERT_EQ(dl.size(), 2u);
  EXPECT_EQ(dl[0].id, 1u);
  EXPECT_EQ(dl[1].id, 2u);  // ids continue across reopen
  EXPECT_EQ(dl[1].letter.reason, "bad2");
  EXPECT_EQ(dl[0].letter.location, "t/0@3");
}

TEST_F(RocksDbStoreTest, BatchesAreAtomicUnderSigkill) {
  // The child reports each applied batch through a pipe; it is killed once three are durable
  // (mid-way through a later one), however slowly it runs.
  int applied[2];
  ASSERT_EQ(pipe(applied), 0);
  pid_t child = fork();
  if (child == 0) {
    close(applied[0]);
    auto s = OpenStore(url_, OpenMode::kReadWrite, {});
    if (!s.ok()) _exit(2);
    for (int b = 0;; ++b) {
      if (!(*s)->Apply(Batch(b * 100, 100, (b + 1) * 100)).ok()) _exit(3);
      if (b < 3 && write(applied[1], "x", 1) != 1) _exit(4);
    }
  }
  close(applied[1]);
  char c;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(read(applied[0], &c, 1), 1) << "the writer died early";
  close(applied[0]);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto s = Open();
  uint64_t rows = *s->Count("ks.users");
  EXPECT_GE(rows, 300u);
  EXPECT_EQ(rows % 100, 0u);  // whole batches only
  EXPECT_EQ(s->Counters()->stored, rows);
  EXPECT_EQ(**s->CommittedOffset("g", "t", 0, ""), static_cast<int64_t>(rows));
}

TEST_F(RocksDbStoreTest, SecondaryReaderSeesNewRowsAfterRefresh) {
  auto w = Open();
  ASSERT_TRUE(w->Apply(Batch(0, 2, 2)).ok());
  auto r = Open(OpenMode::kReadOnly);
  EXPECT_EQ(*r->Count("ks.users"), 2u);
  ASSERT_TRUE(w->Apply(Batch(2, 3, 5)).ok());
  ASSERT_TRUE(r->Refresh().ok());
  EXPECT_EQ(*r->Count("ks.users"), 5u);
  EXPECT_EQ(r->Counters()->stored, 5u);
  EXPECT_EQ(r->Apply(Batch(9, 1, 9)).code(), StatusCode::kFailedPrecondition);
}

TEST_F(RocksDbStoreTest, SecondWriterIsRefusedClearly) {
  auto w = Open();
  auto second = OpenStore(url_, OpenMode::kReadWrite, {});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("is another dataforge running on this data dir?"),
            std::string::npos)
      << second.status().message();
}

TEST_F(RocksDbStoreTest, MissingStoreForReading) {
  auto r = OpenStore(url_, OpenMode::kReadOnly, {});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "no store at " + dir_ + "/store (run `dataforge run` first)");
}

}  // namespace
}  // namespace dataforge

namespace dataforge {
namespace {

TEST(RocksDbStoreDeleteTest, ADeleteRemovesTheRowAndCountsAsAVersion) {
  std::string dir = ::testing::TempDir() + "/df_store_delete_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  auto s = OpenStore("rocksdb://" + dir, OpenMode::kReadWrite, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  StoreBatch b;
  b.table = "app.accounts";
  b.group = "g";
  b.rows = {{"1", R"({"id":1})"}, {"2", R"({"id":2})"}};
  ASSERT_TRUE((*s)->Apply(b).ok());
  b.rows = {{"1", "", /*deleted=*/true}, {"3", R"({"id":3})"}};
  ASSERT_TRUE((*s)->Apply(b).ok());
  EXPECT_EQ((*s)->Get("app.accounts", "1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*(*s)->Get("app.accounts", "2"), R"({"id":2})");
  EXPECT_EQ(*(*s)->Count("app.accounts"), 2u);
  EXPECT_EQ((*s)->Counters()->stored, 4u);
  s->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dataforge

namespace dataforge {
namespace {

TableSchema UsersSchema() {
  return {"ks.users", "id", {{"id", "uuid"}, {"name", "text"}, {"dob", "timestamp"}}};
}

TEST_F(RocksDbStoreTest, EnsureTableRecordsSchemaAndKeyspace) {
  auto s = Open();
  ASSERT_TRUE(s->EnsureTable(UsersSchema()).ok());
  auto t = s->DescribeTable("ks.users");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->key_column, "id");
  ASSERT_EQ(t->columns.size(), 3u);
  EXPECT_EQ(t->columns[2].name, "dob");
  EXPECT_EQ(t->columns[2].type, "timestamp");
  auto ks = s->ListKeyspaces();
  ASSERT_TRUE(ks.ok());
  ASSERT_EQ(ks->size(), 1u);
  EXPECT_EQ((*ks)[0].name, "ks");
  EXPECT_EQ((*ks)[0].replication, (std::vector<std::pair<std::string, std::string>>{
                                      {"class", "SimpleStrategy"}, {"replication_factor", "1"}}));
  EXPECT_EQ(s->DescribeTable("ks.nope").status().message(), "no table ks.nope in the store");
  EXPECT_EQ(*s->ListTables(), std::vector<std::string>{"ks.users"});  // listed before any row
  // The catalog survives a reopen and is visible to a read-only instance.
  s.reset();
  auto ro = Open(OpenMode::kReadOnly);
  EXPECT_EQ(ro->DescribeTable("ks.users")->columns.size(), 3u);
}

TEST_F(RocksDbStoreTest, EnsureTableAddsColumnsAndRefusesConflicts) {
  auto s = Open();
  ASSERT_TRUE(s->EnsureTable(UsersSchema()).ok());
  TableSchema more = UsersSchema();
  more.columns.push_back({"age", "int"});
  ASSERT_TRUE(s->EnsureTable(more).ok());
  EXPECT_EQ(s->DescribeTable("ks.users")->columns.back().name, "age");

  TableSchema retyped = UsersSchema();
  retyped.columns[2].type = "text";
  Status st = s->EnsureTable(retyped);
  EXPECT_EQ(st.code(), StatusCode::kConfigError);
  EXPECT_EQ(st.message(),
            "table ks.users: column dob is timestamp in the store but the pipeline maps it as "
            "text; change process.columns or use another table");
  TableSchema rekeyed = UsersSchema();
  rekeyed.key_column = "name";
  EXPECT_EQ(s->EnsureTable(rekeyed).message(),
            "table ks.users: its primary key is id but the pipeline keys it by name; use another "
            "table (process.table) or the same key_column");
  EXPECT_EQ(s->EnsureTable({"users", "id", {{"id", "uuid"}}}).message(),
            "table 'users' must be named keyspace.table (e.g. dataforge.created_users)");
}

TEST_F(RocksDbStoreTest, UncountedWritesLeaveCountersAlone) {
  auto s = Open();
  ASSERT_TRUE(s->Apply(Batch(0, 3, 3)).ok());
  StoreBatch client;
  client.table = "ks.users";
  client.counted = false;
  client.rows.push_back({"k2000", "{\"i\":2000}"});
  client.rows.push_back({"k1000", "", true});
  ASSERT_TRUE(s->Apply(client).ok());
  EXPECT_EQ(s->Counters()->stored, 3u);
  EXPECT_EQ(*s->Count("ks.users"), 3u);
  EXPECT_EQ(*s->Get("ks.users", "k2000"), "{\"i\":2000}");
  EXPECT_EQ(s->Get("ks.users", "k1000").status().code(), StatusCode::kNotFound);
}

// A write that sets every column of the table's schema is put without reading the stored row;
// the schema it checks against follows EnsureTable, so a column added later is not erased by a
// write of the old columns (issue 22: a write never drops a column it does not carry).
TEST_F(RocksDbStoreTest, WriteOfEveryColumnKeepsAColumnAddedSince) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->EnsureTable({"ks.t", "id", {{"id", "text"}, {"a", "int"}}}).ok());
  StoreBatch b;
  b.table = "ks.t";
  b.group = "g";
  b.rows = {{"k", R"({"id":"k","a":1})"}, {"j", R"({"id":"j","a":5,"x":1})"}};
  ASSERT_TRUE(s->Apply(b).ok());
  ASSERT_TRUE(s->EnsureTable({"ks.t", "id", {{"id", "text"}, {"a", "int"}, {"b", "int"}}}).ok());
  b.rows = {{"k", R"({"id":"k","b":2})"}};
  ASSERT_TRUE(s->Apply(b).ok());
  EXPECT_EQ(*s->Get("ks.t", "k"), R"({"id":"k","a":1,"b":2})");
  b.rows = {{"k", R"({"id":"k","a":3})"}, {"j", R"({"id":"j","a":6,"b":7})"}};
  ASSERT_TRUE(s->Apply(b).ok());
  EXPECT_EQ(*s->Get("ks.t", "k"), R"({"id":"k","a":3,"b":2})");
  // Every schema column set: the row is replaced, a field outside the schema goes with it.
  EXPECT_EQ(*s->Get("ks.t", "j"), R"({"id":"j","a":6,"b":7})");
  // A stored row that is not a JSON object is an error naming the row, and nothing is written.
  b.rows = {{"bad", "not json"}};
  ASSERT_TRUE(s->Apply(b).ok());  // a new key: stored as given
  b.rows = {{"bad", R"({"id":"bad","a":1})"}, {"k", R"({"id":"k","a":4})"}};
  Status st = s->Apply(b);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("table ks.t row 'bad': the stored row is not a JSON object: no '{' "
                              "at byte 0"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(*s->Get("ks.t", "k"), R"({"id":"k","a":3,"b":2})");
  EXPECT_EQ(s->Counters()->stored, 6u);
}

// The check that a write sets every column (so the row is replaced without reading it) looks at
// names, not positions: members in another order than the schema's, or with others among them.
TEST_F(RocksDbStoreTest, WriteOfEveryColumnInAnyOrderReplacesTheRow) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->EnsureTable({"ks.t", "id", {{"id", "text"}, {"a", "int"}, {"b", "int"}}}).ok());
  StoreBatch b;
  b.table = "ks.t";
  b.group = "g";
  b.rows = {{"k", R"({"id":"k","a":1,"b":2,"x":9})"}};
  ASSERT_TRUE(s->Apply(b).ok());
  b.rows = {{"k", R"({"b":3,"id":"k","a":4})"}};  // every column, another order: replaced
  ASSERT_TRUE(s->Apply(b).ok());
  EXPECT_EQ(*s->Get("ks.t", "k"), R"({"b":3,"id":"k","a":4})");
  b.rows = {{"k", R"({"id":"k","a":5})"}};  // some columns: merged in the stored order
  ASSERT_TRUE(s->Apply(b).ok());
  EXPECT_EQ(*s->Get("ks.t", "k"), R"({"b":3,"id":"k","a":5})");
  b.rows = {{"k", R"({"id":"k","x":1,"a":6,"b":7})"}};  // every column and one more: replaced
  ASSERT_TRUE(s->Apply(b).ok());
  EXPECT_EQ(*s->Get("ks.t", "k"), R"({"id":"k","x":1,"a":6,"b":7})");
  b.rows = {{"k", R"({"id":"k","id":"k","b":8})"}};  // three members, two columns: merged
  ASSERT_TRUE(s->Apply(b).ok());
  EXPECT_EQ(*s->Get("ks.t", "k"), R"({"id":"k","x":1,"a":6,"b":8})");
}

// A row that lists its members (RowWrite::columns, the mapper's rows) is judged by its list, not
// by parsing it: a list naming every schema column replaces the row (a stored member outside the
// schema goes), a list short of one merges into it; the same list is judged again after
// EnsureTable adds a column.
TEST_F(RocksDbStoreTest, ARowThatListsItsColumnsIsJudgedByTheList) {
  auto s = Open();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->EnsureTable({"ks.t", "id", {{"id", "text"}, {"a", "int"}}}).ok());
  auto all =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"a", "id", "z"});
  auto some = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"id"});
  StoreBatch b;
  b.table = "ks.t";
  b.group = "g";
  b.rows = {{"k", R"({"id":"k","a":1,"x":9})"}, {"j", R"({"id":"j","a":2,"x":8})"}};
  ASSERT_TRUE(s->Apply(b).ok());
  RowWrite k{"k", R"({"a":3,"id":"k","z":0})"};
  k.columns = all;
  // The store believes the list: this one leaves out the row's `a`, so the row is merged.
  RowWrite j{"j", R"({"id":"j","a":7})"};
  j.columns = some;
  b.rows = {k, j};
  ASSERT_TRUE(s->Apply(b).ok());
  EXPECT_EQ(*s->Get("ks.t", "k"), R"({"a":3,"id":"k","z":0})");  // replaced: x is gone
  EXPECT_EQ(*s->Get("ks.t", "j"), R"({"id":"j","a":7,"x":8})");  // merged: x kept
  ASSERT_TRUE(s->EnsureTable({"ks.t", "id", {{"id", "text"}, {"a", "int"}, {"b", "int"}}}).ok());
  b.rows = {{"k", R"({"a":3,"id":"k","b":5,"z":0})"}};
  ASSERT_TRUE(s->Apply(b).ok());
  k.row_json = R"({"a":4,"id":"k","z":1})";
  b.rows = {k};  // the same list no longer names every column (b): merged, b kept
  ASSERT_TRUE(s->Apply(b).ok());
  EXPECT_EQ(*s->Get("ks.t", "k"), R"({"a":4,"id":"k","b":5,"z":1})");
}

// Offset rows written before `filtered` existed are 32 bytes (docs/store-format.md): they keep
// reading (filtered 0), and the next batch of the partition writes the 40-byte row.
TEST_F(RocksDbStoreTest, OffsetRowsWithoutFilteredKeepReading) {
  const std::string key = rocksdb_keys::IdentityKey("g", "t", 0, "log-1");
  {
    auto s = Open();
    StoreBatch b = Batch(0, 3, 7);
    b.offsets[0].log_id = "log-1";
    b.offsets[0].stored = 3;
    b.offsets[0].filtered = 4;
    ASSERT_TRUE(s->Apply(b).ok());
    EXPECT_EQ(s->Counters()->filtered, 4u);
  }
  // Rewrite the row as an older DataForge left it: four u64, and no store-wide filtered counter.
  auto rewrite = [&](const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn) {
    rocksdb::Options o;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, o}, {"rows", o}, {"deadletters", o}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir_ + "/store", cfs, &handles, &db).ok());
    fn(db, handles[0]);
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  };
  rewrite([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) {
    std::string v;
    ASSERT_TRUE(db->Get({}, meta, key, &v).ok());
    ASSERT_EQ(v.size(), 40u);
    ASSERT_TRUE(db->Put({}, meta, key, v.substr(0, 32)).ok());
    ASSERT_TRUE(db->Delete({}, meta, std::string("c\0filtered", 10)).ok());
  });
  {
    auto s = Open();
    EXPECT_EQ(*s->CommittedOffset("g", "t", 0, "log-1"), std::optional<int64_t>(7));
    auto c = s->LogCounters("g", "t", "log-1");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->stored, 3u);
    EXPECT_EQ(c->filtered, 0u);
    EXPECT_EQ(s->Counters()->filtered, 0u);
    StoreBatch b = Batch(3, 1, 9);
    b.offsets[0].log_id = "log-1";
    b.offsets[0].stored = 1;
    b.offsets[0].filtered = 1;
    ASSERT_TRUE(s->Apply(b).ok());
    c = s->LogCounters("g", "t", "log-1");
    EXPECT_EQ(c->stored, 4u);
    EXPECT_EQ(c->filtered, 1u);
    EXPECT_EQ(s->Counters()->filtered, 1u);
    EXPECT_EQ(*s->CommittedOffset("g", "t", 0, "log-1"), std::optional<int64_t>(9));
  }
  rewrite([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) {
    std::string v;
    ASSERT_TRUE(db->Get({}, meta, key, &v).ok());
    EXPECT_EQ(v.size(), 40u);
  });
}

// The WAL's synced pages leave the page cache after each Apply (store/rocksdb/wal_page_cache.h),
// and a reopen recovers every row from the WAL all the same (nothing was flushed to a table
// file: avoid_flush_during_shutdown).
TEST_F(RocksDbStoreTest, SyncedWalPagesLeaveThePageCacheAndRecoveryReadsThem) {
  const std::string big(16 << 10, 'v');
  {
    auto s = Open();
    for (int i = 0; i < 4; ++i) {
      StoreBatch b = Batch(i, 1, i + 1);
      b.rows[0].row_json = "{\"v\":\"" + big + std::to_string(i) + "\"}";
      ASSERT_TRUE(s->Apply(b).ok());
    }
    std::vector<std::string> wals;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/store")) {
      if (e.path().extension() == ".log") wals.push_back(e.path());
    }
    ASSERT_EQ(wals.size(), 1u);
    uint64_t size = std::filesystem::file_size(wals[0]);
    ASSERT_GT(size, 4u * big.size());
    // The first half: folios wholly inside the advised ranges (each Apply writes ~16 KiB).
    EXPECT_EQ(testing::ResidentPages(wals[0], 0, size / 2 / 4096 * 4096), 0);
  }
  auto s = Open();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(*s->Get("ks.users", "k" + std::to_string(1000 + i)),
              "{\"v\":\"" + big + std::to_string(i) + "\"}");
  }
  EXPECT_EQ(s->Counters()->stored, 4u);
}

}  // namespace
}  // namespace dataforge
