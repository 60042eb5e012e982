// Bodies of the CQL native protocol v4 messages (native_protocol_v4.spec section 4), encoded
// and decoded by the same code on both sides: the client (cql/client/) and the endpoint
// (serve/cql/). Each Encode* appends the body only (frame.h adds the header); each Decode*
// reads one whole body and fails with InvalidArgument ("QUERY body: truncated [value] at byte
// 17 of 20") on malformed input, never reading past the end. Plain values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "cql/types.h"
#include "cql/wire.h"

namespace dataforge::cql {

enum class Consistency : uint16_t {
  kAny = 0x0000,
  kOne = 0x0001,
  kTwo = 0x0002,
  kThree = 0x0003,
  kQuorum = 0x0004,
  kAll = 0x0005,
  kLocalQuorum = 0x0006,
  kEachQuorum = 0x0007,
  kSerial = 0x0008,
  kLocalSerial = 0x0009,
  kLocalOne = 0x000A,
};
// "LOCAL_QUORUM", ...; ParseConsistency accepts those names, case-insensitive.
std::string ConsistencyName(Consistency c);
std::optional<Consistency> ParseConsistency(std::string_view name);

// --- Requests ---

// STARTUP: a [string map]; CQL_VERSION is required ("3.0.0").
struct StartupMessage {
  std::vector<std::pair<std::string, std::string>> options;
};
void EncodeStartup(const StartupMessage& m, std::string* body);
Result<StartupMessage> DecodeStartup(std::string_view body);

// AUTH_RESPONSE / AUTH_CHALLENGE / AUTH_SUCCESS: one [bytes] token. PasswordAuthenticator's
// token is "\0user\0password".
std::string EncodeAuthToken(const std::optional<std::string>& token);
Result<std::optional<std::string>> DecodeAuthToken(std::string_view body);
std::string PlainAuthToken(std::string_view user, std::string_view password);
// Splits "\0user\0password" (an optional authzid before the first \0 is ignored).
std::optional<std::pair<std::string, std::string>> ParsePlainAuthToken(std::string_view token);

// <query_parameters> of QUERY and EXECUTE (section 4.1.4).
enum QueryFlag : uint8_t {
  kQueryValues = 0x01,
  kQuerySkipMetadata = 0x02,
  kQueryPageSize = 0x04,
  kQueryPagingState = 0x08,
  kQuerySerialConsistency = 0x10,
  kQueryDefaultTimestamp = 0x20,
  kQueryValueNames = 0x40,
};
struct QueryParameters {
  Consistency consistency = Consistency::kOne;
  std::vector<Value> values;
  std::vector<std::string> value_names;  // with kQueryValueNames, one per value
  bool skip_metadata = false;
  std::optional<int32_t> page_size;
  std::optional<std::string> paging_state;
  std::optional<Consistency> serial_consistency;
  std::optional<int64_t> timestamp;  // microseconds since the epoch
};
void EncodeQueryParameters(const QueryParameters& p, WireWriter* w);
QueryParameters ReadQueryParameters(WireReader* r);

struct QueryMessage {
  std::string query;
  QueryParameters params;
};
void EncodeQuery(const QueryMessage& m, std::string* body);
Result<QueryMessage> DecodeQuery(std::string_view body);

struct PrepareMessage {
  std::string query;
};
void EncodePrepare(const PrepareMessage& m, std::string* body);
Result<PrepareMessage> DecodePrepare(std::string_view body);

struct ExecuteMessage {
  std::string id;  // [short bytes]
  QueryParameters params;
};
void EncodeExecute(const ExecuteMessage& m, std::string* body);
Result<ExecuteMessage> DecodeExecute(std::string_view body);

enum class BatchType : uint8_t { kLogged = 0, kUnlogged = 1, kCounter = 2 };
struct BatchStatement {
  bool prepared = false;  // kind 1: `query_or_id` is a prepared id; kind 0: CQL text
  std::string query_or_id;
  std::vector<Value> values;
  // Names sent with the values (BATCH flag 0x40). v4 says named values are not supported in
  // batches (CASSANDRA-10246): DecodeBatch keeps them so the endpoint can refuse the batch
  // with a clear error; EncodeBatch sets the flag when any statement has names.
  std::vector<std::string> value_names;
};
struct BatchMessage {
  BatchType type = BatchType::kUnlogged;
  std::vector<BatchStatement> statements;
  Consistency consistency = Consistency::kOne;
  std::optional<Consistency> serial_consistency;
  std::optional<int64_t> timestamp;
};
void EncodeBatch(const BatchMessage& m, std::string* body);
Result<BatchMessage> DecodeBatch(std::string_view body);

// REGISTER: a [string list] of event types.
Result<std::vector<std::string>> DecodeRegister(std::string_view body);
void EncodeRegister(const std::vector<std::string>& events, std::string* body);

// --- Responses ---

// SUPPORTED: a [string multimap].
void EncodeSupported(const std::vector<std::pair<std::string, std::vector<std::string>>>& m,
                     std::string* body);
Result<std::vector<std::pair<std::string, std::vector<std::string>>>> DecodeSupported(
    std::string_view body);

// AUTHENTICATE: the authenticator's class name.
void EncodeAuthenticate(std::string_view authenticator, std::string* body);
Result<std::string> DecodeAuthenticate(std::string_view body);

enum class ErrorCode : int32_t {
  kServerError = 0x0000,
  kProtocolError = 0x000A,
  kBadCredentials = 0x0100,
  kUnavailable = 0x1000,
  kOverloaded = 0x1001,
  kIsBootstrapping = 0x1002,
  kTruncateError = 0x1003,
  kWriteTimeout = 0x1100,
  kReadTimeout = 0x1200,
  kReadFailure = 0x1300,
  kFunctionFailure = 0x1400,
  kWriteFailure = 0x1500,
  kSyntaxError = 0x2000,
  kUnauthorized = 0x2100,
  kInvalid = 0x2200,
  kConfigError = 0x2300,
  kAlreadyExists = 0x2400,
  kUnprepared = 0x2500,
};
// "Unavailable", "Write_timeout", ... or "error 0x1234".
std::string ErrorCodeName(int32_t code);

// ERROR (section 9). The extra fields of the codes that have them are kept; the rest of a body
// with an unknown code is ignored.
struct ErrorMessage {
  int32_t code = 0;
  std::string message;
  // Unavailable, Write_timeout, Read_timeout, Read_failure, Write_failure:
  Consistency consistency = Consistency::kOne;
  int32_t required_or_received = 0;  // Unavailable: required; timeouts/failures: received
  int32_t alive_or_block_for = 0;    // Unavailable: alive; timeouts/failures: blockfor
  int32_t num_failures = 0;          // Read_failure, Write_failure
  bool data_present = false;         // Read_timeout, Read_failure
  std::string write_type;            // Write_timeout, Write_failure
  // Already_exists (keyspace, table; table empty for a keyspace), Function_failure (keyspace):
  std::string keyspace, table;
  // Function_failure: the function's name and argument types.
  std::string function;
  std::vector<std::string> arg_types;
  // Unprepared:
  std::string unprepared_id;
};
void EncodeError(const ErrorMessage& m, std::string* body);
Result<ErrorMessage> DecodeError(std::string_view body);

// RESULT (section 4.2.5).
enum class ResultKind : int32_t {
  kVoid = 0x0001,
  kRows = 0x0002,
  kSetKeyspace = 0x0003,
  kPrepared = 0x0004,
  kSchemaChange = 0x0005,
};

struct ColumnSpec {
  std::string keyspace, table, name;
  DataType type;
};

// <metadata> of Rows results and of Prepared results' result metadata.
struct RowsMetadata {
  std::vector<ColumnSpec> columns;  // empty with no_metadata
  int32_t column_count = 0;         // set even with no_metadata
  bool no_metadata = false;
  std::optional<std::string> paging_state;  // Has_more_pages
};

struct RowsResult {
  RowsMetadata metadata;
  // rows[i][j]: column j of row i; nullopt = null.
  std::vector<std::vector<std::optional<std::string>>> rows;
};

struct PreparedResult {
  std::string id;
  // Bind markers: their specs and the indexes of those that are partition key columns.
  std::vector<ColumnSpec> bind_columns;
  std::vector<uint16_t> pk_indexes;
  RowsMetadata result_metadata;  // columns of a SELECT; empty (no_metadata) otherwise
};

struct SchemaChange {
  std::string change_type;  // CREATED, UPDATED, DROPPED
  std::string target;       // KEYSPACE, TABLE, TYPE, FUNCTION, AGGREGATE
  std::string keyspace;
  std::string name;                         // table or type name; empty for KEYSPACE
  std::vector<std::string> argument_types;  // FUNCTION, AGGREGATE: the [string list]
};

struct ResultMessage {
  ResultKind kind = ResultKind::kVoid;
  RowsResult rows;             // kRows
  std::string keyspace;        // kSetKeyspace
  PreparedResult prepared;     // kPrepared
  SchemaChange schema_change;  // kSchemaChange
};

// Rows are written with the global table spec when all columns share one table.
void EncodeResult(const ResultMessage& m, std::string* body);
Result<ResultMessage> DecodeResult(std::string_view body);

// EVENT SCHEMA_CHANGE body.
void EncodeSchemaChangeEvent(const SchemaChange& c, std::string* body);
// An EVENT body of type SCHEMA_CHANGE; InvalidArgument for other event types.
Result<SchemaChange> DecodeSchemaChangeEvent(std::string_view body);

}  // namespace dataforge::cql
