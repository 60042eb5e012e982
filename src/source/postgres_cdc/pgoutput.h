// Decoder for PostgreSQL's built-in `pgoutput` logical replication plugin and the replication
// stream framing around it. Pure functions: no I/O, no clock, no global state; thread-safe.
//
// Scope: protocol version 1 (PostgreSQL 10+, checked against 15), text-format values,
// `streaming` off (no Stream Start/Stop/Commit/Abort and no Xid prefix in row messages), no
// two-phase messages. Those tags are rejected by Decode() rather than silently skipped,
// because skipping a Stream Start would make every following row message misparse.
//
// Wire formats (all integers big-endian, strings NUL-terminated):
//   https://www.postgresql.org/docs/15/protocol-replication.html        (XLogData, keepalive, 'r')
//   https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html  (pgoutput)
//
// Times: every *_us field and parameter in this API is microseconds since the Unix epoch.
// The wire carries microseconds since the PostgreSQL epoch (2000-01-01); the conversion is
// done here, in both directions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace dataforge::pgoutput {

// Microseconds between the Unix epoch and the PostgreSQL epoch (2000-01-01T00:00:00Z).
inline constexpr int64_t kPgEpochOffsetUs = int64_t{946684800} * 1000000;

// LSNs as uint64; text form "X/Y" (hex, upper-case, no padding, like pg_lsn output).
std::string FormatLsn(uint64_t lsn);
// "16/B374D848" -> 0x16B374D848. Each half is 1-8 hex digits (either case); anything else is
// InvalidArgument quoting the text.
Result<uint64_t> ParseLsn(std::string_view text);

// --- Replication stream framing (the CopyData payloads of START_REPLICATION) ---

// `payload` points into the buffer given to ParseCopyData(); it is valid as long as that is.
struct XLogData {
  uint64_t wal_start = 0;
  uint64_t wal_end = 0;
  int64_t send_time_us = 0;  // Unix epoch
  std::string_view payload;
};
struct Keepalive {
  uint64_t wal_end = 0;
  int64_t send_time_us = 0;  // Unix epoch
  bool reply_requested = false;
};
// Parses one CopyData payload from the server: XLogData ('w', at least 25 bytes) or Primary
// keepalive ('k', exactly 18 bytes). Anything else is Corruption with a one-line message naming
// the type byte or the length that was wrong.
Result<std::variant<XLogData, Keepalive>> ParseCopyData(std::string_view data);
// The Standby status update ('r', 34 bytes) to send as a CopyData payload. `written`, `flushed`
// and `applied` are written as given (the protocol wants "last byte + 1", i.e. the end LSN of
// what was processed). `now_unix_us` is converted to the PostgreSQL epoch.
std::string StandbyStatusUpdate(uint64_t written, uint64_t flushed, uint64_t applied,
                                int64_t now_unix_us, bool reply_requested);

// --- pgoutput messages (the XLogData payload) ---

struct Column {
  bool key = false;  // part of the replica identity (every column under REPLICA IDENTITY FULL)
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
};
struct Relation {
  uint32_t oid = 0;
  std::string schema;  // the wire's empty namespace is returned as "pg_catalog"
  std::string name;
  char replica_identity = 'd';  // relreplident: 'd' default, 'n' nothing, 'f' full, 'i' index
  std::vector<Column> columns;
};
struct Begin {
  uint64_t final_lsn = 0;
  int64_t commit_time_us = 0;  // Unix epoch
  uint32_t xid = 0;
};
struct Commit {
  uint8_t flags = 0;
  uint64_t commit_lsn = 0;
  uint64_t end_lsn = 0;
  int64_t commit_time_us = 0;  // Unix epoch
};
enum class ValueKind : char { kNull = 'n', kUnchangedToast = 'u', kText = 't', kBinary = 'b' };
struct Value {
  ValueKind kind = ValueKind::kNull;
  std::string data;  // the bytes of a kText or kBinary value; empty otherwise
};
struct Change {
  char op = 'I';  // 'I' insert, 'U' update, 'D' delete; 'R' a snapshot read (never decoded)
  uint32_t relation_oid = 0;
  char old_kind = 0;              // 0 = no old tuple; 'K' = key columns only; 'O' = whole old row
  std::vector<Value> old_values;  // when old_kind != 0 (for 'K' non-key columns are kNull)
  std::vector<Value> new_values;  // insert, update
};
struct Truncate {
  std::vector<uint32_t> relation_oids;
  uint8_t options = 0;  // bit 1 CASCADE, bit 2 RESTART IDENTITY
};
// Origin 'O', Type 'Y', logical decoding Message 'M': validated, then ignored.
struct Other {
  char tag = 0;
};
using Message = std::variant<Begin, Commit, Relation, Change, Truncate, Other>;

