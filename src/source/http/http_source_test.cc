#include "source/http/http_source.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <simdjson.h>

#include "common/client_counters.h"
#include "source/http/response_parser.h"
#include "source/http/url_query.h"
#include "source/mockapi/mock_api_server.h"
#include "source/source_factory.h"

namespace dataforge {
namespace {

// A clock whose sleeps return at once and are added up, so retry waits are checked exactly.
class FakeClock final : public Clock {
 public:
  int64_t NowMicros() override { return now_; }
  int64_t MonotonicMicros() override { return now_; }
  bool SleepFor(int64_t micros, std::stop_token stop) override {
    slept_ += micros;
    now_ += micros;
    return !stop.stop_requested();
  }
  int64_t slept() const { return slept_; }

 private:
  int64_t now_ = 1'700'000'000'000'000;
  int64_t slept_ = 0;
};

SourceConfig TestConfig() {
  SourceConfig c;
  c.results_per_page = 10;
  c.seed = "unit";
  c.max_retries = 3;
  c.backoff_initial_ms = 100;
  c.backoff_max_ms = 5000;
  return c;
}

std::vector<std::string> Keys(const SourceBatch& b) {
  std::vector<std::string> k;
  for (const auto& r : b.records) k.push_back(r.key);
  return k;
}

class HttpSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(api_.Start("127.0.0.1", 0).ok()); }
  std::string Url() const { return fmt::format("http://127.0.0.1:{}/api/", api_.port()); }
  MockApiServer api_;
  FakeClock clock_;
};

TEST_F(HttpSourceTest, WalksPagesAndResumesMidPageWithoutGapOrRepeat) {
  // Reference: 3 pages of 10 read straight through.
  std::vector<std::string> all;
  {
    HttpSource s(TestConfig(), Url(), &clock_);
    ASSERT_TRUE(s.Open("").ok());
    for (int i = 0; i < 3; ++i) {
      auto b = s.Next(100, {});
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      ASSERT_EQ(b->records.size(), 10u);
      for (auto& k : Keys(*b)) all.push_back(k);
    }
    EXPECT_EQ(api_.requests_served(), 3u);
  }
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 30u);
  // Now in pieces of 7 with a "restart" (a new source from the last position) after each.
  std::vector<std::string> pieces;
  std::string position;
  while (pieces.size() < 30) {
    HttpSource s(TestConfig(), Url(), &clock_);
    ASSERT_TRUE(s.Open(position).ok());
    auto b = s.Next(7, {});
    ASSERT_TRUE(b.ok());
    for (auto& k : Keys(*b)) pieces.push_back(k);
    position = b->position;
  }
  EXPECT_EQ(pieces, all);
  EXPECT_EQ(position, "v1;seed=unit;page=4;index=0");
}

TEST_F(HttpSourceTest, RandomSeedIsKeptInThePosition) {
  SourceConfig c = TestConfig();
  c.seed = "";
  HttpSource s(c, Url(), &clock_);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(3, {});
  ASSERT_TRUE(b.ok());
  auto seed = b->position.substr(8, b->position.find(';', 8) - 8);
  EXPECT_EQ(seed.size(), 16u) << b->position;
  HttpSource again(c, Url(), &clock_);
  ASSERT_TRUE(again.Open(b->position).ok());
  auto next = again.Next(100, {});
  EXPECT_EQ(next->records.size(), 7u);  // the rest of page 1 of the same seed
  EXPECT_EQ(next->position, "v1;seed=" + seed + ";page=2;index=0");
}

