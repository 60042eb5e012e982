// The /v1/tables handlers over both stores (RocksDB, and Cassandra through DataForge's own CQL
// endpoint), called through the router without HTTP: tables, rows, paging, filters, count,
// aggregate and writes.
#include "auth/access_policy.h"
#include "serve/rest/page_cursor.h"
#include "serve/rest/rows_query.h"
#include "serve/rest/tables_test_people.h"

namespace dataforge::rest {
namespace {

TYPED_TEST_SUITE(TablesApiTest, Backends, BackendNames);

TYPED_TEST(TablesApiTest, ListsTablesWithKeyAndColumnTypes) {
  auto r = this->client_->Call("GET", "/v1/tables", {});
  ASSERT_EQ(r.status, 200);
  auto schema = this->store_->DescribeTable(kTable);
  std::string columns;
  for (const auto& c : schema->columns) {
    columns +=
        fmt::format(R"({}{{"name":"{}","type":"{}"}})", columns.empty() ? "" : ",", c.name, c.type);
  }
  EXPECT_EQ(r.body, fmt::format(R"({{"tables":[{{"name":"shop.people","key_column":"id",)"
                                R"("columns":[{}]}}]}})",
                                columns));
  EXPECT_EQ(schema->columns.size(), 8u);
}

TYPED_TEST(TablesApiTest, ListsOnlyTheTablesTheCallerMayRead) {
  ASSERT_TRUE(this->store_->EnsureTable(TableSchema{"other.things", "k", {{"k", "text"}}}).ok());
  AuthConfig config;
  config.roles.push_back(AuthRoleConfig{"shop_reader", {{"tables", "shop.*", {"read"}, 0}}, 0});
  auto policy = auth::AccessPolicy::FromConfig(config);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  this->client_->policy = &*policy;
  auto names = [&](const std::string& role) {
    this->client_->principal = auth::Principal{"u", role, "key", "k1"};
    auto r = this->client_->Call("GET", "/v1/tables", {});
    EXPECT_EQ(r.status, 200);
    std::string out;
    simdjson::dom::parser parser;
    for (auto t : parser.parse(r.body)["tables"].get_array()) {
      out += (out.empty() ? "" : ",") + std::string(std::string_view(t["name"]));
    }
    return out;
  };
  EXPECT_EQ(names("shop_reader"), "shop.people");
  EXPECT_EQ(names("reader"), "other.things,shop.people");
  EXPECT_EQ(names("nobody"), "");
}

TYPED_TEST(TablesApiTest, GetsOneRowOr404) {
  auto r = this->GetRow("p005");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, Json(this->people_[5]));  // the same shape from both stores
  EXPECT_EQ(r.content_type, "application/json");

  r = this->GetRow("p999");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, Error("not_found", "no row with key 'p999' in table shop.people"));

