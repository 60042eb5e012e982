// The server's request pipeline in-process, over real HTTP on loopback (httplib's client):
// authentication, authorization, audit, 429, handler exceptions. The authenticator and the
// policy hooks are small test doubles: the real ones (src/auth) are tested with the auth module.
#include "serve/http/http_server.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "auth/authenticator.h"
#include "common/json_writer.h"
#include "metrics/metrics_exporter.h"
#include "metrics/server_metrics.h"
#include "metrics/testing/scrape.h"

namespace dataforge::http {
namespace {

// Accepts "Bearer good-<role>" as user "u-<role>"; "Bearer flood" is rate-limited.
class FakeAuthenticator final : public auth::Authenticator {
 public:
  bool Required() override { return required; }
  Result<auth::Principal> AuthenticateHttp(std::string_view authorization,
                                           std::string_view) override {
    if (authorization.empty()) return Status::Unauthenticated("missing credentials");
    if (authorization == "Bearer flood") {
      return Status::ResourceExhausted("too many failed logins from 127.0.0.1; retry in 17s");
    }
    if (authorization.rfind("Bearer good-", 0) == 0) {
      std::string role(authorization.substr(12));
      return auth::Principal{"u-" + role, role, "key", "kid"};
    }
    return Status::Unauthenticated("unknown key");
  }
  Result<auth::Principal> AuthenticatePassword(std::string_view, std::string_view,
                                               std::string_view) override {
    return Status::Unauthenticated("no passwords here");
  }
  bool required = true;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/v1/tables/{table}/rows/{key}",
                RouteAccess{auth::ResourceKind::kTables, auth::Action::kRead, "table"},
                [](const ApiRequest& r) {
                  return JsonResponse("{\"who\":\"" + r.principal.name + "\",\"key\":\"" +
                                      r.path_params.at("key") + "\"}");
                });
    router_.Add("PUT", "/v1/tables/{table}/rows/{key}",
                RouteAccess{auth::ResourceKind::kTables, auth::Action::kWrite, "table", true},
                [](const ApiRequest& r) { return JsonResponse("{\"stored\":" + r.body + "}"); });
    router_.Add("GET", "/boom", std::nullopt, [](const ApiRequest&) -> ApiResponse {
      throw std::runtime_error("secret internal detail at 0xdeadbeef");
    });
  }

  void StartServer(bool with_auth) {
    HttpSecurity security;
    if (with_auth) {
      security.authenticator = &authenticator_;
      // "reader" reads every table; "writer" also writes "t.*"; nothing else.
      security.allows = [](const auth::Principal& p, auth::ResourceKind, std::string_view name,
                           auth::Action action) {
        if (action == auth::Action::kRead) return p.role == "reader" || p.role == "writer";
        return p.role == "writer" && name.substr(0, 2) == "t.";
      };
      security.denied_message = [](const auth::Principal& p, auth::ResourceKind,
                                   std::string_view name, auth::Action) {
        return "role '" + p.role + "' may not write tables '" + std::string(name) + "'";
      };
      security.audit = [this](const auth::AuditEntry& e) {
        std::lock_guard lock(mu_);
        audit_.push_back(e.who.name + "|" + e.from + "|" + e.action + "|" + e.result);
      };
    }
    HttpServerOptions options = options_;
    options.port = 0;
    options.workers = 2;
    server_ = std::make_unique<HttpServer>(options, &router_, security);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  std::vector<std::string> Audit() {
    std::lock_guard lock(mu_);
    return audit_;
  }

  HttpServerOptions options_;  // StartServer's, with port 0 and 2 workers
  ApiRouter router_;
  FakeAuthenticator authenticator_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::mutex mu_;
  std::vector<std::string> audit_;
};

TEST_F(HttpServerTest, AuthOffServesAnonymousAdmin) {
  StartServer(false);
  auto r = client_->Get("/v1/tables/t.a/rows/k1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"who":"anonymous","key":"k1"})");
  EXPECT_FALSE(server_->auth_on());
}

TEST_F(HttpServerTest, MissingOrBadCredentialsAre401WithChallenge) {
  StartServer(true);
  auto r = client_->Get("/v1/tables/t.a/rows/k1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Basic realm=\"dataforge\", Bearer");
  EXPECT_EQ(r->body, R"j({"error":{"code":"unauthenticated","message":"missing credentials"}})j");
  r = client_->Get("/v1/tables/t.a/rows/k1", {{"Authorization", "Bearer dfk_secret_value"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->body.find("dfk_secret_value"), std::string::npos);
  // /health stays public.
  r = client_->Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"status":"ok"})");
}

TEST_F(HttpServerTest, PolicyRefusalIs403AndAudited) {
  StartServer(true);
  httplib::Headers reader{{"Authorization", "Bearer good-reader"}};
  auto r = client_->Get("/v1/tables/t.a/rows/k1", reader);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"who":"u-reader","key":"k1"})");
  r = client_->Put("/v1/tables/t.a/rows/k1", reader, "{\"x\":1}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(
      r->body,
      R"j({"error":{"code":"forbidden","message":"role 'reader' may not write tables 't.a'"}})j");
  httplib::Headers writer{{"Authorization", "Bearer good-writer"}};
  r = client_->Put("/v1/tables/t.a/rows/k1", writer, "{\"x\":1}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"stored":{"x":1}})");
  r = client_->Put("/v1/tables/other/rows/k1", writer, "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  // Reads are not audited; the 403s and the write are.
  EXPECT_EQ(Audit(), (std::vector<std::string>{
                         "u-reader|127.0.0.1|PUT /v1/tables/t.a/rows/k1|403",
                         "u-writer|127.0.0.1|PUT /v1/tables/t.a/rows/k1|200",
                         "u-writer|127.0.0.1|PUT /v1/tables/other/rows/k1|403",
                     }));
}

