// Confluent Schema Registry error codes carried in a Status.
//
// The registry's calls return Result<T>/Status like the rest of the code base; an error that
// has a Confluent error code is made with RegistryStatus(), which keeps the code in front of the
// message ("40401 Subject 'x' not found."). The HTTP layer turns any Status into Confluent's
// envelope {"error_code":N,"message":"..."} with RegistryErrorOf(): the code when the Status
// carries one, else one derived from the StatusCode (Unauthenticated 40101, PermissionDenied
// 40301, InvalidArgument 42201, DeadlineExceeded 50002, anything else 50001 store error).
// HTTP status = error_code / 100 for five-digit codes, error_code itself for three-digit ones
// (409 incompatible).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace dataforge::registry {

// Confluent's codes (io.confluent.kafka.schemaregistry.rest.exceptions.Errors).
inline constexpr int kSubjectNotFound = 40401;
inline constexpr int kVersionNotFound = 40402;
inline constexpr int kSchemaNotFound = 40403;
inline constexpr int kSubjectSoftDeleted = 40404;
inline constexpr int kSubjectNotSoftDeleted = 40405;
inline constexpr int kSchemaVersionSoftDeleted = 40406;
inline constexpr int kSchemaVersionNotSoftDeleted = 40407;
inline constexpr int kSubjectCompatibilityNotConfigured = 40408;
inline constexpr int kSubjectModeNotConfigured = 40409;
inline constexpr int kIncompatibleSchema = 409;
inline constexpr int kInvalidSchema = 42201;
inline constexpr int kInvalidVersion = 42202;
inline constexpr int kInvalidCompatibilityLevel = 42203;
inline constexpr int kInvalidMode = 42204;
inline constexpr int kOperationNotPermitted = 42205;
inline constexpr int kReferenceExists = 42206;
inline constexpr int kIdDoesNotMatch = 42207;
inline constexpr int kInvalidSubject = 42208;
inline constexpr int kSchemaTooLarge = 42209;
inline constexpr int kStoreError = 50001;
inline constexpr int kOperationTimeout = 50002;
// 50005: what Confluent's Java client (RestService) reports when it cannot parse a *response*.
// A request body that is not JSON is answered by Confluent's REST layer (rest-utils'
// JsonParseExceptionMapper) with HTTP 400 and error_code 400, and so by serve/registry/ (issue 17,
// http helper: the groundwork said 400 with 50005). The auth refusals follow.
inline constexpr int kJsonParseError = 50005;
inline constexpr int kUnauthorized = 40101;
inline constexpr int kForbidden = 40301;

// A Status carrying `error_code`; its StatusCode follows the HTTP status (404 NotFound, 409
// FailedPrecondition, 422 InvalidArgument, 5xx Internal/Unavailable).
Status RegistryStatus(int error_code, std::string message);

struct RegistryError {
  int http_status = 500;
  int error_code = kStoreError;
  std::string message;
};
// The Confluent error of `status` (not OK): see the header comment.
RegistryError RegistryErrorOf(const Status& status);

}  // namespace dataforge::registry
