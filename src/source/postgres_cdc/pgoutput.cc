#include "source/postgres_cdc/pgoutput.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>

#include "common/escape.h"
#include "common/json_writer.h"

namespace dataforge::pgoutput {

namespace {

uint64_t LoadBigEndian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void PutBigEndian64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

// PostgreSQL epoch <-> Unix epoch, saturating so that PostgreSQL's -infinity / infinity
// (INT64_MIN / INT64_MAX) stay where they are and nothing overflows.
int64_t PgToUnixMicros(int64_t pg_us) {
  int64_t out;
  if (__builtin_add_overflow(pg_us, kPgEpochOffsetUs, &out)) {
    return std::numeric_limits<int64_t>::max();
  }
  return out;
}

int64_t UnixToPgMicros(int64_t unix_us) {
  int64_t out;
  if (__builtin_sub_overflow(unix_us, kPgEpochOffsetUs, &out)) {
    return std::numeric_limits<int64_t>::min();
  }
  return out;
}

// "0x4e ('N')" or "0x00".
std::string DescribeByte(uint8_t c) {
  if (c >= 0x20 && c < 0x7f) return fmt::format("0x{:02x} ('{}')", c, static_cast<char>(c));
  return fmt::format("0x{:02x}", c);
}

std::string_view MessageName(char tag) {
  switch (tag) {
    case 'B':
      return "Begin";
    case 'C':
      return "Commit";
    case 'O':
      return "Origin";
    case 'R':
      return "Relation";
    case 'Y':
      return "Type";
    case 'I':
      return "Insert";
    case 'U':
      return "Update";
    case 'D':
      return "Delete";
    case 'T':
      return "Truncate";
    case 'M':
      return "Message";
    default:
      return "unknown";
  }
}

// Bounds-checked big-endian reader over one pgoutput message. Every error is Corruption and
// names the message, the offset and the field.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  // Errors mention "tuple column N" / "column definition N" while this is set (>= 0).
  void set_column(int column, const char* what) {
    column_ = column;
    column_what_ = what;
  }

  Status Truncated(std::string_view field, size_t need) const {
    return Error("truncated", fmt::format("{} needs {} bytes, {} left", field, need, remaining()));
  }
  Status Malformed(std::string_view problem) const { return Error("malformed", problem); }

  Status U8(std::string_view field, uint8_t* v) {
    DF_RETURN_IF_ERROR(Need(field, 1));
    *v = static_cast<uint8_t>(data_[pos_++]);
    return Status::OK();
  }
  Status U16(std::string_view field, uint16_t* v) { return Int(field, 2, v); }
  Status U32(std::string_view field, uint32_t* v) { return Int(field, 4, v); }
  Status U64(std::string_view field, uint64_t* v) { return Int(field, 8, v); }

  Status CString(std::string_view field, std::string* s) {
    size_t nul = data_.find('\0', pos_);
    if (nul == std::string_view::npos) {
      return Error("truncated", fmt::format("{} has no terminating NUL", field));
    }
    s->assign(data_.data() + pos_, nul - pos_);
    pos_ = nul + 1;
    return Status::OK();
  }

  Status Bytes(std::string_view field, size_t n, std::string* s) {
    DF_RETURN_IF_ERROR(Need(field, n));
    if (s != nullptr) s->assign(data_.data() + pos_, n);
    pos_ += n;
    return Status::OK();
  }

  Status End() const {
    if (remaining() == 0) return Status::OK();
    return Malformed(fmt::format("{} unexpected bytes after the message", remaining()));
  }

 private:
  Status Need(std::string_view field, size_t n) const {
    return remaining() < n ? Truncated(field, n) : Status::OK();
  }

  template <typename T>
  Status Int(std::string_view field, int bytes, T* v) {
    DF_RETURN_IF_ERROR(Need(field, bytes));
    *v = static_cast<T>(LoadBigEndian(data_.data() + pos_, bytes));
    pos_ += bytes;
    return Status::OK();
  }

