#include "conformance/shared_postgres.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "integration/pg_server.h"

namespace dataforge::testing {
namespace {

PostgresServer* server = nullptr;
int databases = 0;

// Stops the server after the last test (a gtest Environment's TearDown).
class StopServer : public ::testing::Environment {
 public:
  void TearDown() override {
    delete server;
    server = nullptr;
  }
};
[[maybe_unused]] ::testing::Environment* const stop_server =
    ::testing::AddGlobalTestEnvironment(new StopServer());

}  // namespace

std::string FreshPostgresDatabase() {
  if (server == nullptr) server = new PostgresServer();
  std::string db = fmt::format("conformance_{}", ++databases);
  server->Psql("CREATE DATABASE " + db, "postgres");
  return server->Url(db);
}

}  // namespace dataforge::testing
