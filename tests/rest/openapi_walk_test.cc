// GET /openapi.json against what the server does: every (method, path) of the document is a
// route the product registers (cli/http_endpoint.cc's registration functions) and every route
// is documented; every documented GET, called on a data dir filled by `dataforge run`, answers
// with a documented status and the documented top-level fields, and a bad limit is a
// documented 400.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>

#include <fmt/format.h>

#include "integration/cli_helpers.h"
#include "integration/subprocess.h"
#include "rest/served_data_dir.h"
#include "serve/rest/openapi.h"

namespace dataforge::testing {
namespace {

// The schema registry's routes (/registry/..., serve/registry/) are not in the document and not
// walked: they are Confluent Schema Registry's API, whose reference is Confluent's own
// documentation (docs/schema-registry.md lists them), and they are checked end to end with
// Confluent's client by tests/registry/. ServedDataDir does not register them; should it ever,
// they are left out here.
bool IsRegistryRoute(const std::string& pattern) {
  return pattern.rfind("/registry", 0) == 0;
}

// GET /health is answered by the HTTP server itself (serve/http/http_server.cc), before
// routing; it is documented like the routes.
const std::set<std::string> kServedByTheServer = {"GET /health"};

class OpenApiWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Sub("pipeline.yaml"),
              "dags:\n  etl:\n    schedule: \"@daily\"\n    start_date: 2026-01-01\n    tasks:\n"
              "      - {id: extract, type: shell, command: 'true'}\n");
    auto r = RunDataforge({"run", "--max-records", "50", "--config", dir_.Sub("pipeline.yaml"),
                           "--data-dir", dir_.Sub("data")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    served_ = std::make_unique<ServedDataDir>(dir_.Sub("pipeline.yaml"), dir_.Sub("data"));
    served_->Open();
    ASSERT_EQ(parser_.parse(rest::OpenApiDocument()).get(doc_), simdjson::SUCCESS);
  }

  // The schema `ref` ("#/components/schemas/X") points at.
  simdjson::dom::element Resolve(simdjson::dom::element schema) {
    std::string_view ref;
    if (schema["$ref"].get(ref) == simdjson::SUCCESS) {
      simdjson::dom::element target;
      EXPECT_EQ(doc_.at_pointer(ref.substr(1)).get(target), simdjson::SUCCESS) << ref;
      return Resolve(target);
    }
    return schema;
  }

  TempDir dir_;
  std::unique_ptr<ServedDataDir> served_;
  simdjson::dom::parser parser_;
  simdjson::dom::element doc_;
};

const char* kMethods[] = {"get", "put", "post", "delete", "patch", "head", "options"};

TEST_F(OpenApiWalkTest, DocumentedRoutesAreTheRegisteredRoutes) {
  std::set<std::string> documented;
  for (auto [path, item] : doc_["paths"].get_object()) {
    for (const char* m : kMethods) {
      simdjson::dom::element op;
      if (item.get_object()[m].get(op) == simdjson::SUCCESS) {
        std::string method(m);
        for (auto& c : method) c = static_cast<char>(toupper(c));
        documented.insert(method + " " + std::string(path));
      }
    }
  }
  std::set<std::string> routed = kServedByTheServer;
  for (const auto& r : served_->router().routes()) {
    if (!IsRegistryRoute(r.pattern)) routed.insert(r.method + " " + r.pattern);
  }
  EXPECT_EQ(documented, routed);
  // health, openapi, metrics, whoami, 7 tables, 5 pipeline (replay), 9 DAG routes (pause,
  // unpause, clear, grid, task)
  EXPECT_EQ(routed.size(), 25u);
  EXPECT_TRUE(documented.count("GET /openapi.json"));
  // Public in the document exactly where the router has no access requirement.
  for (const auto& r : served_->router().routes()) {
    if (IsRegistryRoute(r.pattern)) continue;
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(tolower(c));
    simdjson::dom::array security;
    bool public_doc =
        doc_["paths"][r.pattern][method]["security"].get(security) == simdjson::SUCCESS &&
        security.size() == 0;
    EXPECT_EQ(public_doc, !r.access.has_value()) << r.method << " " << r.pattern;
  }
  // The served document is the file.
  auto r = served_->Call("GET", "/openapi.json");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, std::string(rest::OpenApiDocument()));
  EXPECT_EQ(r.content_type, "application/json");
}