  Status Error(std::string_view kind, std::string_view problem) const {
    char tag = data_.empty() ? '?' : data_[0];
    std::string where;
    if (column_ >= 0) where = fmt::format(" ({} {})", column_what_, column_);
    return Status::Corruption(
        fmt::format("pgoutput {} ('{}') message {} at offset {} of {} bytes{}: {}",
                    MessageName(tag), tag, kind, pos_, data_.size(), where, problem));
  }

  std::string_view data_;
  size_t pos_ = 1;  // the tag byte has been read by Decode()
  int column_ = -1;
  const char* column_what_ = "";
};

Status ReadTuple(Reader& r, std::vector<Value>* out) {
  uint16_t n = 0;
  DF_RETURN_IF_ERROR(r.U16("tuple column count", &n));
  if (n > r.remaining()) {  // every column takes at least its kind byte
    return r.Truncated(fmt::format("tuple of {} columns", n), n);
  }
  out->assign(n, Value{});
  for (int i = 0; i < n; ++i) {
    r.set_column(i, "tuple column");
    uint8_t kind = 0;
    DF_RETURN_IF_ERROR(r.U8("value kind", &kind));
    Value& v = (*out)[i];
    switch (kind) {
      case 'n':
      case 'u':
        v.kind = static_cast<ValueKind>(kind);
        break;
      case 't':
      case 'b': {
        v.kind = static_cast<ValueKind>(kind);
        uint32_t len = 0;
        DF_RETURN_IF_ERROR(r.U32("value length", &len));
        if (len > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
          return r.Malformed(fmt::format("negative value length {}", static_cast<int32_t>(len)));
        }
        DF_RETURN_IF_ERROR(r.Bytes("value", len, &v.data));
        break;
      }
      default:
        return r.Malformed(
            fmt::format("value kind {} is not 'n', 'u', 't' or 'b'", DescribeByte(kind)));
    }
  }
  r.set_column(-1, "");
  return Status::OK();
}

Result<Message> DecodeRelation(Reader& r) {
  Relation rel;
  DF_RETURN_IF_ERROR(r.U32("relation oid", &rel.oid));
  DF_RETURN_IF_ERROR(r.CString("namespace", &rel.schema));
  if (rel.schema.empty()) rel.schema = "pg_catalog";  // the protocol sends "" for pg_catalog
  DF_RETURN_IF_ERROR(r.CString("relation name", &rel.name));
  uint8_t ident = 0;
  DF_RETURN_IF_ERROR(r.U8("replica identity", &ident));
  rel.replica_identity = static_cast<char>(ident);
  uint16_t n = 0;
  DF_RETURN_IF_ERROR(r.U16("column count", &n));
  constexpr size_t kMinColumnBytes = 1 + 1 + 4 + 4;  // flags, "" name, type oid, typmod
  if (n > r.remaining() / kMinColumnBytes) {
    return r.Truncated(fmt::format("{} column definitions", n), n * kMinColumnBytes);
  }
  rel.columns.resize(n);
  for (int i = 0; i < n; ++i) {
    r.set_column(i, "column definition");
    Column& c = rel.columns[i];
    uint8_t flags = 0;
    DF_RETURN_IF_ERROR(r.U8("column flags", &flags));
    c.key = (flags & 1) != 0;
    DF_RETURN_IF_ERROR(r.CString("column name", &c.name));
    DF_RETURN_IF_ERROR(r.U32("column type oid", &c.type_oid));
    uint32_t typmod = 0;
    DF_RETURN_IF_ERROR(r.U32("column type modifier", &typmod));
    c.type_modifier = static_cast<int32_t>(typmod);
  }
  r.set_column(-1, "");
  DF_RETURN_IF_ERROR(r.End());
  return Message(std::move(rel));
}

Result<Message> DecodeChange(Reader& r, char op) {
  Change ch;
  ch.op = op;
  DF_RETURN_IF_ERROR(r.U32("relation oid", &ch.relation_oid));
  uint8_t marker = 0;
  DF_RETURN_IF_ERROR(r.U8("tuple marker", &marker));
  if (op != 'I' && (marker == 'K' || marker == 'O')) {
    ch.old_kind = static_cast<char>(marker);
    DF_RETURN_IF_ERROR(ReadTuple(r, &ch.old_values));
    if (op == 'U') DF_RETURN_IF_ERROR(r.U8("new tuple marker", &marker));
  } else if (op == 'D') {
    return r.Malformed(fmt::format("tuple marker {} is not 'K' or 'O'", DescribeByte(marker)));
  }
  if (op != 'D') {
    if (marker != 'N') {
      return r.Malformed(fmt::format("tuple marker {} is not {}", DescribeByte(marker),
                                     op == 'I' ? "'N'" : "'K', 'O' or 'N'"));
    }
    DF_RETURN_IF_ERROR(ReadTuple(r, &ch.new_values));
  }
  DF_RETURN_IF_ERROR(r.End());
  return Message(std::move(ch));
}

Result<Message> DecodeTruncate(Reader& r) {
  Truncate t;
  uint32_t n = 0;
  DF_RETURN_IF_ERROR(r.U32("relation count", &n));
  DF_RETURN_IF_ERROR(r.U8("options", &t.options));
  if (n > r.remaining() / 4) return r.Truncated(fmt::format("{} relation oids", n), 4 * size_t{n});
  t.relation_oids.resize(n);
  for (uint32_t& oid : t.relation_oids) DF_RETURN_IF_ERROR(r.U32("relation oid", &oid));
  DF_RETURN_IF_ERROR(r.End());
  return Message(std::move(t));
}

// Origin, Type and Message are parsed only to validate them.
Result<Message> DecodeIgnored(Reader& r, char tag) {
  uint64_t u64 = 0;
  uint32_t u32 = 0;
  uint8_t u8 = 0;
  std::string s;
  if (tag == 'O') {
    DF_RETURN_IF_ERROR(r.U64("origin commit lsn", &u64));
    DF_RETURN_IF_ERROR(r.CString("origin name", &s));
  } else if (tag == 'Y') {
    DF_RETURN_IF_ERROR(r.U32("type oid", &u32));
    DF_RETURN_IF_ERROR(r.CString("namespace", &s));
    DF_RETURN_IF_ERROR(r.CString("type name", &s));
  } else {  // 'M'
    DF_RETURN_IF_ERROR(r.U8("flags", &u8));
    DF_RETURN_IF_ERROR(r.U64("message lsn", &u64));
    DF_RETURN_IF_ERROR(r.CString("prefix", &s));
    DF_RETURN_IF_ERROR(r.U32("content length", &u32));
    DF_RETURN_IF_ERROR(r.Bytes("content", u32, nullptr));
  }
  DF_RETURN_IF_ERROR(r.End());
  return Message(Other{tag});
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s, bool integer_only) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    return i - start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (integer_only) return i == s.size();
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// "\\x<hex>": pgoutput's bytea text form, for bytes that are not UTF-8 text.
void AppendHexJson(std::string* out, std::string_view bytes) {
  std::string hex = "\\x";
  for (unsigned char c : bytes) fmt::format_to(std::back_inserter(hex), "{:02x}", c);
  AppendJsonString(out, hex);
}

// Text from a database whose encoding is not UTF-8 (SQL_ASCII, LATIN1) may hold bytes that are
// not UTF-8; JSON text must be UTF-8, so such text is kept exactly, as "\\x<hex>".
void AppendTextJson(std::string* out, std::string_view s) {
  if (simdjson::validate_utf8(s.data(), s.size())) return AppendJsonString(out, s);
  AppendHexJson(out, s);
}

// {"col":value,...} for `values` in column order. Unchanged-TOAST values are always left out,
// NULLs when `skip_nulls`.
std::string TupleJson(const Relation& rel, const std::vector<Value>& values, bool skip_nulls) {
  std::string out = "{";
  bool first = true;
  size_t n = std::min(values.size(), rel.columns.size());
  for (size_t i = 0; i < n; ++i) {
    const Value& v = values[i];
    if (v.kind == ValueKind::kUnchangedToast) continue;
    if (skip_nulls && v.kind == ValueKind::kNull) continue;
    if (!first) out.push_back(',');
    first = false;
    AppendTextJson(&out, rel.columns[i].name);
    out.push_back(':');
    AppendValueJson(&out, rel.columns[i].type_oid, v);
  }
  out.push_back('}');
  return out;
}

std::string TableName(const Relation& rel) {
  return rel.schema + "." + rel.name;
}

// The table's name for an error: a quoted identifier may hold a newline or other control character,
// which must not break the one-line error.
std::string TableNameForError(const Relation& rel) {
  return EscapeControlChars(TableName(rel));
}

}  // namespace