TEST_F(HttpSourceTest, ServerErrorsAreRetriedWithBackoff) {
  MockApiFaults f;
  f.fail_500 = 2;
  api_.SetFaults(f);
  HttpSource s(TestConfig(), Url(), &clock_);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(100, {});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->records.size(), 10u);
  EXPECT_EQ(api_.requests_served(), 3u);
  // Backoff: attempt 1 waits in [50, 100] ms, attempt 2 in [100, 200] ms.
  EXPECT_GE(clock_.slept(), 150'000);
  EXPECT_LE(clock_.slept(), 300'000);
}

TEST_F(HttpSourceTest, RetryAfterIsHonoured) {
  MockApiFaults f;
  f.fail_429 = 1;
  f.retry_after_s = 2;
  api_.SetFaults(f);
  HttpSource s(TestConfig(), Url(), &clock_);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(100, {});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(clock_.slept(), 2'000'000);
}

TEST_F(HttpSourceTest, RetriesExhaustedIsUnavailableWithTheServersText) {
  MockApiFaults f;
  f.fail_500 = 100;
  api_.SetFaults(f);
  HttpSource s(TestConfig(), Url(), &clock_);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(100, {});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(b.status().message(),
            "GET " + Url() +
                "?results=10&seed=unit&page=1: HTTP 500 \"mock-api: injected server "
                "error\" after 4 attempts");
}

TEST_F(HttpSourceTest, StopDuringBackoffIsCancelled) {
  MockApiFaults f;
  f.fail_500 = 100;
  api_.SetFaults(f);
  std::stop_source stop;
  stop.request_stop();
  HttpSource s(TestConfig(), Url(), &clock_);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(100, stop.get_token());
  EXPECT_EQ(b.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(api_.requests_served(), 1u);
}

TEST_F(HttpSourceTest, MalformedResponseIsOneDeadLetterAndPagingGoesOn) {
  MockApiFaults f;
  f.malformed = 1;
  api_.SetFaults(f);
  HttpSource s(TestConfig(), Url(), &clock_);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(100, {});
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->dead_letters.size(), 1u);
  EXPECT_EQ(b->records.size(), 0u);
  EXPECT_EQ(b->dead_letters[0].stage, "source");
  EXPECT_EQ(b->dead_letters[0].reason.rfind("response is not JSON: ", 0), 0u);
  EXPECT_EQ(b->dead_letters[0].payload, "{\"results\": [ this is not json");
  EXPECT_EQ(b->position, "v1;seed=unit;page=2;index=0");
  EXPECT_EQ(s.Next(100, {})->records.size(), 10u);
}

TEST_F(HttpSourceTest, TimeoutsAreRetriedThenUnavailable) {
  MockApiFaults f;
  f.delay_ms = 400;
  api_.SetFaults(f);
  SourceConfig c = TestConfig();
  c.timeout_ms = 100;
  c.max_retries = 1;
  HttpSource s(c, Url(), &clock_);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(100, {});
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(b.status().message().find("Timeout was reached after 2 attempts"), std::string::npos)
      << b.status().message();
  api_.SetFaults({});
}

TEST_F(HttpSourceTest, ConnectionRefusedIsRetriedThenUnavailable) {
  SourceConfig c = TestConfig();
  c.max_retries = 1;
  int port = api_.port();
  api_.Stop();
  HttpSource s(c, fmt::format("http://127.0.0.1:{}/api/", port), &clock_);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(100, {});
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(b.status().message().find("after 2 attempts"), std::string::npos)
      << b.status().message();
}

// The process-wide client counters (dataforge_source_http_*): each response by its code, each
// request sent again as a retry, a request without a response as "error".
TEST_F(HttpSourceTest, RequestsAreCountedByCodeAndRetries) {
  ClientCounters& counters = ClientCounters::Get();
  const uint64_t ok0 = counters.source_http_responses(200);
  const uint64_t failed0 = counters.source_http_responses(500);
  const uint64_t retries0 = counters.source_http_retries();
  const uint64_t none0 = counters.source_http_no_response();
  MockApiFaults f;
  f.fail_500 = 1;
  api_.SetFaults(f);
  constexpr int kPages = 3;
  {
    HttpSource s(TestConfig(), Url(), &clock_);  // closes its kept-alive connection at the end
    ASSERT_TRUE(s.Open("").ok());
    for (int i = 0; i < kPages; ++i) {
      auto b = s.Next(10, {});
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      ASSERT_EQ(b->records.size(), 10u);
    }
  }
  ASSERT_EQ(api_.requests_served(), static_cast<uint64_t>(kPages + 1));
  EXPECT_EQ(counters.source_http_responses(500) - failed0, 1u);
  EXPECT_EQ(counters.source_http_responses(200) - ok0, static_cast<uint64_t>(kPages));
  EXPECT_EQ(counters.source_http_retries() - retries0, 1u);
  EXPECT_EQ(counters.source_http_no_response() - none0, 0u);

  // Nobody listening: two attempts without a response, one of them a retry.
  SourceConfig c = TestConfig();
  c.max_retries = 1;
  int port = api_.port();
  api_.Stop();
  HttpSource refused(c, fmt::format("http://127.0.0.1:{}/api/", port), &clock_);
  ASSERT_TRUE(refused.Open("").ok());
  EXPECT_EQ(refused.Next(10, {}).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(counters.source_http_no_response() - none0, 2u);
  EXPECT_EQ(counters.source_http_retries() - retries0, 2u);
  EXPECT_EQ(counters.source_http_responses(200) - ok0, static_cast<uint64_t>(kPages));
}

TEST(HttpSourceFileTest, EveryFixtureIsReadOnceWithStableKeys) {
  FakeClock clock;
  const std::pair<const char*, size_t> kFixtures[] = {
      {"v1.0-cat-user-defaults.json", 6},      {"v1.0-react-contact.json", 20},
      {"v1.1-friendzone.json", 100},           {"v1.1-ngx-datatable.json", 100},
      {"v1.2-contact-agenda.json", 50},        {"v1.2-visdata.json", 20},
      {"v1.3-employee-directory.json", 200},   {"v1.3-random-user-app.json", 50},
      {"v1.4-persona-gen.json", 30},           {"v1.4-python-hof.json", 10},
      {"v1.4-randomuser-me-project.json", 111}};
  size_t total = 0;
  for (const auto& [file, count] : kFixtures) {
    std::string url = std::string("file://") + DATAFORGE_FIXTURES_DIR + "/" + file;
    auto read_keys = [&]() {
      HttpSource s(TestConfig(), url, &clock);
      EXPECT_TRUE(s.Open("").ok());
      std::vector<std::string> keys;
      while (true) {
        auto b = s.Next(64, {});
        if (!b.ok()) {
          EXPECT_EQ(b.status().code(), StatusCode::kNotFound) << file;
          break;
        }
        EXPECT_TRUE(b->dead_letters.empty()) << file;
        for (auto& k : Keys(*b)) keys.push_back(k);
      }
      return keys;
    };
    auto keys = read_keys();
    EXPECT_EQ(keys.size(), count) << file;
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), count) << file;
    EXPECT_EQ(read_keys(), keys) << file;  // derived keys are stable
    total += keys.size();
  }
  EXPECT_EQ(total, 697u);
  // login.uuid where the API had one.
  HttpSource s(TestConfig(),
               std::string("file://") + DATAFORGE_FIXTURES_DIR + "/v1.4-persona-gen.json", &clock);
  ASSERT_TRUE(s.Open("").ok());
  EXPECT_EQ(s.Next(1, {})->records[0].key, "91c38129-e067-4af8-8705-7d8376747cef");
}

