// The web console's static files (serve/console/) and GET /v1/whoami as `dataforge serve`
// serves them, over real HTTP (cpp-httplib's client on loopback), and whoami per role through
// the real router. The browser side is tests/console/console_browser_test.py.
#include <gtest/gtest.h>
#include <httplib.h>

#include <regex>
#include <set>

#include "auth/access_policy.h"
#include "integration/cli_helpers.h"
#include "integration/serve_process.h"
#include "integration/subprocess.h"
#include "rest/served_data_dir.h"
#include "serve/console/console.h"

namespace dataforge::testing {
namespace {

const char kCsp[] =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string Source(const std::string& name) {
  return ReadFile(std::string(DATAFORGE_SOURCE_DIR) + "/src/serve/console/" + name);
}

TEST(ConsoleHttpTest, AssetsAreServedWithTypeEtagAndCspAndNeedNoCredentials) {
  TempDir dir;
  std::vector<std::string> where = {"--data-dir", dir.Sub("data")};
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.end(), where.begin(), where.end());
    return a;
  };
  ASSERT_EQ(RunDataforge(args({"run", "--max-records", "20"})).exit_code, 0);
  // Authentication on: a user exists.
  auto added = RunDataforge(args({"users", "add", "ops", "--role", "admin"}));
  ASSERT_EQ(added.exit_code, 0) << added.err;
  ServeProcess serve(args({"serve", "--http-port", "0"}));
  ASSERT_TRUE(serve.up());
  ASSERT_NE(serve.details().find("auth on"), std::string::npos) << serve.details();
  httplib::Client client("127.0.0.1", serve.port());

  struct Case {
    std::string path, file, type;
  };
  const std::vector<Case> cases = {
      {"/", "index.html", "text/html; charset=utf-8"},
      {"/console/console.js", "console.js", "text/javascript; charset=utf-8"},
      {"/console/console.css", "console.css", "text/css; charset=utf-8"},
      {"/console/favicon.svg", "favicon.svg", "image/svg+xml"},
  };
  std::set<std::string> etags;
  for (const auto& c : cases) {
    auto r = client.Get(c.path);  // no Authorization header
    ASSERT_TRUE(r) << c.path;
    EXPECT_EQ(r->status, 200) << c.path << " " << r->body;
    EXPECT_EQ(r->body, Source(c.file)) << c.path;
    EXPECT_EQ(r->get_header_value("Content-Type"), c.type) << c.path;
    EXPECT_EQ(r->get_header_value("Content-Security-Policy"), kCsp) << c.path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << c.path;
    EXPECT_EQ(r->get_header_value("X-Frame-Options"), "DENY") << c.path;
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache") << c.path;
    std::string etag = r->get_header_value("ETag");
    EXPECT_TRUE(std::regex_match(etag, std::regex(R"j("[0-9a-f]{16}")j"))) << c.path << " " << etag;
    etags.insert(etag);
    // Revalidation: the same ETag (also in a list, or weak) is 304 without a body; another 200.
    for (const std::string& inm : {etag, "\"0000000000000000\", " + etag, "W/" + etag}) {
      auto again = client.Get(c.path, {{"If-None-Match", inm}});
      ASSERT_TRUE(again);
      EXPECT_EQ(again->status, 304) << c.path << " If-None-Match: " << inm;
      EXPECT_EQ(again->body, "") << c.path;
      EXPECT_EQ(again->get_header_value("ETag"), etag) << c.path;
    }
    auto changed = client.Get(c.path, {{"If-None-Match", "\"0000000000000000\""}});
    ASSERT_TRUE(changed);
    EXPECT_EQ(changed->status, 200) << c.path;
    EXPECT_EQ(changed->body, Source(c.file)) << c.path;
  }
  EXPECT_EQ(etags.size(), cases.size());  // one per file

  auto missing = client.Get("/console/nope.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body,
            R"j({"error":{"code":"not_found","message":"no console asset 'nope.js' (the console )j"
            R"j(is at /; its assets: console.css, console.js, favicon.svg)"}})j");
  auto post = client.Post("/", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET");

  // The API behind it needs the credentials the page asks for.
  auto who = client.Get("/v1/whoami");
  ASSERT_TRUE(who);
  EXPECT_EQ(who->status, 401) << who->body;
  EXPECT_NE(who->body.find("missing credentials"), std::string::npos) << who->body;
}