TEST_F(OpenApiWalkTest, EveryDocumentedGetAnswersAsDocumented) {
  // One run, so that /v1/runs/{run_id} has one to show.
  ASSERT_EQ(served_->Call("POST", "/v1/dags/etl/runs").status, 201);
  std::string key = ScanIds(served_->data_dir(), {"--config", dir_.Sub("pipeline.yaml")}).at(0);
  const std::map<std::string, std::string> values = {{"table", "dataforge.created_users"},
                                                     {"key", key},
                                                     {"topic", "users_created"},
                                                     {"partition", "0"},
                                                     {"run_id", "1"},
                                                     {"task_id", "extract"},
                                                     {"dag", "etl"}};
  int called = 0;
  for (auto [path_view, item] : doc_["paths"].get_object()) {
    std::string path(path_view);
    simdjson::dom::element op;
    if (item["get"].get(op) != simdjson::SUCCESS) continue;
    if (kServedByTheServer.count("GET " + path)) continue;
    std::string target = path;
    for (const auto& [name, value] : values) {
      size_t at = target.find("{" + name + "}");
      if (at != std::string::npos) target.replace(at, name.size() + 2, value);
    }
    ASSERT_EQ(target.find('{'), std::string::npos) << "no value for a parameter of " << path;
    // Required query parameters (the aggregate's).
    std::string query;
    bool has_limit = false;
    simdjson::dom::array params;
    if (op["parameters"].get(params) == simdjson::SUCCESS) {
      for (auto p : params) {
        auto param = Resolve(p);
        std::string_view name = param["name"], in = param["in"];
        bool required = false;
        if (param["required"].get(required) != simdjson::SUCCESS) required = false;
        if (name == "limit") has_limit = true;
        if (in != "query" || !required) continue;
        query += query.empty() ? "?" : "&";
        query += name == "group_by" ? "group_by=gender" : name == "agg" ? "agg=count" : "";
      }
    }
    auto r = served_->Call("GET", target + query);
    ++called;
    std::string status = std::to_string(r.status);
    simdjson::dom::element response;
    ASSERT_EQ(op["responses"][status].get(response), simdjson::SUCCESS)
        << "GET " << target + query << " answered " << r.status << ", not documented: " << r.body;
    EXPECT_EQ(r.status, 200) << target << " " << r.body;
    response = Resolve(response);
    // Not JSON (GET /metrics): the documented content type.
    simdjson::dom::object content;
    std::string_view media = "application/json";
    if (response["content"].get(content) == simdjson::SUCCESS) {
      for (auto field : content) media = field.key;
    }
    if (media != "application/json") {
      EXPECT_EQ(r.content_type, std::string(media)) << target;
      EXPECT_NE(r.body, "") << target;
      continue;
    }
    auto schema = Resolve(response["content"]["application/json"]["schema"]);
    simdjson::dom::parser body_parser;  // not parser_: doc_ lives in its buffer
    simdjson::dom::element body;
    ASSERT_EQ(body_parser.parse(r.body).get(body), simdjson::SUCCESS) << target << r.body;
    simdjson::dom::array required;
    if (schema["required"].get(required) == simdjson::SUCCESS) {
      size_t n = 0;
      for (auto field : required) {
        simdjson::dom::element v;
        EXPECT_EQ(body[std::string_view(field)].get(v), simdjson::SUCCESS)
            << "GET " << target << " lacks documented field " << std::string_view(field) << ": "
            << r.body;
        ++n;
      }
      EXPECT_GT(n, 0u) << target;
    }
    // A bad limit is a documented 400 with the error envelope.
    if (has_limit) {
      auto bad = served_->Call("GET", target + (query.empty() ? "?" : query + "&") + "limit=0");
      EXPECT_EQ(bad.status, 400) << target << " " << bad.body;
      simdjson::dom::element documented_400;
      EXPECT_EQ(op["responses"]["400"].get(documented_400), simdjson::SUCCESS) << target;
      EXPECT_NE(ErrorMessage(bad), "") << bad.body;
    }
  }
  EXPECT_EQ(called, 17);  // every GET route but /health
}

}  // namespace
}  // namespace dataforge::testing