TEST(HttpSourceFileTest, MissingFileIsAnIoErrorWithThePath) {
  FakeClock clock;
  HttpSource s(TestConfig(), "file:///nonexistent/capture.json", &clock);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(10, {});
  EXPECT_EQ(b.status().code(), StatusCode::kIOError);
  EXPECT_EQ(b.status().message(),
            "GET file:///nonexistent/capture.json: Couldn't read a file:// file");
}

TEST(HttpSourceFileTest, OversizedResponseIsDeadLetteredTruncated) {
  FakeClock clock;
  char tmpl[] = "/tmp/df_src_XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/big.json";
  std::ofstream(path) << "{\"results\":[" << std::string(200000, ' ') << "]}";
  SourceConfig c = TestConfig();
  c.max_response_bytes = 100000;
  HttpSource s(c, "file://" + path, &clock);
  ASSERT_TRUE(s.Open("").ok());
  auto b = s.Next(10, {});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->dead_letters.size(), 1u);
  EXPECT_EQ(b->dead_letters[0].payload.size(), 65536u);
  EXPECT_NE(b->dead_letters[0].reason.find("source.max_response_bytes=100000"), std::string::npos);
  EXPECT_EQ(s.Next(10, {}).status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

// Found by tests/fuzz/http_response_fuzz (corpus/http_response/crash_reason_newline): the dead
// letter's reason for a response without "results" lists its keys and quotes the API's error,
// and a newline in either made the reason more than one line.
TEST(ResponseParserTest, ReasonsQuotingTheResponseStayOnOneLine) {
  ResponseParser parser(TestConfig());
  std::vector<PageItem> items;
  parser.Parse(R"({"a\nb":1,"error":"down\r\nfor maintenance"})", "page 1", 5, &items);
  parser.Parse(R"({"a\nb":1,"c\u0001":2})", "page 2", 5, &items);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_TRUE(items[0].dead);
  EXPECT_EQ(items[0].letter.reason,
            "response has no \"results\" array; the API said: \"down\\r\\nfor maintenance\"");
  EXPECT_EQ(items[1].letter.reason, "response has no \"results\" array (keys: a\\nb, c\\x01)");
}

// A record's raw text is its own text in the response, less the whitespace between tokens:
// strings keep their escapes and numbers every digit. Before, raw was simdjson's DOM written out
// again, which turned 1234567890.123456789 into 1234567890.1234567, 1.50 into 1.5, 1E+2 into
// 100.0 and "caf\u00e9" into "café".
TEST(ResponseParserTest, RawIsTheRecordsOwnTextLessWhitespace) {
  ResponseParser parser(TestConfig());
  std::vector<PageItem> items;
  parser.Parse(
      "{\"info\": {\"results\": [0]},\n \"results\": [\n"
      "  {\"login\": {\"uuid\": \"k1\"}, \"n\": 1234567890.123456789, \"x\": 1.50,\n"
      "   \"s\": \"caf\\u00e9 \\\"q\\\" \\\\\", \"a\": [1, {\"b\": null}]},\n"
      "  {\"login\":{\"uuid\":\"k2\"},\"e\":1E+2,\"t\":\"a b\"}\n]}",
      "page 1", 5, &items);
  ASSERT_EQ(items.size(), 2u);
  ASSERT_FALSE(items[0].dead) << items[0].letter.reason;
  EXPECT_EQ(items[0].record.key, "k1");
  EXPECT_EQ(
      items[0].record.raw,
      R"({"login":{"uuid":"k1"},"n":1234567890.123456789,"x":1.50,"s":"caf\u00e9 \"q\" \\","a":[1,{"b":null}]})");
  EXPECT_EQ(items[0].record.fetched_at_us, 5);
  EXPECT_EQ(items[1].record.key, "k2");
  EXPECT_EQ(items[1].record.raw, R"({"login":{"uuid":"k2"},"e":1E+2,"t":"a b"})");
}

