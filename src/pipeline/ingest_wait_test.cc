// Pipeline::Ingest returns once what it pulled is stored, also when an earlier run left records
// in the log that the processor has not read yet: the wait is by position, and a wait by count
// (records consumed against records relayed) ended as soon as the backlog alone was consumed.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "config/pipeline_file.h"
#include "log/log.h"
#include "pipeline/data_dir.h"
#include "pipeline/pipeline.h"
#include "source/http/response_parser.h"
#include "source/mockapi/mock_api_server.h"
#include "source/mockapi/user_generator.h"
#include "store/store.h"

namespace dataforge {
namespace {

namespace fs = std::filesystem;

constexpr int kBacklogPages = 60;  // of 500 users: 30,000 records the processor reads first
constexpr int kIngestPages = 2;    // of 100 users
constexpr int kIngestPerPage = 100;

// The records of the built-in API's page `page` of `per_page` users for `seed`.
std::vector<SourceRecord> ApiPage(const SourceConfig& source, const std::string& seed, int per_page,
                                  int page) {
  mockapi::MockQuery q;
  q.results = per_page;
  q.seed = seed;
  q.page = page;
  ResponseParser parser(source);
  std::vector<PageItem> items;
  parser.Parse(mockapi::GenerateResponse(q), "test", 0, &items);
  std::vector<SourceRecord> out;
  for (PageItem& item : items) {
    EXPECT_FALSE(item.dead) << item.letter.reason;
    if (!item.dead) out.push_back(std::move(item.record));
  }
  return out;
}

class IngestWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) / fmt::format("ingest_wait_test_{}", ::getpid());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

TEST_F(IngestWaitTest, ReturnsOnceItsRecordsAreStoredBehindABacklogInTheLog) {
  PipelineConfig c = DefaultPipelineConfig();
  c.dags.clear();
  c.source.seed = "main";
  c.source.results_per_page = 10;
  const std::string data = (root_ / "data").string();
  const std::string& topic = c.log.topic;

  // The backlog: records an earlier run appended and never processed.
  uint64_t backlog = 0;
  {
    auto log = OpenLog(ResolveUrls(c, data).log, OpenMode::kReadWrite, LogOptionsFor(c.log));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->CreateTopic(topic, c.log.partitions).ok());
    for (int page = 1; page <= kBacklogPages; ++page) {
      std::vector<std::vector<LogRecord>> by_partition(c.log.partitions);
      for (SourceRecord& r : ApiPage(c.source, "backlog", 500, page)) {
        auto p = (*log)->PartitionFor(topic, r.key);
        ASSERT_TRUE(p.ok()) << p.status().ToString();
        by_partition[*p].push_back({r.key, std::move(r.raw), Clock::Real()->NowMicros(), {}});
        ++backlog;
      }
      ASSERT_TRUE((*log)->AppendAll(topic, by_partition).ok());
    }
  }
  ASSERT_EQ(backlog, static_cast<uint64_t>(kBacklogPages) * 500);

  // The main source trickles from a slow API beside the ingest, which reads a fast one.
  MockApiServer slow, fast;
  ASSERT_TRUE(slow.Start("127.0.0.1", 0).ok());
  ASSERT_TRUE(fast.Start("127.0.0.1", 0).ok());
  MockApiFaults delay;
  delay.delay_ms = 200;
  slow.SetFaults(delay);
  RunOptions o;
  o.data_dir = data;
  o.source_url_override = fmt::format("http://127.0.0.1:{}/api/", slow.port());
  auto opened = Pipeline::Open(c, o, Clock::Real());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Pipeline& p = **opened;
  Result<RunSummary> run = Status::Cancelled("not run");
  std::thread runner([&] { run = p.Run(); });

  IngestRequest req;
  req.name = "test.ingest";
  req.url = fmt::format("http://127.0.0.1:{}/api/", fast.port());
  req.seed = "ingested";
  req.results_per_page = kIngestPerPage;
  req.max_pages = kIngestPages;
  auto outcome = p.Ingest(req, {});
  // What the store holds the moment Ingest returns.
  uint64_t missing = 0;
  std::string first_missing;
  for (int page = 1; page <= kIngestPages; ++page) {
    for (const SourceRecord& r : ApiPage(c.source, "ingested", kIngestPerPage, page)) {
      if (!p.store()->Get(c.process.table, r.key).ok()) {
        if (missing++ == 0) first_missing = r.key;
      }
    }
  }
  auto counters = p.store()->Counters();
  p.RequestStop();
  runner.join();

  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->fetched, static_cast<uint64_t>(kIngestPages * kIngestPerPage));
  EXPECT_TRUE(outcome->delivered);
  EXPECT_NE(outcome->summary.find("; all stored"), std::string::npos) << outcome->summary;
  EXPECT_EQ(missing, 0u) << "of the " << kIngestPages * kIngestPerPage
                         << " ingested records, e.g. key " << first_missing;
  // The backlog came first in every partition, so it is stored too.
  ASSERT_TRUE(counters.ok()) << counters.status().ToString();
  EXPECT_GE(counters->stored, backlog + kIngestPages * kIngestPerPage);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
}

}  // namespace
}  // namespace dataforge
