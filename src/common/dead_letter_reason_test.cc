// Every dead-letter reason the code produces (the format strings of its producers, filled in as
// they are at run time) and its class.
#include "common/dead_letter_reason.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace dataforge {
namespace {

struct Case {
  const char* producer;
  std::string reason;
  std::string_view klass;
};

TEST(DeadLetterReasonTest, EveryProducedReasonHasItsClass) {
  const std::vector<Case> cases = {
      // process/mapper.cc
      {"mapper",
       "record is not valid JSON: TAPE_ERROR: The JSON document has an improper structure",
       "invalid_json"},
      {"mapper", "record is not a JSON object: an array", "invalid_json"},
      {"mapper", "delete: key column \"id\" has no value", "missing_key"},
      {"mapper", "column \"email\": no value (tried email, contact.email)", "missing_field"},
      {"mapper", "column \"id\": no value (tried $key)", "missing_field"},
      {"mapper", "column \"post_code\": no value (tried location.postcode, its templates)",
       "missing_field"},
      {"mapper", "column \"dob\": value {\"date\":1} at dob is not a scalar", "type_mismatch"},
      {"mapper", "column \"id\": value \"not-a-uuid\" at $key is not a UUID", "type_mismatch"},
      {"mapper", "column \"dob\": value \"yesterday\" at dob.date is not a timestamp",
       "type_mismatch"},
      {"mapper", "column \"age\": value 12x at dob.age is not a 32-bit integer", "type_mismatch"},
      {"mapper", "column \"n\": value 1.5 at n is not a 64-bit integer", "type_mismatch"},
      {"mapper", "column \"lat\": value \"north\" at location.coordinates.latitude is not a number",
       "type_mismatch"},
      {"mapper",
       "column \"x\": value 1e400 at x is beyond the range of a double; use a decimal or text "
       "column",
       "type_mismatch"},
      {"mapper",
       "column \"price\": value \"abc\" at price is not a decimal (digits with an optional point "
       "and exponent, at most 38 digits; NaN and Infinity have none: use a double or text column)",
       "type_mismatch"},
      {"mapper", "column \"active\": value \"maybe\" at active is not a boolean", "type_mismatch"},
      // A quoted value that says "exceeds" or "not JSON" does not change the class.
      {"mapper", "column \"note\": value \"exceeds not JSON\" at note is not a UUID",
       "type_mismatch"},
      // process/processor.cc
      {"processor", "record of 2097152 bytes exceeds process.max_record_bytes (1048576)",
       "too_large"},
      {"processor",
       "a broadcast record (a source truncate) that is not at its place in the partitions' order: "
       "not applied",
       "other"},
      // process/wire_decoder.cc, relay/outbox_relay.cc (log.format confluent-*)
      {"wire_decoder",
       "log.format: not in Confluent's wire format: 12 bytes, first byte 0x7b (expected magic "
       "byte 0x00 and a 4-byte schema id)",
       "wire_format"},
      {"wire_decoder", "log.format: unknown schema id 99 (40403 Schema 99 not found)",
       "wire_format"},
      {"wire_decoder", "log.format: schema id 3 is AVRO, log.format confluent-json expects JSON",
       "wire_format"},
      {"wire_decoder",
       "log.format: the payload does not decode with schema id 1 (AVRO): not JSON at byte 3",
       "wire_format"},
      {"relay",
       "log.format: the record does not match schema id 1 of subject 'users-value': /gender "
       "enum: \"x\" is not one of male, female",
       "wire_format"},
      // process/row_schema.cc (process.schema)
      {"row_schema", "schema users-row id 3 v2: /age: type: expected integer, got string \"x\"",
       "schema"},
      {"row_schema", "schema users-row id 12 v1: (row): required: missing property \"id\"",
       "schema"},
      {"row_schema",
       "schema users-row (unregistered mapping schema): /email: type: expected string, got null",
       "schema"},
      // source/http (http_source.cc, response_parser.cc)
      {"http",
       "response is larger than source.max_response_bytes=1048576 bytes (1048577+ bytes "
       "received); raise source.max_response_bytes or ask for fewer results per page; the "
       "payload kept here is its first 64 KiB",
       "too_large"},
      {"http", "response is not JSON: TAPE_ERROR: The JSON document has an improper structure",
       "invalid_json"},
      {"http", "response is not a JSON object with a \"results\" array", "invalid_json"},
      {"http", "response has no \"results\" array; the API said: \"Uh oh, something exceeds\"",
       "invalid_json"},
      {"http", "response has no \"results\" array (keys: error, info)", "invalid_json"},
      {"http", "response \"results\" is not an array", "invalid_json"},
      {"http", "record 3 of the response is not a JSON object", "invalid_json"},
      {"http", "record 7 has no key (tried login.uuid)", "missing_key"},
      // source/postgres_cdc (pgoutput.cc ChangeKey)
      {"postgres_cdc",
       "cannot build the record key for public.accounts: key column \"id\" is column 3 but the "
       "tuple has 2 values",
       "missing_key"},
      {"postgres_cdc",
       "cannot build the record key for public.accounts: key column \"id\" is an unchanged TOAST "
       "value that the server did not send",
       "missing_key"},
      // staging/postgres
      {"postgres_staging",
       "PostgreSQL rejected the record: ERROR: invalid byte sequence for encoding \"UTF8\": 0x00",
       "other"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DeadLetterReasonClass(c.reason), c.klass) << c.producer << ": " << c.reason;
  }
}

TEST(DeadLetterReasonTest, CheckReasonClassNamesTheClasses) {
  EXPECT_TRUE(CheckReasonClass("").ok());
  for (std::string_view c : kDeadLetterReasonClasses) EXPECT_TRUE(CheckReasonClass(c).ok()) << c;
  Status s = CheckReasonClass("typo");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "reason class 'typo' is not one of: invalid_json, missing_key, missing_field, "
            "type_mismatch, too_large, schema, wire_format, other");
}

}  // namespace
}  // namespace dataforge
