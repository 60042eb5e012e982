// GET /v1/dags, POST /v1/dags/{dag}/runs, GET /v1/runs and /v1/runs/{run_id} on a data dir
// filled by `dataforge run`, checked against `dags list --json` and `runs show --json`.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <regex>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/subprocess.h"
#include "rest/served_data_dir.h"

namespace dataforge::testing {
namespace {

const char* kDags = R"(dags:
  etl:
    schedule: "@daily"
    start_date: 2026-01-01
    tasks:
      - {id: extract, type: shell, command: 'true'}
      - {id: load, type: shell, command: 'true', depends_on: [extract]}
  frozen:
    schedule: "@hourly"
    start_date: 2026-01-01
    paused: true
    tasks:
      - {id: only, type: shell, command: 'true'}
)";

class DagApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Sub("pipeline.yaml"), kDags);
    auto r = RunDataforge({"run", "--max-records", "20", "--config", dir_.Sub("pipeline.yaml"),
                           "--data-dir", dir_.Sub("data")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    served_ = std::make_unique<ServedDataDir>(dir_.Sub("pipeline.yaml"), dir_.Sub("data"));
    served_->Open();
  }
  // The ids of the runs on each page of GET /v1/runs?<query>, following next_cursor.
  std::vector<std::vector<int64_t>> RunPages(const std::string& query) {
    std::vector<std::vector<int64_t>> pages;
    std::string cursor;
    simdjson::dom::parser parser;
    while (pages.size() < 10) {
      auto r =
          served_->Call("GET", "/v1/runs?" + query + (cursor.empty() ? "" : "&cursor=" + cursor));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      simdjson::dom::element doc;
      EXPECT_EQ(parser.parse(r.body).get(doc), simdjson::SUCCESS);
      pages.emplace_back();
      for (auto run : doc["runs"].get_array()) pages.back().push_back(int64_t(run["run_id"]));
      if (doc["next_cursor"].is_null()) break;
      cursor = std::string(std::string_view(doc["next_cursor"]));
    }
    return pages;
  }

  TempDir dir_;
  std::unique_ptr<ServedDataDir> served_;
};

