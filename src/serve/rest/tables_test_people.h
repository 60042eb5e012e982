// Test support for the tables API handler tests: 200 people with values of every column type
// (nulls included), stored in a fresh store of each backend, and the fixture that serves them.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "common/json_writer.h"
#include "common/timestamp.h"
#include "serve/rest/tables_test_backends.h"

namespace dataforge::rest {

inline constexpr char kTable[] = "shop.people";
inline constexpr char kRows[] = "/v1/tables/{table}/rows";
inline constexpr char kRow[] = "/v1/tables/{table}/rows/{key}";
inline constexpr int kPeople = 200;

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

inline Person MakePerson(int i) {
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

inline std::string Json(const Person& p) {
  return fmt::format(
      R"({{"id":"{}","age":{},"score":{},"price":"{}","active":{},"dob":"{}","ref":"{}","name":{}}})",
      p.id, p.age ? std::to_string(*p.age) : "null", p.score, p.price, p.active,
      FormatTimestampMillis(p.dob), p.ref, p.name ? "\"" + *p.name + "\"" : "null");
}

inline TableSchema PeopleSchema() {
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

inline std::string Error(const std::string& code, const std::string& message) {
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

}  // namespace dataforge::rest