TEST_F(HttpServerTest, UnauthenticatedWriteIsAudited) {
  StartServer(true);
  auto r = client_->Put("/v1/tables/t.a/rows/k1", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Audit(), (std::vector<std::string>{"|127.0.0.1|PUT /v1/tables/t.a/rows/k1|401"}));
}

TEST_F(HttpServerTest, RateLimitedLoginIs429WithRetryAfter) {
  StartServer(true);
  auto r = client_->Get("/v1/tables/t.a/rows/k1", {{"Authorization", "Bearer flood"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "17");
  EXPECT_EQ(
      r->body,
      R"j({"error":{"code":"too_many_requests","message":"too many failed logins from 127.0.0.1; retry in 17s"}})j");
}

TEST_F(HttpServerTest, AuthNotRequiredServesAnonymous) {
  authenticator_.required = false;
  StartServer(true);
  auto r = client_->Get("/v1/tables/t.a/rows/k1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"who":"anonymous","key":"k1"})");
}

TEST_F(HttpServerTest, ThrowingHandlerIsPlain500AndServerKeepsServing) {
  StartServer(false);
  auto r = client_->Get("/boom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(
      r->body,
      R"j({"error":{"code":"internal","message":"internal error: the request failed on the server (details in its log)"}})j");
  EXPECT_FALSE(r->has_header("EXCEPTION_WHAT"));
  r = client_->Get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  HttpServerStats s = server_->stats();
  EXPECT_EQ(s.requests, 2u);
  EXPECT_EQ(s.server_errors, 1u);
}

TEST_F(HttpServerTest, StopStopsAcceptingAndLetsTheRequestInFlightFinish) {
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  router_.Add("GET", "/slow", std::nullopt, [&](const ApiRequest&) {
    entered.set_value();
    released.wait();
    return JsonResponse(R"({"done":true})");
  });
  StartServer(false);
  int port = server_->port();
  int slow_status = 0;
  std::string slow_body;
  std::thread client([&] {
    if (auto r = client_->Get("/slow")) {
      slow_status = r->status;
      slow_body = r->body;
    }
  });
  entered.get_future().wait();
  std::thread stopper([&] { server_->Stop(); });
  // Once the server refuses new connections, Stop() is under way with /slow in flight.
  bool refused = false;
  for (int i = 0; i < 1000 && !refused; ++i) {
    httplib::Client probe("127.0.0.1", port);
    probe.set_connection_timeout(1);
    refused = !probe.Get("/health");
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(refused);
  release.set_value();
  stopper.join();
  client.join();
  EXPECT_EQ(slow_status, 200);
  EXPECT_EQ(slow_body, R"({"done":true})");
}

// HttpServerOptions::error_formats: the server's own refusals under a prefix (/reg) in that
// prefix's envelope, headers kept; other paths (and /regx, not under it) in api.h's. Added for
// the schema registry (issue 17).
TEST_F(HttpServerTest, ErrorFormatsApplyToTheirPrefixOnly) {
  router_.Add("GET", "/reg/subjects",
              RouteAccess{auth::ResourceKind::kTables, auth::Action::kRead, ""},
              [](const ApiRequest&) { return JsonResponse("[]"); });
  router_.Add("GET", "/reg/content-type", std::nullopt,
              [](const ApiRequest& r) { return JsonResponse(JsonString(r.content_type)); });
  options_.max_body_bytes = 100;
  options_.error_formats.push_back(
      {"/reg", [](int status, std::string_view code, std::string_view message) {
         return JsonResponse(fmt::format(R"({{"error_code":{},"code":"{}","message":"{}"}})",
                                         status, code, message),
                             status);
       }});
  StartServer(true);
  auto r = client_->Get("/reg/subjects");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->body,
            R"({"error_code":401,"code":"unauthenticated","message":"missing credentials"})");
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Basic realm=\"dataforge\", Bearer");
  r = client_->Get("/reg/nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(
      r->body,
      R"({"error_code":404,"code":"not_found","message":"no such endpoint: GET /reg/nothing"})");
  r = client_->Delete("/reg/subjects");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get_header_value("Allow"), "GET");
  EXPECT_EQ(r->body.rfind(R"({"error_code":405,)", 0), 0u) << r->body;
  r = client_->Post("/reg/subjects", std::string(101, 'x'), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body.rfind(R"({"error_code":413,)", 0), 0u) << r->body;
  r = client_->Get("/regx/subjects");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body,
            R"j({"error":{"code":"not_found","message":"no such endpoint: GET /regx/subjects"}})j");
  r = client_->Get("/v1/tables/t.a/rows/k1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"j({"error":{"code":"unauthenticated","message":"missing credentials"}})j");
  // Handlers see the request's Content-Type.
  r = client_->Get("/reg/content-type", {{"Content-Type", "application/vnd.x+json"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"("application/vnd.x+json")");
}

TEST_F(HttpServerTest, AuthenticatorWithoutPolicyIsRefused) {
  HttpSecurity security;
  security.authenticator = &authenticator_;
  HttpServerOptions options;
  options.port = 0;
  HttpServer server(options, &router_, security);
  Status s = server.Start();
  EXPECT_EQ(s.code(), StatusCode::kConfigError);
}

// Every answered request is counted once by route pattern, method and code, those refused
// before the handler (401, 403, 429, 413) and unmatched ones included; the histogram counts the
// same requests per route.
TEST_F(HttpServerTest, RequestMetricsByRouteMethodAndCode) {
  metrics::MetricsExporter exporter;
  metrics::HttpMetrics http_metrics(exporter.registry());
  options_.metrics = &http_metrics;
  options_.max_body_bytes = 64;
  StartServer(true);
  httplib::Headers reader{{"Authorization", "Bearer good-reader"}};
  constexpr int kReads = 5;
  for (int i = 0; i < kReads; ++i) {
    auto r = client_->Get("/v1/tables/t.a/rows/k" + std::to_string(i), reader);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
  }
  auto r = client_->Get("/v1/tables/t.a/rows/k1");  // no credentials
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 401);
  r = client_->Get("/v1/tables/t.a/rows/k1", {{"Authorization", "Bearer flood"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 429);
  r = client_->Put("/v1/tables/t.a/rows/k1", reader, "{}", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 403);
  r = client_->Put("/v1/tables/t.a/rows/k1", reader, std::string(100, ' '), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 413);
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());  // 413 closed it
  r = client_->Get("/v1/no/such/thing?x=1", reader);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 404);
  r = client_->Get("/health");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);

  using metrics::testing::SampleValue;
  std::string text = exporter.Scrape();
  const std::string route = "route=\"/v1/tables/{table}/rows/{key}\"";
  auto requests = [&](const std::string& code, const std::string& method, const std::string& rt) {
    return SampleValue(text, "dataforge_http_requests_total{code=\"" + code + "\",method=\"" +
                                 method + "\"," + rt + "}");
  };
  EXPECT_EQ(requests("200", "GET", route), kReads) << text;
  EXPECT_EQ(requests("401", "GET", route), 1);
  EXPECT_EQ(requests("429", "GET", route), 1);
  EXPECT_EQ(requests("403", "PUT", route), 1);
  EXPECT_EQ(requests("413", "PUT", route), 1);
  EXPECT_EQ(requests("404", "GET", "route=\"unmatched\""), 1);
  EXPECT_EQ(requests("200", "GET", "route=\"/health\""), 1);
  EXPECT_EQ(SampleValue(text, "dataforge_http_request_duration_seconds_count{" + route + "}"),
            kReads + 4);
  EXPECT_EQ(SampleValue(text, "dataforge_http_request_duration_seconds_count{route=\"unmatched\"}"),
            1);
  // The raw path never becomes a label.
  EXPECT_EQ(text.find("/v1/no/such/thing"), std::string::npos);
  EXPECT_EQ(text.find("t.a"), std::string::npos);
}

}  // namespace
}  // namespace dataforge::http
