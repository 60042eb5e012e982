#include "cql/client/retry_policy.h"

#include <fmt/format.h>

namespace dataforge::cql::client {

RetryDecision ClassifyError(int32_t code) {
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kReadTimeout:
    case ErrorCode::kWriteTimeout:
    case ErrorCode::kUnavailable:
    case ErrorCode::kOverloaded:
    case ErrorCode::kIsBootstrapping:
    case ErrorCode::kServerError:
    case ErrorCode::kTruncateError:
      return RetryDecision::kRetry;
    case ErrorCode::kUnprepared:
      return RetryDecision::kReprepare;
    default:
      return RetryDecision::kFail;
  }
}

RetryDecision ClassifyTransportStatus(const Status& s) {
  if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded) {
    return RetryDecision::kRetry;
  }
  return RetryDecision::kFail;
}

Status ErrorToStatus(const ErrorMessage& e, std::string_view node, std::string_view statement) {
  std::string stmt(statement.substr(0, 120));
  if (statement.size() > 120) stmt += "...";
  std::string text = fmt::format("cassandra {}: {} (0x{:04x}) for '{}': {}", node,
                                 ErrorCodeName(e.code), e.code, stmt, e.message);
  switch (static_cast<ErrorCode>(e.code)) {
    case ErrorCode::kSyntaxError:
    case ErrorCode::kInvalid:
    case ErrorCode::kAlreadyExists:
      return Status::InvalidArgument(std::move(text));
    case ErrorCode::kUnauthorized:
    case ErrorCode::kBadCredentials:
    case ErrorCode::kConfigError:
      return Status::ConfigError(std::move(text));
    case ErrorCode::kReadFailure:
    case ErrorCode::kWriteFailure:
    case ErrorCode::kFunctionFailure:
      return Status::IOError(std::move(text));
    default:
      if (ClassifyError(e.code) == RetryDecision::kRetry) {
        return Status::Unavailable(std::move(text));
      }
      return Status::Internal(std::move(text));
  }
}

int64_t BackoffMs(int attempt, int64_t base_ms, int64_t max_ms) {
  int64_t ms = base_ms;
  for (int i = 1; i < attempt && ms < max_ms; ++i) ms *= 2;
  return ms < max_ms ? ms : max_ms;
}

}  // namespace dataforge::cql::client
