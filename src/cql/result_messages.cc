// RESULT, ERROR and EVENT bodies of the CQL native protocol v4 (messages.h; spec sections
// 4.2.5, 4.2.6 and 9).
#include <fmt/format.h>

#include "cql/messages.h"

namespace dataforge::cql {
namespace {

constexpr int32_t kGlobalTablesSpec = 0x0001;
constexpr int32_t kHasMorePages = 0x0002;
constexpr int32_t kNoMetadata = 0x0004;

bool SharesOneTable(const std::vector<ColumnSpec>& columns) {
  if (columns.empty()) return false;
  for (const ColumnSpec& c : columns) {
    if (c.keyspace != columns[0].keyspace || c.table != columns[0].table) return false;
  }
  return true;
}

void WriteColumnSpecs(const std::vector<ColumnSpec>& columns, bool global, WireWriter* w) {
  if (global) {
    w->String(columns[0].keyspace);
    w->String(columns[0].table);
  }
  for (const ColumnSpec& c : columns) {
    if (!global) {
      w->String(c.keyspace);
      w->String(c.table);
    }
    w->String(c.name);
    WriteType(c.type, w);
  }
}

// Reads `n` column specs; each needs at least a [string] name and an [option] (4 bytes), more
// without the global table spec.
std::vector<ColumnSpec> ReadColumnSpecs(WireReader* r, int32_t n, bool global) {
  std::vector<ColumnSpec> columns;
  std::string keyspace, table;
  if (global) {
    keyspace = r->String();
    table = r->String();
  }
  if (!r->ok()) return columns;
  const size_t min_bytes = global ? 4 : 8;
  if (n < 0 || static_cast<size_t>(n) * min_bytes > r->remaining()) {
    r->Fail(fmt::format("column count {} does not fit the {} bytes left at byte {}", n,
                        r->remaining(), r->position()));
    return columns;
  }
  columns.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n && r->ok(); ++i) {
    ColumnSpec c;
    if (global) {
      c.keyspace = keyspace;
      c.table = table;
    } else {
      c.keyspace = r->String();
      c.table = r->String();
    }
    c.name = r->String();
    c.type = ReadType(r);
    columns.push_back(std::move(c));
  }
  return columns;
}

void WriteRowsMetadata(const RowsMetadata& m, WireWriter* w) {
  const bool no_metadata = m.no_metadata || m.columns.empty();
  const bool global = !no_metadata && SharesOneTable(m.columns);
  int32_t flags = 0;
  if (global) flags |= kGlobalTablesSpec;
  if (m.paging_state) flags |= kHasMorePages;
  if (no_metadata) flags |= kNoMetadata;
  w->Int(flags);
  w->Int(no_metadata ? m.column_count : static_cast<int32_t>(m.columns.size()));
  if (m.paging_state) w->BytesView(*m.paging_state);
  if (!no_metadata) WriteColumnSpecs(m.columns, global, w);
}

RowsMetadata ReadRowsMetadata(WireReader* r) {
  RowsMetadata m;
  const size_t flags_at = r->position();
  const int32_t flags = r->Int();
  if (r->ok() && (flags & ~(kGlobalTablesSpec | kHasMorePages | kNoMetadata))) {
    r->Fail(fmt::format("unknown metadata flags 0x{:08x} at byte {}", flags, flags_at));
  }
  const size_t count_at = r->position();
  m.column_count = r->Int();
  if (r->ok() && m.column_count < 0) {
    r->Fail(fmt::format("negative column count {} at byte {}", m.column_count, count_at));
  }
  if (r->ok() && (flags & kHasMorePages)) {
    m.paging_state = r->Bytes();
    if (r->ok() && !m.paging_state) m.paging_state = std::string();
  }
  m.no_metadata = (flags & kNoMetadata) != 0;
  if (r->ok() && !m.no_metadata) {
    m.columns = ReadColumnSpecs(r, m.column_count, (flags & kGlobalTablesSpec) != 0);
  }
  return m;
}

void WriteSchemaChange(const SchemaChange& c, WireWriter* w) {
  w->String(c.change_type);
  w->String(c.target);
  w->String(c.keyspace);
  if (c.target == "KEYSPACE") return;
  w->String(c.name);
  if (c.target == "FUNCTION" || c.target == "AGGREGATE") w->StringList(c.argument_types);
}

SchemaChange ReadSchemaChange(WireReader* r) {
  SchemaChange c;
  c.change_type = r->String();
  c.target = r->String();
  c.keyspace = r->String();
  if (!r->ok() || c.target == "KEYSPACE") return c;
  if (c.target == "TABLE" || c.target == "TYPE") {
    c.name = r->String();
  } else if (c.target == "FUNCTION" || c.target == "AGGREGATE") {
    c.name = r->String();
    c.argument_types = r->StringList();
  } else {
    r->Fail(fmt::format("unknown schema change target '{}'", c.target));
  }
  return c;
}

}  // namespace

