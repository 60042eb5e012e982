#include "pg/pg_session.h"

#include <algorithm>

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "common/client_counters.h"

namespace dataforge {
namespace {

constexpr int64_t kFirstBackoffUs = 100'000;
constexpr int64_t kMaxBackoffUs = 5'000'000;
constexpr int64_t kReportEveryUs = 5'000'000;

bool StartingUp(const Status& s) {
  const std::string& m = s.message();
  return m.find("starting up") != std::string::npos ||
         m.find("shutting down") != std::string::npos ||
         m.find("in recovery mode") != std::string::npos;
}

}  // namespace

PgSession::PgSession(std::string url, std::string what, Clock* clock, int64_t max_wait_us,
                     std::function<Status(PgConnection&)> setup)
    : url_(std::move(url)),
      what_(std::move(what)),
      clock_(clock),
      max_wait_us_(max_wait_us),
      setup_(std::move(setup)) {}

Status PgSession::EnsureConnectedLocked() {
  if (conn_ && !conn_->Broken()) return Status::OK();
  conn_.reset();
  DF_ASSIGN_OR_RETURN(auto c, PgConnection::Connect(url_, what_));
  if (setup_) DF_RETURN_IF_ERROR(setup_(*c));
  conn_ = std::move(c);
  if (connected_before_) ClientCounters::Get().Reconnect(ClientBackend::kPostgresql);
  connected_before_ = true;
  return Status::OK();
}

Status PgSession::Connect() {
  std::lock_guard lock(mu_);
  int64_t start = clock_->MonotonicMicros();
  int64_t backoff = kFirstBackoffUs;
  while (true) {
    Status s = EnsureConnectedLocked();
    if (s.ok() || !StartingUp(s) || clock_->MonotonicMicros() - start > max_wait_us_) return s;
    spdlog::info("{}; retrying", s.message());
    clock_->SleepFor(backoff, {});
    backoff = std::min(backoff * 2, kMaxBackoffUs);
  }
}

Status PgSession::Run(std::string_view doing,
                      const std::function<Status(PgConnection&, int)>& work) {
  std::lock_guard lock(mu_);
  int64_t start = 0, next_report = 0;
  int64_t backoff = kFirstBackoffUs;
  for (int attempt = 0;; ++attempt) {
    Status s = EnsureConnectedLocked();
    if (s.ok()) s = work(*conn_, attempt);
    if (!s.ok() && s.code() != StatusCode::kCancelled) {
      ClientCounters::Get().Error(ClientBackend::kPostgresql);
    }
    if (s.ok() || s.code() != StatusCode::kUnavailable) {
      if (s.ok() && attempt > 0) {
        spdlog::info("{}: {} succeeded after {} retries", what_, doing, attempt);
      }
      return s;
    }
    int64_t now = clock_->MonotonicMicros();
    if (start == 0) {
      start = now;
      next_report = now;
    }
    if (interrupted_) return Status::Cancelled(std::string(doing) + ": interrupted");
    if (now - start > max_wait_us_) {
      return Status::Unavailable(fmt::format("{} (gave up after {} s of retries)", s.message(),
                                             (now - start) / 1'000'000));
    }
    if (now >= next_report) {
      spdlog::warn("{} (waiting for the server: retry {}, {:.1f} s so far, giving up after {} s)",
                   s.message(), attempt + 1, static_cast<double>(now - start) / 1e6,
                   max_wait_us_ / 1'000'000);
      next_report = now + kReportEveryUs;
    }
    if (conn_ && conn_->Broken()) conn_.reset();
    for (int64_t slept = 0; slept < backoff && !interrupted_; slept += 50'000) {
      clock_->SleepFor(std::min<int64_t>(50'000, backoff - slept), {});
    }
    backoff = std::min(backoff * 2, kMaxBackoffUs);
  }
}

}  // namespace dataforge
