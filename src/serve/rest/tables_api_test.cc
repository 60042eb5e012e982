// The /v1/tables handlers over both stores (RocksDB, and Cassandra through DataForge's own CQL
// endpoint), called through the router without HTTP: rows, filters, count, aggregate, writes and
// every error with its exact message.
#include <simdjson.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <thread>

#include "auth/access_policy.h"
#include "common/json_writer.h"
#include "common/timestamp.h"
#include "serve/rest/page_cursor.h"
#include "serve/rest/rows_query.h"
#include "serve/rest/tables_test_backends.h"

namespace dataforge::rest {
namespace {

const char kTable[] = "shop.people";
const char kRows[] = "/v1/tables/{table}/rows";
const char kRow[] = "/v1/tables/{table}/rows/{key}";
constexpr int kPeople = 200;

struct Person {
  std::string id;
  std::optional<int> age;
  double score;
  std::string price;
  bool active;
  int64_t dob;
  std::string ref;
  std::optional<std::string> name;
};

Person MakePerson(int i) {
  static const char* kNames[] = {"Ann", "Bob", "Jo O'Brien", "Zed", "ann"};
  Person p;
  p.id = fmt::format("p{:03d}", i);
  if (i % 7 != 0) p.age = (i * 37) % 100 - 10;
  p.score = (i % 13) - 3.5;
  p.price = fmt::format("{}.{:02d}", (i * 3) % 50, i % 100);
  p.active = i % 3 == 0;
  p.dob = 946684800000LL + i * 17LL * 86400000LL + i;
  p.ref = fmt::format("{:08x}-0000-4000-8000-{:012x}", (i * 2654435761u) & 0xffffffffu, i);
  if (i % 11 != 0) p.name = fmt::format("{} {}", kNames[i % 5], i);
  return p;
}

std::string Json(const Person& p) {
  return fmt::format(
      R"({{"id":"{}","age":{},"score":{},"price":"{}","active":{},"dob":"{}","ref":"{}","name":{}}})",
      p.id, p.age ? std::to_string(*p.age) : "null", p.score, p.price, p.active,
      FormatTimestampMillis(p.dob), p.ref, p.name ? "\"" + *p.name + "\"" : "null");
}

TableSchema PeopleSchema() {
  return TableSchema{kTable,
                     "id",
                     {{"id", "text"},
                      {"age", "int"},
                      {"score", "double"},
                      {"price", "decimal"},
                      {"active", "boolean"},
                      {"dob", "timestamp"},
                      {"ref", "uuid"},
                      {"name", "text"}}};
}

std::string Error(const std::string& code, const std::string& message) {
  return fmt::format(R"({{"error":{{"code":"{}","message":{}}}}})", code, JsonString(message));
}

template <typename B>
class TablesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = backend_.Open(OpenMode::kReadWrite);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->EnsureTable(PeopleSchema()).ok());
    StoreBatch b;
    b.table = kTable;
    b.counted = false;
    for (int i = 0; i < kPeople; ++i) {
      people_.push_back(MakePerson(i));
      b.rows.push_back(RowWrite{people_.back().id, Json(people_.back()), false, true});
    }
    Status st = store_->Apply(b);
    ASSERT_TRUE(st.ok()) << st.ToString();
    client_ = std::make_unique<TablesApiClient>(store_.get());
    // The store's scan order of the keys.
    ASSERT_TRUE(store_
                    ->Scan(kTable, "", 0,
                           [&](const std::string& key, const std::string&) {
                             order_.push_back(key);
                             return true;
                           })
                    .ok());
    ASSERT_EQ(order_.size(), static_cast<size_t>(kPeople));
    auto schema = store_->DescribeTable(kTable);
    ASSERT_TRUE(schema.ok());
    for (const auto& c : schema->columns) columns_ += (columns_.empty() ? "" : ", ") + c.name;
  }

  http::ApiResponse Rows(std::vector<std::pair<std::string, std::string>> query) {
    return client_->Call("GET", kRows, {{"table", kTable}}, std::move(query));
  }
  http::ApiResponse Put(const std::string& key, const std::string& body) {
    return client_->Call("PUT", kRow, {{"table", kTable}, {"key", key}}, {}, body);
  }
  http::ApiResponse GetRow(const std::string& key) {
    return client_->Call("GET", kRow, {{"table", kTable}, {"key", key}});
  }

  // Every page of GET rows with `filters`, `limit` rows a page: the ids in answer order.
  std::vector<std::string> AllPages(std::vector<std::pair<std::string, std::string>> filters,
                                    size_t limit) {
    std::vector<std::string> ids;
    std::string cursor;
    for (int page = 0; page < 1000; ++page) {
      auto q = filters;
      q.emplace_back("limit", std::to_string(limit));
      if (!cursor.empty()) q.emplace_back("cursor", cursor);
      http::ApiResponse r = Rows(q);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      if (parser.parse(r.body).get(doc) != simdjson::SUCCESS) {
        ADD_FAILURE() << "not JSON: " << r.body;
        break;
      }
      simdjson::dom::array rows = doc["rows"].get_array();
      EXPECT_LE(rows.size(), limit);
      for (auto row : rows) ids.emplace_back(std::string_view(row["id"]));
      if (doc["next_cursor"].is_null()) return ids;
      cursor = std::string(std::string_view(doc["next_cursor"]));
    }
    ADD_FAILURE() << "paging did not end";
    return ids;
  }

  // The ids of people passing `pred`, in the store's scan order.
  std::vector<std::string> Expected(const std::function<bool(const Person&)>& pred) {
    std::vector<std::string> out;
    for (const std::string& key : order_) {
      int i = std::stoi(key.substr(1));
      if (pred(people_[i])) out.push_back(key);
    }
    return out;
  }

  B backend_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TablesApiClient> client_;
  std::vector<Person> people_;
  std::vector<std::string> order_;
  std::string columns_;  // "id, age, ...", as DescribeTable lists them
};

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

TYPED_TEST(TablesApiTest, BadWritesAre400WithTheirMessage) {
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

TYPED_TEST(TablesApiTest, BadReadsAre400WithTheirMessage) {
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

}  // namespace
}  // namespace dataforge::rest

namespace dataforge::rest {
namespace {

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