// Keys derived from a record without one (key_fallback: hash) stay what they were when raw was
// the DOM's text, so re-ingesting a capture upserts the same rows.
TEST(ResponseParserTest, DerivedKeysAreUnchanged) {
  SourceConfig c = TestConfig();
  c.key_fallback = "hash";
  ResponseParser parser(c);
  std::vector<PageItem> items;
  parser.Parse(R"({"results": [{"name": "caf\u00e9", "n": 1.50}]})", "page 1", 5, &items);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].record.raw, R"({"name":"caf\u00e9","n":1.50})");
  EXPECT_EQ(items[0].record.key, NameBasedUuid("{\"name\":\"caf\xc3\xa9\",\"n\":1.5}"));
  EXPECT_EQ(items[0].record.key, "3fda8f91-64da-5ea5-a9e7-444b9373b861");
}

// The scan that cuts records out of the body reads 16 bytes at a time: escaped quotes and
// backslashes, and brackets inside strings, at every position of a block and across blocks'
// edges, never end a record early or late. A record the scan got wrong would fall back to the
// DOM's text, which writes \u00e9 as UTF-8 and 1.50 as 1.5.
TEST(ResponseParserTest, RawSlicesHoldAtEveryAlignment) {
  ResponseParser parser(TestConfig());
  for (const char* sep : {"", " "}) {
    std::string body = "{\"results\":[";
    std::vector<std::string> expected;
    for (int pad = 0; pad < 40; ++pad) {
      std::string text = "{\"login\":{\"uuid\":\"k" + std::to_string(pad) + "\"},\"p\":\"" +
                         std::string(static_cast<size_t>(pad), 'x') +
                         R"(","s":"a\"}\\","t":"]\\\"[{","n":1.50,"u":"caf\u00e9\\"})";
      expected.push_back(text);
      std::string spaced;
      for (char c : text) {
        spaced += c;
        if (c == ',' && *sep != '\0') spaced += sep;  // also inside strings: kept there
      }
      body += (pad > 0 ? std::string(",") + sep : "") + spaced;
      if (*sep != '\0') {
        // Inside strings the space is data: the expected raw keeps it there only.
        std::string kept;
        bool in_string = false, escaped = false;
        for (char c : spaced) {
          if (in_string || c != ' ') kept += c;
          if (escaped) {
            escaped = false;
          } else if (c == '\\') {
            escaped = in_string;
          } else if (c == '"') {
            in_string = !in_string;
          }
        }
        expected.back() = kept;
      }
    }
    body += "]}";
    std::vector<PageItem> items;
    parser.Parse(body, "page 1", 5, &items);
    ASSERT_EQ(items.size(), expected.size()) << "sep '" << sep << "'";
    for (size_t i = 0; i < items.size(); ++i) {
      ASSERT_FALSE(items[i].dead) << items[i].letter.reason;
      EXPECT_EQ(items[i].record.key, "k" + std::to_string(i));
      EXPECT_EQ(items[i].record.raw, expected[i]) << "record " << i << ", sep '" << sep << "'";
    }
  }
}

