// The pipeline routes and /openapi.json as `dataforge serve` serves them, over real HTTP
// (cpp-httplib's client on loopback): the binary registers them (cli/http_endpoint.cc).
#include <gtest/gtest.h>
#include <httplib.h>

#include "integration/cli_helpers.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"
#include "serve/rest/openapi.h"

namespace dataforge::testing {
namespace {

TEST(ServePipelineHttpTest, StatusOpenApiAndATriggerOverHttp) {
  TempDir dir;
  WriteFile(dir.Sub("pipeline.yaml"),
            "dags:\n  etl:\n    schedule: \"@daily\"\n    start_date: 2026-01-01\n    tasks:\n"
            "      - {id: extract, type: shell, command: 'true'}\n");
  std::vector<std::string> common = {"--config", dir.Sub("pipeline.yaml"), "--data-dir",
                                     dir.Sub("data")};
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.end(), common.begin(), common.end());
    return a;
  };
  auto r = RunDataforge(args({"run", "--max-records", "40"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ServeProcess serve(args({"serve", "--http-port", "0"}));
  ASSERT_TRUE(serve.up());
  httplib::Client client("127.0.0.1", serve.port());

  auto status = client.Get("/v1/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(status->body + "\n", RunDataforge(args({"status", "--json"})).out);

  auto doc = client.Get("/openapi.json");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->status, 200);
  EXPECT_EQ(doc->body, std::string(rest::OpenApiDocument()));
  EXPECT_EQ(doc->get_header_value("Content-Type"), "application/json");

  auto run = client.Post("/v1/dags/etl/runs", R"({"conf":{"k":"v"}})", "application/json");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, 201) << run->body;
  EXPECT_EQ(run->get_header_value("Location"), "/v1/runs/1");
  // The run is in the data dir's run store, as `dags trigger` would have put it.
  auto shown = RunDataforge(args({"runs", "show", "1", "--json"}));
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find(R"("conf":{"k":"v"})"), std::string::npos) << shown.out;

  auto records = client.Get("/v1/topics/users_created/partitions/9/records");
  ASSERT_TRUE(records);
  EXPECT_EQ(records->status, 404);
  EXPECT_EQ(
      records->body,
      R"({"error":{"code":"not_found","message":"topic 'users_created' has no partition 9; its partitions are 0 to 3"}})");

  auto end = serve.Stop();
  EXPECT_EQ(end.exit_code, 0) << end.err;
}

}  // namespace
}  // namespace dataforge::testing