// Decodes one pgoutput message. Malformed, truncated or over-long input, an unknown tag, and
// the streaming / two-phase tags are Corruption errors naming the message tag and the offset.
// A Change is not checked against its Relation here; see CheckChangeMatches().
Result<Message> Decode(std::string_view payload);

// OK when `change` belongs to `rel` and each of its tuples has exactly rel.columns.size()
// values; otherwise Corruption naming the table and the counts. Call before the two functions
// below, which assume it (they never read out of range, but would drop or misname columns).
Status CheckChangeMatches(const Relation& rel, const Change& change);

// --- Values to JSON ---

// Appends one column value as JSON to `out`, chosen by the column's type OID, from pgoutput's
// text form:
//   bool (16) 't'/'f' -> true/false; int2/int4/int8/oid (21,23,20,26) -> the number as is;
//   float4/float8 (700,701) -> the number as PostgreSQL prints it, except "-0" -> -0.0 (JSON
//   readers take -0 for the integer 0); "NaN", "Infinity", "-Infinity" -> JSON strings;
//   numeric (1700) -> its exact text as a JSON string ("12345678901234567890.123456789",
//   "NaN", "Infinity"): a JSON number would be read through a double;
//   json/jsonb (114,3802) -> their JSON text as a JSON string ("{\"a\": 1}", "null"), so a
//   jsonb null stays distinct from SQL NULL (null) and numbers beyond a double (1e400) stay;
//   everything else (text, varchar, uuid, timestamps, bytea as \x.., arrays, enums...) -> the
//   text as a JSON string. A domain is converted by its base type: the caller passes the base
//   type's OID (PostgresCdcSource resolves domains from pg_type.typbasetype).
// kNull -> null. A kBinary value is written as a JSON string "\x<hex>", and so is text that is
// not valid UTF-8 (from a SQL_ASCII or LATIN1 database; JSON text is UTF-8). Numbers whose text
// is not a valid JSON number are written as strings, so the output is always valid JSON.
// kUnchangedToast should not be passed (callers skip such columns); it is written as null.
void AppendValueJson(std::string* out, uint32_t type_oid, const Value& v);

// The change event record DataForge stages for one row change: one JSON object, keys in order
//   {"op":"insert"|"update"|"delete"|"read","table":"schema.name","lsn":"X/Y" (txn.final_lsn),
//    "xid":N,"commit_time":"2026-11-25T03:04:05.123456Z",
//    "data":{col:value,...},
//    "before":{...}}
// data: insert/update -> the new row, unchanged-TOAST columns omitted; delete -> the old
// tuple's non-null columns (the key, or the whole row with REPLICA IDENTITY FULL).
// before: only for an update carrying an old tuple ('K' or 'O'); the old tuple's non-null
// columns, by the same rule as a delete's data.
// A table or column name that is not valid UTF-8 is written as "\x<hex>", like such a value.
std::string ChangeEventJson(const Relation& rel, const Change& change, const Begin& txn);

// The record key for a change: "schema.name/" + the key columns' values (Column::key, in column
// order) joined with "/". Values come from the old tuple when there is one (delete, update with
// 'K'/'O'), else from the new tuple. Each value is escaped so that distinct keys stay distinct:
// '\' -> "\\", '/' -> "\/", and a NULL is written as "\N".
// Errors (InvalidArgument, one line, naming the table): the relation has no key columns ("set a
// primary key or REPLICA IDENTITY FULL"); a key value is missing from the tuple or is an
// unchanged TOAST value.
Result<std::string> ChangeKey(const Relation& rel, const Change& change);

// Makes exactly the columns named in `key_columns` the key columns of `rel` (Column::key), so
// that ChangeKey() names the row by them instead of by the replica identity the server marked
// (under REPLICA IDENTITY FULL that is every column). Names that are not columns of `rel` are
// ignored; if none is, ChangeKey() fails with "no key columns". Empty `key_columns`: unchanged.
void MarkKeyColumns(Relation* rel, const std::vector<std::string>& key_columns);

// "2026-11-25T03:04:05.123456Z" for microseconds since the Unix epoch (UTC, always 6 digits).
std::string FormatTimestampMicros(int64_t unix_us);

}  // namespace dataforge::pgoutput
