#include "cli/top_view.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include <fmt/format.h>

namespace dataforge {
namespace {

// The API as `top` sees it, answered from these texts (what the routes would say).
struct FakeApi {
  std::map<std::string, std::string> answers;
  std::vector<std::string> asked;
  TopGet Get() {
    return [this](const std::string& target) -> Result<std::string> {
      asked.push_back(target);
      auto it = answers.find(target);
      if (it == answers.end()) return Status::Unavailable("no answer for " + target);
      return it->second;
    };
  }
};

std::string StatusText(int64_t fetched, int64_t stored, int64_t dead, int64_t log_lag) {
  return fmt::format(
      R"({{"role":"all","fetched":{0},"staged":{0},"streamed":{0},"stored":{1},"dead_lettered":{2},)"
      R"("dead_lettered_source":0,"dead_lettered_process":{2},"lost":0,"staging_rows":{0},)"
      R"("store_rows":{1},"outbox_last_seq":{0},"relay_cursor":{0},"staging_lag":0,"log_lag":{3},)"
      R"("in_flight":{3},"deleted_unread":0,"balanced":false,"source_positions":{{}},)"
      R"("partitions":[{{"partition":0,"start_offset":0,"end_offset":{0},"processed_offset":{4},)"
      R"("lag":{3},"lost":0,"deleted_unread":0}},{{"partition":1,"start_offset":0,"end_offset":0,)"
      R"("processed_offset":0,"lag":0,"lost":0,"deleted_unread":0}}]}})",
      fetched, stored, dead, log_lag, fetched - log_lag);
}

TEST(TopViewTest, RatesAreOverTheIntervalAndLettersAreTheNewest) {
  FakeApi api;
  api.answers["/v1/status"] = StatusText(1000, 900, 0, 100);
  api.answers["/v1/dags"] =
      R"({"dags":[{"dag_id":"etl","schedule":"@daily","timezone":"UTC","paused":true,)"
      R"("catchup":false,"next_run_due":"2026-01-02T00:00:00+00:00","last_run_state":"failed","tasks":2}]})";
  api.answers["/v1/runs?limit=100"] =
      R"({"runs":[{"run_id":3,"state":"failed"},{"run_id":2,"state":"success"},{"run_id":1,"state":"success"}],"next_cursor":null})";
  api.answers["/v1/deadletters?limit=1000"] = R"({"dead_letters":[],"next_cursor":"c1"})";
  api.answers["/v1/deadletters?limit=1000&cursor=c1"] =
      R"({"dead_letters":[{"stage":"process","id":7,"at_us":0,"reason":"bad dob","location":"users_created/0@5","raw":"{}"}],"next_cursor":null})";
  TopModel model(api.Get());
  ASSERT_TRUE(model.Refresh(10'000'000).ok());
  std::string first = model.Render("title");
  EXPECT_NE(first.find("\n  fetched                 1000             -\n"), std::string::npos)
      << first;
  EXPECT_NE(first.find("\n  stored                   900             -  100 (in the log, not "
                       "yet processed)\n"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find("\n  stored + dead-lettered + lost == fetched: no (900 + 0 + 0 != 1000; "
                       "100 still in flight)\n"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find("PARTITIONS WITH LAG (1 of 2)\n  partition 0    lag        100   offsets "
                       "0..1000, processed to 900\n"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find("DAG RUNS (newest 100): success 2 failed 1\n  etl                      "
                       "paused  last run failed   next due 2026-01-02T00:00:00+00:00\n"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find("RECENT ERRORS (latest dead letters)\n  1970-01-01T00:00:00+00:00 "
                       "process:7  bad dob  at users_created/0@5\n"),
            std::string::npos)
      << first;

  // Two seconds later: 400 more fetched, 500 more stored, one more letter (from the last
  // page's cursor again: letter 7 is not shown twice).
  api.answers["/v1/status"] = StatusText(1400, 1400, 0, 0);
  api.answers["/v1/deadletters?limit=1000&cursor=c1"] =
      R"({"dead_letters":[{"stage":"process","id":7,"at_us":0,"reason":"bad dob","location":"users_created/0@5","raw":"{}"},)"
      R"({"stage":"source","id":1,"at_us":1000000,"reason":"not JSON","location":"page 3","raw":"x"}],"next_cursor":null})";
  ASSERT_TRUE(model.Refresh(12'000'000).ok());
  std::string second = model.Render("title");
  EXPECT_NE(second.find("\n  fetched                 1400         200.0\n"), std::string::npos)
      << second;
  EXPECT_NE(second.find("\n  stored                  1400         250.0  0 (in the log, not yet "
                        "processed)\n"),
            std::string::npos)
      << second;
  EXPECT_NE(second.find("\n  stored + dead-lettered + lost == fetched: yes\n"), std::string::npos)
      << second;
  EXPECT_NE(second.find("PARTITIONS WITH LAG (0 of 2)\n  none"), std::string::npos) << second;
  EXPECT_TRUE(
      second.ends_with("RECENT ERRORS (latest dead letters)\n  1970-01-01T00:00:01+00:00 "
                       "source:1  not JSON  at page 3\n  1970-01-01T00:00:00+00:00 "
                       "process:7  bad dob  at users_created/0@5\n"))
      << second;

  // A failed refresh keeps the last sample and says why.
  api.answers.erase("/v1/dags");
  Status failed = model.Refresh(14'000'000);
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed.message(), "no answer for /v1/dags");
  EXPECT_EQ(model.Render("title"), second);
}

}  // namespace
}  // namespace dataforge
