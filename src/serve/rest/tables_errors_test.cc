// The /v1/tables handlers' refusals over both stores, each with its status and exact message:
// 400 for bad parameters and bodies, 404 for a missing table, 503 for an unreachable store.
#include <chrono>
#include <thread>

#include "serve/rest/page_cursor.h"
#include "serve/rest/tables_test_people.h"

namespace dataforge::rest {
namespace {

template <typename B>
class TablesErrorsTest : public TablesApiTest<B> {};
TYPED_TEST_SUITE(TablesErrorsTest, Backends, BackendNames);

TYPED_TEST(TablesErrorsTest, BadWritesAre400WithTheirMessage) {
  auto check = [&](const std::string& body, const std::string& message) {
    auto r = this->Put("p901", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.body, Error("bad_request", message)) << body;
  };
  check("[1]", R"(body: expected a JSON object of columns, e.g. {"name":"Ann"})");
  check(R"({"nope":1})", "body: unknown column nope; columns of shop.people: " + this->columns_);
  check(R"({"id":"other"})", "body: key column id is 'other' but the path's key is 'p901'");
  check(R"({"active":"maybe"})",
        "body: column active (boolean): cannot convert JSON value \"maybe\" to CQL boolean: "
        "expected true or false");
  auto r = this->Put("p901", "{");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(
      r.body.starts_with(R"({"error":{"code":"bad_request","message":"body is not valid JSON: )"))
      << r.body;
  r = this->Put("p901", R"({"age":"x"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(
      r.body.starts_with(R"({"error":{"code":"bad_request","message":"body: column age (int): )"))
      << r.body;
  EXPECT_EQ(this->GetRow("p901").status, 404);  // nothing written

  r = this->client_->Call("PUT", kRow, {{"table", "shop.nope"}, {"key", "k"}}, {}, "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, Error("not_found", "no table shop.nope; tables: shop.people"));
}

TYPED_TEST(TablesErrorsTest, BadReadsAre400WithTheirMessage) {
  auto check = [&](std::vector<std::pair<std::string, std::string>> q, const std::string& message) {
    auto r = this->Rows(q);
    EXPECT_EQ(r.status, 400) << message;
    EXPECT_EQ(r.body, Error("bad_request", message));
  };
  for (std::string limit : {"0", "-1", "10001", "abc", "1.5"}) {
    check({{"limit", limit}},
          "limit=" + limit + ": expected a whole number from 1 to 10000 (default 100)");
  }
  const std::string cursor_message =
      "cursor is not valid for this table (pass next_cursor of the previous page of shop.people "
      "as it is)";
  check({{"cursor", "garbage!"}}, cursor_message);
  check({{"cursor", EncodeCursor("shop.other", "p001")}}, cursor_message);
  check({{"select", "name,nope"}},
        "select=name,nope: unknown column nope; columns of shop.people: " + this->columns_);
  check({{"select", "name,"}},
        "select=name,: expected column names separated by commas (select=a,b)");
  check({{"age", "gt.abc"}}, "filter age=gt.abc: expected a number for column age (int)");
  check({{"agee", "gt.1"}},
        "filter agee=gt.1: unknown column agee; columns of shop.people: " + this->columns_);
  check({{"age", "approx.1"}},
        "filter age=approx.1: unknown operator approx; operators: eq, neq, gt, gte, lt, lte, in, "
        "like, is (not.<op> negates one)");

  auto r = this->client_->Call("GET", "/v1/tables/{table}/count", {{"table", kTable}},
                               {{"dob", "gt.soon"}});
  EXPECT_EQ(r.status, 400);
  r = this->client_->Call("GET", "/v1/tables/{table}/aggregate", {{"table", kTable}},
                          {{"agg", "median(age)"}});
  EXPECT_EQ(r.body, Error("bad_request",
                          "agg=median(age): unknown aggregate 'median(age)'; use count, min(col), "
                          "max(col), sum(col), avg(col) separated by commas"));
  r = this->client_->Call("GET", "/v1/tables/{table}/aggregate", {{"table", kTable}},
                          {{"agg", "sum(name)"}});
  EXPECT_EQ(r.body, Error("bad_request",
                          "agg=sum(name): sum needs an int, bigint, double or float column; name "
                          "is text"));
  r = this->client_->Call("GET", "/v1/tables/{table}/aggregate", {{"table", kTable}},
                          {{"group_by", "nope"}});
  EXPECT_EQ(r.body, Error("bad_request",
                          "group_by=nope: unknown column nope; columns of "
                          "shop.people: " +
                              this->columns_));

  for (const char* path :
       {"/v1/tables/{table}/rows", "/v1/tables/{table}/count", "/v1/tables/{table}/aggregate"}) {
    r = this->client_->Call("GET", path, {{"table", "shop.nope"}});
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body, Error("not_found", "no table shop.nope; tables: shop.people")) << path;
  }
}

// The Cassandra store unreachable: 503 naming it, and the API recovers by itself once the
// cluster is back (the store's client reconnects).
TEST(TablesApiCassandraDown, UnreachableStoreIs503AndRecovers) {
  CassandraBackend backend;
  // One retry: with the default ten (and their backoff) a request would wait ~25 s for its 503.
  StoreOptions options;
  options.cassandra.consistency = "ONE";
  options.cassandra.max_retries = 1;
  auto s = OpenStore(fmt::format("cassandra://127.0.0.1:{}", backend.server->port()),
                     OpenMode::kReadWrite, options);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::unique_ptr<Store> store = std::move(s).value();
  ASSERT_TRUE(store->EnsureTable(PeopleSchema()).ok());
  StoreBatch b;
  b.table = kTable;
  b.counted = false;
  b.rows.push_back(RowWrite{"p001", Json(MakePerson(1)), false, true});
  ASSERT_TRUE(store->Apply(b).ok());
  TablesApiClient client(store.get());
  auto get = [&] { return client.Call("GET", kRow, {{"table", kTable}, {"key", "p001"}}); };
  ASSERT_EQ(get().status, 200);

  const int port = backend.server->port();
  backend.server->Stop();
  auto r = get();
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_TRUE(r.body.starts_with(
      R"({"error":{"code":"unavailable","message":"cassandra: no host available; )"))
      << r.body;
  r = client.Call("GET", kRows, {{"table", kTable}});
  EXPECT_EQ(r.status, 503) << r.body;

  cql::CqlServerOptions server_options;
  server_options.port = port;
  backend.server = std::make_unique<cql::CqlServer>(server_options);
  ASSERT_TRUE(backend.server->Listen().ok());
  ASSERT_TRUE(backend.server->Start(backend.engine.get()).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (get().status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  r = get();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, Json(MakePerson(1)));
}

}  // namespace
}  // namespace dataforge::rest