std::string FormatLsn(uint64_t lsn) {
  return fmt::format("{:X}/{:X}", static_cast<uint32_t>(lsn >> 32), static_cast<uint32_t>(lsn));
}

Result<uint64_t> ParseLsn(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(fmt::format(
        "bad LSN \"{}\": want two hex numbers of 1-8 digits like \"16/B374D848\"", text));
  };
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad();
  uint64_t halves[2] = {0, 0};
  std::string_view parts[2] = {text.substr(0, slash), text.substr(slash + 1)};
  for (int i = 0; i < 2; ++i) {
    std::string_view p = parts[i];
    if (p.empty() || p.size() > 8 || !std::all_of(p.begin(), p.end(), [](char c) {
          return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        })) {
      return bad();
    }
    std::from_chars(p.data(), p.data() + p.size(), halves[i], 16);
  }
  return (halves[0] << 32) | halves[1];
}

Result<std::variant<XLogData, Keepalive>> ParseCopyData(std::string_view data) {
  if (data.empty()) return Status::Corruption("empty CopyData message in the replication stream");
  const char* p = data.data();
  if (data[0] == 'w') {
    constexpr size_t kHeader = 1 + 8 + 8 + 8;
    if (data.size() < kHeader) {
      return Status::Corruption(
          fmt::format("XLogData ('w') message is {} bytes, shorter than its {}-byte header",
                      data.size(), kHeader));
    }
    XLogData x;
    x.wal_start = LoadBigEndian(p + 1, 8);
    x.wal_end = LoadBigEndian(p + 9, 8);
    x.send_time_us = PgToUnixMicros(static_cast<int64_t>(LoadBigEndian(p + 17, 8)));
    x.payload = data.substr(kHeader);
    return std::variant<XLogData, Keepalive>(x);
  }
  if (data[0] == 'k') {
    constexpr size_t kSize = 1 + 8 + 8 + 1;
    if (data.size() != kSize) {
      return Status::Corruption(fmt::format(
          "Primary keepalive ('k') message is {} bytes; it must be {}", data.size(), kSize));
    }
    Keepalive k;
    k.wal_end = LoadBigEndian(p + 1, 8);
    k.send_time_us = PgToUnixMicros(static_cast<int64_t>(LoadBigEndian(p + 9, 8)));
    k.reply_requested = p[17] != 0;
    return std::variant<XLogData, Keepalive>(k);
  }
  return Status::Corruption(
      fmt::format("unexpected CopyData message type {} ({} bytes) in the replication stream; "
                  "expected 'w' (XLogData) or 'k' (keepalive)",
                  DescribeByte(static_cast<uint8_t>(data[0])), data.size()));
}