class WhoAmITest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Sub("pipeline.yaml"),
              "store:\n  url: rocksdb://store\nlog:\n  url: file://log\ndags:\n"
              "  etl_daily:\n    schedule: \"@daily\"\n    start_date: 2026-01-01\n    tasks:\n"
              "      - {id: a, type: shell, command: 'true'}\n"
              "  report:\n    schedule: \"@daily\"\n    start_date: 2026-01-01\n    tasks:\n"
              "      - {id: b, type: shell, command: 'true'}\n");
    auto r = RunDataforge({"run", "--max-records", "10", "--config", dir_.Sub("pipeline.yaml"),
                           "--data-dir", dir_.Sub("data")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    served_ = std::make_unique<ServedDataDir>(dir_.Sub("pipeline.yaml"), dir_.Sub("data"));
    served_->Open();
  }
  TempDir dir_;
  std::unique_ptr<ServedDataDir> served_;
};

const char kBackends[] =
    R"j({"source":"built-in randomuser API (loopback)","staging":"sqlite://staging.db",)j"
    R"j("log":"file://log","store":"rocksdb://store","topic":"users_created",)j"
    R"j("group":"dataforge-processor"})j";

TEST_F(WhoAmITest, AnswersWhatEachRoleMayDo) {
  AuthConfig config;
  config.roles.push_back(
      {"etl_operator",
       {{"dags", "etl_*", {"read", "trigger", "clear"}, 0}, {"deadletters", "*", {"replay"}, 0}},
       0});
  auto policy = auth::AccessPolicy::FromConfig(config);
  ASSERT_TRUE(policy.ok()) << policy.status().message();
  struct Case {
    auth::Principal who;
    std::string body;
  };
  const std::vector<Case> cases = {
      {{"rita", "reader", "basic", ""},
       std::string(R"j({"user":"rita","role":"reader","method":"basic","auth":true,)j"
                   R"j("can":{"read_pipeline":true,"read_tables":true,"replay":false,)j"
                   R"j("trigger":false,"clear":false,"pause":false,"admin":false},)j"
                   R"j("dags":{"etl_daily":{"read":false,"trigger":false,"clear":false,)j"
                   R"j("pause":false},"report":{"read":false,"trigger":false,"clear":false,)j"
                   R"j("pause":false}},"backends":)j") +
           kBackends + "}"},
      {{"otto", "operator", "key", "0c9f3e1a2b4d"},
       std::string(R"j({"user":"otto","role":"operator","method":"key","auth":true,)j"
                   R"j("can":{"read_pipeline":true,"read_tables":true,"replay":true,)j"
                   R"j("trigger":true,"clear":true,"pause":true,"admin":false},)j"
                   R"j("dags":{"etl_daily":{"read":true,"trigger":true,"clear":true,)j"
                   R"j("pause":true},"report":{"read":true,"trigger":true,"clear":true,)j"
                   R"j("pause":true}},"backends":)j") +
           kBackends + "}"},
      // A role of the pipeline file: per DAG, and no pipeline read, so no backends.
      {{"eve", "etl_operator", "jwt", ""},
       R"j({"user":"eve","role":"etl_operator","method":"jwt","auth":true,)j"
       R"j("can":{"read_pipeline":false,"read_tables":false,"replay":true,)j"
       R"j("trigger":true,"clear":true,"pause":false,"admin":false},)j"
       R"j("dags":{"etl_daily":{"read":true,"trigger":true,"clear":true,)j"
       R"j("pause":false},"report":{"read":false,"trigger":false,"clear":false,)j"
       R"j("pause":false}},"backends":null})j"},
  };
  for (const auto& c : cases) {
    auto r = served_->CallAs(&*policy, c.who, "GET", "/v1/whoami");
    EXPECT_EQ(r.status, 200) << c.who.role << " " << r.body;
    EXPECT_EQ(r.body, c.body) << c.who.role;
  }
  // Authentication off: the anonymous admin may do everything.
  auto r = served_->Call("GET", "/v1/whoami");
  EXPECT_EQ(r.body,
            std::string(R"j({"user":"anonymous","role":"admin","method":"none","auth":false,)j"
                        R"j("can":{"read_pipeline":true,"read_tables":true,"replay":true,)j"
                        R"j("trigger":true,"clear":true,"pause":true,"admin":true},)j"
                        R"j("dags":{"etl_daily":{"read":true,"trigger":true,"clear":true,)j"
                        R"j("pause":true},"report":{"read":true,"trigger":true,"clear":true,)j"
                        R"j("pause":true}},"backends":)j") +
                kBackends + "}");
}

}  // namespace
}  // namespace dataforge::testing
