// One HTTP(S)/file GET at a time with libcurl: keep-alive on one reused handle, time-outs,
// a response size limit, a rate limit, and retries with exponential backoff and full jitter on
// connection errors, time-outs, 5xx and 429 (Retry-After honoured).
//
// Thread-compatible: one thread (the source thread) uses a fetcher.
#pragma once

#include <cstdint>
#include <random>
#include <stop_token>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "config/pipeline_config.h"

typedef void CURL;

namespace dataforge {

struct FetchResult {
  std::string body;
  bool too_large = false;  // the body was cut at max_response_bytes
  uint64_t bytes_seen = 0;
  int64_t received_at_us = 0;
};

class HttpFetcher {
 public:
  HttpFetcher(const SourceConfig& config, Clock* clock);
  ~HttpFetcher();
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  // GETs `url`. Errors: Cancelled (stop requested while waiting), Unavailable (retries
  // exhausted), InvalidArgument (a 4xx other than 429: the URL is wrong), IOError (a file that
  // cannot be read). Messages carry the URL, the HTTP status and the server's text.
  Result<FetchResult> Get(const std::string& url, std::stop_token stop);

  uint64_t attempts() const { return attempts_; }

 private:
  const SourceConfig config_;
  Clock* clock_;
  CURL* curl_ = nullptr;
  std::mt19937_64 rng_;
  int64_t next_request_us_ = 0;  // monotonic time the rate limit allows the next request
  uint64_t attempts_ = 0;
  uint64_t last_body_bytes_ = 0;  // the last successful response's size: the next one's reserve
};

}  // namespace dataforge