std::string StandbyStatusUpdate(uint64_t written, uint64_t flushed, uint64_t applied,
                                int64_t now_unix_us, bool reply_requested) {
  std::string out;
  out.reserve(34);
  out.push_back('r');
  PutBigEndian64(&out, written);
  PutBigEndian64(&out, flushed);
  PutBigEndian64(&out, applied);
  PutBigEndian64(&out, static_cast<uint64_t>(UnixToPgMicros(now_unix_us)));
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

Result<Message> Decode(std::string_view payload) {
  if (payload.empty()) return Status::Corruption("empty pgoutput message");
  char tag = payload[0];
  Reader r(payload);
  switch (tag) {
    case 'B': {
      Begin b;
      uint64_t ts = 0;
      DF_RETURN_IF_ERROR(r.U64("final lsn", &b.final_lsn));
      DF_RETURN_IF_ERROR(r.U64("commit timestamp", &ts));
      DF_RETURN_IF_ERROR(r.U32("xid", &b.xid));
      DF_RETURN_IF_ERROR(r.End());
      b.commit_time_us = PgToUnixMicros(static_cast<int64_t>(ts));
      return Message(b);
    }
    case 'C': {
      Commit c;
      uint64_t ts = 0;
      DF_RETURN_IF_ERROR(r.U8("flags", &c.flags));
      DF_RETURN_IF_ERROR(r.U64("commit lsn", &c.commit_lsn));
      DF_RETURN_IF_ERROR(r.U64("end lsn", &c.end_lsn));
      DF_RETURN_IF_ERROR(r.U64("commit timestamp", &ts));
      DF_RETURN_IF_ERROR(r.End());
      c.commit_time_us = PgToUnixMicros(static_cast<int64_t>(ts));
      return Message(c);
    }
    case 'R':
      return DecodeRelation(r);
    case 'I':
    case 'U':
    case 'D':
      return DecodeChange(r, tag);
    case 'T':
      return DecodeTruncate(r);
    case 'O':
    case 'Y':
    case 'M':
      return DecodeIgnored(r, tag);
    case 'S':
    case 'E':
    case 'c':
    case 'A':
      return Status::Corruption(fmt::format(
          "pgoutput stream message {} at offset 0: streaming of in-progress transactions is "
          "not supported; start replication with streaming off",
          DescribeByte(static_cast<uint8_t>(tag))));
    case 'b':
    case 'P':
    case 'K':
    case 'r':
    case 'p':
      return Status::Corruption(fmt::format(
          "pgoutput two-phase message {} at offset 0: two-phase decoding is not supported; "
          "start replication with two_phase off",
          DescribeByte(static_cast<uint8_t>(tag))));
    default:
      return Status::Corruption(
          fmt::format("unknown pgoutput message tag {} at offset 0 of {} bytes",
                      DescribeByte(static_cast<uint8_t>(tag)), payload.size()));
  }
}

Status CheckChangeMatches(const Relation& rel, const Change& change) {
  if (change.relation_oid != rel.oid) {
    return Status::Corruption(fmt::format("change for relation oid {} checked against {} (oid {})",
                                          change.relation_oid, TableNameForError(rel), rel.oid));
  }
  size_t n = rel.columns.size();
  auto check = [&](const std::vector<Value>& values, const char* which) {
    if (values.size() == n) return Status::OK();
    return Status::Corruption(
        fmt::format("{} tuple of a change to {} has {} values; the relation "
                    "has {} columns",
                    which, TableNameForError(rel), values.size(), n));
  };
  if (change.old_kind != 0) DF_RETURN_IF_ERROR(check(change.old_values, "old"));
  if (change.op != 'D') DF_RETURN_IF_ERROR(check(change.new_values, "new"));
  return Status::OK();
}

void AppendValueJson(std::string* out, uint32_t type_oid, const Value& v) {
  switch (v.kind) {
    case ValueKind::kNull:
    case ValueKind::kUnchangedToast:
      out->append("null");
      return;
    case ValueKind::kBinary:
      return AppendHexJson(out, v.data);
    case ValueKind::kText:
      break;
  }
  const std::string& s = v.data;
  switch (type_oid) {
    case 16:  // bool
      if (s == "t" || s == "f") {
        out->append(s == "t" ? "true" : "false");
        return;
      }
      break;
    case 20:  // int8
    case 21:  // int2
    case 23:  // int4
    case 26:  // oid
      if (IsJsonNumber(s, /*integer_only=*/true)) {
        out->append(s);
        return;
      }
      break;
    case 700:  // float4
    case 701:  // float8
      if (s == "-0") {
        out->append("-0.0");  // JSON readers take "-0" for the integer 0
        return;
      }
      if (IsJsonNumber(s, /*integer_only=*/false)) {
        out->append(s);
        return;
      }
      break;    // NaN, Infinity, -Infinity: strings
    case 1700:  // numeric: its exact text, as a string (a JSON number would go through a double)
    case 114:   // json: its text, as a string (nulls, big numbers and 1e400 stay as they are)
    case 3802:  // jsonb
    default:
      break;
  }
  AppendTextJson(out, s);
}

std::string FormatTimestampMicros(int64_t unix_us) {
  using namespace std::chrono;
  // Keep to years 0001..9999 so the calendar arithmetic stays in range.
  constexpr int64_t kMin = -62135596800LL * 1000000;      // 0001-01-01T00:00:00Z
  constexpr int64_t kMax = 253402300800LL * 1000000 - 1;  // 9999-12-31T23:59:59.999999Z
  sys_time<microseconds> tp{microseconds{std::clamp(unix_us, kMin, kMax)}};
  sys_days day = floor<days>(tp);
  year_month_day ymd{day};
  hh_mm_ss<microseconds> hms{tp - day};
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}Z",
                     static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), hms.hours().count(), hms.minutes().count(),
                     hms.seconds().count(), hms.subseconds().count());
}

