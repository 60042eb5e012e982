#include "common/dead_letter_reason.h"

#include <algorithm>
#include <string>

namespace dataforge {
namespace {

bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// "record 12 <rest>" -> true with `rest` after the number.
bool NumberedRecord(std::string_view reason, std::string_view* rest) {
  if (!reason.starts_with("record ")) return false;
  size_t i = 7, digits = 0;
  while (i < reason.size() && reason[i] >= '0' && reason[i] <= '9') ++i, ++digits;
  if (digits == 0 || i >= reason.size() || reason[i] != ' ') return false;
  *rest = reason.substr(i + 1);
  return true;
}

}  // namespace

// The reasons are matched by their fixed beginnings, not by words anywhere: a reason quotes the
// record's values and the API's own text, which may say "exceeds" or "not JSON" themselves.
// dead_letter_reason_test.cc lists every reason the code produces and its class.
std::string_view DeadLetterReasonClass(std::string_view reason) {
  // process/mapper.cc: `column "<name>": no value (tried ...)`, else a value of the wrong type
  // (`... is not a UUID`, `is not a number`, `is beyond the range of a double`, ...).
  if (reason.starts_with("column \"")) {
    size_t end = reason.find("\": ");
    if (end != std::string_view::npos && reason.substr(end + 3).starts_with("no value (tried")) {
      return "missing_field";
    }
    return "type_mismatch";
  }
  // process/row_schema.cc: "schema users-row id 3 v2: /age: type: ..." (or "schema users-row
  // (unregistered mapping schema): ..." from a dry-run replay).
  if (reason.starts_with("schema ") &&
      (Has(reason.substr(0, reason.find(": ")), " id ") || Has(reason, " (unregistered "))) {
    return "schema";
  }
  if (reason.starts_with("delete: key column")) return "missing_key";  // mapper.cc
  // relay/outbox_relay.cc, process/wire_decoder.h (log.format confluent-*).
  if (reason.starts_with("log.format: ")) return "wire_format";
  if (reason.starts_with("record is not valid JSON") ||
      reason.starts_with("record is not a JSON object")) {
    return "invalid_json";  // mapper.cc
  }
  if (reason.starts_with("record of ") && Has(reason, "exceeds process.max_record_bytes")) {
    return "too_large";  // processor.cc
  }
  // source/http: the response as a whole, or one record of it.
  if (reason.starts_with("response is larger than")) return "too_large";
  if (reason.starts_with("response is not JSON") ||
      reason.starts_with("response is not a JSON object") ||
      reason.starts_with("response has no \"results\" array") ||
      reason.starts_with("response \"results\" is not an array")) {
    return "invalid_json";
  }
  std::string_view rest;
  if (NumberedRecord(reason, &rest)) {
    if (rest.starts_with("of the response is not a JSON object")) return "invalid_json";
    if (rest.starts_with("has no key")) return "missing_key";
  }
  // source/postgres_cdc: a change whose key columns cannot make a key.
  if (reason.starts_with("cannot build the record key")) return "missing_key";
  // Reasons of other producers (PostgreSQL staging's "PostgreSQL rejected the record: ...", an
  // out-of-place broadcast) and of older versions.
  if (Has(reason, "max_record_bytes") || Has(reason, "max_response_bytes")) return "too_large";
  if (Has(reason, "not valid JSON") || Has(reason, "not a JSON")) return "invalid_json";
  return "other";
}

Status CheckReasonClass(std::string_view reason_class) {
  if (reason_class.empty()) return Status::OK();
  std::string list;
  for (std::string_view c : kDeadLetterReasonClasses) {
    if (c == reason_class) return Status::OK();
    if (!list.empty()) list += ", ";
    list += c;
  }
  return Status::InvalidArgument("reason class '" + std::string(reason_class) +
                                 "' is not one of: " + list);
}

}  // namespace dataforge
