#include "serve/http/api.h"

#include <gtest/gtest.h>

#include "serve/http/url_decode.h"

namespace dataforge::http {
namespace {

ApiHandler Named(std::string name) {
  return [name](const ApiRequest&) { return JsonResponse(name); };
}

ApiRouter TablesRouter() {
  ApiRouter r;
  RouteAccess read{auth::ResourceKind::kTables, auth::Action::kRead, "table"};
  RouteAccess write{auth::ResourceKind::kTables, auth::Action::kWrite, "table", true};
  r.Add("GET", "/v1/tables", RouteAccess{auth::ResourceKind::kTables, auth::Action::kRead, ""},
        Named("list"));
  r.Add("GET", "/v1/tables/{table}/rows/{key}", read, Named("get"));
  r.Add("PUT", "/v1/tables/{table}/rows/{key}", write, Named("put"));
  r.Add("DELETE", "/v1/tables/{table}/rows/{key}", write, Named("delete"));
  r.Add("GET", "/v1/tables/{table}/rows", read, Named("scan"));
  r.Add("GET", "/v1/runs/{id}", std::nullopt, Named("run"));
  r.Add("GET", "/v1/runs/latest", std::nullopt, Named("latest"));
  return r;
}

TEST(ApiRouterTest, MatchesParamsDecoded) {
  ApiRouter r = TablesRouter();
  auto m = r.Find("GET", "/v1/tables/dataforge.users/rows/a%2Fb%20c");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_NE(m->route, nullptr);
  EXPECT_EQ(m->route->pattern, "/v1/tables/{table}/rows/{key}");
  EXPECT_EQ(m->params.at("table"), "dataforge.users");
  EXPECT_EQ(m->params.at("key"), "a/b c");  // %2F stays inside the segment
  EXPECT_EQ(m->params.size(), 2u);
}

TEST(ApiRouterTest, LiteralBeatsParam) {
  ApiRouter r = TablesRouter();
  auto m = r.Find("GET", "/v1/runs/latest");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->route->handler(ApiRequest{}).body, "latest");
  m = r.Find("GET", "/v1/runs/42");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->route->handler(ApiRequest{}).body, "run");
  EXPECT_EQ(m->params.at("id"), "42");
}

TEST(ApiRouterTest, UnknownPathIsNotKnown) {
  ApiRouter r = TablesRouter();
  for (const char* path : {"/v1/nope", "/v1/tables/t/rows/", "/v1/tables//rows/k", "/", "x",
                           "/v1/tables/t/rows/k/extra"}) {
    auto m = r.Find("GET", path);
    ASSERT_TRUE(m.ok()) << path;
    EXPECT_EQ(m->route, nullptr) << path;
    EXPECT_FALSE(m->path_known) << path;
  }
}

TEST(ApiRouterTest, OtherMethodIs405WithAllowList) {
  ApiRouter r = TablesRouter();
  auto m = r.Find("POST", "/v1/tables/t/rows/k");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->route, nullptr);
  EXPECT_TRUE(m->path_known);
  EXPECT_EQ(m->allowed_methods, (std::vector<std::string>{"DELETE", "GET", "PUT"}));
}

TEST(ApiRouterTest, BadPercentEncodingNamesTheSegment) {
  ApiRouter r = TablesRouter();
  auto m = r.Find("GET", "/v1/tables/t/rows/a%zzb");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(),
            "path segment 'a%zzb': bad percent-encoding (a '%' must be followed by two hex "
            "digits)");
  EXPECT_FALSE(r.Find("GET", "/v1/tables/t/rows/a%4").ok());
  EXPECT_FALSE(r.Find("GET", "/v1/tables/t/rows/%").ok());
}

TEST(UrlDecodeTest, Query) {
  auto q = ParseQuery("select=a,b&limit=10&name=x%20y+z&&flag&e=");
  ASSERT_TRUE(q.ok());
  std::vector<std::pair<std::string, std::string>> want{
      {"select", "a,b"}, {"limit", "10"}, {"name", "x y z"}, {"flag", ""}, {"e", ""}};
  EXPECT_EQ(*q, want);
  auto bad = ParseQuery("limit=10&id=eq.%G1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "query parameter 'id': bad percent-encoding in 'eq.%G1' (a '%' must be followed by "
            "two hex digits)");
  EXPECT_TRUE(ParseQuery("").ok());
  EXPECT_TRUE(ParseQuery("")->empty());
}

TEST(ApiRequestTest, QueryFirstValue) {
  ApiRequest req;
  req.query = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  ASSERT_NE(req.Query("a"), nullptr);
  EXPECT_EQ(*req.Query("a"), "1");
  EXPECT_EQ(req.Query("c"), nullptr);
}

TEST(ErrorResponseTest, EnvelopeAndStatusMapping) {
  ApiResponse r = ErrorResponse(404, "not_found", "no row \"k\"\n");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"j({"error":{"code":"not_found","message":"no row \"k\"\n"}})j");
  struct Case {
    Status s;
    int status;
    const char* code;
  } cases[] = {
      {Status::InvalidArgument("x"), 400, "bad_request"},
      {Status::ConfigError("x"), 400, "bad_request"},
      {Status::Unauthenticated("x"), 401, "unauthenticated"},
      {Status::PermissionDenied("x"), 403, "forbidden"},
      {Status::NotFound("x"), 404, "not_found"},
      {Status::FailedPrecondition("x"), 409, "conflict"},
      {Status::ResourceExhausted("x"), 413, "payload_too_large"},
      {Status::Unavailable("x"), 503, "unavailable"},
      {Status::DeadlineExceeded("x"), 504, "timeout"},
      {Status::IOError("disk"), 500, "internal"},
      {Status::Corruption("x"), 500, "internal"},
  };
  for (const auto& c : cases) {
    ApiResponse e = ErrorFromStatus(c.s);
    EXPECT_EQ(e.status, c.status) << c.s.ToString();
    EXPECT_EQ(e.body, std::string(R"({"error":{"code":")") + c.code + R"(","message":")" +
                          c.s.message() + "\"}}");
  }
}

}  // namespace
}  // namespace dataforge::http
