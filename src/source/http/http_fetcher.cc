#include "source/http/http_fetcher.h"

#include "common/client_counters.h"

#include <curl/curl.h>

#include <algorithm>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace dataforge {
namespace {

struct Transfer {
  std::string* body = nullptr;
  uint64_t limit = 0;
  uint64_t seen = 0;
  bool too_large = false;
  std::string retry_after;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  t->seen += len;
  if (t->body->size() + len > t->limit) {
    t->too_large = true;
    size_t keep =
        std::min<size_t>(len, 64 * 1024 > t->body->size() ? 64 * 1024 - t->body->size() : 0);
    t->body->append(data, keep);
    return 0;  // abort the transfer
  }
  t->body->append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == kName) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
      while (!v.empty() && isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
      t->retry_after = std::string(v);
    }
  }
  return size * n;
}

// Retry-After: delta-seconds or an HTTP date; -1 when absent or unparseable.
int64_t RetryAfterMicros(const std::string& v, int64_t now_us) {
  if (v.empty()) return -1;
  if (std::all_of(v.begin(), v.end(), ::isdigit)) return std::stoll(v) * 1'000'000;
  time_t t = curl_getdate(v.c_str(), nullptr);
  if (t < 0) return -1;
  return std::max<int64_t>(0, static_cast<int64_t>(t) * 1'000'000 - now_us);
}

bool Retryable(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

std::string Snippet(const std::string& body) {
  std::string s = body.substr(0, 200);
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

}  // namespace

HttpFetcher::HttpFetcher(const SourceConfig& config, Clock* clock)
    : config_(config), clock_(clock), rng_(std::random_device{}()) {
  static const bool global_init = [] {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  }();
  (void)global_init;
  curl_ = curl_easy_init();
}

HttpFetcher::~HttpFetcher() {
  curl_easy_cleanup(curl_);
}

Result<FetchResult> HttpFetcher::Get(const std::string& url, std::stop_token stop) {
  if (curl_ == nullptr) return Status::Internal("libcurl could not create a handle");
  std::string last_problem;
  const int attempts = config_.max_retries + 1;
  const bool is_http = url.rfind("http", 0) == 0;
  ClientCounters& counters = ClientCounters::Get();
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1 && is_http) counters.SourceHttpRetry();
    // Rate limit: requests no closer than 1/rate apart.
    if (config_.rate_limit_per_sec > 0) {
      int64_t now = clock_->MonotonicMicros();
      if (next_request_us_ > now && !clock_->SleepFor(next_request_us_ - now, stop)) {
        return Status::Cancelled("stopped while rate limited");
      }
      next_request_us_ =
          std::max(now, next_request_us_) + static_cast<int64_t>(1e6 / config_.rate_limit_per_sec);
    }
    FetchResult result;
    // Room for a response like the last one, and the parser's padding (simdjson then parses it
    // in place): no reallocation while it arrives, no copy after.
    result.body.reserve(
        std::min<uint64_t>(last_body_bytes_ + last_body_bytes_ / 8, config_.max_response_bytes) +
        64);
    Transfer t;
    t.body = &result.body;
    t.limit = config_.max_response_bytes;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(config_.connect_timeout_ms));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
    curl_easy_setopt(curl_, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate/br as offered
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "dataforge/0.1");
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TCP_KEEPALIVE, 1L);
    ++attempts_;
    CURLcode rc = curl_easy_perform(curl_);
    result.received_at_us = clock_->NowMicros();
    result.bytes_seen = t.seen;
    long code = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
    if (is_http) {
      if (code > 0) {
        counters.SourceHttpResponse(static_cast<int>(code));
      } else {
        counters.SourceHttpNoResponse();
      }
    }
    if (t.too_large) {
      result.too_large = true;
      if (result.body.size() > 64 * 1024) result.body.resize(64 * 1024);
      return result;
    }
    int64_t wait_us = -1;
    if (rc != CURLE_OK) {
      last_problem = curl_easy_strerror(rc);
      if (!Retryable(rc)) {
        return Status::IOError(fmt::format("GET {}: {}", url, last_problem));
      }
    } else if (!is_http || (code >= 200 && code < 300)) {
      last_body_bytes_ = result.body.size();
      return result;
    } else if (code == 429 || code >= 500) {
      last_problem = fmt::format("HTTP {} \"{}\"", code, Snippet(result.body));
      wait_us = RetryAfterMicros(t.retry_after, clock_->NowMicros());
    } else {
      return Status::InvalidArgument(fmt::format("GET {}: HTTP {} \"{}\" (check the source URL)",
                                                 url, code, Snippet(result.body)));
    }
    if (attempt == attempts) break;
    if (wait_us < 0) {
      // Exponential backoff with full jitter.
      int64_t cap = std::min<int64_t>(config_.backoff_max_ms,
                                      config_.backoff_initial_ms << std::min(attempt - 1, 20));
      wait_us = std::uniform_int_distribution<int64_t>(cap * 500, cap * 1000)(rng_);
    }
    wait_us = std::min<int64_t>(wait_us, config_.backoff_max_ms * 1000);
    spdlog::warn("source: GET {}: {}; retry {}/{} in {:.1f} s", url, last_problem, attempt,
                 config_.max_retries, wait_us / 1e6);
    if (!clock_->SleepFor(wait_us, stop)) return Status::Cancelled("stopped while retrying");
  }
  return Status::Unavailable(
      fmt::format("GET {}: {} after {} attempts", url, last_problem, attempts));
}

}  // namespace dataforge