TEST_F(DagApiTest, DagsAreWhatDagsListPrints) {
  auto r = served_->Call("GET", "/v1/dags");
  ASSERT_EQ(r.status, 200) << r.body;
  auto lines = SplitLines(served_->Cli({"dags", "list", "--json"}));
  ASSERT_EQ(lines.size(), 2u);
  // next_run_due moves on at the hour (frozen is @hourly) between the two reads: not compared.
  static const std::regex due(R"("next_run_due":"[^"]*")");
  EXPECT_EQ(
      std::regex_replace(r.body, due, "due"),
      std::regex_replace(fmt::format("{{\"dags\":[{},{}]}}", lines[0], lines[1]), due, "due"));
  EXPECT_NE(lines[0].find(R"("dag_id":"etl","schedule":"@daily","timezone":"UTC","paused":false,)"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(
      lines[1].find(R"("dag_id":"frozen","schedule":"@hourly","timezone":"UTC","paused":true,)"),
      std::string::npos)
      << lines[1];
}

TEST_F(DagApiTest, TriggerQueuesARunWithConfAndRunsShowIt) {
  auto r = served_->Call("POST", "/v1/dags/etl/runs", R"({"conf": {"table": "users", "n": 2}})");
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>("Location", "/v1/runs/1")));
  EXPECT_NE(r.body.find(R"({"run_id":1,"dag_id":"etl","type":"manual","state":"queued",)"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("conf":{"table":"users","n":2},)"), std::string::npos) << r.body;

  // GET /v1/runs/1 is `runs show 1 --json`: tasks in the DAG's order, none started.
  auto run = served_->Call("GET", "/v1/runs/1");
  ASSERT_EQ(run.status, 200) << run.body;
  EXPECT_EQ(run.body + "\n", served_->Cli({"runs", "show", "1", "--json"}));
  EXPECT_NE(run.body.find(
                R"("tasks":[{"task_id":"extract","state":"none","try_number":0,"max_tries":1,)"),
            std::string::npos)
      << run.body;
  EXPECT_NE(run.body.find(R"({"task_id":"load","state":"none",)"), std::string::npos) << run.body;

  // No body: conf {}. The DAG list shows the newest run's state.
  auto second = served_->Call("POST", "/v1/dags/etl/runs");
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_NE(second.body.find(R"("run_id":2,)"), std::string::npos) << second.body;
  EXPECT_NE(second.body.find(R"("conf":{},)"), std::string::npos) << second.body;
  auto dags = served_->Call("GET", "/v1/dags");
  EXPECT_NE(dags.body.find(R"("last_run_state":"queued","tasks":2})"), std::string::npos)
      << dags.body;
  auto cli_runs = SplitLines(served_->Cli({"runs", "list", "etl", "--json"}));
  EXPECT_EQ(cli_runs.size(), 2u);
}

TEST_F(DagApiTest, TriggerRefusals) {
  struct Case {
    std::string dag, body;
    int status;
    std::string message;
  } cases[] = {
      {"frozen", "", 409,
       "DAG frozen is paused: its runs do not start; unpause it first (dataforge dags unpause "
       "frozen)"},
      {"nope", "", 404, "unknown DAG 'nope'; the pipeline file declares: etl, frozen"},
      {"etl", "[1]", 400,
       R"(request body: not a JSON object; send {"conf": {"key": "value"}} or no body at all)"},
      {"etl", "{\"conf\": 1}", 400,
       R"(request body: conf is not an object; send {"conf": {"key": "value"}} or no body at all)"},
      {"etl", "{\"config\": {}}", 400,
       R"(request body: unknown field 'config'; send {"conf": {"key": "value"}} or no body at all)"},
      {"etl", "{\"conf\": {", 400,
       R"(request body: not a JSON object; send {"conf": {"key": "value"}} or no body at all)"},
  };
  for (const auto& c : cases) {
    auto r = served_->Call("POST", "/v1/dags/" + c.dag + "/runs", c.body);
    EXPECT_EQ(r.status, c.status) << c.dag << " " << c.body << " " << r.body;
    EXPECT_EQ(ErrorMessage(r), c.message) << c.dag << " " << c.body;
  }
  // Nothing was queued.
  EXPECT_EQ(served_->Call("GET", "/v1/runs").body, R"({"runs":[],"next_cursor":null})");
}

TEST_F(DagApiTest, RunsNewestFirstPagedAndFiltered) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(served_->Call("POST", "/v1/dags/etl/runs").status, 201);
  }
  EXPECT_EQ(RunPages(""), (std::vector<std::vector<int64_t>>{{5, 4, 3, 2, 1}}));
  EXPECT_EQ(RunPages("dag=etl&limit=2"), (std::vector<std::vector<int64_t>>{{5, 4}, {3, 2}, {1}}));
  EXPECT_EQ(RunPages("limit=5"), (std::vector<std::vector<int64_t>>{{5, 4, 3, 2, 1}}));
  EXPECT_EQ(RunPages("dag=frozen"), (std::vector<std::vector<int64_t>>{{}}));

  struct Case {
    std::string target;
    int status;
    std::string message;
  } cases[] = {
      {"/v1/runs?dag=nope", 404, "unknown DAG 'nope'; the pipeline file declares: etl, frozen"},
      {"/v1/runs?limit=0", 400, "limit=0: expected a whole number from 1 to 10000 (default 100)"},
      {"/v1/runs?cursor=AAAA", 400,
       "cursor is not valid for this endpoint (pass next_cursor of the previous page as it is, or "
       "no cursor to start at the beginning)"},
      {"/v1/runs?state=queued", 400,
       "unknown query parameter 'state'; GET /v1/runs takes only dag, limit, cursor"},
      {"/v1/runs/abc", 400, "run id 'abc' in the path: expected a whole number >= 1"},
      {"/v1/runs/0", 400, "run id '0' in the path: expected a whole number >= 1"},
      {"/v1/runs/99", 404, "run 99 not found; see GET /v1/runs"},
  };
  for (const auto& c : cases) {
    auto r = served_->Call("GET", c.target);
    EXPECT_EQ(r.status, c.status) << c.target << " " << r.body;
    EXPECT_EQ(ErrorMessage(r), c.message) << c.target;
  }
}

// With authentication on, the lists show only the DAGs (and runs) the caller's role may read,
// and a run of another DAG is 403.
TEST_F(DagApiTest, ListsShowOnlyWhatTheRoleMayRead) {
  ASSERT_EQ(served_->Call("POST", "/v1/dags/etl/runs").status, 201);
  AuthConfig config;
  config.roles.push_back({"etl_viewer", {{"dags", "etl", {"read"}, 0}}, 0});
  config.roles.push_back({"frozen_viewer", {{"dags", "fro*", {"read"}, 0}}, 0});
  auto policy = auth::AccessPolicy::FromConfig(config);
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  auth::Principal etl{"ann", "etl_viewer", "basic", ""};
  auth::Principal frozen{"bob", "frozen_viewer", "basic", ""};

  auto dags = served_->CallAs(&*policy, etl, "GET", "/v1/dags");
  ASSERT_EQ(dags.status, 200);
  EXPECT_NE(dags.body.find("\"dag_id\":\"etl\""), std::string::npos) << dags.body;
  EXPECT_EQ(dags.body.find("frozen"), std::string::npos) << dags.body;
  dags = served_->CallAs(&*policy, frozen, "GET", "/v1/dags");
  EXPECT_EQ(dags.body.find("\"etl\""), std::string::npos) << dags.body;
  EXPECT_NE(dags.body.find("\"dag_id\":\"frozen\""), std::string::npos) << dags.body;

  EXPECT_NE(served_->CallAs(&*policy, etl, "GET", "/v1/runs").body.find("\"run_id\":1,"),
            std::string::npos);
  EXPECT_EQ(served_->CallAs(&*policy, frozen, "GET", "/v1/runs").body,
            R"({"runs":[],"next_cursor":null})");
  EXPECT_EQ(served_->CallAs(&*policy, etl, "GET", "/v1/runs/1").status, 200);
  auto denied = served_->CallAs(&*policy, frozen, "GET", "/v1/runs/1");
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_EQ(ErrorMessage(denied),
            "role 'frozen_viewer' may not read dags 'etl' (grant it in auth.roles.frozen_viewer)");
}

}  // namespace
}  // namespace dataforge::testing
