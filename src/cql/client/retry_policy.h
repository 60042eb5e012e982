// What the client does after a failed request, from the protocol's error codes
// (native_protocol_v4.spec section 9). Our statements are idempotent upserts, deletes and reads,
// so retrying a write is safe.
//
//   retry on the next host, exponential backoff, up to max_retries:
//     Read_timeout, Write_timeout, Unavailable, Overloaded, Is_bootstrapping, Server_error,
//     Truncate_error, and transport failures (connection lost, request timeout, no host up)
//   re-prepare on the same connection and retry once: Unprepared
//   fail at once with the node's message:
//     Syntax_error, Invalid, Unauthorized, Config_error, Already_exists, Bad_credentials,
//     Protocol_error, Read_failure, Write_failure, Function_failure, unknown codes
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "cql/messages.h"

namespace dataforge::cql::client {

enum class RetryDecision { kRetry, kReprepare, kFail };

RetryDecision ClassifyError(int32_t code);
// For a Status that did not come from an ERROR response (transport, timeout): Unavailable and
// DeadlineExceeded are retried, everything else fails.
RetryDecision ClassifyTransportStatus(const Status& s);

// The Status for an ERROR response: one line with the node, the code, the statement (cut to 120
// characters) and the node's own text. Retryable codes -> Unavailable; Syntax_error, Invalid,
// Already_exists -> InvalidArgument; Unauthorized, Bad_credentials, Config_error -> ConfigError;
// Read/Write/Function_failure -> IOError; Protocol_error and the rest -> Internal.
Status ErrorToStatus(const ErrorMessage& e, std::string_view node, std::string_view statement);

// Backoff before retry number `attempt` (1-based): base * 2^(attempt-1), at most max_ms.
int64_t BackoffMs(int attempt, int64_t base_ms, int64_t max_ms);

}  // namespace dataforge::cql::client