std::string ErrorCodeName(int32_t code) {
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kServerError:
      return "Server_error";
    case ErrorCode::kProtocolError:
      return "Protocol_error";
    case ErrorCode::kBadCredentials:
      return "Bad_credentials";
    case ErrorCode::kUnavailable:
      return "Unavailable";
    case ErrorCode::kOverloaded:
      return "Overloaded";
    case ErrorCode::kIsBootstrapping:
      return "Is_bootstrapping";
    case ErrorCode::kTruncateError:
      return "Truncate_error";
    case ErrorCode::kWriteTimeout:
      return "Write_timeout";
    case ErrorCode::kReadTimeout:
      return "Read_timeout";
    case ErrorCode::kReadFailure:
      return "Read_failure";
    case ErrorCode::kFunctionFailure:
      return "Function_failure";
    case ErrorCode::kWriteFailure:
      return "Write_failure";
    case ErrorCode::kSyntaxError:
      return "Syntax_error";
    case ErrorCode::kUnauthorized:
      return "Unauthorized";
    case ErrorCode::kInvalid:
      return "Invalid";
    case ErrorCode::kConfigError:
      return "Config_error";
    case ErrorCode::kAlreadyExists:
      return "Already_exists";
    case ErrorCode::kUnprepared:
      return "Unprepared";
  }
  return fmt::format("error 0x{:04x}", static_cast<uint32_t>(code));
}

void EncodeError(const ErrorMessage& m, std::string* body) {
  WireWriter w(body);
  w.Int(m.code);
  w.String(m.message);
  switch (static_cast<ErrorCode>(m.code)) {
    case ErrorCode::kUnavailable:
      w.Short(static_cast<uint16_t>(m.consistency));
      w.Int(m.required_or_received);
      w.Int(m.alive_or_block_for);
      break;
    case ErrorCode::kWriteTimeout:
      w.Short(static_cast<uint16_t>(m.consistency));
      w.Int(m.required_or_received);
      w.Int(m.alive_or_block_for);
      w.String(m.write_type);
      break;
    case ErrorCode::kReadTimeout:
      w.Short(static_cast<uint16_t>(m.consistency));
      w.Int(m.required_or_received);
      w.Int(m.alive_or_block_for);
      w.Byte(m.data_present ? 1 : 0);
      break;
    case ErrorCode::kReadFailure:
      w.Short(static_cast<uint16_t>(m.consistency));
      w.Int(m.required_or_received);
      w.Int(m.alive_or_block_for);
      w.Int(m.num_failures);
      w.Byte(m.data_present ? 1 : 0);
      break;
    case ErrorCode::kWriteFailure:
      w.Short(static_cast<uint16_t>(m.consistency));
      w.Int(m.required_or_received);
      w.Int(m.alive_or_block_for);
      w.Int(m.num_failures);
      w.String(m.write_type);
      break;
    case ErrorCode::kFunctionFailure:
      w.String(m.keyspace);
      w.String(m.function);
      w.StringList(m.arg_types);
      break;
    case ErrorCode::kAlreadyExists:
      w.String(m.keyspace);
      w.String(m.table);
      break;
    case ErrorCode::kUnprepared:
      w.ShortBytes(m.unprepared_id);
      break;
    default:
      break;
  }
}

Result<ErrorMessage> DecodeError(std::string_view body) {
  WireReader r(body);
  ErrorMessage m;
  m.code = r.Int();
  m.message = r.String();
  auto counts = [&](bool failures) {
    m.consistency = static_cast<Consistency>(r.Short());
    m.required_or_received = r.Int();
    m.alive_or_block_for = r.Int();
    if (failures) m.num_failures = r.Int();
  };
  switch (static_cast<ErrorCode>(m.code)) {
    case ErrorCode::kUnavailable:
      counts(false);
      break;
    case ErrorCode::kWriteTimeout:
      counts(false);
      m.write_type = r.String();
      break;
    case ErrorCode::kReadTimeout:
      counts(false);
      m.data_present = r.Byte() != 0;
      break;
    case ErrorCode::kReadFailure:
      counts(true);
      m.data_present = r.Byte() != 0;
      break;
    case ErrorCode::kWriteFailure:
      counts(true);
      m.write_type = r.String();
      break;
    case ErrorCode::kFunctionFailure:
      m.keyspace = r.String();
      m.function = r.String();
      m.arg_types = r.StringList();
      break;
    case ErrorCode::kAlreadyExists:
      m.keyspace = r.String();
      m.table = r.String();
      break;
    case ErrorCode::kUnprepared:
      m.unprepared_id = r.ShortBytes();
      break;
    default:
      // No extra fields in v4; whatever follows (a later protocol's fields) is ignored.
      if (!r.ok()) break;
      return m;
  }
  return FinishBody(r, fmt::format("ERROR ({})", ErrorCodeName(m.code)).c_str(), std::move(m));
}