// A body with "results" twice: the slices come from the array the DOM reads (the first).
TEST(ResponseParserTest, RawOfARepeatedResultsKeyIsTheFirstArraysLikeTheKeys) {
  ResponseParser parser(TestConfig());
  std::vector<PageItem> items;
  parser.Parse(
      R"({"results":[{"login":{"uuid":"A"},"v":1}], "results":[{"login":{"uuid":"B"},"v":2}]})",
      "page 1", 5, &items);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].record.key, "A");
  EXPECT_EQ(items[0].record.raw, R"({"login":{"uuid":"A"},"v":1})");
}

TEST(UrlQueryTest, SetAndGet) {
  EXPECT_EQ(WithQueryParam("http://h/api/", "page", "2"), "http://h/api/?page=2");
  EXPECT_EQ(WithQueryParam("http://h/api/?results=5", "page", "2"),
            "http://h/api/?results=5&page=2");
  EXPECT_EQ(WithQueryParam("http://h/api/?page=1&x=y", "page", "9"), "http://h/api/?page=9&x=y");
  EXPECT_EQ(WithQueryParam("http://h/api/?pages=1", "page", "3"), "http://h/api/?pages=1&page=3");
  EXPECT_EQ(QueryParam("http://h/?seed=abc&results=500", "results").value(), "500");
  EXPECT_FALSE(QueryParam("http://h/?seeds=abc", "seed").has_value());
}

TEST(SourceFactoryTest, UnsupportedScheme) {
  auto s = MakeSource(TestConfig(), "ftp://example.com/x", Clock::Real());
  EXPECT_EQ(s.status().code(), StatusCode::kConfigError);
  EXPECT_EQ(s.status().message(),
            "source url 'ftp://example.com/x': unsupported; use http://, https:// or "
            "file:///path/capture.json");
}

}  // namespace
}  // namespace dataforge