std::string ChangeEventJson(const Relation& rel, const Change& change, const Begin& txn) {
  JsonObjectWriter w;
  w.String("op", change.op == 'I'   ? "insert"
                 : change.op == 'U' ? "update"
                 : change.op == 'D' ? "delete"
                 : change.op == 'R' ? "read"  // a row of the initial snapshot (snapshot_copy.h)
                                    : "unknown");
  std::string table;
  AppendTextJson(&table, TableName(rel));
  w.Raw("table", table);
  w.String("lsn", FormatLsn(txn.final_lsn));
  w.Int("xid", txn.xid);
  w.String("commit_time", FormatTimestampMicros(txn.commit_time_us));
  if (change.op == 'D') {
    w.Raw("data", TupleJson(rel, change.old_values, /*skip_nulls=*/true));
  } else {
    w.Raw("data", TupleJson(rel, change.new_values, /*skip_nulls=*/false));
  }
  if (change.op == 'U' && (change.old_kind == 'K' || change.old_kind == 'O')) {
    w.Raw("before", TupleJson(rel, change.old_values, /*skip_nulls=*/true));
  }
  return w.Finish();
}

void MarkKeyColumns(Relation* rel, const std::vector<std::string>& key_columns) {
  if (key_columns.empty()) return;
  for (auto& col : rel->columns) {
    col.key = std::find(key_columns.begin(), key_columns.end(), col.name) != key_columns.end();
  }
}

