#include "cql/client/retry_policy.h"

#include <gtest/gtest.h>

namespace dataforge::cql::client {
namespace {

int32_t C(ErrorCode c) {
  return static_cast<int32_t>(c);
}

TEST(RetryPolicyTest, RetryableCodes) {
  for (ErrorCode c : {ErrorCode::kReadTimeout, ErrorCode::kWriteTimeout, ErrorCode::kUnavailable,
                      ErrorCode::kOverloaded, ErrorCode::kIsBootstrapping, ErrorCode::kServerError,
                      ErrorCode::kTruncateError}) {
    EXPECT_EQ(ClassifyError(C(c)), RetryDecision::kRetry) << ErrorCodeName(C(c));
  }
}

TEST(RetryPolicyTest, FatalCodes) {
  for (ErrorCode c :
       {ErrorCode::kSyntaxError, ErrorCode::kInvalid, ErrorCode::kUnauthorized,
        ErrorCode::kConfigError, ErrorCode::kAlreadyExists, ErrorCode::kBadCredentials,
        ErrorCode::kProtocolError, ErrorCode::kReadFailure, ErrorCode::kWriteFailure,
        ErrorCode::kFunctionFailure}) {
    EXPECT_EQ(ClassifyError(C(c)), RetryDecision::kFail) << ErrorCodeName(C(c));
  }
  EXPECT_EQ(ClassifyError(0x7777), RetryDecision::kFail);
}

TEST(RetryPolicyTest, UnpreparedReprepares) {
  EXPECT_EQ(ClassifyError(C(ErrorCode::kUnprepared)), RetryDecision::kReprepare);
}

TEST(RetryPolicyTest, TransportFailures) {
  EXPECT_EQ(ClassifyTransportStatus(Status::Unavailable("lost")), RetryDecision::kRetry);
  EXPECT_EQ(ClassifyTransportStatus(Status::DeadlineExceeded("slow")), RetryDecision::kRetry);
  EXPECT_EQ(ClassifyTransportStatus(Status::ConfigError("bad credentials")), RetryDecision::kFail);
  EXPECT_EQ(ClassifyTransportStatus(Status::Internal("bug")), RetryDecision::kFail);
}

TEST(RetryPolicyTest, ErrorToStatusCarriesNodeCodeStatementAndText) {
  ErrorMessage e;
  e.code = C(ErrorCode::kInvalid);
  e.message = "unconfigured table users";
  Status s = ErrorToStatus(e, "10.0.0.1:9042", "SELECT * FROM ks.users");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "cassandra 10.0.0.1:9042: Invalid (0x2200) for 'SELECT * FROM ks.users': "
            "unconfigured table users");

  e.code = C(ErrorCode::kWriteTimeout);
  e.message = "Operation timed out";
  EXPECT_EQ(ErrorToStatus(e, "n:1", "INSERT").code(), StatusCode::kUnavailable);
  e.code = C(ErrorCode::kUnauthorized);
  EXPECT_EQ(ErrorToStatus(e, "n:1", "INSERT").code(), StatusCode::kConfigError);
  e.code = C(ErrorCode::kWriteFailure);
  EXPECT_EQ(ErrorToStatus(e, "n:1", "INSERT").code(), StatusCode::kIOError);
  e.code = C(ErrorCode::kProtocolError);
  EXPECT_EQ(ErrorToStatus(e, "n:1", "INSERT").code(), StatusCode::kInternal);
}

TEST(RetryPolicyTest, LongStatementsAreCut) {
  ErrorMessage e;
  e.code = C(ErrorCode::kSyntaxError);
  e.message = "line 1:0 no viable alternative";
  Status s = ErrorToStatus(e, "n:1", std::string(200, 'x'));
  EXPECT_EQ(s.message(), "cassandra n:1: Syntax_error (0x2000) for '" + std::string(120, 'x') +
                             "...': line 1:0 no viable alternative");
}

TEST(RetryPolicyTest, ExponentialBackoffIsCapped) {
  EXPECT_EQ(BackoffMs(1, 100, 5000), 100);
  EXPECT_EQ(BackoffMs(2, 100, 5000), 200);
  EXPECT_EQ(BackoffMs(3, 100, 5000), 400);
  EXPECT_EQ(BackoffMs(6, 100, 5000), 3200);
  EXPECT_EQ(BackoffMs(7, 100, 5000), 5000);
  EXPECT_EQ(BackoffMs(60, 100, 5000), 5000);
}

}  // namespace
}  // namespace dataforge::cql::client
