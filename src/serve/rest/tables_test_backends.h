// Test support for the tables API tests: the two Store backends the API serves (RocksDB in a
// temp dir; the Cassandra store against DataForge's own CQL endpoint, in-process over loopback,
// as tests/conformance/store_conformance_test.cc does), and calling a registered route's handler
// directly (no HTTP).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "serve/cql/cql_engine.h"
#include "serve/cql/cql_server.h"
#include "serve/http/api.h"
#include "serve/rest/tables_api.h"
#include "store/store.h"

namespace dataforge::rest {

class TestDir {
 public:
  TestDir() {
    char tmpl[] = "/tmp/df_tables_api_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TestDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct RocksDbBackend {
  static constexpr bool kKeyOrder = true;  // Scan visits keys in byte order
  TestDir dir;
  Result<std::unique_ptr<Store>> Open(OpenMode mode) {
    return OpenStore("rocksdb://" + dir.path() + "/store", mode, StoreOptions{});
  }
  static std::string ReadOnlyApply() { return "the store is open read-only: Apply refused"; }
};

struct CassandraBackend {
  static constexpr bool kKeyOrder = false;  // token order (our endpoint happens to give key order)
  TestDir dir;
  std::unique_ptr<Store> backing;
  std::unique_ptr<cql::CqlEngine> engine;
  std::unique_ptr<cql::CqlServer> server;

  CassandraBackend() {
    auto s =
        OpenStore("rocksdb://" + dir.path() + "/backing", OpenMode::kReadWrite, StoreOptions{});
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
  Result<std::unique_ptr<Store>> Open(OpenMode mode) {
    StoreOptions options;
    options.cassandra.consistency = "ONE";
    return OpenStore(fmt::format("cassandra://127.0.0.1:{}", server->port()), mode, options);
  }
  static std::string ReadOnlyApply() { return "cassandra store opened read-only: Apply refused"; }
};

struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, RocksDbBackend> ? "RocksDb" : "Cassandra";
  }
};
using Backends = ::testing::Types<RocksDbBackend, CassandraBackend>;

// The tables API registered over one store; Call() runs a route's handler as the server would
// after routing (authentication off).
class TablesApiClient {
 public:
  explicit TablesApiClient(Store* store) { RegisterTablesApi(&router_, store); }

  http::ApiResponse Call(const std::string& method, const std::string& pattern,
                         std::map<std::string, std::string> params,
                         std::vector<std::pair<std::string, std::string>> query = {},
                         std::string body = "",
                         std::chrono::steady_clock::time_point deadline =
                             std::chrono::steady_clock::time_point::max()) const {
    for (const auto& route : router_.routes()) {
      if (route.method != method || route.pattern != pattern) continue;
      http::ApiRequest r;
      r.method = method;
      r.path = pattern;
      r.path_params = std::move(params);
      r.query = std::move(query);
      r.body = std::move(body);
      r.deadline = deadline;
      r.policy = policy;
      r.principal = principal;
      return route.handler(r);
    }
    ADD_FAILURE() << "no route " << method << " " << pattern;
    return {};
  }
  const http::ApiRouter& router() const { return router_; }

  // Who the requests act as: authentication off while `policy` is null.
  const auth::AccessPolicy* policy = nullptr;
  auth::Principal principal;

 private:
  http::ApiRouter router_;
};

}  // namespace dataforge::rest