Result<std::string> ChangeKey(const Relation& rel, const Change& change) {
  const std::vector<Value>& values = change.old_kind != 0 ? change.old_values : change.new_values;
  std::string key = TableName(rel);
  bool any_key = false;
  for (size_t i = 0; i < rel.columns.size(); ++i) {
    const Column& col = rel.columns[i];
    if (!col.key) continue;
    any_key = true;
    key.push_back('/');
    if (i >= values.size()) {
      return Status::InvalidArgument(
          fmt::format("cannot build the record key for {}: key column \"{}\" is column {} but the "
                      "tuple has {} values",
                      TableNameForError(rel), EscapeControlChars(col.name), i, values.size()));
    }
    const Value& v = values[i];
    if (v.kind == ValueKind::kNull) {
      key.append("\\N");
      continue;
    }
    if (v.kind == ValueKind::kUnchangedToast) {
      return Status::InvalidArgument(
          fmt::format("cannot build the record key for {}: key column \"{}\" is an unchanged "
                      "TOAST value that the server did not send",
                      TableNameForError(rel), EscapeControlChars(col.name)));
    }
    for (char c : v.data) {
      if (c == '\\' || c == '/') key.push_back('\\');
      key.push_back(c);
    }
  }
  if (!any_key) {
    return Status::InvalidArgument(fmt::format(
        "table {} has no key columns (replica identity '{}'); set a primary key or "
        "REPLICA IDENTITY FULL",
        TableNameForError(rel), EscapeControlChars(std::string_view(&rel.replica_identity, 1))));
  }
  return key;
}

}  // namespace dataforge::pgoutput
