// `dataforge top`'s model and screen: what the REST API says about a pipeline (GET /v1/status,
// /v1/dags, /v1/runs, /v1/deadletters), sampled every refresh, drawn as one text frame. The
// answers come from a running server (libcurl) or from a data dir's routes called in-process
// (top_command.cc); both are the same JSON, so the screen is the same.
// Thread-compatible: one thread samples and draws.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace dataforge {

// GETs an API target ("/v1/status", "/v1/runs?limit=100") and returns the body of a 200; any
// other answer or a failure to reach the server is an error whose message says which.
using TopGet = std::function<Result<std::string>(const std::string& target)>;

struct TopSample {
  std::string role;
  int64_t fetched = 0, staged = 0, streamed = 0, stored = 0, dead_lettered = 0;
  int64_t dead_lettered_source = 0, dead_lettered_process = 0, lost = 0;
  int64_t filtered = 0;  // process.where dropped them
  int64_t staging_lag = 0, log_lag = 0, in_flight = 0, store_rows = 0;
  struct Partition {
    int64_t partition = 0, start_offset = 0, end_offset = 0, processed = 0, lag = 0, lost = 0;
  };
  std::vector<Partition> partitions;
  struct Dag {
    std::string id, last_run_state, next_run_due;
    bool paused = false;
  };
  std::vector<Dag> dags;
  std::map<std::string, int64_t> runs_by_state;  // of the newest kRunsShown runs
  int64_t runs_counted = 0;
  int64_t monotonic_us = 0;  // when sampled
};

struct TopLetter {
  std::string stage, reason, location;
  int64_t id = 0, at_us = 0;
};

class TopModel {
 public:
  static constexpr int kRunsShown = 100;
  static constexpr size_t kLettersShown = 5;

  explicit TopModel(TopGet get) : get_(std::move(get)) {}

  // Reads a new sample (and the dead letters written since the last one). On an error the
  // previous sample stays.
  Status Refresh(int64_t monotonic_us);

  // The screen: `title` first, then each stage's total, rate (over the last two samples; "-"
  // after the first) and lag, the balance line, partitions with lag, DAG runs by state and the
  // latest dead letters. Lines end with "\n".
  std::string Render(const std::string& title) const;

 private:
  Status ReadDeadLetters();

  TopGet get_;
  bool has_sample_ = false, has_previous_ = false;
  TopSample sample_, previous_;
  // Dead letters: the cursor of the last page read (re-read each time: the API's cursor ends with
  // null on the last page), the highest id seen per stage, the newest kLettersShown.
  std::string letters_cursor_;
  std::map<std::string, int64_t> seen_id_;
  std::deque<TopLetter> letters_;
};

}  // namespace dataforge
