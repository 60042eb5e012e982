// The Store contract's typed suite (store/store.h), shared by its files: the backends (RocksDB,
// and the Cassandra store against DataForge's own CQL endpoint, CqlServer + CqlEngine over a
// RocksDB store, in-process over loopback: real TCP, real protocol), the data the tests write
// and the fixture. Each file declares the suite with STORE_CONFORMANCE_SUITE(); the suite is one
// (`StoreConformance/*`) whichever file a test is in.
#pragma once

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

namespace dataforge::store_conformance {

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
  static constexpr bool kAtomicBatch = true;  // one write batch: a failed Apply leaves nothing
  static std::string UnknownTable(const std::string& table, const std::string& key) {
    return fmt::format(
        "row '{}' goes to table {}, which does not exist in the store; create it first "
        "(EnsureTable: process.outputs and process.aggregates tables are created at start)",
        key, table);
  }
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
  // Rows first, offsets last (docs/cassandra.md): a failed Apply may leave rows, never offsets.
  static constexpr bool kAtomicBatch = false;
  static std::string UnknownTable(const std::string& table, const std::string& key) {
    return fmt::format(
        "row '{}' goes to table {}: cassandra table {} does not exist; run the pipeline once (it "
        "creates its table) or create it with cqlsh",
        key, table, table);
  }
};

// ---- Data ----

inline constexpr char kTable[] = "shop.users";

inline TableSchema Users() {
  return TableSchema{kTable,
                     "id",
                     {{"id", "text"},
                      {"name", "text"},
                      {"age", "int"},
                      {"score", "double"},
                      {"active", "boolean"},
                      {"dob", "timestamp"}}};
}

inline std::string Key(int i) {
  return fmt::format("user-{:04d}", i);
}
inline std::string RowJson(int i, const std::string& name) {
  return fmt::format(
      R"({{"id":"{}","name":"{}","age":{},"score":{}.5,"active":{},"dob":"2000-01-02T03:04:05.006Z"}})",
      Key(i), name, i % 90, i, i % 2 == 0 ? "true" : "false");
}

inline DeadLetter Letter(int i) {
  return DeadLetter{"process", fmt::format("record {} is not JSON", i),
                    fmt::format("users/{}@{}", i % 2, 100 + i), fmt::format("payload-{}", i),
                    1'000'000 + i};
}

// Rows `keys` (in that order) as upserts named `name`; the offsets of partitions 0 and 1 of
// topic "users" for group "g" advance to `next_offset`, each counting its rows (even keys on 0).
inline StoreBatch Batch(const std::vector<int>& keys, const std::string& name,
                        int64_t next_offset) {
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
inline StoreBatch OfLog(StoreBatch b, const std::string& log_id) {
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

}  // namespace dataforge::store_conformance

// In each file of the suite, at namespace scope inside dataforge::store_conformance.
#define STORE_CONFORMANCE_SUITE() TYPED_TEST_SUITE(StoreConformance, Backends, BackendNames)