void EncodeResult(const ResultMessage& m, std::string* body) {
  WireWriter w(body);
  w.Int(static_cast<int32_t>(m.kind));
  switch (m.kind) {
    case ResultKind::kVoid:
      break;
    case ResultKind::kRows: {
      WriteRowsMetadata(m.rows.metadata, &w);
      w.Int(static_cast<int32_t>(m.rows.rows.size()));
      for (const auto& row : m.rows.rows) {
        for (const auto& cell : row) w.Bytes(cell);
      }
      break;
    }
    case ResultKind::kSetKeyspace:
      w.String(m.keyspace);
      break;
    case ResultKind::kPrepared: {
      const PreparedResult& p = m.prepared;
      w.ShortBytes(p.id);
      const bool global = SharesOneTable(p.bind_columns);
      w.Int(global ? kGlobalTablesSpec : 0);
      w.Int(static_cast<int32_t>(p.bind_columns.size()));
      w.Int(static_cast<int32_t>(p.pk_indexes.size()));
      for (uint16_t i : p.pk_indexes) w.Short(i);
      WriteColumnSpecs(p.bind_columns, global, &w);
      WriteRowsMetadata(p.result_metadata, &w);
      break;
    }
    case ResultKind::kSchemaChange:
      WriteSchemaChange(m.schema_change, &w);
      break;
  }
}

Result<ResultMessage> DecodeResult(std::string_view body) {
  WireReader r(body);
  ResultMessage m;
  const int32_t kind = r.Int();
  m.kind = static_cast<ResultKind>(kind);
  switch (m.kind) {
    case ResultKind::kVoid:
      break;
    case ResultKind::kRows: {
      m.rows.metadata = ReadRowsMetadata(&r);
      const size_t count_at = r.position();
      const int32_t n = r.Int();
      const int32_t cols = m.rows.metadata.column_count;
      if (!r.ok()) break;
      // Each cell is at least an [int] length: a count the body cannot hold fails before any
      // allocation. Rows without columns hold no bytes, so they are refused outright.
      if (n < 0 || (n > 0 && cols == 0) ||
          static_cast<uint64_t>(n) * static_cast<uint64_t>(cols) * 4 > r.remaining()) {
        r.Fail(fmt::format("row count {} of {} columns at byte {} does not fit the {} bytes left",
                           n, cols, count_at, r.remaining()));
        break;
      }
      m.rows.rows.reserve(static_cast<size_t>(n));
      for (int32_t i = 0; i < n && r.ok(); ++i) {
        std::vector<std::optional<std::string>> row;
        row.reserve(static_cast<size_t>(cols));
        for (int32_t j = 0; j < cols && r.ok(); ++j) row.push_back(r.Bytes());
        m.rows.rows.push_back(std::move(row));
      }
      break;
    }
    case ResultKind::kSetKeyspace:
      m.keyspace = r.String();
      break;
    case ResultKind::kPrepared: {
      PreparedResult& p = m.prepared;
      p.id = r.ShortBytes();
      const size_t flags_at = r.position();
      const int32_t flags = r.Int();
      if (r.ok() && (flags & ~kGlobalTablesSpec)) {
        r.Fail(fmt::format("unknown prepared metadata flags 0x{:08x} at byte {}", flags, flags_at));
      }
      const int32_t cols = r.Int();
      const size_t pk_at = r.position();
      const int32_t pk_count = r.Int();
      if (r.ok() && (pk_count < 0 || static_cast<size_t>(pk_count) * 2 > r.remaining())) {
        r.Fail(fmt::format("partition key count {} at byte {} does not fit the {} bytes left",
                           pk_count, pk_at, r.remaining()));
      }
      for (int32_t i = 0; i < pk_count && r.ok(); ++i) p.pk_indexes.push_back(r.Short());
      if (r.ok()) p.bind_columns = ReadColumnSpecs(&r, cols, (flags & kGlobalTablesSpec) != 0);
      if (r.ok()) p.result_metadata = ReadRowsMetadata(&r);
      break;
    }
    case ResultKind::kSchemaChange:
      m.schema_change = ReadSchemaChange(&r);
      break;
    default:
      if (r.ok()) r.Fail(fmt::format("unknown result kind 0x{:04x} at byte 0", kind));
      break;
  }
  return FinishBody(r, "RESULT", std::move(m));
}

void EncodeSchemaChangeEvent(const SchemaChange& c, std::string* body) {
  WireWriter w(body);
  w.String("SCHEMA_CHANGE");
  WriteSchemaChange(c, &w);
}

Result<SchemaChange> DecodeSchemaChangeEvent(std::string_view body) {
  WireReader r(body);
  const std::string type = r.String();
  if (r.ok() && type != "SCHEMA_CHANGE") {
    return Status::InvalidArgument(
        fmt::format("EVENT body: event type '{}', expected SCHEMA_CHANGE", type));
  }
  SchemaChange c = ReadSchemaChange(&r);
  return FinishBody(r, "EVENT", std::move(c));
}

}  // namespace dataforge::cql