  r = this->client_->Call("GET", kRow, {{"table", "shop.nope"}, {"key", "p001"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, Error("not_found", "no table shop.nope; tables: shop.people"));
}

TYPED_TEST(TablesApiTest, PagesAreTheStoreOrderWithCursors) {
  if (TypeParam::kKeyOrder) {
    EXPECT_TRUE(std::is_sorted(this->order_.begin(), this->order_.end()));
  }
  EXPECT_EQ(this->AllPages({}, 7), this->order_);
  EXPECT_EQ(this->AllPages({}, 200), this->order_);  // exactly one page: next_cursor null
  EXPECT_EQ(this->AllPages({}, 10000), this->order_);

  auto r = this->Rows({{"limit", "2"}});
  ASSERT_EQ(r.status, 200);
  const auto& o = this->order_;
  EXPECT_EQ(r.body, fmt::format(R"({{"rows":[{},{}],"next_cursor":"{}"}})",
                                Json(this->people_[std::stoi(o[0].substr(1))]),
                                Json(this->people_[std::stoi(o[1].substr(1))]),
                                EncodeCursor(kTable, o[1])));
  // Default limit 100.
  EXPECT_EQ(this->AllPages({}, 100).size(), 200u);
  r = this->Rows({});
  ASSERT_EQ(r.status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::array rows;
  ASSERT_EQ(parser.parse(r.body)["rows"].get_array().get(rows), simdjson::SUCCESS);
  EXPECT_EQ(rows.size(), 100u);
}

TYPED_TEST(TablesApiTest, SelectGivesTheNamedColumns) {
  auto r = this->Rows({{"select", "name,age"}, {"limit", "1"}, {"id", "eq.p007"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"rows":[{"name":"Jo O'Brien 7","age":null}],"next_cursor":null})");
  r = this->Rows({{"select", "ref"}, {"id", "in.(p001)"}});
  EXPECT_EQ(r.body,
            fmt::format(R"({{"rows":[{{"ref":"{}"}}],"next_cursor":null}})", this->people_[1].ref));
}

TYPED_TEST(TablesApiTest, EveryFilterAgreesWithAFilteredScan) {
  using P = const Person&;
  const int64_t t0 = this->people_[100].dob;
  struct Case {
    std::vector<std::pair<std::string, std::string>> filters;
    std::function<bool(P)> pred;
  };
  const std::vector<Case> cases = {
      {{{"age", "eq.23"}}, [](P p) { return p.age && *p.age == 23; }},
      {{{"age", "neq.23"}}, [](P p) { return p.age && *p.age != 23; }},
      {{{"age", "gt.50"}}, [](P p) { return p.age && *p.age > 50; }},
      {{{"age", "gte.50"}}, [](P p) { return p.age && *p.age >= 50; }},
      {{{"age", "lt.0"}}, [](P p) { return p.age && *p.age < 0; }},
      {{{"age", "lte.-5"}}, [](P p) { return p.age && *p.age <= -5; }},
      {{{"age", "in.(1,23,50)"}},
       [](P p) { return p.age && (*p.age == 1 || *p.age == 23 || *p.age == 50); }},
      {{{"age", "not.in.(1,23,50)"}},
       [](P p) { return p.age && *p.age != 1 && *p.age != 23 && *p.age != 50; }},
      {{{"age", "is.null"}}, [](P p) { return !p.age; }},
      {{{"age", "is.not_null"}}, [](P p) { return p.age.has_value(); }},
      {{{"age", "not.is.null"}}, [](P p) { return p.age.has_value(); }},
      {{{"age", "not.gt.50"}}, [](P p) { return p.age && *p.age <= 50; }},
      {{{"age", "gt.50.5"}}, [](P p) { return p.age && *p.age > 50; }},
      {{{"score", "gt.2.5"}}, [](P p) { return p.score > 2.5; }},
      {{{"score", "lte.-1.5"}}, [](P p) { return p.score <= -1.5; }},
      {{{"price", "gt.20.5"}}, [](P p) { return std::stod(p.price) > 20.5; }},
      {{{"price", "eq.9.3"}}, [](P p) { return p.price == "9.30"; }},
      {{{"active", "eq.true"}}, [](P p) { return p.active; }},
      {{{"active", "neq.true"}}, [](P p) { return !p.active; }},
      {{{"dob", "gt." + FormatTimestampMillis(t0)}}, [t0](P p) { return p.dob > t0; }},
      {{{"dob", "lte." + std::to_string(t0)}}, [t0](P p) { return p.dob <= t0; }},
      {{{"dob", "lt.2001-01-01"}}, [](P p) { return p.dob < 978307200000LL; }},
      {{{"ref", "gt.80000000-0000-4000-8000-000000000000"}}, [](P p) { return p.ref > "8"; }},
      {{{"ref", "eq." + this->people_[42].ref}}, [](P p) { return p.id == "p042"; }},
      {{{"name", "like.Ann*"}}, [](P p) { return p.name && p.name->starts_with("Ann "); }},
      {{{"name", "like.*O'Brien*"}},
       [](P p) { return p.name && p.name->find("O'Brien") != std::string::npos; }},
      {{{"name", "like.%1%"}},
       [](P p) { return p.name && p.name->find('1') != std::string::npos; }},
      {{{"name", "eq.Bob 6"}}, [](P p) { return p.name && *p.name == "Bob 6"; }},
      {{{"name", "in.(\"Zed 3\",Bob 6)"}},
       [](P p) { return p.name && (*p.name == "Zed 3" || *p.name == "Bob 6"); }},
      {{{"name", "is.null"}}, [](P p) { return !p.name; }},
      {{{"name", "gt.Bob"}}, [](P p) { return p.name && *p.name > "Bob"; }},
      {{{"id", "like.p1*"}}, [](P p) { return p.id.starts_with("p1"); }},
      {{{"age", "gt.0"}, {"active", "eq.true"}},
       [](P p) { return p.age && *p.age > 0 && p.active; }},
  };
  for (const Case& c : cases) {
    std::string shown = c.filters[0].first + "=" + c.filters[0].second;
    auto want = this->Expected(c.pred);
    EXPECT_EQ(this->AllPages(c.filters, 7), want) << shown;
    EXPECT_EQ(this->AllPages(c.filters, 10000), want) << shown;
    auto count =
        this->client_->Call("GET", "/v1/tables/{table}/count", {{"table", kTable}}, c.filters);
    EXPECT_EQ(count.body, fmt::format(R"({{"count":{}}})", want.size())) << shown;
  }
  // The cases are not vacuous: each of these matches some rows and not all.
  EXPECT_EQ(this->Expected([](P p) { return p.name && p.name->starts_with("Ann "); }).size(), 36u);
}

TYPED_TEST(TablesApiTest, FilteredPageStopsAfterItsScanBudget) {
  RowsQuery q;
  q.limit = 100;
  q.max_scanned = 10;
  http::ApiRequest r;
  r.query = {{"id", "eq." + this->order_[25]}};
  auto schema = this->store_->DescribeTable(kTable);
  ASSERT_TRUE(schema.ok());
  q.matcher = *ParseFilters(r, *schema, {});
  auto page = ReadPage(this->store_.get(), kTable, q);
  ASSERT_TRUE(page.ok());
  // Ten rows scanned, none matched: an empty page with a cursor after the tenth row.
  EXPECT_EQ(*page, fmt::format(R"({{"rows":[],"next_cursor":"{}"}})",
                               EncodeCursor(kTable, this->order_[9])));
  q.start_after = this->order_[19];
  page = ReadPage(this->store_.get(), kTable, q);
  EXPECT_EQ(*page, fmt::format(R"({{"rows":[{}],"next_cursor":"{}"}})",
                               Json(this->people_[std::stoi(this->order_[25].substr(1))]),
                               EncodeCursor(kTable, this->order_[29])));
}

TYPED_TEST(TablesApiTest, CountAndAggregateAreExact) {
  auto r = this->client_->Call("GET", "/v1/tables/{table}/count", {{"table", kTable}});
  EXPECT_EQ(r.body, R"({"count":200})");

  r = this->client_->Call(
      "GET", "/v1/tables/{table}/aggregate", {{"table", kTable}},
      {{"group_by", "active"},
       {"agg", "count,min(age),max(age),sum(age),avg(score),min(dob),max(name),max(price)"},
       {"score", "gt.-3"}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string want = R"({"groups":[)";
  for (bool active : {false, true}) {
    int n = 0, min_age = 1000, max_age = -1000, nages = 0;
    int64_t sum_age = 0, min_dob = INT64_MAX;
    double sum_score = 0;
    std::string max_name, max_price = "0";
    for (const std::string& key : this->order_) {
      const Person& p = this->people_[std::stoi(key.substr(1))];
      if (p.active != active || !(p.score > -3)) continue;
      ++n;
      sum_score += p.score;
      min_dob = std::min(min_dob, p.dob);
      if (p.age) {
        ++nages;
        min_age = std::min(min_age, *p.age);
        max_age = std::max(max_age, *p.age);
        sum_age += *p.age;
      }
      if (p.name && *p.name > max_name) max_name = *p.name;
      if (std::stod(p.price) > std::stod(max_price)) max_price = p.price;
    }
    ASSERT_GT(nages, 0);
    want += fmt::format(
        R"x({}{{"active":{},"count":{},"min(age)":{},"max(age)":{},"sum(age)":{},"avg(score)":{},)x"
        R"x("min(dob)":"{}","max(name)":"{}","max(price)":"{}"}})x",
        active ? "," : "", active, n, min_age, max_age, sum_age, sum_score / n,
        FormatTimestampMillis(min_dob), max_name, max_price);
  }
  want += "]}";
  EXPECT_EQ(r.body, want);

  // Grouped by an int column with nulls: numeric order, the null group last.
  r = this->client_->Call("GET", "/v1/tables/{table}/aggregate", {{"table", kTable}},
                          {{"group_by", "age"}, {"age", "lt.-6"}});
  std::map<int, int> groups;
  int nulls = 0;
  for (const Person& p : this->people_) {
    if (p.age && *p.age < -6) ++groups[*p.age];
  }
  for (const Person& p : this->people_) nulls += !p.age;
  want = R"({"groups":[)";
  for (auto [age, n] : groups) {
    want += fmt::format(R"({}{{"age":{},"count":{}}})", want.size() > 11 ? "," : "", age, n);
  }
  want += "]}";
  EXPECT_EQ(r.body, want);
  EXPECT_GT(groups.size(), 1u);
  r = this->client_->Call("GET", "/v1/tables/{table}/aggregate", {{"table", kTable}},
                          {{"group_by", "age"}, {"age", "is.null"}});
  EXPECT_EQ(r.body, fmt::format(R"({{"groups":[{{"age":null,"count":{}}}]}})", nulls));
  // No group_by: one group; no agg: count.
  r = this->client_->Call("GET", "/v1/tables/{table}/aggregate", {{"table", kTable}});
  EXPECT_EQ(r.body, R"({"groups":[{"count":200}]})");
}

TYPED_TEST(TablesApiTest, PutUpsertsColumnsAndDeleteRemoves) {
  auto r = this->Put("p900", R"({"name":"Ann","age":"41","dob":"2020-01-02T03:04:05+01:00"})");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  simdjson::dom::element row;
  ASSERT_EQ(parser.parse(this->GetRow("p900").body).get(row), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(row["id"]), "p900");
  EXPECT_EQ(std::string_view(row["name"]), "Ann");
  EXPECT_EQ(int64_t(row["age"]), 41);
  EXPECT_EQ(std::string_view(row["dob"]), "2020-01-02T02:04:05.000Z");
  EXPECT_EQ(r.body, this->GetRow("p900").body);  // PUT answers the row as stored

  // A partial upsert keeps the other columns.
  r = this->Put("p900", R"({"age":42,"id":"p900"})");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(parser.parse(this->GetRow("p900").body).get(row), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(row["name"]), "Ann");
  EXPECT_EQ(int64_t(row["age"]), 42);
  auto count = this->client_->Call("GET", "/v1/tables/{table}/count", {{"table", kTable}});
  EXPECT_EQ(count.body, R"({"count":201})");

  r = this->client_->Call("DELETE", kRow, {{"table", kTable}, {"key", "p900"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(this->GetRow("p900").status, 404);
  r = this->client_->Call("DELETE", kRow, {{"table", kTable}, {"key", "p900"}});
  EXPECT_EQ(r.status, 204);  // idempotent
  count = this->client_->Call("GET", "/v1/tables/{table}/count", {{"table", kTable}});
  EXPECT_EQ(count.body, R"({"count":200})");
}

TYPED_TEST(TablesApiTest, ReadOnlyStoreRefusesWritesWith409) {
  auto ro = this->backend_.Open(OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  TablesApiClient client(ro->get());
  auto r = client.Call("PUT", kRow, {{"table", kTable}, {"key", "p001"}}, {}, R"({"age":1})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, Error("conflict", TypeParam::ReadOnlyApply()));
  r = client.Call("DELETE", kRow, {{"table", kTable}, {"key", "p001"}});
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(this->GetRow("p001").body, Json(this->people_[1]));
}

}  // namespace
}  // namespace dataforge::rest
