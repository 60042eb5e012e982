// Paging through 50,000 rows with GET /v1/tables/{table}/rows over both stores: each key once,
// in the store's scan order (RocksDB: key order), also while another thread keeps writing new
// and existing keys between the pages.
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "common/json_writer.h"
#include "serve/rest/page_cursor.h"
#include "serve/rest/tables_test_backends.h"

namespace dataforge::rest {
namespace {

const char kTable[] = "bulk.items";
constexpr int kRows = 50000;

std::string Key(int i) {
  return fmt::format("k{:05d}", i);
}

template <typename B>
class TablesPagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = backend_.Open(OpenMode::kReadWrite);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    ASSERT_TRUE(
        store_->EnsureTable(TableSchema{kTable, "id", {{"id", "text"}, {"v", "int"}}}).ok());
    for (int start = 0; start < kRows; start += 5000) {
      StoreBatch b;
      b.table = kTable;
      b.counted = false;
      for (int i = start; i < start + 5000; ++i) {
        b.rows.push_back(
            RowWrite{Key(i), fmt::format(R"({{"id":"{}","v":0}})", Key(i)), false, true});
      }
      Status st = store_->Apply(b);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
    client_ = std::make_unique<TablesApiClient>(store_.get());
  }

  // Every page, 1000 rows each; `between` runs before each page after the first.
  std::vector<std::string> AllPages(const std::function<void()>& between) {
    std::vector<std::string> ids;
    std::string cursor;
    simdjson::dom::parser parser;
    for (int page = 0; page < 1000; ++page) {
      if (page > 0) between();
      std::vector<std::pair<std::string, std::string>> q = {{"limit", "1000"}};
      if (!cursor.empty()) q.emplace_back("cursor", cursor);
      auto r = client_->Call("GET", "/v1/tables/{table}/rows", {{"table", kTable}}, q);
      EXPECT_EQ(r.status, 200) << r.body;
      simdjson::dom::element doc;
      if (r.status != 200 || parser.parse(r.body).get(doc) != simdjson::SUCCESS) break;
      for (auto row : doc["rows"].get_array()) ids.emplace_back(std::string_view(row["id"]));
      if (doc["next_cursor"].is_null()) return ids;
      cursor = std::string(std::string_view(doc["next_cursor"]));
    }
    ADD_FAILURE() << "paging did not end";
    return ids;
  }

  B backend_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<TablesApiClient> client_;
};

TYPED_TEST_SUITE(TablesPagingTest, Backends, BackendNames);

TYPED_TEST(TablesPagingTest, EachKeyOnceInStoreOrderWhileWritten) {
  std::vector<std::string> scan;  // the store's order
  ASSERT_TRUE(this->store_
                  ->Scan(kTable, "", 0,
                         [&](const std::string& key, const std::string&) {
                           scan.push_back(key);
                           return true;
                         })
                  .ok());
  ASSERT_EQ(scan.size(), static_cast<size_t>(kRows));
  if (TypeParam::kKeyOrder) {
    std::vector<std::string> sorted;
    for (int i = 0; i < kRows; ++i) sorted.push_back(Key(i));
    EXPECT_EQ(scan, sorted);
  }
  EXPECT_EQ(this->AllPages([] {}), scan);

  // A writer upserts existing keys and adds new ones (between existing ones in key order);
  // each page waits for one more of its batches, so pages and writes interleave.
  std::mutex mu;
  std::condition_variable cv;
  int batches = 0;
  std::atomic<bool> stop{false};
  Status writer_status;
  std::thread writer([&] {
    for (int n = 0; !stop; ++n) {
      StoreBatch b;
      b.table = kTable;
      b.counted = false;
      for (int j = 0; j < 20; ++j) {
        int i = (n * 7919 + j * 2503) % kRows;
        b.rows.push_back(RowWrite{Key(i), fmt::format(R"({{"v":{}}})", n), false, false});
        std::string fresh = Key(i) + "-new" + std::to_string(n);
        b.rows.push_back(
            RowWrite{fresh, fmt::format(R"({{"id":"{}","v":{}}})", fresh, n), false, true});
      }
      Status st = this->store_->Apply(b);
      std::lock_guard lock(mu);
      if (!st.ok()) {
        writer_status = st;
        stop = true;
      }
      ++batches;
      cv.notify_all();
    }
  });
  int seen = 0;
  auto ids = this->AllPages([&] {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return batches > seen || stop; });
    seen = batches;
  });
  stop = true;
  writer.join();
  ASSERT_TRUE(writer_status.ok()) << writer_status.ToString();
  EXPECT_GE(seen, 49);  // a batch before each page but the first

  std::map<std::string, int> times;
  for (const auto& id : ids) ++times[id];
  std::vector<std::string> originals;
  int repeated = 0;
  for (const auto& id : ids) {
    if (times[id] != 1) ++repeated;
    if (id.size() == 6) originals.push_back(id);
  }
  EXPECT_EQ(repeated, 0);
  EXPECT_EQ(originals, scan);          // every key present from the start, once, in the same order
  EXPECT_GT(ids.size(), scan.size());  // and some of the new keys
  if (TypeParam::kKeyOrder) {
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  }
}

TYPED_TEST(TablesPagingTest, DeadlineCutsAFilteredPageAndFailsACount) {
  std::vector<std::string> scan;
  ASSERT_TRUE(this->store_
                  ->Scan(kTable, "", 2000,
                         [&](const std::string& key, const std::string&) {
                           scan.push_back(key);
                           return true;
                         })
                  .ok());
  const auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  // No row matches v=1: a page past its deadline stops at the first look at the clock (after
  // 1023 rows) and answers a cursor after the last row it read.
  auto r = this->client_->Call("GET", "/v1/tables/{table}/rows", {{"table", kTable}},
                               {{"v", "eq.1"}}, "", past);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            fmt::format(R"({{"rows":[],"next_cursor":"{}"}})", EncodeCursor(kTable, scan[1022])));
  r = this->client_->Call("GET", "/v1/tables/{table}/count", {{"table", kTable}}, {{"v", "eq.1"}},
                          "", past);
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.body, fmt::format(R"({{"error":{{"code":"timeout","message":{}}}}})",
                                JsonString("reading bulk.items passed the request deadline after "
                                           "1023 rows (the server's --request-deadline-ms)")));
  // Without the deadline the same count reads the whole table.
  r = this->client_->Call("GET", "/v1/tables/{table}/count", {{"table", kTable}}, {{"v", "eq.0"}});
  EXPECT_EQ(r.body, R"({"count":50000})");
}

}  // namespace
}  // namespace dataforge::rest
