// CassandraStore against our own CQL endpoint (CqlServer + CqlEngine over a RocksDbStore),
// in-process on a loopback port: real TCP (and TLS), real protocol, real retries.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "common/client_counters.h"
#include "serve/cql/cql_engine.h"
#include "serve/cql/cql_server.h"
#include "store/cassandra/cassandra_store.h"
#include "store/store.h"

namespace dataforge {
namespace {

using cql::CqlEngine;
using cql::CqlServer;
using cql::CqlServerOptions;

// Polls `cond` every 10 ms for at most 60 s; true once it holds.
template <typename Cond>
bool PollUntil(Cond cond) {
  for (int i = 0; i < 6000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

TableSchema Users(const std::string& table = "shop.users") {
  return TableSchema{table,
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

class CassandraStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cassandra_store_test_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    auto store = OpenStore("rocksdb://" + dir_ + "/store", OpenMode::kReadWrite, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    backing_ = std::move(store).value();
  }
  void TearDown() override {
    cassandra_.reset();
    StopServer();
    backing_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts the endpoint on `port` (0 = any) with a fresh engine (no prepared statements).
  void StartServer(int port = 0, CqlServerOptions options = {}) {
    engine_ = std::make_unique<CqlEngine>(backing_.get(), cql::EngineOptions{});
    options.port = port;
    server_ = std::make_unique<CqlServer>(options);
    Status s = server_->Listen();
    ASSERT_TRUE(s.ok()) << s.ToString();
    port_ = server_->port();
    ASSERT_TRUE(server_->Start(engine_.get()).ok());
  }
  void StopServer() {
    if (server_) server_->Stop();
    server_.reset();
    engine_.reset();
  }

  Result<std::unique_ptr<Store>> Open(const std::string& path_and_query,
                                      OpenMode mode = OpenMode::kReadWrite) {
    StoreOptions options;
    options.cassandra.consistency = "ONE";
    return OpenStore(fmt::format("cassandra://127.0.0.1:{}{}", port_, path_and_query), mode,
                     options);
  }
  void OpenCassandra(const std::string& path_and_query = "/ks") {
    auto s = Open(path_and_query);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    cassandra_ = std::move(s).value();
  }

  StoreBatch RowsBatch(int from, int to, const std::string& name, int64_t next_offset) {
    StoreBatch b;
    b.table = "shop.users";
    b.group = "g";
    for (int i = from; i < to; ++i) b.rows.push_back({Key(i), RowJson(i, name), false});
    PartitionOffset p0{"users", 0, next_offset, 0, 0};
    PartitionOffset p1{"users", 1, next_offset, 0, 0};
    for (int i = from; i < to; ++i) ++(i % 2 == 0 ? p0 : p1).stored;
    b.offsets = {p0, p1};
    return b;
  }

  std::string dir_;
  std::unique_ptr<Store> backing_;
  std::unique_ptr<CqlEngine> engine_;
  std::unique_ptr<CqlServer> server_;
  int port_ = 0;
  std::unique_ptr<Store> cassandra_;
};

TEST_F(CassandraStoreTest, EnsureTableCreatesThenDetectsConflicts) {
  StartServer();
  OpenCassandra();
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());  // idempotent
  auto described = cassandra_->DescribeTable("shop.users");
  ASSERT_TRUE(described.ok()) << described.status().ToString();
  EXPECT_EQ(described->table, "ks.users");
  EXPECT_EQ(described->key_column, "id");
  std::set<std::pair<std::string, std::string>> columns;
  for (const auto& c : described->columns) columns.insert({c.name, c.type});
  EXPECT_EQ(columns, (std::set<std::pair<std::string, std::string>>{{"id", "text"},
                                                                    {"name", "text"},
                                                                    {"age", "int"},
                                                                    {"score", "double"},
                                                                    {"active", "boolean"},
                                                                    {"dob", "timestamp"}}));
  EXPECT_EQ(described->columns[0].name, "id");

  TableSchema retyped = Users();
  retyped.columns[5].type = "text";
  Status s = cassandra_->EnsureTable(retyped);
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(),
            "cassandra table ks.users: column dob is timestamp in Cassandra but the pipeline "
            "maps it as text; change process.columns or use another table");

  TableSchema rekeyed = Users();
  rekeyed.key_column = "name";
  s = cassandra_->EnsureTable(rekeyed);
  EXPECT_EQ(s.message(),
            "cassandra table ks.users: the primary key is id in Cassandra but the pipeline maps "
            "name as the key; change process.key_column or use another table");

  TableSchema wider = Users();
  wider.columns.push_back({"email", "text"});
  wider.columns.push_back({"born_at", "uuid"});
  s = cassandra_->EnsureTable(wider);
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
  EXPECT_EQ(s.message(),
            "cassandra table ks.users: columns email, born_at are missing in Cassandra; run "
            "`ALTER TABLE ks.users ADD email text; ALTER TABLE ks.users ADD born_at uuid` and "
            "start again");

  auto tables = cassandra_->ListTables();
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ(*tables, std::vector<std::string>{"ks.users"});  // bookkeeping tables hidden
}

TEST_F(CassandraStoreTest, TableNamesWithoutUrlKeyspace) {
  StartServer();
  OpenCassandra("");
  auto* store = static_cast<CassandraStore*>(cassandra_.get());
  EXPECT_EQ(store->PhysicalName("shop.users"), "shop.users");
  EXPECT_EQ(store->PhysicalName("users"), "dataforge.users");
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
  auto tables = cassandra_->ListTables();
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ(*tables, std::vector<std::string>{"shop.users"});
  auto keyspaces = cassandra_->ListKeyspaces();
  ASSERT_TRUE(keyspaces.ok()) << keyspaces.status().ToString();
  std::vector<std::string> names;
  for (const auto& k : *keyspaces) names.push_back(k.name);
  EXPECT_EQ(names, (std::vector<std::string>{"dataforge", "shop"}));
}

TEST_F(CassandraStoreTest, ApplyFiveThousandRowsThenExactReads) {
  StartServer();
  OpenCassandra();
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
  StoreBatch b = RowsBatch(0, 5000, "first", 5003);
  for (int i = 0; i < 3; ++i) {
    b.dead_letters.push_back(DeadLetter{"process", fmt::format("bad record {}", i),
                                        fmt::format("users/{}@{}", i % 2, 5000 + i),
                                        fmt::format("{{\"n\":{}}}", i), 1000 - i});
  }
  b.offsets[0].dead_lettered = 2;
  b.offsets[1].dead_lettered = 1;
  b.offsets[1].lost = 40;  // offsets the log deleted before they were read
  Status s = cassandra_->Apply(b);
  ASSERT_TRUE(s.ok()) << s.ToString();

  auto row = cassandra_->Get("shop.users", Key(7));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(*row, RowJson(7, "first"));
  auto missing = cassandra_->Get("shop.users", "nobody");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "cassandra table ks.users: no row with key 'nobody'");

  std::set<std::string> seen;
  size_t calls = 0;
  ASSERT_TRUE(cassandra_
                  ->Scan("shop.users", "", 0,
                         [&](const std::string& key, const std::string& json) {
                           ++calls;
                           seen.insert(key);
                           EXPECT_EQ(json, RowJson(std::stoi(key.substr(5)), "first"));
                           return true;
                         })
                  .ok());
  EXPECT_EQ(calls, 5000u);
  EXPECT_EQ(seen.size(), 5000u);

  // Resuming after a key continues in token order: two halves cover every key once.
  std::vector<std::string> first_half;
  ASSERT_TRUE(cassandra_
                  ->Scan("shop.users", "", 2500,
                         [&](const std::string& key, const std::string&) {
                           first_half.push_back(key);
                           return true;
                         })
                  .ok());
  ASSERT_EQ(first_half.size(), 2500u);
  std::set<std::string> all(first_half.begin(), first_half.end());
  size_t second = 0;
  ASSERT_TRUE(cassandra_
                  ->Scan("shop.users", first_half.back(), 0,
                         [&](const std::string& key, const std::string&) {
                           ++second;
                           all.insert(key);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(second, 2500u);
  EXPECT_EQ(all.size(), 5000u);

  auto count = cassandra_->Count("shop.users");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 5000u);
  auto counters = cassandra_->Counters();
  ASSERT_TRUE(counters.ok()) << counters.status().ToString();
  EXPECT_EQ(counters->stored, 5000u);
  EXPECT_EQ(counters->dead_lettered, 3u);
  EXPECT_EQ(counters->lost, 40u);
  EXPECT_EQ(*cassandra_->PartitionLost("g", "users", 1, ""), 40u);
  EXPECT_EQ(*cassandra_->PartitionLost("g", "users", 0, ""), 0u);
  EXPECT_EQ(*cassandra_->PartitionLost("g", "users", 7, ""), 0u);
  auto offset = cassandra_->CommittedOffset("g", "users", 1, "");
  ASSERT_TRUE(offset.ok()) << offset.status().ToString();
  EXPECT_EQ(*offset, std::optional<int64_t>(5003));
  auto none = cassandra_->CommittedOffset("g", "users", 7, "");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, std::nullopt);

  std::vector<StoredDeadLetter> letters;
  ASSERT_TRUE(cassandra_->ListDeadLetters(0, 0, &letters).ok());
  ASSERT_EQ(letters.size(), 3u);
  // Ordered by at_us: 998, 999, 1000.
  EXPECT_EQ(letters[0].id, 1u);
  EXPECT_EQ(letters[0].letter.location, "users/0@5002");
  EXPECT_EQ(letters[0].letter.reason, "bad record 2");
  EXPECT_EQ(letters[0].letter.payload, "{\"n\":2}");
  EXPECT_EQ(letters[0].letter.stage, "process");
  EXPECT_EQ(letters[0].letter.at_us, 998);
  EXPECT_EQ(letters[2].id, 3u);
  EXPECT_EQ(letters[2].letter.location, "users/0@5000");
  letters.clear();
  ASSERT_TRUE(cassandra_->ListDeadLetters(1, 1, &letters).ok());
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].id, 2u);
  EXPECT_EQ(letters[0].letter.location, "users/1@5001");
}

TEST_F(CassandraStoreTest, ReplayAfterAFailedBatchDoesNotDoubleCounters) {
  StartServer();
  OpenCassandra();
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
  ASSERT_TRUE(cassandra_->Apply(RowsBatch(0, 100, "a", 100)).ok());
  // The next batch's rows landed but its offsets did not (as after a failure midway) ...
  StoreBatch partial = RowsBatch(100, 200, "b", 200);
  partial.counted = false;
  ASSERT_TRUE(cassandra_->Apply(partial).ok());
  auto mid = cassandra_->Counters();
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(mid->stored, 100u);
  // ... so the processor re-runs it from the committed offsets, in a new process.
  cassandra_.reset();
  OpenCassandra();
  ASSERT_TRUE(cassandra_->Apply(RowsBatch(100, 200, "b", 200)).ok());
  auto counters = cassandra_->Counters();
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ(counters->stored, 200u);
  EXPECT_EQ(*cassandra_->Count("shop.users"), 200u);
  EXPECT_EQ(*cassandra_->CommittedOffset("g", "users", 0, ""), std::optional<int64_t>(200));
}

TEST_F(CassandraStoreTest, VersionsOfOneKeyCollapseToTheLast) {
  StartServer();
  OpenCassandra();
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
  StoreBatch b;
  b.table = "shop.users";
  b.group = "g";
  b.rows = {{Key(1), RowJson(1, "v1"), false},
            {Key(2), RowJson(2, "v1"), false},
            {Key(1), "", true},
            {Key(1), RowJson(1, "v3"), false},
            {Key(2), "", true}};
  b.offsets = {PartitionOffset{"users", 0, 5, 5, 0}};
  ASSERT_TRUE(cassandra_->Apply(b).ok());
  EXPECT_EQ(*cassandra_->Get("shop.users", Key(1)), RowJson(1, "v3"));
  EXPECT_EQ(cassandra_->Get("shop.users", Key(2)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*cassandra_->Count("shop.users"), 1u);
  EXPECT_EQ(cassandra_->Counters()->stored, 5u);  // every version counts, as in RocksDB

  // A column absent from the JSON is left as it is (UNSET), an explicit null clears it.
  StoreBatch partial;
  partial.table = "shop.users";
  partial.counted = false;
  partial.rows = {{Key(1), R"({"id":"user-0001","name":"v4","age":null})", false}};
  ASSERT_TRUE(cassandra_->Apply(partial).ok());
  EXPECT_EQ(*cassandra_->Get("shop.users", Key(1)),
            R"({"id":"user-0001","name":"v4","age":null,"score":1.5,"active":false,)"
            R"("dob":"2000-01-02T03:04:05.006Z"})");
}

TEST_F(CassandraStoreTest, Authentication) {
  static cql::StaticCqlAccessControl access("app", "s3cret");  // outlives the server
  CqlServerOptions options;
  options.access_control = &access;
  StartServer(0, options);
  StoreOptions so;
  so.cassandra.consistency = "ONE";
  auto ok = OpenStore(fmt::format("cassandra://app:s3cret@127.0.0.1:{}/ks", port_),
                      OpenMode::kReadWrite, so);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_TRUE((*ok)->EnsureTable(Users()).ok());

  auto bad = OpenStore(fmt::format("cassandra://app:wrong@127.0.0.1:{}/ks", port_),
                       OpenMode::kReadWrite, so);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kConfigError);
  std::string prefix =
      fmt::format("cassandra 127.0.0.1:{}: bad credentials for user 'app': ", port_);
  EXPECT_EQ(bad.status().message().rfind(prefix, 0), 0u) << bad.status().message();
  EXPECT_EQ(bad.status().message().find("wrong"), std::string::npos);

  auto anonymous = Open("/ks");
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(anonymous.status().message(),
            fmt::format("cassandra 127.0.0.1:{}: the node requires authentication "
                        "(org.apache.cassandra.auth.PasswordAuthenticator); set user:password in "
                        "the store URL or store.cassandra.username/password",
                        port_));
}

TEST_F(CassandraStoreTest, Tls) {
  // A self-signed certificate for 127.0.0.1, made with the openssl tool.
  std::string cert = dir_ + "/cert.pem", key = dir_ + "/key.pem";
  std::string cmd = fmt::format(
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} -days 2 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
      key, cert);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  CqlServerOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  StartServer(0, options);
  ASSERT_TRUE(server_->tls());

