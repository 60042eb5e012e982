#include "registry/registry_error.h"

#include <charconv>

namespace dataforge::registry {
namespace {

int HttpStatusOf(int error_code) {
  return error_code >= 10000 ? error_code / 100 : error_code;
}

StatusCode StatusCodeOf(int http_status) {
  switch (http_status) {
    case 400:
    case 422:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kFailedPrecondition;
    case 413:
      return StatusCode::kResourceExhausted;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

Status RegistryStatus(int error_code, std::string message) {
  return Status(StatusCodeOf(HttpStatusOf(error_code)),
                std::to_string(error_code) + " " + std::move(message));
}

RegistryError RegistryErrorOf(const Status& status) {
  const std::string& m = status.message();
  int code = 0;
  auto [end, ec] = std::from_chars(m.data(), m.data() + m.size(), code);
  if (ec == std::errc() && end != m.data() + m.size() && *end == ' ' && code >= 400 &&
      code < 100000) {
    return {HttpStatusOf(code), code, std::string(end + 1)};
  }
  switch (status.code()) {
    case StatusCode::kUnauthenticated:
      code = kUnauthorized;
      break;
    case StatusCode::kPermissionDenied:
      code = kForbidden;
      break;
    case StatusCode::kInvalidArgument:
    case StatusCode::kConfigError:
      code = kInvalidSchema;
      break;
    case StatusCode::kDeadlineExceeded:
      code = kOperationTimeout;
      break;
    default:
      code = kStoreError;
  }
  return {HttpStatusOf(code), code, m};
}

}  // namespace dataforge::registry