  OpenCassandra("/ks?tls=1&tls_ca=" + cert);
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
  ASSERT_TRUE(cassandra_->Apply(RowsBatch(0, 10, "tls", 10)).ok());
  EXPECT_EQ(*cassandra_->Count("shop.users"), 10u);

  auto untrusted = Open("/ks?tls=1&tls_ca=/etc/ssl/certs/ca-certificates.crt");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_NE(untrusted.status().message().find("TLS handshake failed: certificate verification "
                                              "failed"),
            std::string::npos)
      << untrusted.status().message();

  auto plain = Open("/ks?connect_timeout_ms=2000&max_retries=0");
  EXPECT_FALSE(plain.ok());
}

TEST_F(CassandraStoreTest, ReadOnlyRefusesWrites) {
  StartServer();
  OpenCassandra();
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
  auto ro = Open("/ks", OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  Status s = (*ro)->Apply(RowsBatch(0, 1, "x", 1));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "cassandra store opened read-only: Apply refused");
  EXPECT_EQ((*ro)->EnsureTable(Users()).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*(*ro)->Count("shop.users"), 0u);
  auto compact = (*ro)->Compact();
  ASSERT_TRUE(compact.ok());
  EXPECT_EQ(*compact,
            "compaction is the cluster's job: run `nodetool compact` on each node (nothing done)");
}

TEST_F(CassandraStoreTest, ServerDownDuringApplyThenRestartedOnTheSamePort) {
  StartServer();
  OpenCassandra("/ks?max_retries=40&request_timeout_ms=5000");
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
  ASSERT_TRUE(cassandra_->Apply(RowsBatch(0, 1000, "a", 1000)).ok());
  auto* store = static_cast<CassandraStore*>(cassandra_.get());
  int port = port_;
  // The process-wide counters (dataforge_client_*{backend="cassandra"}) count what the
  // session's probe counts; this session is the only cassandra client of the test from here.
  ClientCounters& process = ClientCounters::Get();
  const uint64_t reconnects0 = process.reconnects(ClientBackend::kCassandra);
  const uint64_t errors0 = process.errors(ClientBackend::kCassandra);
  const uint64_t probe_reconnects0 = store->probe().reconnects();

  StopServer();
  Status applied;
  std::thread apply([&] { applied = cassandra_->Apply(RowsBatch(1000, 3000, "b", 3000)); });
  // The Apply is retrying against the stopped endpoint ...
  ASSERT_TRUE(PollUntil([&] { return store->probe().retries() >= 2; }));
  // ... until it comes back on the same port, with a fresh engine that forgot every prepared
  // statement (Unprepared -> prepared again).
  StartServer(port);
  apply.join();
  ASSERT_TRUE(applied.ok()) << applied.ToString();
  EXPECT_EQ(*cassandra_->Count("shop.users"), 3000u);
  auto counters = cassandra_->Counters();
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ(counters->stored, 3000u);
  EXPECT_EQ(*cassandra_->CommittedOffset("g", "users", 1, ""), std::optional<int64_t>(3000));
  EXPECT_GE(store->probe().reconnects(), 1u);
  // The fresh engine answered Unprepared at least once, and the statement was prepared again.
  EXPECT_GE(store->probe().errors_by_code()[0x2500], 1u);
  EXPECT_EQ(process.reconnects(ClientBackend::kCassandra) - reconnects0,
            store->probe().reconnects() - probe_reconnects0);
  EXPECT_GE(process.reconnects(ClientBackend::kCassandra) - reconnects0, 1u);
  // At least the lost connection and the Unprepared answer.
  EXPECT_GE(process.errors(ClientBackend::kCassandra) - errors0, 2u);
}

TEST_F(CassandraStoreTest, LocalDatacenterFiltersHosts) {
  StartServer();
  auto s = Open("/ks?local_dc=dc9");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(s.status().message(),
            "cassandra: no host in local_dc 'dc9' (found 127.0.0.1 in 'datacenter1'); set "
            "local_dc to one of those data centers");
  OpenCassandra("/ks?local_dc=datacenter1");
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
}

TEST_F(CassandraStoreTest, NoContactPointReachable) {
  StartServer();
  int port = port_;
  StopServer();
  auto s = Open("/ks");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.status().message(),
            fmt::format("cassandra: no contact point reachable (cassandra 127.0.0.1:{}: cannot "
                        "connect: Connection refused); check the hosts in the store URL and that "
                        "the nodes accept CQL connections",
                        port));
}

TEST_F(CassandraStoreTest, ServerStoppedMidApplyThenRestarted) {
  StartServer();
  OpenCassandra("/ks?max_retries=40&request_timeout_ms=5000");
  ASSERT_TRUE(cassandra_->EnsureTable(Users()).ok());
  int port = port_;
  uint64_t before = server_->stats().requests;
  Status applied;
  std::thread apply([&] { applied = cassandra_->Apply(RowsBatch(0, 20000, "m", 20000)); });
  // Stop while rows are being written (or, on a fast machine, after: the outcome is the same).
  ASSERT_TRUE(PollUntil([&] { return server_->stats().requests >= before + 2000; }));
  StopServer();
  StartServer(port);
  apply.join();
  ASSERT_TRUE(applied.ok()) << applied.ToString();
  EXPECT_EQ(*cassandra_->Count("shop.users"), 20000u);
  EXPECT_EQ(cassandra_->Counters()->stored, 20000u);
}

}  // namespace
}  // namespace dataforge
